"""The command line as a user meets it: outputs, counts, warnings, exit codes, no tracebacks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from symbolic.abc.reader import read_abc_file
from symbolic.cli.main import main

DEMO = Path(__file__).parent.parent / "corpora" / "fixtures" / "demo.abc"
BOOK = "X:1\nT:A\nK:G\nGAB|\n\nX:2\nT:Broken\nK:G\nGA = B|\n\nX:3\nT:C\nK:D\nDEF|\n"


def test_convert_tunebook_writes_one_file_per_tune_and_skips_bad_ones(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    book = tmp_path / "book.abc"
    book.write_text(BOOK)
    assert main(["convert", str(book), "--to", "abc", "--out", str(tmp_path / "out")]) == 0
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == ["book-1.abc", "book-3.abc"]
    err = capsys.readouterr().err
    assert "skipped" in err and "book.abc:9:4" in err
    assert "converted 2 tunes from 1 files" in err and "skipped 1" in err
    assert read_abc_file(tmp_path / "out" / "book-3.abc").tunes[0].title == "C"


def test_convert_single_tune_file_keeps_its_stem(tmp_path: Path) -> None:
    assert main(["convert", str(DEMO), "--to", "abc", "--out", str(tmp_path)]) == 0
    assert [p.name for p in tmp_path.iterdir()] == ["demo.abc"]


def test_convert_to_stdout_with_key_and_tempo(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["convert", str(DEMO), "--to", "abc", "--out", "-", "--key", "D", "--tempo", "100"]) == 0
    out = capsys.readouterr().out
    assert "K:D" in out and "Q:1/4=100" in out and "DED DEF" in out


def test_nothing_converted_exits_non_zero(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.abc"
    bad.write_text("X:1\nT:no key\nABC\n")
    assert main(["convert", str(bad), "--to", "abc", "--out", str(tmp_path / "o")]) == 1
    assert "converted 0 tunes" in capsys.readouterr().err


@pytest.mark.parametrize("args, message", [
    (["convert", "/no/such/file.abc", "--to", "abc"], "no such file or folder"),
    (["convert", "music21:nosuch", "--to", "abc"], "unknown music21 collection"),
    (["convert", str(DEMO), "--to", "mid", "--out", "-"], "works only with --to abc"),
])
def test_bad_input_is_one_line_and_exit_2(args: list[str], message: str, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_python_dash_m_runs_the_cli() -> None:
    result = subprocess.run([sys.executable, "-m", "symbolic", "convert", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "--bars-per-line" in result.stdout


def test_unwritable_output_is_one_line(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["convert", str(DEMO), "--to", "abc", "--out", str(blocker / "sub")]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_convert_to_wav_renders_each_tune(tmp_path: Path) -> None:
    # --to wav shares the renderer of `symbolic render` and `generate`, MIDI options included.
    assert main(["convert", str(DEMO), "--to", "wav", "--out", str(tmp_path), "--accompaniment"]) == 0
    wav = tmp_path / "demo.wav"
    assert wav.read_bytes()[:4] == b"RIFF" and wav.stat().st_size > 100_000


def test_convert_never_writes_over_an_input(tmp_path: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # Issue 16: `convert mine.abc --to abc` with the default --out . rewrote mine.abc, dropping its comments.
    mine = tmp_path / "mine.abc"
    original = DEMO.read_text() + "% a comment only the original has\n"
    mine.write_text(original)
    monkeypatch.chdir(tmp_path)
    assert main(["convert", "mine.abc", "--to", "abc"]) == 2
    err = capsys.readouterr().err
    assert "mine.abc is one of the inputs" in err and len(err.strip().splitlines()) == 1
    assert mine.read_text() == original
    # A tunebook's per-tune output may also name another input: book.abc's X:1 is book-1.abc.
    (tmp_path / "book.abc").write_text(BOOK)
    (tmp_path / "book-1.abc").write_text(original)
    assert main(["convert", "book.abc", "book-1.abc", "--to", "abc", "--out", "."]) == 2
    assert (tmp_path / "book-1.abc").read_text() == original


def test_convert_says_why_an_empty_or_binary_file_gave_nothing(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "empty.abc").write_bytes(b"")
    (tmp_path / "binary.abc").write_bytes(bytes(range(256)) * 4)
    assert main(["convert", str(tmp_path / "empty.abc"), str(tmp_path / "binary.abc"), "--to", "abc",
                 "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert "empty.abc: empty file" in err and "binary.abc: a binary file, not ABC text" in err


def test_a_full_disk_names_the_target(tmp_path: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import errno

    def full(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_text", full)
    assert main(["convert", str(DEMO), "--to", "abc", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"symbolic: error: {tmp_path / 'demo.abc'}: No space left on device"
    assert list(tmp_path.iterdir()) == []  # no temporary file left behind

"""Issue 16: what a careless or hostile user meets gets one clear line, and loses nothing.

Atomic writes keep modes and never touch the process umask; bad arguments and small bad files
given to the CLI end in one line on stderr and a non-zero status, never a traceback."""

from __future__ import annotations

import errno
import os
import stat
import threading
from pathlib import Path

import pytest

from symbolic.atomic import write_bytes_atomically, write_text_atomically


def test_replacing_a_read_only_file_keeps_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "out.abc"
    target.write_text("old")
    target.chmod(0o444)
    write_text_atomically(target, "new")
    assert target.read_text() == "new" and stat.S_IMODE(target.stat().st_mode) == 0o444
    target.chmod(0o640)
    write_bytes_atomically(target, b"newer")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_a_new_file_gets_the_mode_open_would_give(tmp_path: Path) -> None:
    previous = os.umask(0o027)
    try:
        write_text_atomically(tmp_path / "new.txt", "x")
        (tmp_path / "plain.txt").write_text("x")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "new.txt").stat().st_mode) == stat.S_IMODE((tmp_path / "plain.txt").stat().st_mode)
    assert stat.S_IMODE((tmp_path / "new.txt").stat().st_mode) == 0o640


def test_atomic_writes_never_change_the_process_umask(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Flipping the umask to 0 for a moment let other threads' files come out world-writable.
    calls: list[int] = []
    real = os.umask
    monkeypatch.setattr(os, "umask", lambda mask: calls.append(mask) or real(mask))
    stop = threading.Event()
    made: list[Path] = []

    def other_thread() -> None:
        n = 0
        while not stop.is_set():
            path = tmp_path / f"other-{n}"
            path.write_text("x")
            made.append(path)
            n += 1

    worker = threading.Thread(target=other_thread)
    worker.start()
    try:
        for n in range(300):
            write_text_atomically(tmp_path / f"atomic-{n % 5}", "y")
    finally:
        stop.set()
        worker.join()
    assert calls == []
    assert not [p for p in made if p.stat().st_mode & stat.S_IWOTH]


def test_errors_name_the_target_not_the_temporary_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "tune.abc"

    def failing_replace(source: str, destination: str) -> None:
        raise OSError(errno.EXDEV, "Invalid cross-device link", source, None, destination)

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError) as caught:
        write_text_atomically(target, "x")
    assert caught.value.filename == str(target) and ".part" not in str(caught.value)
    assert list(tmp_path.iterdir()) == []


def test_a_full_disk_is_reported_against_the_target(tmp_path: Path) -> None:
    from symbolic.atomic import write_atomically

    def fill(temp: str) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OSError) as caught:
        write_atomically(tmp_path / "weights.npz", fill)
    assert caught.value.errno == errno.ENOSPC and caught.value.filename == str(tmp_path / "weights.npz")
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- one line, never a traceback


def _one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    return err.strip()


def test_a_negative_seed_is_refused_by_the_parser(capsys: pytest.CaptureFixture[str]) -> None:
    from symbolic.cli.main import main

    for command in (["generate", "--seed", "-1"], ["evaluate", "--corpus", ".", "--seed", "-1"],
                    ["convert", "x.abc", "--to", "mid", "--seed", "-5"]):
        with pytest.raises(SystemExit) as stopped:
            main(command)
        assert stopped.value.code == 2
        err = capsys.readouterr().err
        assert "must be in 0..2**64-1" in err and "Traceback" not in err


def test_train_refuses_a_binary_config_and_zero_epochs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from symbolic.cli.main import main

    binary = tmp_path / "config.json"
    binary.write_bytes(bytes(range(256)))
    assert main(["train", str(tmp_path), "--out", str(tmp_path / "m"), "--config", str(binary)]) == 2
    assert "config.json: not a JSON config" in _one_error_line(capsys)
    for text, message in (("[1, 2]", "not list"), ('{"units": "big"}', "units must be a whole number"),
                          ('{"learning_rate": NaN}', "learning_rate must be a finite number"),
                          ('{"units": 1000000000}', "units must be in 0..16384"), ("5", "not int")):
        binary.write_text(text)
        assert main(["train", str(tmp_path), "--out", str(tmp_path / "m"), "--config", str(binary)]) == 2
        assert message in _one_error_line(capsys)
    with pytest.raises(SystemExit) as stopped:
        main(["train", str(tmp_path), "--out", str(tmp_path / "m"), "--epochs", "0"])
    assert stopped.value.code == 2 and "must be positive: 0" in capsys.readouterr().err


def test_evaluate_on_an_empty_split_exits_non_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from symbolic.cli.main import main

    source = tmp_path / "src"
    source.mkdir()
    tunes = [f"X:{n}\nT:t{n}\nM:4/4\nL:1/8\nK:G\n|:{'GABc'[n % 4]}ABc d2B2|cBAG A{n % 3 + 1}:|\n" for n in range(1, 7)]
    (source / "a.abc").write_text("\n".join(tunes))
    corpus = tmp_path / "corpus"
    assert main(["corpus", "build", str(source), "--out", str(corpus), "--valid", "0.5", "--test", "0", "--jobs", "1"]) == 0
    assert main(["train", str(corpus), "--out", str(tmp_path / "m"), "--arch", "ngram"]) == 0
    capsys.readouterr()
    assert main(["evaluate", "--model", str(tmp_path / "m"), "--corpus", str(corpus)]) == 2
    assert "no test tunes" in _one_error_line(capsys)


def test_web_json_integers_of_thousands_of_digits_are_a_400() -> None:
    from symbolic.web.params import BadRequest, decode_json

    for body in (b'{"seed": ' + b"9" * 5000 + b"}", b'{"seed": -' + b"1" * 30 + b"}"):
        with pytest.raises(BadRequest) as refused:
            decode_json(body)
        assert refused.value.status == 400 and "digits" in refused.value.message
    for body in (b"\xff\xfe", b"{", b"[" * 100_000):
        with pytest.raises(BadRequest, match="not valid JSON"):
            decode_json(body)
    assert decode_json(b'{"seed": 12, "temperature": 1.5}') == {"seed": 12, "temperature": 1.5}


# ---------------------------------------------------------------- generated bad arguments and files

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

BAD_VALUES = st.sampled_from(["-1", "0", "nan", "inf", "-inf", "1e309", "", "abc", "9" * 5000, "0x10", "1_000",
                              " 5", "\x00", "-0", "2.5", "99999999999999999999999"])
SMALL_BAD_FILES = st.one_of(
    st.binary(max_size=200),
    st.text(max_size=120).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.sampled_from([b"", b"RIFF\x24\x00\x00\x00WAVEfmt ", b"{}", b"[]", b"null", b'{"format_version": 1}',
                     b'{"format_version": 1, "shards": {"train": ["../x"]}, "counts": {}}', b"PK\x03\x04",
                     b'{"config": {"arch": "ngram"}, "format_version": 1}', b"X:1\nK:C\n", b"\xff\xfe\x00\x00"]),
)


def _command(kind: str, value: str, data: bytes, folder: Path) -> list[str]:
    """A CLI command of `kind` given a bad value and a small bad file (written under `folder`)."""
    out = str(folder / "out")
    bad_dir = folder / "bad"
    bad_dir.mkdir(exist_ok=True)
    for name in ("manifest.json", "model.json"):
        (bad_dir / name).write_bytes(data)
    wav, json_file, abc = folder / "in.wav", folder / "config.json", folder / "in.abc"
    for path in (wav, json_file, abc):
        path.write_bytes(data)
    commands = {
        "split-every": ["audio", "split", str(wav), "--out", out, "--every", value],
        "split-silence": ["audio", "split", str(wav), "--out", out, "--silence", "--min-silence-ms", value],
        "stats": ["corpus", "stats", str(bad_dir)],
        "build": ["corpus", "build", str(abc), "--out", str(folder), "--jobs", value],
        "info": ["models", "info", str(bad_dir)],
        "train": ["train", str(bad_dir), "--out", out, "--config", str(json_file), "--epochs", value],
        "evaluate": ["evaluate", "--corpus", str(bad_dir), "--model", str(bad_dir), "--seed", value],
        "generate": ["generate", "--model", str(bad_dir), "--seed", value, "--formats", "abc", "--out", "-"],
        "render": ["render", str(abc), "--out", str(folder / "o.wav"), "--tune", value],
        "weights": ["models", "info", str(_model_with_weights(folder / "model", data))],
    }
    return commands[kind]


def _model_with_weights(folder: Path, data: bytes) -> Path:
    """A sound n-gram model folder whose weights.npz is then replaced by `data`."""
    from symbolic.models.config import ModelConfig
    from symbolic.models.modelfile import WEIGHTS, ModelFile
    from symbolic.models.ngram import KneserNey
    from symbolic.tokens import Vocabulary

    vocab = Vocabulary.build(["p:60", "d:1"])
    ModelFile(ModelConfig(arch="ngram", ngram_order=2), vocab,
              KneserNey(2, len(vocab)).fit([[1, 3, 4, 2]]).to_arrays()).save(folder)
    (folder / WEIGHTS).write_bytes(data)
    return folder


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kind=st.sampled_from(["split-every", "split-silence", "stats", "build", "info", "train", "evaluate",
                             "generate", "render", "weights"]),
       value=BAD_VALUES, data=SMALL_BAD_FILES)
def test_bad_arguments_and_files_give_one_line_and_a_non_zero_exit(kind: str, value: str, data: bytes,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    import tempfile

    from symbolic.cli.main import main

    with tempfile.TemporaryDirectory() as temp:
        argv = _command(kind, value, data, Path(temp))
        capsys.readouterr()
        try:
            status = main(argv)
            parser_refused = False
        except SystemExit as stopped:  # argparse: a usage line, then one error line
            status, parser_refused = stopped.code, True
        err = capsys.readouterr().err
    assert status not in (0, None), (argv[:3], err)
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    if parser_refused:
        assert lines and lines[-1].startswith("symbolic") and "error:" in lines[-1], err
    else:
        # One error line, last; a note before it (such as --jobs capped) is a "symbolic: " line too.
        assert lines and all(line.startswith("symbolic: ") for line in lines), (argv[:3], err)
        assert [line for line in lines if "error" in line.lower()] == lines[-1:], (argv[:3], err)

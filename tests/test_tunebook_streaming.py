"""Tunebooks are read and written tune by tune (issue 16, item 8: a 50 MB tunebook peaked at
3.36 GB): memory stays bounded by one tune, not the book."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from symbolic.abc.reader import iter_abc_file, read_abc, read_abc_file, read_tune
from symbolic.abc.writer import iter_abc_tunebook, write_abc, write_abc_tunebook, write_abc_tunebook_to

TUNE = "X:{n}\nT:Reel {n}\nM:4/4\nL:1/8\nK:D\n|:AFdA BdAF|DFAF EE/E/ E2|AFAd BGBd|cdAc d2d2:|\n|:fdad fadb|adfd efgb|fddf gbeg|faef d4:|\n\n"


def book(tmp_path: Path, tunes: int) -> Path:
    path = tmp_path / "book.abc"
    with path.open("w") as handle:
        for n in range(1, tunes + 1):
            handle.write(TUNE.format(n=n))
    return path


def peak_bytes(run) -> int:  # type: ignore[no-untyped-def]
    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_reading_a_tunebook_holds_one_tune_at_a_time(tmp_path: Path) -> None:
    path = book(tmp_path, 600)
    count = 0

    def stream() -> None:
        nonlocal count
        for tune in iter_abc_file(path):
            count += not isinstance(tune, Exception)

    streamed = peak_bytes(stream)
    whole = peak_bytes(lambda: read_abc_file(path))
    assert count == 600
    # Holding every tune costs megabytes; streaming them stays far below (1,500 tunes: 0.05 MB against 13 MB).
    assert streamed < whole / 10 and streamed < 2_000_000


def test_writing_a_tunebook_takes_one_tune_at_a_time(tmp_path: Path) -> None:
    tune = read_tune(TUNE.format(n=1))
    taken: list[int] = []

    def tunes():  # type: ignore[no-untyped-def]
        for n in range(1, 10_000):
            taken.append(n)
            yield tune

    pieces = iter_abc_tunebook(tunes())
    assert next(pieces) == write_abc(tune) and taken == [1]
    assert write_abc_tunebook([tune, tune]) == write_abc(tune) + "\n" + write_abc(tune)
    target = tmp_path / "out.abc"
    with target.open("w") as handle:
        assert write_abc_tunebook_to(handle, (tune for _ in range(300))) == 300
    assert len(read_abc(target.read_text()).tunes) == 300


@pytest.mark.parametrize("tunes, names", [(1, ["book.abc"]), (3, ["book-1.abc", "book-2.abc", "book-3.abc"])])
def test_convert_streams_long_tunebooks_with_a_progress_bar(tmp_path: Path, monkeypatch, tunes: int,
                                                            names: list[str]) -> None:  # type: ignore[no-untyped-def]
    # The tune-by-tune bar is shown for inputs over LONG_INPUT_BYTES; a one-tune file still
    # takes the file's own name, found by looking ahead one tune.
    import importlib

    cli = importlib.import_module("symbolic.cli.main")
    monkeypatch.setattr(cli, "LONG_INPUT_BYTES", 0)
    path = book(tmp_path, tunes)
    out = tmp_path / "out"
    assert cli.main(["convert", str(path), "--to", "abc", "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == names

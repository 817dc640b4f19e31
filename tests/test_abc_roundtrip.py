"""ABC -> Tune -> ABC -> Tune is identical for every readable tune of the bundled folk corpus."""

from __future__ import annotations

from corpus import all_folk_tunes, folk_files

from symbolic.abc.reader import read_abc_file, read_tune
from symbolic.abc.writer import write_abc, write_abc_tunebook


def test_whole_bundled_folk_corpus_reads() -> None:
    tunes = all_folk_tunes()
    errors = sum(len(read_abc_file(f).errors) for f in folk_files())
    # 12,947 tunes in the five collections; the few we skip have real errors in their source
    # (dangling accidentals, broken line wraps, K:Bn); see README.
    assert len(tunes) + errors == 12947
    assert len(tunes) >= 12880


def test_every_tune_round_trips_through_our_writer() -> None:
    failures = []
    for tune in all_folk_tunes():
        text = write_abc(tune)
        again = read_tune(text, source="rewritten")
        if again != tune:
            failures.append(f"{tune.source} X:{tune.reference}")
    assert not failures, f"{len(failures)} tunes changed: {failures[:10]}"


def test_tunebook_round_trip_keeps_every_tune() -> None:
    tunes = list(all_folk_tunes()[:300])
    from symbolic.abc.reader import read_abc

    again = read_abc(write_abc_tunebook(tunes))
    assert not again.errors and again.tunes == tunes

"""The MIDI reader on a real MIDI corpus no one here made: CRÉ's 975 MIDI files (corpora/cre)
against the ABC reader on the same tunes' ABC, on a seeded sample.

Measured on this sample (`python benchmarks/midi_agreement.py --cre --sample 150 --seed 0`):
149 files matched; melody 118 (79.2%), pitches 135 (90.6%), meter from the file 149 (100%), meter
estimated up to equivalent meters 126 (84.6%), key from the file 149 (100%), key estimated 111
(74.5%), pickup 71 (47.7%); melody on tunes with no grace notes that are not hornpipes 117 of 140.
On all files (`--cre`): melody 79.4%, pitches 89.7%, meter 100%, key 99.8%, pickup 43.0%.
"""

from __future__ import annotations

import pytest

from symbolic.corpus.sources import repository_corpora_dir


@pytest.fixture(scope="module")
def counts():  # type: ignore[no-untyped-def]
    corpora = repository_corpora_dir()
    if corpora is None or not (corpora / "cre" / "midi").is_dir():
        pytest.skip("corpora/cre is not in this checkout")
    from symbolic.evaluation.agreement.cre_midi import cre_agreement

    return cre_agreement(sample=150, seed=0)


def test_cre_files_match_their_abc_tunes(counts) -> None:  # type: ignore[no-untyped-def]
    assert counts["compared"] >= 148


def test_cre_midi_agrees_with_its_abc(counts) -> None:  # type: ignore[no-untyped-def]
    n = counts["compared"]
    assert counts["melody"] / n >= 0.77
    assert counts["pitches"] / n >= 0.88
    assert counts["plain melody"] / counts["plain"] >= 0.81
    assert counts["meter"] == n and counts["key"] >= n - 1
    assert counts["meter class"] / n >= 0.82
    assert counts["key estimated"] / n >= 0.72
    assert counts["pickup"] / n >= 0.45

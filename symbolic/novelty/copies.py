"""Does a sample copy the training tunes? Nearest training tune, similarity, copied bars.

Melody similarity is the one `symbolic generate` checks its tunes with
(`symbolic.novelty.index`: the Jaccard index of 4-event shingles of pitch interval and
duration, transposition- and octave-invariant), so the report and the generator agree.

Copied bars: a bar is the notes between two bar lines as (pitch class, duration, tie) — tunes
are compared key-normalised (tonic C), so pitch classes are scale degrees — and the longest run
of consecutive bars of the sample found, consecutively and in order, in one training tune.

Both run on inverted indexes over the training split (shingle -> tunes, bar -> tune positions),
so a sample is compared with every training tune in milliseconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from symbolic.novelty.index import NoveltyIndex
from symbolic.tokens import tune_to_tokens
from symbolic.tune import Bar, Note, Tune

COPY_THRESHOLD = 0.95  # a similarity above this is a near copy
PHRASE_BARS = 4  # a run of this many bars copied is a copied phrase
_POSITION_BITS = 20  # bar positions in a packed (tune, position) key; no tune has a million bars


def bar_keys(tune: Tune) -> list[int]:
    keys: list[int] = []
    current: list[tuple[int, int, int, bool]] = []
    for element in [*tune.body, Bar(tune.duration)]:
        if type(element) is Note:
            pitch = element.pitch
            current.append((-1 if pitch is None else pitch % 12, element.duration.numerator,
                            element.duration.denominator, element.tie))
        elif type(element) is Bar and current:
            keys.append(hash(tuple(current)))
            current = []
    return keys


@dataclass(frozen=True)
class CopyMatch:
    nearest: int  # index of the most similar training tune (-1 when there is none)
    similarity: float
    copied_bars: int  # longest run of bars found in one training tune
    copied_from: int  # that tune's index (-1 when no bar is shared)


class TrainingIndex:
    """Inverted indexes of the training tunes' shingles and bars."""

    def __init__(self, tunes: Sequence[Tune]) -> None:
        self.count = len(tunes)
        self.similar = (NoveltyIndex.build([str(i) for i in range(len(tunes))], [tune_to_tokens(t) for t in tunes])
                        if tunes else None)
        postings: dict[int, list[int]] = {}
        for index, tune in enumerate(tunes):
            for position, key in enumerate(bar_keys(tune)):
                postings.setdefault(key, []).append((index << _POSITION_BITS) | position)
        # Packed keys were appended in (tune, position) order, so each list is already sorted.
        self.bars = {key: np.array(value, dtype=np.int64) for key, value in postings.items()}

    def most_similar(self, tune: Tune) -> tuple[int, float]:
        if self.similar is None:
            return -1, 0.0
        scores = self.similar.scores(tune_to_tokens(tune))
        best = int(np.argmax(scores))
        return (best, float(scores[best])) if scores[best] > 0 else (-1, 0.0)

    def longest_copied_run(self, tune: Tune) -> tuple[int, int]:
        """(bars, training tune index): a run of consecutive bars that one training tune has in
        the same order; each step extends the runs that ended on the bar before (position - 1)."""
        empty = np.zeros(0, dtype=np.int64)
        previous_keys, previous_lengths = empty, empty
        best, source = 0, -1
        for key in bar_keys(tune):
            current = self.bars.get(key, empty)
            lengths = np.ones(len(current), dtype=np.int64)
            if len(previous_keys) and len(current):
                at = np.clip(np.searchsorted(previous_keys, current - 1), 0, len(previous_keys) - 1)
                extends = previous_keys[at] == current - 1
                lengths = np.where(extends, previous_lengths[at] + 1, 1)
            if len(lengths) and int(lengths.max()) > best:
                top = int(np.argmax(lengths))
                best, source = int(lengths[top]), int(current[top] >> _POSITION_BITS)
            previous_keys, previous_lengths = current, lengths
        return best, source

    def match(self, tune: Tune) -> CopyMatch:
        nearest, similarity = self.most_similar(tune)
        bars, source = self.longest_copied_run(tune)
        return CopyMatch(nearest, similarity, bars, source)


def novelty_figures(tunes: Sequence[Tune], index: TrainingIndex, names: Sequence[str]) -> dict[str, object]:
    """Per tune: nearest training tune and similarity, longest copied run; and set summaries."""
    matches = [index.match(t) for t in tunes]
    similarities = [m.similarity for m in matches]
    runs = [m.copied_bars for m in matches]
    count = max(len(matches), 1)
    return {
        "tunes": len(matches),
        "mean_similarity": float(np.mean(similarities)) if similarities else 0.0,
        "max_similarity": max(similarities, default=0.0),
        "share_above_threshold": sum(s > COPY_THRESHOLD for s in similarities) / count,
        "threshold": COPY_THRESHOLD,
        "mean_longest_copied_bars": float(np.mean(runs)) if runs else 0.0,
        "max_longest_copied_bars": max(runs, default=0),
        f"share_copying_{PHRASE_BARS}_bars": sum(r >= PHRASE_BARS for r in runs) / count,
        "per_tune": [{"similarity": round(m.similarity, 4),
                      "nearest": names[m.nearest] if m.nearest >= 0 else None,
                      "longest_copied_bars": m.copied_bars,
                      "copied_from": names[m.copied_from] if m.copied_from >= 0 else None} for m in matches],
    }

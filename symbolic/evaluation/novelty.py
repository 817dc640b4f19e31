"""Does a sample copy the training tunes? Nearest training tune, similarity, copied bars.

Melody similarity (our definition): the Jaccard index of two tunes' sets of *shingles*, where a
shingle is `SHINGLE` consecutive melody events and an event is (interval from the previous note
in semitones, or "first"/"rest"; duration in quarter notes), ties merged. Intervals make it
transposition-invariant (a tune copied into another key or octave is still a copy), durations
keep rhythm in, the Jaccard index normalises it to 0..1 (1: the same set of figures, as a copy
or a copy with its parts reordered has). Five events are about a bar of a reel: short enough to
find a copied phrase, long enough that common one-beat figures do not make tunes alike.

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

from symbolic.evaluation.metrics import melody
from symbolic.tune import Bar, Note, Tune

SHINGLE = 5
COPY_THRESHOLD = 0.95  # a similarity above this is a near copy
PHRASE_BARS = 4  # a run of this many bars copied is a copied phrase
INTERVAL_LIMIT = 24
_FIRST, _REST = 100, 200
_POSITION_BITS = 20  # bar positions in a packed (tune, position) key; no tune has a million bars


def shingles(tune: Tune) -> set[int]:
    """The tune's shingle hashes (Python's hash of int tuples is the same in every process)."""
    events: list[tuple[int, int, int]] = []
    previous: int | None = None
    for pitch, duration in melody(tune):
        if pitch is None:
            code = _REST
        elif previous is None:
            code = _FIRST
        else:
            code = int(np.clip(pitch - previous, -INTERVAL_LIMIT, INTERVAL_LIMIT))
        if pitch is not None:
            previous = pitch
        events.append((code, duration.numerator, duration.denominator))
    if not events:
        return set()
    if len(events) < SHINGLE:
        return {hash(tuple(events))}
    return {hash(tuple(events[i:i + SHINGLE])) for i in range(len(events) - SHINGLE + 1)}


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
class Match:
    nearest: int  # index of the most similar training tune (-1 when there is none)
    similarity: float
    copied_bars: int  # longest run of bars found in one training tune
    copied_from: int  # that tune's index (-1 when no bar is shared)


class TrainingIndex:
    """Inverted indexes of the training tunes' shingles and bars."""

    def __init__(self, tunes: Sequence[Tune]) -> None:
        self.count = len(tunes)
        keys: list[int] = []
        owners: list[int] = []
        self.sizes = np.zeros(len(tunes), dtype=np.int64)
        postings: dict[int, list[int]] = {}
        for index, tune in enumerate(tunes):
            found = shingles(tune)
            self.sizes[index] = len(found)
            keys += found
            owners += [index] * len(found)
            for position, key in enumerate(bar_keys(tune)):
                postings.setdefault(key, []).append((index << _POSITION_BITS) | position)
        order = np.argsort(np.array(keys, dtype=np.int64), kind="stable")
        self.keys = np.array(keys, dtype=np.int64)[order]
        self.owners = np.array(owners, dtype=np.int64)[order]
        # Packed keys were appended in (tune, position) order, so each list is already sorted.
        self.bars = {key: np.array(value, dtype=np.int64) for key, value in postings.items()}

    def most_similar(self, tune: Tune) -> tuple[int, float]:
        found = np.array(sorted(shingles(tune)), dtype=np.int64)
        if not len(found) or not self.count:
            return -1, 0.0
        low = np.searchsorted(self.keys, found, side="left")
        high = np.searchsorted(self.keys, found, side="right")
        hits = [self.owners[a:b] for a, b in zip(low, high, strict=True) if b > a]
        if not hits:
            return -1, 0.0
        shared = np.bincount(np.concatenate(hits), minlength=self.count)
        similarity = shared / (len(found) + self.sizes - shared)
        best = int(np.argmax(similarity))
        return best, float(similarity[best])

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

    def match(self, tune: Tune) -> Match:
        nearest, similarity = self.most_similar(tune)
        bars, source = self.longest_copied_run(tune)
        return Match(nearest, similarity, bars, source)


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

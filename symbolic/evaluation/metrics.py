"""Per-tune features in the manner of Yang & Lerch (2018), and how two sets of tunes compare.

Every feature is measured on the *key-normalised* tune (`symbolic.tokens.normalize`: tonic C,
melody only) in written order (repeats not unfolded), so a tune in D and one in G are compared
as the same scale degrees. Tied notes are merged into one note first: a tie is one sounding note.

Yang & Lerch compare sets through distances: for each feature, the Euclidean distance between
two tunes' feature vectors (histograms normalised to sum 1). The *intra-set* distances are those
between tunes of one set, the *inter-set* distances those between a tune of one set and a tune of
the other. A generated set that resembles the real one has inter-set distances (real, generated)
distributed like the intra-set distances of the real set: we smooth both with a Gaussian kernel
density estimate and report their overlap area (1 = the same distribution) and the KL divergence
KL(intra-real || inter) (0 = the same). The same figures for two disjoint halves of the real
tunes give the ceiling a model can reach.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from symbolic.tune import Bar, KeyChange, Note, Tune

INTERVAL_LIMIT = 12  # intervals beyond an octave are counted as an octave (the histogram's end bins)
# Note-length classes in quarter notes (Yang & Lerch use 12 classes of full/dotted/triplet lengths;
# these are the lengths folk tunes use); anything else falls in a last "other" class.
NOTE_LENGTHS: tuple[Fraction, ...] = (Fraction(1, 4), Fraction(1, 3), Fraction(1, 2), Fraction(3, 4), Fraction(1),
                                      Fraction(3, 2), Fraction(2), Fraction(3), Fraction(4))
LENGTH_CLASSES = len(NOTE_LENGTHS) + 1
KDE_GRID = 512  # points the densities are evaluated on
KL_FLOOR = 1e-10  # added to both densities so KL stays finite where one has (numerically) no mass

MelodyEvent = tuple[int | None, Fraction]  # (pitch or None for a rest, duration in quarter notes)


def melody(tune: Tune) -> list[MelodyEvent]:
    """The tune's notes and rests in written order, tied notes of one pitch merged."""
    events: list[MelodyEvent] = []
    tied = False
    for element in tune.body:
        if type(element) is not Note:
            continue
        pitch = element.pitch
        if tied and events and events[-1][0] == pitch and pitch is not None:
            events[-1] = (pitch, events[-1][1] + element.duration)
        else:
            events.append((pitch, element.duration))
        tied = element.tie
    return events


def pitches(tune: Tune) -> list[int]:
    return [p for p, _ in melody(tune) if p is not None]


def _normalised(counts: np.ndarray) -> np.ndarray:
    total = counts.sum()
    return counts / total if total else counts


def pitch_class_histogram(tune: Tune) -> np.ndarray:
    counts = np.zeros(12)
    for p in pitches(tune):
        counts[p % 12] += 1
    return _normalised(counts)


def pitch_class_transitions(tune: Tune) -> np.ndarray:
    """12 x 12 counts of consecutive pitch classes (rests skipped), normalised, flattened."""
    counts = np.zeros((12, 12))
    found = pitches(tune)
    for a, b in zip(found, found[1:], strict=False):
        counts[a % 12, b % 12] += 1
    return _normalised(counts).ravel()


def pitch_range(tune: Tune) -> np.ndarray:
    found = pitches(tune)
    return np.array([max(found) - min(found) if found else 0.0])


def interval_histogram(tune: Tune) -> np.ndarray:
    """Signed intervals between consecutive notes (rests skipped), -12..+12 semitones."""
    counts = np.zeros(2 * INTERVAL_LIMIT + 1)
    found = pitches(tune)
    for a, b in zip(found, found[1:], strict=False):
        counts[int(np.clip(b - a, -INTERVAL_LIMIT, INTERVAL_LIMIT)) + INTERVAL_LIMIT] += 1
    return _normalised(counts)


def length_class(duration: Fraction) -> int:
    try:
        return NOTE_LENGTHS.index(duration)
    except ValueError:
        return len(NOTE_LENGTHS)


def note_length_histogram(tune: Tune) -> np.ndarray:
    counts = np.zeros(LENGTH_CLASSES)
    for pitch, duration in melody(tune):
        if pitch is not None:
            counts[length_class(duration)] += 1
    return _normalised(counts)


def note_length_transitions(tune: Tune) -> np.ndarray:
    counts = np.zeros((LENGTH_CLASSES, LENGTH_CLASSES))
    classes = [length_class(d) for p, d in melody(tune) if p is not None]
    for a, b in zip(classes, classes[1:], strict=False):
        counts[a, b] += 1
    return _normalised(counts).ravel()


def bar_segments(tune: Tune) -> list[list[Note]]:
    """The notes between bar lines; a `:|` directly followed by `|:` closes one bar, not two."""
    segments: list[list[Note]] = [[]]
    for element in tune.body:
        if type(element) is Note:
            segments[-1].append(element)
        elif type(element) is Bar and segments[-1]:
            segments.append([])
    return [s for s in segments if s]


def notes_per_bar(tune: Tune) -> np.ndarray:
    """Note onsets (not rests, not tied continuations) per bar."""
    bars = bar_segments(tune)
    return np.array([len(pitches(tune)) / len(bars) if bars else 0.0])


FEATURES: dict[str, Callable[[Tune], np.ndarray]] = {
    "pitch_class_histogram": pitch_class_histogram,
    "pitch_class_transitions": pitch_class_transitions,
    "pitch_range": pitch_range,
    "interval_histogram": interval_histogram,
    "note_length_histogram": note_length_histogram,
    "note_length_transitions": note_length_transitions,
    "notes_per_bar": notes_per_bar,
}


def feature_matrix(tunes: Sequence[Tune], name: str) -> np.ndarray:
    """One row per tune."""
    function = FEATURES[name]
    return np.array([function(t) for t in tunes], dtype=np.float64).reshape(len(tunes), -1)


def intra_distances(features: np.ndarray) -> np.ndarray:
    """Euclidean distances between every pair of rows (each pair once)."""
    if len(features) < 2:
        return np.zeros(0)
    squared = (features ** 2).sum(axis=1)
    gram = squared[:, None] + squared[None, :] - 2 * features @ features.T
    rows, cols = np.triu_indices(len(features), k=1)
    return np.sqrt(np.clip(gram[rows, cols], 0, None))


def inter_distances(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Euclidean distances between every row of `first` and every row of `second`."""
    gram = (first ** 2).sum(axis=1)[:, None] + (second ** 2).sum(axis=1)[None, :] - 2 * first @ second.T
    return np.sqrt(np.clip(gram, 0, None)).ravel()


def _bandwidth(values: np.ndarray, scale: float) -> float:
    """Scott's rule, floored so a set of equal distances still has a (narrow) density."""
    spread = float(values.std()) if len(values) > 1 else 0.0
    return max(1.06 * spread * len(values) ** -0.2, 1e-3 * scale, 1e-9)


def _density(values: np.ndarray, grid: np.ndarray, bandwidth: float) -> np.ndarray:
    """Gaussian KDE on an even grid by linear binning and convolution: exact enough, and cheap
    for the 10^5 pairwise distances a few hundred tunes give (a direct KDE would be N x grid)."""
    step = grid[1] - grid[0]
    position = (values - grid[0]) / step
    lower = np.clip(np.floor(position).astype(np.int64), 0, len(grid) - 2)
    upper_weight = np.clip(position - lower, 0, 1)
    weights = np.zeros(len(grid))
    np.add.at(weights, lower, 1 - upper_weight)
    np.add.at(weights, lower + 1, upper_weight)
    half = int(np.ceil(4 * bandwidth / step))
    offsets = np.arange(-half, half + 1) * step
    kernel = np.exp(-0.5 * (offsets / bandwidth) ** 2)
    density = np.convolve(weights, kernel)[half:half + len(grid)]  # centred: a "full" convolution, cut
    total = density.sum() * step
    return density / total if total else density


@dataclass(frozen=True)
class Comparison:
    overlap: float  # area under min(p, q): 1 for the same distribution, 0 for disjoint ones
    kl: float  # KL(p || q) in nats: 0 for the same distribution


def compare_distributions(reference: np.ndarray, other: np.ndarray) -> Comparison:
    """Overlap area and KL(reference || other) of the two samples' Gaussian KDEs."""
    if len(reference) == 0 or len(other) == 0:
        return Comparison(float("nan"), float("nan"))
    scale = float(max(np.abs(reference).max(), np.abs(other).max(), 1e-9))
    h_ref, h_other = _bandwidth(reference, scale), _bandwidth(other, scale)
    low = min(reference.min(), other.min()) - 4 * max(h_ref, h_other)
    high = max(reference.max(), other.max()) + 4 * max(h_ref, h_other)
    grid = np.linspace(low, high, KDE_GRID)
    step = grid[1] - grid[0]
    p, q = _density(reference, grid, h_ref), _density(other, grid, h_other)
    overlap = float(np.minimum(p, q).sum() * step)
    p_safe, q_safe = p + KL_FLOOR, q + KL_FLOOR
    p_safe, q_safe = p_safe / (p_safe.sum() * step), q_safe / (q_safe.sum() * step)
    kl = float(max((p_safe * np.log(p_safe / q_safe)).sum() * step, 0.0))
    return Comparison(min(overlap, 1.0), kl)


def edit_similarity(first: Sequence[object], second: Sequence[object]) -> float:
    """1 - Levenshtein distance / the longer length: 1 for equal sequences, 0 for nothing shared."""
    if not first and not second:
        return 1.0
    previous = list(range(len(second) + 1))
    for i, a in enumerate(first, 1):
        current = [i]
        for j, b in enumerate(second, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a != b)))
        previous = current
    return 1.0 - previous[-1] / max(len(first), len(second))


def mode_adherence(tune: Tune) -> tuple[int, int]:
    """(notes in the scale of the key in force, notes) — ties merged, rests not counted."""
    key = tune.key
    scale = key.scale
    inside = total = 0
    tied = False
    for element in tune.body:
        if type(element) is KeyChange:
            key = element.key
            scale = key.scale
        elif type(element) is Note:
            if element.pitch is not None and not tied:
                total += 1
                inside += element.pitch % 12 in scale
            tied = element.tie
    return inside, total

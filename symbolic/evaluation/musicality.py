"""Would a folk musician play it? Cadence, mode, register, rhythm and form of a set of tunes.

Pure functions over Tune sequences, figures per tune type and over all tunes, so a generated set
and the real tunes of the same types can be laid side by side. Every figure is relative to the
key in force (tonic and mode), so it reads the same on a key-normalised tune (tonic C, as a
corpus stores it) and on the tune as written, except *register*, which needs the tune in its
written key and octave: normalisation moves every tune to tonic C near B4.

- cadence: the last note is the tonic; each part's last note is a tonic-chord tone (degrees 1, 3
  and 5 of the mode). A part's last note is the one where the player leaves it: after its last
  ending, not its first.
- mode: notes in the scale of the tune's mode (`metrics.mode_adherence`), per mode;
- register: median, lowest and highest melody pitch, and the share of tunes an instrument plays
  whole (the ranges in `INSTRUMENT_RANGES`);
- rhythm: share of notes of each length (`metrics.NOTE_LENGTHS`, ties merged);
- form: a pickup (the first bar line falls before a full bar), first/second endings, and the share
  of bars that restate an earlier bar of the tune note for note (the same pitches, lengths and
  places in the bar), as a tune's phrases answer each other.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from fractions import Fraction
from typing import Any

import numpy as np

from symbolic.evaluation.metrics import LENGTH_CLASSES, NOTE_LENGTHS, length_class, melody, mode_adherence
from symbolic.tune import Bar, Key, KeyChange, MeterChange, Note, Tune
from symbolic.tune_types import tune_type

ALL = "all"
# Usual playing range (MIDI, inclusive) of the melody instruments folk tunes are written for. The
# instrument map (soundfonts/instruments.json) holds programs only, so the ranges live here.
# Fiddle: open G string (G3) to about E7 in high positions; tin whistle in D: D5 to B6 (its second
# octave; the third is shrill and rarely used); Irish wooden flute in D: D4 to A6.
INSTRUMENT_RANGES: dict[str, tuple[int, int]] = {"fiddle": (55, 100), "tin whistle": (74, 95), "flute": (62, 93)}
LENGTH_NAMES: tuple[str, ...] = ("16th", "8th triplet", "8th", "dotted 8th", "quarter", "dotted quarter", "half",
                                 "dotted half", "whole", "other")
ENDING_BARS = (":|", "::", "||", "|]", "[|")  # bar lines that can end a part (as `parts.parts` reads them)


def kind(tune: Tune) -> str:
    """The tune's type (jig, reel, ...; `other` when its R: field names none)."""
    return tune_type(tune.rhythm)


def _notes_with_keys(tune: Tune) -> Iterator[tuple[Note | Bar, Key]]:
    key = tune.key
    for element in tune.body:
        if type(element) is KeyChange:
            key = element.key
        elif type(element) is Note or type(element) is Bar:
            yield element, key


def first_degree(tune: Tune, after_pickup: bool = False) -> int | None:
    """The tune's first melody note (a pickup's, if it has one) in semitones above the tonic; with
    `after_pickup`, the first note after the pickup (None for a tune without one)."""
    if after_pickup and not has_pickup(tune):
        return None
    bar_seen = False
    for element, key in _notes_with_keys(tune):
        bar_seen = bar_seen or (type(element) is Bar and element.onset > 0)
        if type(element) is Note and element.pitch is not None and (bar_seen or not after_pickup):
            return (element.pitch - key.tonic_pitch_class) % 12
    return None


def last_note(tune: Tune) -> tuple[int, Key] | None:
    """The tune's last sounding melody note and the key in force there."""
    found = None
    for element, key in _notes_with_keys(tune):
        if type(element) is Note and element.pitch is not None:
            found = (element.pitch, key)
    return found


def part_endings(tune: Tune) -> list[tuple[int, Key]]:
    """The last melody note of each part, and the key in force there. Parts are cut where
    `parts.parts` cuts them, but a part ends after its last ending (`:|2 ... |]` ends it, `:|2`
    does not); a fragment shorter than half a bar (a lone pickup) has no cadence and is skipped."""
    bar_length = tune.meter.bar_length
    found: list[tuple[int, Key]] = []
    last: tuple[int, Key] | None = None
    length = Fraction(0)
    pending = False  # a `:|` seen: the part ends unless an ending follows

    def close() -> None:
        nonlocal last, length, pending
        if last is not None and (bar_length is None or length >= bar_length / 2):
            found.append(last)
        last, length, pending = None, Fraction(0), False

    key = tune.key
    for element in tune.body:
        if type(element) is KeyChange:
            key = element.key
        elif type(element) is MeterChange:
            bar_length = element.meter.bar_length
        elif type(element) is Note:
            if pending:
                close()
            length += element.duration
            if element.pitch is not None:
                last = (element.pitch, key)
        elif type(element) is Bar:
            if element.ending:
                pending = False
            elif element.kind == ":|":
                pending = True
            elif element.kind in ENDING_BARS or (element.kind == "|:" and length):
                close()
    close()
    return found


def has_pickup(tune: Tune) -> bool:
    """The first bar line after the first note comes before a full bar has sounded."""
    bar_length = tune.meter.bar_length
    if bar_length is None:
        return False
    for element in tune.body:
        if type(element) is Bar and element.onset > 0:
            return element.onset < bar_length
        if type(element) is MeterChange:
            return False  # a meter change before the first bar: no bar length to measure against
    return False


def has_endings(tune: Tune) -> bool:
    return any(type(e) is Bar and e.ending for e in tune.body)


def restated_bars(tune: Tune) -> tuple[int, int]:
    """(bars that restate an earlier bar note for note, bars with notes)."""
    starts = sorted({0, *(e.onset for e in tune.body if type(e) is Bar)})
    notes = [n for n in tune.notes if n.pitches]
    seen: set[tuple[tuple[int, Fraction, Fraction], ...]] = set()
    restated = total = 0
    for start, end in zip(starts, [*starts[1:], tune.duration], strict=True):
        bar = tuple((n.pitches[-1], n.duration, n.onset - start) for n in notes if start <= n.onset < end)
        if bar:
            total += 1
            restated += bar in seen
            seen.add(bar)
    return restated, total


def _share(count: int, total: int) -> float | None:
    return count / total if total else None


def cadence_figures(tunes: Sequence[Tune]) -> dict[str, Any]:
    tonic_end = ended = 0
    chord_end = part_count = 0
    for tune in tunes:
        found = last_note(tune)
        if found is not None:
            ended += 1
            tonic_end += found[0] % 12 == found[1].tonic_pitch_class
        for pitch, key in part_endings(tune):
            part_count += 1
            chord_end += pitch % 12 in key.tonic_chord
    return {"share_last_note_tonic": _share(tonic_end, ended), "share_parts_end_tonic_chord": _share(chord_end, part_count),
            "parts": part_count}


def mode_figures(tunes: Sequence[Tune]) -> dict[str, dict[str, Any]]:
    """Per mode of the tune's header: tunes, notes, share of notes in the scale of the key in force."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for tune in tunes:
        inside, total = mode_adherence(tune)
        entry = counts[tune.key.mode]
        entry[0] += 1
        entry[1] += total
        entry[2] += inside
    return {mode: {"tunes": n, "notes": total, "share_in_scale": _share(inside, total)}
            for mode, (n, total, inside) in sorted(counts.items())}


def register_figures(tunes: Sequence[Tune]) -> dict[str, Any]:
    """Melody pitches as written: median over all notes, the median tune's lowest and highest
    note, the extremes, the median pitch per tonic, and the share of tunes each instrument plays
    whole. Only meaningful on tunes in their written key and octave."""
    lows: list[int] = []
    highs: list[int] = []
    everything: list[int] = []
    by_tonic: dict[str, list[int]] = defaultdict(list)
    in_range = dict.fromkeys(INSTRUMENT_RANGES, 0)
    for tune in tunes:
        found = [p for p, _ in melody(tune) if p is not None]
        if not found:
            continue
        lows.append(min(found))
        highs.append(max(found))
        everything += found
        by_tonic[tune.key.tonic] += found
        for name, (low, high) in INSTRUMENT_RANGES.items():
            in_range[name] += low <= min(found) and max(found) <= high
    if not everything:
        return {"tunes": 0}
    return {
        "tunes": len(lows), "median_pitch": float(np.median(everything)),
        "median_lowest": float(np.median(lows)), "median_highest": float(np.median(highs)),
        "lowest": min(lows), "highest": max(highs),
        "median_pitch_by_tonic": {tonic: float(np.median(found)) for tonic, found in sorted(by_tonic.items())},
        "share_in_range": {name: count / len(lows) for name, count in in_range.items()},
    }


def length_histogram(tunes: Sequence[Tune]) -> tuple[np.ndarray, int]:
    """Share of notes (rests left out, ties merged) in each `NOTE_LENGTHS` class, over all tunes."""
    counts = np.zeros(LENGTH_CLASSES)
    for tune in tunes:
        for pitch, duration in melody(tune):
            if pitch is not None:
                counts[length_class(duration)] += 1
    total = int(counts.sum())
    return (counts / total if total else counts), total


def rhythm_figures(tunes: Sequence[Tune]) -> dict[str, Any]:
    histogram, total = length_histogram(tunes)
    return {"notes": total, "histogram": [round(float(v), 6) for v in histogram]}


def form_marks(tunes: Sequence[Tune]) -> dict[str, Any]:
    restated = [restated_bars(t) for t in tunes]
    return {"share_pickup": _share(sum(has_pickup(t) for t in tunes), len(tunes)),
            "share_endings": _share(sum(has_endings(t) for t in tunes), len(tunes)),
            "share_bars_restated": _share(sum(r for r, _ in restated), sum(n for _, n in restated))}


def by_type(tunes: Sequence[Tune], measure: Callable[[Sequence[Tune]], Any]) -> dict[str, Any]:
    """`measure` over all tunes (`all`) and over the tunes of each type present."""
    groups: dict[str, list[Tune]] = defaultdict(list)
    for tune in tunes:
        groups[kind(tune)].append(tune)
    return {ALL: measure(tunes), **{name: measure(group) for name, group in sorted(groups.items())}}


def set_figures(tunes: Sequence[Tune]) -> dict[str, Any]:
    """Everything but register: these are the same on a tune and on its key-normalised tokens."""
    return {"tunes": len(tunes), "cadence": cadence_figures(tunes), "mode": mode_figures(tunes),
            "rhythm": rhythm_figures(tunes), "form": form_marks(tunes)}


def musicality_figures(tunes: Sequence[Tune], written: Sequence[Tune] | None) -> dict[str, Any]:
    """Figures of `tunes` per type and over all; register from `written` (the same tunes, or the
    ones that could be found, in their written key and octave), or none when it is None."""
    figures = by_type(tunes, set_figures)
    registers = by_type(written, register_figures) if written is not None else {}
    for name, entry in figures.items():
        entry["register"] = registers.get(name, {"tunes": 0})
    return {"lengths": [str(v) for v in NOTE_LENGTHS] + ["other"], "length_names": list(LENGTH_NAMES),
            "instrument_ranges": {name: list(r) for name, r in INSTRUMENT_RANGES.items()}, "by_type": figures}


def histogram_distance(first: Sequence[float], second: Sequence[float]) -> float | None:
    """Total variation distance of two histograms: 0 the same, 1 disjoint."""
    if not len(first) or not len(second) or not sum(first) or not sum(second):
        return None
    return 0.5 * float(np.abs(np.asarray(first) - np.asarray(second)).sum())

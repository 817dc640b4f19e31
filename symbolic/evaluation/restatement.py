"""Where in its form a tune restates its bars: the bar half a part back, two bars back, or the same
bar of the part before, at each bar of the first part and of the later ones; how its parts before
the last close; and how far its second part rises above the first.

Real dance tunes do it in a few places only: the second phrase of a part answers the first (bars 5
and 6 of an eight-bar part restate bars 1 and 2), bar 3 often recalls bar 1, and a later part
closes as the one before closed (its last two bars); a part's first two bars are new. A sampler
that restates anywhere puts the first part's tune into the second part's opening, so the second
part never sets out on its own (see `generation.echo`, which holds the sources).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from fractions import Fraction

import numpy as np

from symbolic.evaluation.musicality import ENDING_BARS
from symbolic.generation.echo import SOURCES, Place, source_of
from symbolic.generation.grammar import SHORTEST_FINAL
from symbolic.tune import Bar, MeterChange, Note, Tune

BarNotes = tuple[tuple[int | None, Fraction, Fraction], ...]  # (pitch or None, length, onset in the bar)


def bars_by_part(tune: Tune) -> list[list[BarNotes]]:
    """Each part's bars on its first pass (first endings kept, later ones left out), as their
    notes; a part's opening pickup is left out, so bar j is the part's (j+1)th (its last bar may be
    short, by the pickup's length)."""
    bar_length = tune.meter.bar_length
    found: list[list[BarNotes]] = [[]]
    notes: list[tuple[int | None, Fraction, Fraction]] = []
    start = Fraction(0)
    ending = 0
    pending = False  # a `:|` seen: the part ends unless an ending follows

    def close_bar() -> None:
        if notes and ending <= 1:
            full = bar_length is not None and sum(n[1] for n in notes) == bar_length
            if full or found[-1]:  # a short first bar is the part's pickup
                found[-1].append(tuple(notes))
        notes.clear()

    def close_part() -> None:
        nonlocal ending, pending
        if found[-1]:
            found.append([])
        ending, pending = 0, False

    for element in tune.body:
        if type(element) is MeterChange:
            bar_length = element.meter.bar_length
        elif type(element) is Note:
            if pending:
                close_part()
            notes.append((element.pitches[-1] if element.pitches else None, element.duration, element.onset - start))
        elif type(element) is Bar:
            close_bar()
            start = element.onset
            if element.ending:
                pending, ending = False, min(element.ending)
            elif element.kind == ":|":
                pending = True
            elif element.kind in ENDING_BARS or element.kind == "|:":
                close_part()
    close_bar()
    return [part for part in found if part]


def _parts_of(tune: Tune, bars_per_part: int) -> list[list[BarNotes]] | None:
    """The tune's parts (`bars_by_part`) when there are two or more, each of `bars_per_part` bars."""
    found = bars_by_part(tune)
    return found if len(found) >= 2 and all(len(part) == bars_per_part for part in found) else None


def restated_places(found: list[list[BarNotes]], part: int) -> frozenset[Place]:
    """(bar, source) of every full bar of part `part` that restates a `SOURCES` bar note for note."""
    bars_per_part = len(found[part])
    places = set()
    for bar, notes in enumerate(found[part]):
        for source in SOURCES:
            where = source_of(part, bar, source, bars_per_part)
            if where is not None and found[where[0]][where[1]] == notes:
                places.add((bar, source))
    return frozenset(places)


def restatement_profile(tunes: Sequence[Tune], bars_per_part: int = 8) -> dict[str, np.ndarray | int]:
    """Over the tunes whose every part (two or more) has `bars_per_part` bars: for the first part
    (`first`) and the later ones (`later`), the share of bars at each place that restate each
    `SOURCES` bar note for note, as a (sources, bars_per_part) array; and `tunes`, how many."""
    counts = {name: np.zeros((len(SOURCES), bars_per_part)) for name in ("first", "later")}
    totals = {name: np.zeros(bars_per_part) for name in ("first", "later")}
    used = 0
    for tune in tunes:
        found = _parts_of(tune, bars_per_part)
        if found is None:
            continue
        used += 1
        for p in range(len(found)):
            name = "later" if p else "first"
            totals[name] += 1
            for bar, source in restated_places(found, p):
                counts[name][SOURCES.index(source), bar] += 1
    return {"tunes": used, **{name: counts[name] / np.maximum(totals[name], 1) for name in counts}}


def restatement_forms(tunes: Sequence[Tune], bars_per_part: int = 8) -> dict[str, Counter[frozenset[Place]]]:
    """How often each set of restated places (`restated_places`) is a first part's (`first`) and a
    later part's (`later`), over the tunes whose every part has `bars_per_part` bars."""
    forms: dict[str, Counter[frozenset[Place]]] = {"first": Counter(), "later": Counter()}
    for tune in tunes:
        found = _parts_of(tune, bars_per_part)
        for p in range(len(found or ())):
            forms["later" if p else "first"][restated_places(found, p)] += 1  # type: ignore[arg-type]
    return forms


def second_part_rise(tunes: Sequence[Tune]) -> dict[str, float | int | None]:
    """Over the tunes of two parts or more: the mean of how far the second part's median pitch
    lies above the first's (semitones), and the share of tunes where it lies above."""
    rises = []
    for tune in tunes:
        found = bars_by_part(tune)
        medians = [np.median([p for bar in part for p, _, _ in bar if p is not None] or [np.nan]) for part in found[:2]]
        if len(medians) == 2 and not np.isnan(medians).any():
            rises.append(float(medians[1] - medians[0]))
    return {"tunes": len(rises), "mean_rise": float(np.mean(rises)) if rises else None,
            "share_higher": float(np.mean(np.array(rises) > 0)) if rises else None}


def home_closes(tunes: Sequence[Tune]) -> tuple[int, int]:
    """(parts before a tune's last that close at home as a tune ends: on the tonic, on a note at
    least a beat or a quarter note long, whichever is shorter (the grammar's final); such parts)."""
    home = total = 0
    for tune in tunes:
        shortest = min(tune.meter.beat, SHORTEST_FINAL)
        for part in bars_by_part(tune)[:-1]:
            notes = [(pitch, length) for pitch, length, _ in part[-1] if pitch is not None]
            if notes:
                total += 1
                pitch, length = notes[-1]
                home += (pitch - tune.key.tonic_pitch_class) % 12 == 0 and length >= shortest
    return home, total

"""The rhythm prior: a note takes the lengths that real tunes of its type and meter give a note at
that place in the bar.

Left alone, the bundled model wrote rhythms real players hardly ever do: hornpipe dotting in reels
(a dotted eighth on the beat), a short-long figure in a jig's beat (`de2`), a run of sixteenths
across a hornpipe's bar. Of its reels' notes, 0.037 took a length that real reels give fewer than
one note in a hundred at that place in the bar (real reels: 0.007), of its jigs' 0.025 (0.006), of
its hornpipes' 0.030 (0.004; 300 training tunes' headers, `benchmarks/musicality.py
build/finals/corpus-dance --split train --types reel,jig,hornpipe --samples 300 --seed 1
--rhythm-prior 0`). The prior takes log-probability from such a length: at 2 those shares are
0.004, 0.006 and 0.005. The model still chooses among the lengths real tunes use there, and a
rare one stays possible, as it is in real tunes.

`rhythms.json` holds, for each type and meter, how many notes of real dance tunes (the ones the
bundled model learned from) took each length at each place of a full bar; `scripts/measure_forms.py`
writes it. A type with too few tunes in a meter takes the counts of every type in that meter.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from pathlib import Path

import numpy as np

from symbolic.tune import Bar, Meter, MeterChange, Note, Tune

RHYTHMS_FILE = Path(__file__).with_name("rhythms.json")
ALL_TYPES = "all"
RARE = 0.01  # a length real tunes give fewer than this share of the notes at a place is rare there
MIN_NOTES = 100  # a place with fewer notes measured has no prior: a share of 0.01 needs that many
MIN_TYPE_NOTES = 3000  # a type with fewer notes in a meter (about 60 tunes) takes every type's


def meter_class(meter: Meter) -> str:
    """The meters whose bars have the same places: 4/4, C, 2/2 and C| are one (four quarter notes),
    6/8 and 3/4 two (three quarters, compound or not)."""
    return f"{meter.bar_length}{' compound' if meter.is_compound else ''}"


def placed_lengths(tune: Tune) -> Iterator[tuple[Fraction, Fraction]]:
    """(place in the bar, length) of each note and rest in the tune's full bars, in quarter notes;
    short bars (a pickup, a part's last bar) are left out, since where a pickup starts in the bar
    is not written."""
    bar_length = tune.meter.bar_length
    start = Fraction(0)
    notes: list[Note] = []
    for element in [*tune.body, None]:
        if type(element) is Note:
            notes.append(element)
        elif element is None or type(element) is Bar or type(element) is MeterChange:
            if notes and bar_length is not None and sum(n.duration for n in notes) == bar_length:
                yield from ((n.onset - start, n.duration) for n in notes)
            notes.clear()
            if type(element) is Bar:
                start = element.onset
            elif type(element) is MeterChange:
                bar_length = element.meter.bar_length
                start = element.onset


def count_rhythms(tunes: Sequence[Tune], kinds: Sequence[str]) -> dict[str, dict[str, dict[str, dict[str, int]]]]:
    """{type: {meter class: {place: {length: notes}}}} of tunes (each of its type in `kinds`), with
    every type together under ALL_TYPES; places and lengths in quarter notes, as text."""
    counts: dict[tuple[str, str, str], Counter[str]] = defaultdict(Counter)
    for tune, kind in zip(tunes, kinds, strict=True):
        meter = meter_class(tune.meter)
        for place, length in placed_lengths(tune):
            for name in (kind, ALL_TYPES):
                counts[name, meter, str(place)][str(length)] += 1
    found: dict[str, dict[str, dict[str, dict[str, int]]]] = {}
    for (name, meter, place), lengths in sorted(counts.items()):
        found.setdefault(name, {}).setdefault(meter, {})[place] = dict(sorted(lengths.items()))
    return found


@dataclass(frozen=True)
class Rhythm:
    """For each place in a bar (quarter notes from the bar line) with enough notes measured, the
    lengths real tunes of one type and meter give at least RARE of the notes there."""

    usual: dict[Fraction, frozenset[Fraction]]

    @classmethod
    @cache
    def shipped(cls, kind: str, meter: Meter) -> Rhythm | None:
        """The rhythm of real tunes of type `kind` in `meter` (of every type when `kind` has too
        few notes in that meter), or None where none was measured."""
        by_type = _shipped_counts().get(meter_class(meter))
        if by_type is None:
            return None
        places = by_type.get(kind)
        if places is None or sum(sum(c.values()) for c in places.values()) < MIN_TYPE_NOTES:
            places = by_type[ALL_TYPES]
        return cls.from_counts(places)

    @classmethod
    def from_counts(cls, places: dict[str, dict[str, int]]) -> Rhythm:
        usual = {}
        for place, lengths in places.items():
            total = sum(lengths.values())
            if total >= MIN_NOTES:
                usual[Fraction(place)] = frozenset(Fraction(length) for length, count in lengths.items()
                                                   if count >= RARE * total)
        return cls(usual)

    def penalties(self, duration_of: np.ndarray, grid: int, bar_steps: int) -> np.ndarray:
        """(bar_steps, vocab): 1 where a duration token (`duration_of` grid steps, 0 for other
        tokens; `grid` steps a quarter note) is rare that many steps into the bar, else 0; places
        with too few notes measured, or off the grid, have none."""
        rows = np.zeros((bar_steps, len(duration_of)))
        for place, lengths in self.usual.items():
            step = place * grid
            if step.denominator == 1 and 0 <= step < bar_steps:
                usual = [int(length * grid) for length in lengths if (length * grid).denominator == 1]
                rows[int(step)] = (duration_of > 0) & ~np.isin(duration_of, usual)
        return rows


@cache
def _shipped_counts() -> dict[str, dict[str, dict[str, dict[str, int]]]]:
    """{meter class: {type: {place: {length: notes}}}}."""
    by_type = json.loads(RHYTHMS_FILE.read_text())["by_type"]
    found: dict[str, dict[str, dict[str, dict[str, int]]]] = defaultdict(dict)
    for kind, meters in by_type.items():
        for meter, places in meters.items():
            found[meter][kind] = places
    return dict(found)

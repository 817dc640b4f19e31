"""The form of a tune as a player reads it: its parts, how many bars each, and which repeat.

A part ends at a `:|`, `::`, `||`, `|]` or `[|`, and a new one begins at `|:`; a `:|` followed
by a second ending (`:|2` or `:| [2`) does not end the part, which goes on through its endings.
A part's length is counted on its first pass (the second and later endings are left out), in
whole bars of the meter in force where it starts, rounded, so a pickup and the short bar that
completes it count as one bar. A part shorter than half a bar (a lone pickup) joins the next.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction

from symbolic.evaluation.metrics import MelodyEvent, edit_similarity
from symbolic.tune import Bar, Meter, MeterChange, Note, Tune

CLASSIC_BARS = 8  # the classic dance-tune part: eight bars, played twice


@dataclass
class Part:
    meter: Meter
    repeated: bool = False
    duration: Fraction = Fraction(0)
    events: list[MelodyEvent] = field(default_factory=list)  # first pass, ties not merged

    @property
    def bars(self) -> int:
        length = self.meter.bar_length
        return round(self.duration / length) if length else 0


def parts(tune: Tune) -> list[Part]:
    meter = tune.meter
    found: list[Part] = []
    current = Part(meter)
    ending = 0  # the ending being read (0: none)
    pending_close = False  # a `:|` seen; the part ends unless a second ending follows

    def close() -> None:
        nonlocal current, ending, pending_close
        if current.duration:
            found.append(current)
        current, ending, pending_close = Part(meter), 0, False

    for element in tune.body:
        if type(element) is MeterChange:
            meter = element.meter
        elif type(element) is Note:
            if pending_close:
                close()
            if ending <= 1:
                current.events.append((element.pitch, element.duration))
                current.duration += element.duration
        elif type(element) is Bar:
            if element.ending:
                pending_close = False
                current.repeated = True  # endings only make sense in a repeated part
                ending = min(element.ending)
                continue
            kind = element.kind
            if kind in (":|", "::"):
                current.repeated = True
                pending_close = True
                if kind == "::":
                    close()
                    current.repeated = True
            elif kind == "|:":
                if current.duration:
                    close()
                current.repeated = True
            elif kind in ("||", "|]", "[|"):
                close()
    close()
    return _merge_pickups(found)


def _merge_pickups(found: list[Part]) -> list[Part]:
    merged: list[Part] = []
    carry: Part | None = None
    for part in found:
        length = part.meter.bar_length
        if carry is not None:
            part.events = carry.events + part.events
            part.duration += carry.duration
            carry = None
        if length and part.duration < length / 2 and not part.repeated:
            carry = part
            continue
        merged.append(part)
    if carry is not None:
        if merged:
            merged[-1].events += carry.events
            merged[-1].duration += carry.duration
        else:
            merged.append(carry)
    return merged


def is_aabb(found: Sequence[Part]) -> bool:
    """Two parts, each of eight bars, each repeated."""
    return len(found) == 2 and all(p.repeated and p.bars == CLASSIC_BARS for p in found)


def form_figures(tunes: Sequence[Tune]) -> dict[str, object]:
    """Mean parts and bars per part, share AABB, mean edit similarity of the first two parts."""
    counts: list[int] = []
    bars: list[int] = []
    aabb = 0
    similarities: list[float] = []
    for tune in tunes:
        found = parts(tune)
        counts.append(len(found))
        bars += [p.bars for p in found]
        aabb += is_aabb(found)
        if len(found) >= 2:
            similarities.append(edit_similarity(found[0].events, found[1].events))
    histogram: dict[str, int] = {}
    for count in counts:
        histogram[str(count)] = histogram.get(str(count), 0) + 1
    return {
        "tunes": len(tunes),
        "mean_parts": sum(counts) / len(counts) if counts else 0.0,
        "parts_histogram": dict(sorted(histogram.items(), key=lambda kv: int(kv[0]))),
        "mean_bars_per_part": sum(bars) / len(bars) if bars else 0.0,
        "share_aabb": aabb / len(tunes) if tunes else 0.0,
        "mean_ab_edit_similarity": sum(similarities) / len(similarities) if similarities else None,
        "tunes_with_two_parts_or_more": len(similarities),
    }

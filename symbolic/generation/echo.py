"""The echo prior: dance tunes restate their bars, and a sampler left alone hardly ever does.

In the 4,756 dance tunes the bundled model learned from, 0.27 of the bars repeat an earlier bar of
the tune note for note; tunes sampled one token at a time repeated 0.004 of theirs, since an exact
restatement takes a dozen tokens each drawn the same way. The echo prior adds log-probability to
the token that would carry on restating an earlier bar, from the bar's first note on, for as long
as the bar so far restates it: the model still decides whether to echo and when to break off.

Which bars restate which is the part's form, drawn for each part from the forms of real tunes'
parts (`forms.json`, written by `scripts/measure_forms.py` with `evaluation.restatement`): in the
3,125 of those tunes in parts of eight bars, a quarter of the first parts restate bars 1 and 2 in
bars 5 and 6 (the second phrase answering the first), a seventh bars 1 to 3, a seventh only bar 1,
and 0.15 restate nothing; a later part may also close as the part before closed. A part's first two
bars are new (at most 0.03 of them restate anything). Echoing the bar four back and the part before
wherever the bar fit had put the first part's tune into the second part's opening, so the second
part never set out on its own or rose above the first; and one strength for every place gave each
about 0.3 of restatement where real tunes have 0.73 at bar 5 and 0.26 at bar 7.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from symbolic.tokens import BAR, COUNTDOWN, ENDING

SOURCES = ("half", "two", "part")  # half a part back, two bars back, the same bar of the part before
FORMS_FILE = Path(__file__).with_name("forms.json")
ALL_TYPES = "all"  # forms.json's entry for every type together

Where = tuple[int, int]  # (parts finished, bars finished in the part): the bar a token is written in
Place = tuple[int, str]  # (bar of the part, from 0; a `SOURCES` name): a bar that restates that source


def source_of(part: int, bar: int, source: str, bars_per_part: int) -> Where | None:
    """(part, bar) that `source` names for bar `bar` of part `part`, or None where there is none."""
    if source == "half":
        back = bars_per_part // 2
        return (part, bar - back) if back and bar >= back else None
    if source == "two":
        return (part, bar - 2) if bar >= 2 else None
    return (part - 1, bar) if part else None


@dataclass(frozen=True)
class Forms:
    """The restated places of real tunes' parts, first and later, with how often each was seen,
    counted in parts of `bars_per_part` bars; and how often a part before the last closes at home."""

    bars_per_part: int
    first: tuple[tuple[frozenset[Place], ...], tuple[int, ...]]
    later: tuple[tuple[frozenset[Place], ...], tuple[int, ...]]
    home_close: float = 0.0  # the share of parts before the last that close at home, as the tune ends
    pickup: float = 0.0  # the share of tunes that open with a pickup

    @classmethod
    def from_counts(cls, bars_per_part: int, first: Counter[frozenset[Place]],
                    later: Counter[frozenset[Place]], home_close: float = 0.0, pickup: float = 0.0) -> Forms:
        def table(counts: Counter[frozenset[Place]]) -> tuple[tuple[frozenset[Place], ...], tuple[int, ...]]:
            ordered = counts.most_common()
            return tuple(form for form, _ in ordered), tuple(count for _, count in ordered)
        return cls(bars_per_part, table(first), table(later), home_close, pickup)

    def to_json(self) -> dict[str, object]:
        def rows(table: tuple[tuple[frozenset[Place], ...], tuple[int, ...]]) -> list[object]:
            return [[count, sorted([bar, source] for bar, source in form)] for form, count in zip(*table, strict=True)]
        return {"first": rows(self.first), "later": rows(self.later), "home_close": round(self.home_close, 3),
                "pickup": round(self.pickup, 3)}

    @classmethod
    def from_json(cls, bars_per_part: int, data: dict[str, Any]) -> Forms:
        def counts(rows: list[Any]) -> Counter[frozenset[Place]]:
            return Counter({frozenset((int(bar), str(source)) for bar, source in form): int(count) for count, form in rows})
        return cls.from_counts(bars_per_part, counts(data["first"]), counts(data["later"]), float(data["home_close"]),
                               float(data["pickup"]))

    @classmethod
    @cache
    def shipped(cls, kind: str = ALL_TYPES) -> Forms:
        """The forms of the dance tunes of type `kind` the bundled model learned from, or of all
        of them for a type with too few tunes to count on its own."""
        data = json.loads(FORMS_FILE.read_text())
        return cls.from_json(data["bars_per_part"], data["by_type"].get(kind) or data["by_type"][ALL_TYPES])

    def draw(self, later: bool, rng: np.random.Generator) -> frozenset[Place]:
        forms, counts = self.later if later else self.first
        return forms[int(rng.choice(len(forms), p=np.array(counts) / sum(counts)))] if forms else frozenset()

    def plan(self, parts: int, rng: np.random.Generator) -> list[frozenset[Place]]:
        """A form for each part of a tune."""
        return [self.draw(part > 0, rng) for part in range(parts)]

    @property
    def echoed_close(self) -> float:
        """The share of later parts whose last bar restates the part before's."""
        forms, counts = self.later
        echoed = sum(c for form, c in zip(forms, counts, strict=True) if (self.bars_per_part - 1, "part") in form)
        return echoed / sum(counts) if counts else 0.0

    def homes(self, plan: list[frozenset[Place]], share: float, rng: np.random.Generator) -> frozenset[int]:
        """The parts before the last that close at home, as the tune ends: `share` of them, drawn
        first among those whose next part closes as they did (which a part closing at home lets
        the tune's final do; a real tune whose second part closes as its first did closed its
        first part at home)."""
        echoed = self.echoed_close
        if_echoed = min(1.0, share / echoed) if echoed else share
        otherwise = max(0.0, (share - echoed) / (1 - echoed)) if echoed < 1 else share
        return frozenset(p for p in range(len(plan) - 1)
                         if rng.random() < (if_echoed if (self.bars_per_part - 1, "part") in plan[p + 1] else otherwise))


class Echo:
    """Each row's bars so far, by where they stand (their notes, lengths and rests as token ids; bar
    lines, the countdown and ending marks left out), each part's form (`Forms.plan`, counted in
    parts of `forms_bars_per_part` bars), and the tokens that carry on restating the bar the form
    names for the bar being written. A part's pickup stands where its first bar does, which
    replaces it; a second ending where the first."""

    def __init__(self, tokens: list[str], bars_per_part: int, bodies: list[list[tuple[int, Where]]],
                 plans: list[list[frozenset[Place]]], forms_bars_per_part: int) -> None:
        self.boundary = np.array([t.startswith(BAR) for t in tokens])
        self.skipped = np.array([t.startswith((COUNTDOWN, ENDING)) for t in tokens])
        self.bars_per_part, self.scale = bars_per_part, forms_bars_per_part
        self.plans = plans
        self.bars: list[dict[Where, tuple[int, ...]]] = [{} for _ in bodies]
        self.current: list[list[int]] = [[] for _ in bodies]
        for row, body in enumerate(bodies):
            for token, where in body:
                self.add(row, token, where)

    def add(self, row: int, token: int, where: Where) -> None:
        if self.boundary[token]:
            if self.current[row]:
                self.bars[row][where] = tuple(self.current[row])
            self.current[row] = []
        elif not self.skipped[token]:
            self.current[row].append(token)

    def play(self, chosen: np.ndarray, rows: list[int], wheres: list[Where]) -> None:
        for row, where in zip(rows, wheres, strict=True):
            self.add(row, int(chosen[row]), where)

    def sources(self, row: int, where: Where) -> list[Where]:
        """The earlier bars the row's form names for the bar at `where` (parts of other lengths
        than the forms' are scaled to them)."""
        part, bar = where
        if part >= len(self.plans[row]):
            return []
        place = bar * self.scale // self.bars_per_part
        found = (source_of(part, bar, source, self.bars_per_part) for at, source in self.plans[row][part] if at == place)
        return [source for source in found if source is not None]

    def suggestions(self, rows: list[int], wheres: list[Where]) -> tuple[np.ndarray, np.ndarray]:
        """(rows, tokens): for each row, each token that carries on restating a bar its form names."""
        found: set[tuple[int, int]] = set()
        for row, where in zip(rows, wheres, strict=True):
            current = tuple(self.current[row])
            for source in self.sources(row, where):
                bar = self.bars[row].get(source)
                if bar is not None and len(bar) > len(current) and bar[:len(current)] == current:
                    found.add((row, bar[len(current)]))
        pairs = np.array(sorted(found), dtype=np.int64).reshape(-1, 2)
        return pairs[:, 0], pairs[:, 1]

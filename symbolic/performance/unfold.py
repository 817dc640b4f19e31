"""Performance order: repeats, n-th endings and `P:` part orders played out the way abc2midi does.

`unfold(tune)` gives the notes and rests as they are heard, onsets counted from 0. We follow
abc2midi 4.84 (store.c `scan_for_missing_repeats` and `fixreps`, genmidi.c `writetrack`) rather
than an idealised reading of ABC 2.1, because abc2midi is the reference we are measured
against and because its repairs of sloppy repeats are what folk players expect:

- `:|` with no `|:` anywhere before it repeats from the start of the tune (or of the part).
- A later `:|` with no `|:` of its own repeats from the last `||`, `|]`, `[|` or `:|` before it
  (that `:|` then acts as `::`); a second `|:` before any `:|` acts as `::`.
- An ending is played on the passes it names (`[1,3`, `[2-4`); on other passes everything up to
  the next `:|`, `|:`, `||`, `|]`, `[|`, part mark or ending is skipped, that bar line included.
- A section may be played up to four times when its endings ask for it (`|1 :|2 :|3`).
- With a header `P:` (say `P:AABA`, `P:A2(BC)2`, dots and spaces ignored) the music before the
  first body part mark is played once, then each named part in that order; parts named in the
  header but missing from the body are skipped; the last body part of a name wins. Without a
  header `P:`, body part marks are only labels.

Known gaps: abc2midi skips its `fixreps` repairs for tunes with several voices, which a `Tune`
(first voice only) cannot know about.
Ties and grace notes are left as written: `merge_ties` joins tied notes for playback.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from fractions import Fraction

from symbolic.errors import TuneValueError
from symbolic.tune import Bar, Element, KeyChange, MeterChange, Note, PartMark, Tune

# Named limits against hostile input: a tune of 20,000 notes repeated by a part order such as
# `P:((A9)9)9` would otherwise build millions of notes.
MAX_UNFOLDED_NOTES = 100_000
MAX_PART_ORDER = 1_000  # parts in an expanded header `P:` order
MAX_UNFOLD_STEPS = 2_000_000  # feature visits; ends any loop the rules above might allow

# abc2midi's feature kinds, by the names its sources use.
_SINGLE, _DOUBLE, _BAR_REP, _REP_BAR, _DOUBLE_REP = "|", "||", "|:", ":|", "::"
_PLAY_ON, _PART, _EVENT = "ending", "part", "event"
_BAR_FEATURE = {"|": _SINGLE, "||": _DOUBLE, "|]": _DOUBLE, "[|": _DOUBLE,
                "|:": _BAR_REP, ":|": _REP_BAR, "::": _DOUBLE_REP}
# Where skipping an ending that is not for this pass stops (genmidi.c, PLAY_ON_REP).
_ENDING_STOPS = frozenset({_REP_BAR, _BAR_REP, _PART, _DOUBLE, _PLAY_ON})

PerformanceEvent = Note | KeyChange | MeterChange


@dataclass
class _Feature:
    kind: str
    element: Element | None = None  # the note, key or meter change an _EVENT plays
    endings: tuple[int, ...] = ()
    part: str = ""
    source: int = -1  # index in the tune's body of the element an _EVENT plays


def unfold(tune: Tune) -> list[Note]:
    """Notes and rests in performance order, onsets from 0; tie flags and grace notes kept."""
    return [event for event in unfold_events(tune) if type(event) is Note]


def unfold_events(tune: Tune) -> list[PerformanceEvent]:
    """Notes, rests, key and meter changes in performance order with performance onsets.

    After a jump back (or a skipped ending) a KeyChange/MeterChange is added wherever the key
    or meter in force at the landing point differs from the one last played, so a MIDI writer
    can follow the signature without knowing about repeats."""
    return unfold_events_with_sources(tune)[0]


def unfold_events_with_sources(tune: Tune) -> tuple[list[PerformanceEvent], list[int]]:
    """`unfold_events`, and for each event the index in `tune.body` of the element it plays
    (-1 for a key or meter change added after a jump), so callers can find its written bar."""
    features = _features(tune)
    order = _part_order(tune)
    _insert_missing_start_repeats(features, part_mode=order is not None)
    if order is None:
        _fix_repeats(features)
    player = _Player(tune, features, order)
    return player.play(), player.sources


def merge_ties(notes: list[Note]) -> list[Note]:
    """Join each note tied to a following note of the same pitches into one sounding note.

    A tie to a note of other pitches (or from a rest) sounds as two notes, so its flag is
    dropped; the result has no tie flags. Grace notes of the later notes are lost with them."""
    return merge_ties_with_sources(notes, [-1] * len(notes))[0]


def merge_ties_with_sources(notes: list[Note], sources: list[int]) -> tuple[list[Note], list[int]]:
    """`merge_ties`, carrying along one source index per note (a merged note keeps its first's)."""
    merged: list[Note] = []
    kept: list[int] = []
    for note, source in zip(notes, sources, strict=True):
        last = merged[-1] if merged else None
        if (last is not None and last.tie and last.pitches and last.pitches == note.pitches
                and last.end == note.onset):
            merged[-1] = replace(last, duration=last.duration + note.duration, tie=note.tie)
        else:
            if last is not None and last.tie:
                merged[-1] = replace(last, tie=False)
            merged.append(note)
            kept.append(source)
    if merged and merged[-1].tie:
        merged[-1] = replace(merged[-1], tie=False)
    return merged, kept


def parse_part_order(text: str) -> list[str]:
    """Expand a header `P:` order: `A2(BC)2` -> A A B C B C. Letters name parts (case folded),
    a number repeats the part or bracket before it, anything else (dots, spaces) is ignored."""
    expanded, _ = _parse_part_group(text.upper(), 0)
    return expanded[:MAX_PART_ORDER]


def _parse_part_group(text: str, position: int) -> tuple[list[str], int]:
    result: list[str] = []
    last: list[str] = []
    while position < len(text):
        char = text[position]
        if char == ")":
            return result, position + 1
        if char == "(":
            last, position = _parse_part_group(text, position + 1)
            result.extend(last)
            continue
        number = re.match(r"\d+", text[position:])
        if number:
            count = int(number.group())
            # Cap before multiplying: `P:A999999999` must not build a huge list.
            room = max(0, MAX_PART_ORDER - len(result))
            copies = min(max(count - 1, 0), room // max(len(last), 1) + 1)
            result.extend(last * copies)
            position += len(number.group())
            continue
        if "A" <= char <= "Z":
            last = [char]
            result.append(char)
        position += 1
        if len(result) > MAX_PART_ORDER:
            break
    return result, position


def _part_order(tune: Tune) -> list[str] | None:
    """The header part order, or None when the tune has none (body part marks are labels)."""
    for letter, value in tune.fields:
        if letter == "P":
            order = parse_part_order(value)
            if order:
                return order
    return None


def _part_name(mark: PartMark) -> str:
    # abc2midi keys a part on the first character of its label (`P:A1` is part A).
    return mark.name[:1].upper()


def _features(tune: Tune) -> list[_Feature]:
    """abc2midi's feature list: a `||` where the music starts, then the body."""
    features = [_Feature(_DOUBLE)]
    for source, element in enumerate(tune.body):
        if type(element) is Bar:
            features.append(_Feature(_BAR_FEATURE[element.kind]))
            if element.ending:
                features.append(_Feature(_PLAY_ON, endings=element.ending))
        elif type(element) is PartMark:
            features.append(_Feature(_PART, part=_part_name(element)))
        else:
            features.append(_Feature(_EVENT, element=element, source=source))
    return features


def _insert_missing_start_repeats(features: list[_Feature], part_mode: bool) -> None:
    """store.c scan_for_missing_repeats: a `:|` or `::` before any `|:` (in the tune, or in
    the part when a header part order is played) repeats from the start of the tune or part."""
    start, found, inserts = 0, False, []
    for index, feature in enumerate(features):
        if feature.kind == _PART and part_mode:
            start, found = index, False
        elif feature.kind == _BAR_REP:
            found = True
        elif feature.kind in (_REP_BAR, _DOUBLE_REP) and not found:
            inserts.append(start + 1)
            found = True
    for index in reversed(inserts):
        features.insert(index, _Feature(_BAR_REP))


def _fix_repeats(features: list[_Feature]) -> None:
    """store.c fixreps (tunes without a part order): repair the remaining unmatched repeats."""
    expect_repeat, endings_seen, restart = False, 0, 0
    for index, feature in enumerate(features):
        kind = feature.kind
        if kind == _DOUBLE:
            restart = index
        elif kind == _BAR_REP:
            if expect_repeat:
                feature.kind = _DOUBLE_REP  # `|: .. |:` reads as `|: .. ::`
            expect_repeat = True
        elif kind == _REP_BAR:
            if not expect_repeat and endings_seen < 1:
                _place_start_repeat(features[restart])
            expect_repeat, restart = False, index
        elif kind == _PLAY_ON:
            if endings_seen == 0 and not expect_repeat:
                _place_start_repeat(features[restart])
            endings_seen += 1
        elif kind == _DOUBLE_REP:
            if not expect_repeat:
                _place_start_repeat(features[restart])
            expect_repeat = True


def _place_start_repeat(feature: _Feature) -> None:
    if feature.kind in (_SINGLE, _DOUBLE):
        feature.kind = _BAR_REP
    elif feature.kind == _REP_BAR:
        feature.kind = _DOUBLE_REP


class _Player:
    """genmidi.c writetrack's walk over the features, emitting events with new onsets."""

    def __init__(self, tune: Tune, features: list[_Feature], order: list[str] | None) -> None:
        self.features = features
        self.order = order
        self.part_starts = {f.part: i for i, f in enumerate(features) if f.kind == _PART}
        self.next_part = 0
        self.keys, self.meters = _signatures_in_force(tune, features)
        self.key, self.meter = tune.key, tune.meter
        self.time = Fraction(0)
        self.notes = 0
        self.events: list[PerformanceEvent] = []
        self.sources: list[int] = []

    def play(self) -> list[PerformanceEvent]:
        features = self.features
        pass_, max_pass, expect_repeat, saved = 1, 2, False, 0
        index, steps = 0, 0
        while True:
            if index >= len(features):
                part = self.jump_to_next_part()
                if part is None:
                    break
                index = part + 1
                continue
            steps += 1
            if steps > MAX_UNFOLD_STEPS:
                raise TuneValueError(f"unfolding repeats took more than {MAX_UNFOLD_STEPS} steps")
            feature = features[index]
            kind = feature.kind
            if kind == _EVENT:
                self.emit(feature.element, feature.source)
            elif kind == _BAR_REP:
                saved, expect_repeat, pass_, max_pass = index, True, 1, 2
            elif kind == _REP_BAR:
                if (pass_ == 1 and expect_repeat) or 1 < pass_ < max_pass:
                    pass_, expect_repeat, index = pass_ + 1, False, self.land(saved)
            elif kind == _PLAY_ON:
                pass_number = pass_ if expect_repeat or pass_ > 1 else 1
                if pass_number not in feature.endings:
                    index = self.land(self.skip_ending(index))
                elif max_pass < 4:
                    max_pass = pass_ + 1
            elif kind == _DOUBLE_REP:
                if pass_ > 1 or not expect_repeat:
                    # A `::` reached again after its repeat (or with no `|:`) opens a new one.
                    max_pass = 2 if pass_ > 1 else max_pass
                    saved, expect_repeat, pass_ = index, True, 1
                else:
                    pass_, index = pass_ + 1, self.land(saved)
            elif kind == _PART and self.order is not None:
                part = self.jump_to_next_part()
                if part is None:
                    break
                index = part
            index += 1
        return self.events

    def skip_ending(self, index: int) -> int:
        """Index of the stop feature (itself skipped), or just before a part mark."""
        index += 1
        while index < len(self.features) and self.features[index].kind not in _ENDING_STOPS:
            index += 1
        if index < len(self.features) and self.features[index].kind == _PART:
            index -= 1
        return index

    def jump_to_next_part(self) -> int | None:
        """Index of the next part mark in the header order that the body has, or None."""
        if self.order is None:
            return None
        while self.next_part < len(self.order):
            name = self.order[self.next_part]
            self.next_part += 1
            if name in self.part_starts:
                return self.land(self.part_starts[name])
        return None

    def land(self, index: int) -> int:
        """Play resumes after feature `index`: restore the key and meter in force there."""
        if index + 1 < len(self.features):
            key, meter = self.keys[index + 1], self.meters[index + 1]
            if key != self.key:
                self.emit(KeyChange(self.time, key))
            if meter != self.meter:
                self.emit(MeterChange(self.time, meter))
        return index

    def emit(self, element: Element | None, source: int = -1) -> None:
        if type(element) is Note:
            self.notes += 1
            if self.notes > MAX_UNFOLDED_NOTES:
                raise TuneValueError(f"tune unfolds to more than {MAX_UNFOLDED_NOTES} notes")
            self.events.append(replace(element, onset=self.time))
            self.time += element.duration
        elif type(element) is KeyChange:
            self.key = element.key
            self.events.append(KeyChange(self.time, element.key))
        elif type(element) is MeterChange:
            self.meter = element.meter
            self.events.append(MeterChange(self.time, element.meter))
        else:
            return
        self.sources.append(source)


def _signatures_in_force(tune: Tune, features: list[_Feature]) -> tuple[list, list]:
    """Key and meter in force at each feature, as written (before it is played)."""
    keys, meters = [], []
    key, meter = tune.key, tune.meter
    for feature in features:
        keys.append(key)
        meters.append(meter)
        if type(feature.element) is KeyChange:
            key = feature.element.key
        elif type(feature.element) is MeterChange:
            meter = feature.element.meter
    return keys, meters

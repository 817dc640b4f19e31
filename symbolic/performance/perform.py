"""The tune as played, with every note's place in its bar: repeats unfolded (or each part once),
tied notes merged, bar downbeats followed through the repeats, chord symbols and sections kept.
The MIDI writer and the renderer play what `perform` gives.

A short bar at the start of the tune or of a section (after `|:`, `||`, `::`...) is a pickup
and ends on the downbeat; any other short bar starts on one.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, replace
from fractions import Fraction

from symbolic.performance.accompaniment import Performance, PerformedBar, PlayedNote, nominal_length
from symbolic.performance.unfold import PerformanceEvent, merge_ties_with_sources, unfold_events_with_sources
from symbolic.tune import Bar, Key, KeyChange, Meter, MeterChange, Note, PartMark, Tune

# Bar lines after which a short bar is a pickup into the next section.
_SECTION_BARS = frozenset({"|:", "||", "[|", "::", ":|", "|]"})
# Bar lines that end an n-th ending (besides the start of the next ending or a part mark).
_ENDING_STOPS = frozenset({":|", "|:", "::", "||", "|]", "[|"})


@dataclass(frozen=True, slots=True)
class _Written:
    """Where a written note sits: its offset from its bar's downbeat, and what is in force."""

    offset: Fraction
    meter: Meter
    key: Key
    opens_section: bool  # first note after a section bar line (or of the tune)


def perform(tune: Tune, repeats: bool = True) -> tuple[Performance, list[PerformanceEvent]]:
    """The tune as heard (repeats unfolded, or each part once) with bar positions, chord
    symbols and drone sections in performance time; also the key and meter changes."""
    written = _written_positions(tune)
    # Each written note's index among the notes, from its index in the body.
    note_index = {i: k for k, i in enumerate(i for i, e in enumerate(tune.body) if type(e) is Note)}
    events, body_sources = unfold_events_with_sources(tune) if repeats else _each_part_once(tune)
    played = [e for e in events if type(e) is Note]
    sources = [note_index[s] for e, s in zip(events, body_sources, strict=True) if type(e) is Note]
    notes = []
    for note, source in zip(*merge_ties_with_sources(played, sources), strict=True):
        where = written[source]
        notes.append(PlayedNote(note.onset, note.duration, note.pitches, note.onset - where.offset,
                                where.meter, where.key))
    end = played[-1].end if played else Fraction(0)
    performance = Performance(tuple(notes), _bars(notes, end), _chord_names(tune, played, sources),
                              _sections(notes, played, sources, written, events), end, tune.rhythm)
    return performance, [e for e in events if type(e) is not Note]


def _each_part_once(tune: Tune) -> tuple[list[PerformanceEvent], list[int]]:
    """Written order without jumping back; of a group of n-th endings only the last plays.
    Also each event's index in the body, as `unfold_events_with_sources` gives."""
    skipped = _skipped_endings(tune.body)
    events: list[PerformanceEvent] = []
    sources: list[int] = []
    time = Fraction(0)
    for index, element in enumerate(tune.body):
        if type(element) is Note:
            if index not in skipped:
                events.append(replace(element, onset=time))
                sources.append(index)
                time += element.duration
        elif type(element) in (KeyChange, MeterChange):
            events.append(replace(element, onset=time))  # kept even in a skipped ending: as written
            sources.append(index)
    return events, sources


def _skipped_endings(body: tuple) -> set[int]:
    """Body indices inside an ending that another ending follows."""
    sections, current = [], None
    for index, element in enumerate(body):
        stops = type(element) is PartMark or (type(element) is Bar and (element.ending or element.kind in _ENDING_STOPS))
        if current is not None and stops:
            sections.append((current, index))
            current = None
        if type(element) is Bar and element.ending:
            current = index
    if current is not None:
        sections.append((current, len(body)))
    skipped: set[int] = set()
    for start, stop in sections:
        after = stop
        while after < len(body) and type(body[after]) not in (Note, PartMark):
            if type(body[after]) is Bar and body[after].ending:
                skipped.update(range(start, stop))
                break
            after += 1
    return skipped


def _written_positions(tune: Tune) -> list[_Written]:
    """For each written note: its offset from the downbeat of its bar. Bars are the spans
    between bar lines; a short bar at the start of the tune or of a section is a pickup."""
    spans: list[dict] = []  # start, opens, meter, key, notes (written indices)
    meter, key = tune.meter, tune.key
    span = {"start": Fraction(0), "opens": True, "notes": []}
    count = 0
    for element in tune.body:
        if type(element) is Bar:
            if span["notes"]:
                spans.append(span)
                span = {"start": element.onset, "opens": False, "notes": []}
            span["opens"] = (span["opens"] or element.kind in _SECTION_BARS) and not element.ending
        elif type(element) is MeterChange:
            meter = element.meter
        elif type(element) is KeyChange:
            key = element.key
        elif type(element) is Note:
            if not span["notes"]:
                span.update(meter=meter, key=key)  # what is in force when the bar's music starts
            span["notes"].append((count, element.onset))
            count += 1
    if span["notes"]:
        spans.append(span)
    ends = [s["start"] for s in spans[1:]] + [tune.duration]
    written: list[_Written] = []
    for number, (span, end) in enumerate(zip(spans, ends, strict=True)):
        actual = end - span["start"]
        nominal = nominal_length(span["meter"], actual)
        pickup = span["opens"] and actual < nominal and number < len(spans) - 1
        lead = nominal - actual if pickup else Fraction(0)
        for position, (_, onset) in enumerate(span["notes"]):
            written.append(_Written(lead + onset - span["start"], span["meter"], span["key"],
                                    span["opens"] and position == 0))
    return written


def _bars(notes: list[PlayedNote], end: Fraction) -> tuple[PerformedBar, ...]:
    """Performed bars: runs of played notes that share a downbeat. A bar sounds from its first
    note (a pickup bar starts after its downbeat) until the next bar starts."""
    runs: list[list[PlayedNote]] = []
    for note in notes:
        if runs and runs[-1][0].downbeat == note.downbeat:
            runs[-1].append(note)
        else:
            runs.append([note])
    stops = [run[0].onset for run in runs[1:]] + [end]
    return tuple(PerformedBar(run[0].onset, stop, run[0].downbeat, run[0].meter, run[0].key, tuple(run))
                 for run, stop in zip(runs, stops, strict=True) if run[0].onset < stop)


def _chord_names(tune: Tune, played: list[Note], sources: list[int]) -> tuple[tuple[Fraction, str], ...]:
    """The tune's chord symbols where they sound in the performance: after each jump (a repeat,
    a skipped ending) the chord in force at the landing point sounds again."""
    if not tune.chords:
        return ()
    written = tune.notes
    onsets = [c.onset for c in tune.chords]
    found: list[tuple[Fraction, str]] = []
    previous_end: Fraction | None = None
    for note, source in zip(played, sources, strict=True):
        w_onset, w_end = written[source].onset, written[source].end
        if previous_end != w_onset:
            in_force = bisect_right(onsets, w_onset) - 1
            if in_force >= 0:
                found.append((note.onset, tune.chords[in_force].name))
            first = in_force + 1
        else:
            first = bisect_left(onsets, w_onset)
        for chord in tune.chords[first:]:
            if chord.onset >= w_end:
                break
            found.append((note.onset + chord.onset - w_onset, chord.name))
        previous_end = w_end
    return tuple(found)


def _sections(notes: list[PlayedNote], played: list[Note], sources: list[int], written: list[_Written],
              events: list[PerformanceEvent]) -> tuple[tuple[Fraction, Key], ...]:
    """Where a drone (re)starts, with the key from there: on the downbeat that begins each
    section (the tune's start, a jump back or past an ending, a section bar line) and at each
    key change. A pickup into a section starts it at the next downbeat."""
    times: set[Fraction] = set()
    previous = -2
    for note, source in zip(played, sources, strict=True):
        where = written[source]
        if source != previous + 1 or where.opens_section:
            length = where.meter.bar_length
            downbeat = note.onset - where.offset
            times.add(note.onset if where.offset == 0 or length is None else downbeat + length)
        previous = source
    onsets = [n.onset for n in notes]
    points: dict[Fraction, Key] = {}
    for time in times:
        index = bisect_left(onsets, time)
        if index < len(notes):
            points[time] = notes[index].key
    for event in events:
        if type(event) is KeyChange:
            points[event.onset] = event.key
    end = notes[-1].end if notes else Fraction(0)
    return tuple(sorted((t, k) for t, k in points.items() if t < end))


# --- tempo, signatures --------------------------------------------------------------------

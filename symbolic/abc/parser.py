"""One ABC tune, header and body, read into a `Tune` (the tune parser).

What is kept: the header (X T C O R M L Q K, other fields as text, a free-text line or `+:` line
continuing the field before it), the first voice's notes, rests, chords (all pitches), grace notes,
ties, bar lines with repeats and endings, inline key, meter and part changes, and chord symbols.
Decorations, slurs, annotations, lyrics and layout directives are read and dropped. Other voices
are skipped, never mixed into the melody. Tolerated slips of real tunebooks: a line of `=` signs
between parts, and an annotation written between a note and its length (`B"13"2`).

Splitting a tunebook into tunes is `symbolic.abc.tunebook`'s job; this module reads one tune from
its numbered lines.
"""

from __future__ import annotations

import re
from fractions import Fraction

from symbolic.abc.fields import default_unit, parse_key, parse_meter, parse_tempo, parse_unit
from symbolic.abc.header import TuneHeader
from symbolic.abc.lexer import (
    ALTER,
    BODY_FIELDS,
    BROKEN,
    DIVIDER_LINE,
    FIELD_LINE,
    INNER_NOTE,
    MAX_NOTES,
    MAX_TUNE_LINES,
    NOTE,
    TOKEN,
    bar_kind,
    endings,
    note_length,
    strip_comment,
)
from symbolic.chords import LOOKS_LIKE_CHORD
from symbolic.errors import AbcSyntaxError, TuneValueError
from symbolic.pitch import LETTER_SEMITONES
from symbolic.tune import (
    Bar,
    ChordSymbol,
    Element,
    Key,
    KeyChange,
    Meter,
    MeterChange,
    Note,
    PartMark,
    Tempo,
    Tune,
    add_exact,
    fraction,
)

Line = tuple[int, str]  # (1-based line number in the source, text without its line break)


class TuneParser:
    """Reads one tune from its numbered lines (its X: line first); the tune ends at the first
    blank line after K:. `file_header` holds the tunebook's header lines, which every tune inherits."""

    def __init__(self, lines: list[Line], file_header: list[Line], source: str) -> None:
        self.lines = lines
        self.file_header = file_header
        self.source = source
        self.first_line = lines[0][0] if lines else 1
        self.line_no = self.first_line
        self.header = TuneHeader()
        self.unit = Fraction(1, 8)
        # Body state.
        self.body_meter = Meter("none")
        self.body_unit = Fraction(1, 8)
        self.body_key = Key()
        self.signature: dict[str, int] = self.body_key.signature
        self.bar_accidentals: dict[tuple[str, int], int] = {}
        # Raw events: [kind, payload...] lists; onsets are given at the end.
        self.events: list[list] = []
        self.chords: list[tuple[int, str]] = []  # (index of the event it precedes, name)
        self.last_note: list | None = None
        self.pending_broken: tuple[Fraction, Fraction] | None = None
        self.pending_grace: tuple[int, ...] = ()
        self.tuplet_left = 0
        self.tuplet_factor = Fraction(1)
        self.melody_voice: str | None = None
        self.voice: str | None = None
        self.note_count = 0
        self.skip_overlay = False
        self.continued = ""
        # (letter, octave) -> alteration of the notes being read, of the last note, and of the
        # last note when it is tied (the next note of the same letter inherits it).
        self.spellings: dict[tuple[str, int], int] = {}
        self.last_spellings: dict[tuple[str, int], int] = {}
        self.tied_spellings: dict[tuple[str, int], int] = {}

    # ----- errors -----
    def error(self, reason: str, column: int = 0) -> AbcSyntaxError:
        return AbcSyntaxError(reason, self.source, self.line_no, column + 1)

    # ----- header -----
    def parse(self) -> Tune:
        if len(self.lines) > MAX_TUNE_LINES:
            raise self.error(f"tune longer than {MAX_TUNE_LINES} lines")
        for line_no, line in self.file_header:
            self.line_no = line_no
            self.header_field(line)
        self.header.last_letter = None
        in_body = False
        for line_no, line in self.lines:
            self.line_no = line_no
            if not in_body:
                if not line.strip():
                    continue
                if line.startswith("%"):
                    continue
                if self.header_field(line):
                    in_body = True
                    self.begin_body()
                continue
            if not line.strip():
                break  # a blank line ends the tune
            self.body_line(line)
        if not in_body:
            self.line_no = self.first_line
            if all(not line.strip() or line.startswith("%") for _, line in self.lines[1:]):
                raise self.error(f"{self.lines[0][1].strip()} starts no tune: no field or music follows it")
            raise self.error("no K: field, so no tune body")
        return self.build()

    def header_field(self, line: str) -> bool:
        """Take one header line; True when it was the K: that ends the header."""
        try:
            return self.header.take(line)
        except ValueError as error:
            raise self.error(str(error), 2) from None

    def begin_body(self) -> None:
        header = self.header
        self.body_meter = header.meter or Meter("none")
        self.body_unit = header.unit or default_unit(self.body_meter)
        self.unit = self.body_unit
        self.set_key(header.key)
        self.melody_voice = header.voice
        self.voice = self.melody_voice

    def set_key(self, key: Key) -> None:
        self.body_key = key
        self.signature = key.signature
        self.bar_accidentals = {}

    # ----- body -----
    def body_line(self, line: str) -> None:
        if line.startswith("%") or DIVIDER_LINE.match(line):
            return
        match = FIELD_LINE.match(line)
        if match and match.group(1) in BODY_FIELDS:
            self.body_field(match.group(1), strip_comment(match.group(2)).strip(), 2)
            return
        line = self.continued + strip_comment(line)
        stripped = line.rstrip()
        if stripped.endswith("\\"):
            # Line continuation: the music goes on in the next line (`||\` then `:abc` is `||:`).
            self.continued = stripped[:-1]
            return
        self.continued = ""
        position = 0
        length = len(line)
        while position < length:
            match = TOKEN.match(line, position)
            if match is None:
                raise self.error(f"unexpected character {line[position]!r}", position)
            position = match.end()
            kind = match.lastgroup
            if kind == "space":
                continue
            try:
                if self.skip_overlay or (self.voice is not None and self.voice != self.melody_voice):
                    # Skipping another voice or an overlay: only voice switches and bars matter.
                    if kind == "field" and match.group("field_letter") == "V":
                        self.body_field("V", match.group("field_value").strip(), match.start())
                    elif kind == "bar" and self.skip_overlay:
                        self.skip_overlay = False
                        self.bar(match)
                    continue
                self.token(kind, match)
            except (ValueError, ZeroDivisionError, TuneValueError) as error:
                raise self.error(str(error), match.start()) from None
            if self.note_count > MAX_NOTES:
                raise self.error(f"more than {MAX_NOTES} notes")

    def token(self, kind: str | None, match: re.Match) -> None:
        if kind == "note":
            self.note(match)
        elif kind == "misplaced":
            # `B"13"2`: the string belongs before the note, the length after it.
            accidental, letter, octave, text, length = match.groups()[2:7]
            if LOOKS_LIKE_CHORD.match(text):
                self.chords.append((len(self.events), text))
            self.add_note((self.pitch(accidental, letter, octave),), self.length(length))
        elif kind == "bar":
            self.bar(match)
        elif kind == "rest":
            self.add_note((), self.length(match.group("rest_len")))
        elif kind == "chord":
            self.chord(match)
        elif kind == "tie":
            if self.last_note is not None:
                self.last_note[4] = True
                self.tied_spellings = self.last_spellings
        elif kind == "broken":
            if self.last_note is None:
                raise ValueError("broken rhythm with no note before it")
            self.pending_broken = BROKEN[match.group("broken")]
        elif kind == "tuplet":
            self.tuplet(match)
        elif kind == "grace":
            self.pending_grace = self.grace(match.group("grace_inner"))
        elif kind == "string":
            text = match.group("string_text")
            if LOOKS_LIKE_CHORD.match(text):
                self.chords.append((len(self.events), text))
        elif kind == "field":
            self.body_field(match.group("field_letter"), match.group("field_value").strip(), match.start())
        elif kind == "ending":
            self.ending(endings(match.group("ending_numbers")))
        elif kind == "measure_rest":
            self.measure_rest(match)
        elif kind == "ignored" and match.group("ignored") == "&":
            self.skip_overlay = True  # a voice overlay: the rest of the bar belongs to another line

    def body_field(self, letter: str, value: str, column: int) -> None:
        try:
            if letter == "K":
                key = parse_key(value)
                self.set_key(key)
                self.events.append(["key", key])
            elif letter == "M":
                meter = parse_meter(value)
                self.body_meter = meter
                self.events.append(["meter", meter])
            elif letter == "L":
                self.body_unit = parse_unit(value)
            elif letter == "P":
                if value:
                    self.events.append(["part", value])
            elif letter == "V":
                voice = value.split()[0] if value else None
                if self.melody_voice is None:
                    self.melody_voice = voice
                self.voice = voice
        except (ValueError, TuneValueError) as error:
            raise self.error(str(error), column) from None

    def length(self, text: str) -> Fraction:
        """A note length suffix (`2`, `/2`, `/`, `//`, `3/2`) in quarter notes."""
        return note_length(self.body_unit.denominator, text)

    def pitch(self, accidental: str | None, letter: str, octave_marks: str, grace: bool = False) -> int:
        upper = letter.upper()
        octave = (1 if letter.islower() else 0) + octave_marks.count("'") - octave_marks.count(",")
        if accidental is not None:
            alter = ALTER[accidental]
            self.bar_accidentals[(upper, octave)] = alter
        elif not grace and (upper, octave) in self.tied_spellings:
            # A note tied from the same letter keeps its accidental, even across the bar line.
            alter = self.tied_spellings[(upper, octave)]
        else:
            alter = self.bar_accidentals.get((upper, octave), self.signature[upper])
        if not grace:
            self.spellings[(upper, octave)] = alter
        midi = 60 + LETTER_SEMITONES[upper] + alter + 12 * octave
        if not 0 <= midi <= 127:
            raise ValueError(f"pitch {letter}{octave_marks} outside the MIDI range")
        return midi

    def note(self, match: re.Match) -> None:
        # groups: space, the misplaced note's 6, note, accidental, letter, octave marks, length, ...
        groups = match.groups()
        self.add_note((self.pitch(groups[8], groups[9], groups[10]),), self.length(groups[11]))

    def chord(self, match: re.Match) -> None:
        inner = match.group("chord_inner")
        pitches: list[int] = []
        first_length: str | None = None
        position = 0
        tie = False
        while position < len(inner):
            if not inner[position:].strip():
                break
            note = INNER_NOTE.match(inner, position)
            if note is None:
                raise ValueError(f"unreadable chord [{inner}]")
            pitches.append(self.pitch(note.group(1), note.group(2), note.group(3)))
            if first_length is None:
                first_length = note.group(4)
            tie = tie or bool(note.group(5))
            position = note.end()
        if not pitches:
            raise ValueError("empty chord []")
        duration = self.length(first_length or "") * self.length(match.group("chord_len")) / (self.body_unit * 4)
        self.add_note(tuple(sorted(set(pitches))), duration, tie)

    def grace(self, inner: str) -> tuple[int, ...]:
        pitches = []
        for note in re.finditer(NOTE, inner):
            pitches.append(self.pitch(note.group(1), note.group(2), note.group(3), grace=True))
        return tuple(pitches)

    def add_note(self, pitches: tuple[int, ...], duration: Fraction, tie: bool = False) -> None:
        if self.tuplet_left:
            duration *= self.tuplet_factor
            self.tuplet_left -= 1
        if self.pending_broken is not None:
            before, after = self.pending_broken
            assert self.last_note is not None
            self.last_note[2] *= before
            duration *= after
            self.pending_broken = None
        grace = self.pending_grace if pitches else ()
        self.pending_grace = ()
        event = ["note", pitches, duration, grace, tie]
        self.events.append(event)
        self.last_note = event
        self.last_spellings, self.spellings = self.spellings, {}
        self.tied_spellings = self.last_spellings if tie else {}
        self.note_count += 1

    def tuplet(self, match: re.Match) -> None:
        p = int(match.group("tuplet_p"))
        if not 2 <= p <= 32:
            raise ValueError(f"tuplet ({p} out of range")
        q_text, r_text = match.group("tuplet_q"), match.group("tuplet_r")
        if q_text:
            q = int(q_text)
        elif p in (3, 6):
            q = 2
        elif p in (2, 4, 8):
            q = 3
        else:
            q = 3 if self.body_meter.is_compound else 2
        r = int(r_text) if r_text else p
        if q == 0 or r == 0 or q > 64 or r > 64:
            raise ValueError(f"bad tuplet ({p}:{q}:{r}")
        self.tuplet_factor = Fraction(q, p)
        self.tuplet_left = r

    def bar(self, match: re.Match) -> None:
        text = match.group("bar")
        ending_text = match.group("bar_ending")
        if ending_text:
            text = text[: len(text) - len(ending_text)].rstrip("[")
        self.events.append(["bar", bar_kind(text), endings(ending_text) if ending_text else ()])
        self.bar_accidentals = {}
        self.pending_broken = None

    def ending(self, numbers: tuple[int, ...]) -> None:
        last = self.events[-1] if self.events else None
        if last is not None and last[0] == "bar" and not last[2]:
            last[2] = numbers
        else:
            self.events.append(["bar", "|", numbers])
            self.bar_accidentals = {}

    def measure_rest(self, match: re.Match) -> None:
        count = int(match.group("measures") or 1)
        bar_length = self.body_meter.bar_length
        if bar_length is None:
            raise ValueError("multi-measure rest Z in free meter")
        if not 1 <= count <= 1000:
            raise ValueError(f"multi-measure rest of {count} bars")
        for n in range(count):
            if n:
                self.events.append(["bar", "|", ()])
            self.add_note((), bar_length)

    # ----- result -----
    def build(self) -> Tune:
        assert self.unit is not None
        tempo: Tempo | None = None
        header = self.header
        if header.tempo_text:
            try:
                tempo = parse_tempo(header.tempo_text, self.unit)
            except ValueError as error:
                raise AbcSyntaxError(str(error), self.source, self.first_line, 1) from None
        body: list[Element] = []
        onsets: list[Fraction] = []
        numerator, denominator = 0, 1
        for event in self.events:
            time = fraction(numerator, denominator)
            onsets.append(time)
            kind = event[0]
            try:
                if kind == "note":
                    body.append(Note(time, event[2], event[1], event[4], event[3]))
                    numerator, denominator = add_exact(numerator, denominator, event[2])
                elif kind == "bar":
                    body.append(Bar(time, event[1], event[2]))
                elif kind == "key":
                    body.append(KeyChange(time, event[1]))
                elif kind == "meter":
                    body.append(MeterChange(time, event[1]))
                else:
                    body.append(PartMark(time, event[1]))
            except TuneValueError as error:
                raise AbcSyntaxError(str(error), self.source, self.first_line, 1) from None
        onsets.append(fraction(numerator, denominator))
        chords = tuple(ChordSymbol(onsets[index], name) for index, name in self.chords)
        return Tune(
            reference=header.reference, titles=tuple(header.titles), meter=header.meter or Meter("none"),
            unit=self.unit, key=header.key, tempo=tempo, composer=header.composer, origin=header.origin,
            rhythm=header.rhythm, fields=tuple(header.fields), body=tuple(body), chords=chords, source=self.source,
        )

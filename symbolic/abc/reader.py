"""ABC 2.1 reader: tunebooks in, `Tune`s out; one bad tune never stops the rest.

What is kept: the header (X T C O R M L Q K, other fields as text), the first voice's notes,
rests, chords (all pitches), grace notes, ties, bar lines with repeats and endings, inline key,
meter and part changes, and chord symbols. Decorations, slurs, annotations, lyrics and layout
directives are read and dropped. Other voices are skipped, never mixed into the melody.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from symbolic.abc.fields import default_unit, parse_key, parse_meter, parse_tempo, parse_unit
from symbolic.errors import AbcSyntaxError, TuneValueError
from symbolic.tune import (
    LETTER_SEMITONES,
    MAX_ENDING,
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

# Named limits against hostile input.
MAX_TUNE_LINES = 5_000
MAX_NOTES = 20_000
MAX_LENGTH_FACTOR = 512  # longest note, in units (a 512-unit note is already absurd)

_FIELD_LINE = re.compile(r"^([A-Za-z+]):(.*)$")
# Fields allowed in a tune body; other letters at a body line's start are music (A: could be a note).
_BODY_FIELDS = frozenset("IKLMmNPQRrsTUVWw+")
_STRUCTURED = frozenset("XTCORMLQK")
_DROPPED_HEADER_FIELDS = frozenset("IUVWwsm+")

_ALTER = {"^^": 2, "^": 1, "=": 0, "_": -1, "__": -2}
_NOTE = r"(\^\^|\^|__|_|=)?([A-Ga-g])([,']*)(\d*/*\d*)"
# Every alternative is one outer named group, so `match.lastgroup` names the token kind.
_TOKEN = re.compile(
    r"(?P<space>[ \t]+)"
    r"|(?P<note>" + _NOTE + r")"
    r"|(?P<bar>(?::*(?:\[\|\]|\[\||\|+\]|\|\||\|):*|:{2,})(?:\[?(?P<bar_ending>\d+(?:[,-]\d+)*))?)"
    r"|(?P<ending>\[(?P<ending_numbers>\d+(?:[,-]\d+)*))"
    r"|(?P<field>\[(?P<field_letter>[A-Za-z]):(?P<field_value>[^\]]*)\])"
    r"|(?P<chord>\[(?P<chord_inner>[^\]\[|]*)\](?P<chord_len>\d*/*\d*))"
    r"|(?P<rest>[zx](?P<rest_len>\d*/*\d*))"
    r"|(?P<measure_rest>[ZX](?P<measures>\d*))"
    r"|(?P<tuplet>\((?P<tuplet_p>\d+)(?::(?P<tuplet_q>\d*))?(?::(?P<tuplet_r>\d*))?)"
    r"|(?P<tie>-)"
    r"|(?P<broken>>{1,3}|<{1,3})"
    r'|(?P<string>"(?P<string_text>[^"]*)")'
    r"|(?P<grace>\{(?P<grace_inner>[^}]*)\})"
    r"|(?P<decoration>![^!]*!|\+[^+]*\+)"
    r"|(?P<ignored>[()~.H-Wh-wy`$*\\!;?#@&])"
)
_INNER_NOTE = re.compile(r"[ \t]*(?:![^!]*!|\+[^+]*\+|[~.H-Wh-w]|\"[^\"]*\")*[ \t]*" + _NOTE + r"(-?)")
_CHORD_NAME = re.compile(r"^\(?[A-G][#b\u266f\u266d]?[^\s]*\)?$")
_BROKEN = {">": (Fraction(3, 2), Fraction(1, 2)), ">>": (Fraction(7, 4), Fraction(1, 4)),
           ">>>": (Fraction(15, 8), Fraction(1, 8))}
_BROKEN.update({"<" * len(k): (b, a) for k, (a, b) in _BROKEN.items()})


# Note lengths by (unit, suffix text): few distinct ones occur, and Fraction arithmetic is slow.
_LENGTHS: dict[tuple[int, str], Fraction] = {}


@dataclass
class TunebookResult:
    """The tunes read from one source, and one error per tune that could not be read."""

    tunes: list[Tune] = field(default_factory=list)
    errors: list[AbcSyntaxError] = field(default_factory=list)


def read_abc_file(path: str | Path) -> TunebookResult:
    """Read every tune of an ABC file (UTF-8, falling back to Latin-1 as old tunebooks use)."""
    path = Path(path)
    return read_abc(read_text(path), source=str(path))


def read_abc(text: str, source: str = "<string>") -> TunebookResult:
    result = TunebookResult()
    for item in iter_abc(text, source):
        (result.errors if isinstance(item, AbcSyntaxError) else result.tunes).append(item)
    return result


def read_tune(text: str, source: str = "<string>") -> Tune:
    """Read exactly one tune; raises `AbcSyntaxError` if it cannot be read or there is none."""
    items = list(iter_abc(text, source))
    if not items:
        raise AbcSyntaxError("no tune found (no K: field)", source, 1, 1)
    if isinstance(items[0], AbcSyntaxError):
        raise items[0]
    return items[0]


def read_text(path: Path) -> str:
    """A tunebook's text: UTF-8, or Latin-1 as old tunebooks often are."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def iter_abc(text: str, source: str = "<string>") -> Iterator[Tune | AbcSyntaxError]:
    """Yield each tune of a tunebook, or the error that stopped it, in file order."""
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("X:")]
    if not starts:
        if any(line.startswith("K:") for line in lines):
            starts, file_header = [0], []
        else:
            return
    else:
        file_header = _file_header(lines[: starts[0]])
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        try:
            yield _TuneParser(lines, start, end, file_header, source).parse()
        except AbcSyntaxError as error:
            yield error


def _file_header(lines: list[str]) -> list[tuple[int, str]]:
    """Field lines of the file's first block (before the first blank line and the first X:),
    which every tune inherits; later blocks before X: are free text."""
    header: list[tuple[int, str]] = []
    for i, line in enumerate(lines):
        if not line.strip():
            if header:
                break
            continue
        if _FIELD_LINE.match(line):
            header.append((i, line))
    return header


class _TuneParser:
    """Reads one tune from lines[start:end]; the tune ends at the first blank line after K:."""

    def __init__(self, lines: list[str], start: int, end: int, file_header: list[tuple[int, str]],
                 source: str) -> None:
        self.lines, self.start, self.end = lines, start, end
        self.file_header = file_header
        self.source = source
        self.line_no = start + 1
        # Header state.
        self.reference = 0
        self.titles: list[str] = []
        self.composer = self.origin = self.rhythm = ""
        self.fields: list[tuple[str, str]] = []
        self.meter: Meter | None = None
        self.unit: Fraction | None = None
        self.tempo_text: str | None = None
        self.key = Key()
        # Body state.
        self.body_meter = Meter("none")
        self.body_unit = Fraction(1, 8)
        self.body_key = Key()
        self.signature: dict[str, int] = self.key.signature
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
        if self.end - self.start > MAX_TUNE_LINES:
            raise self.error(f"tune longer than {MAX_TUNE_LINES} lines")
        for line_index, line in self.file_header:
            self.line_no = line_index + 1
            self.header_field(line)
        i = self.start
        in_body = False
        while i < self.end:
            line = self.lines[i]
            self.line_no = i + 1
            i += 1
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
            raise self.error("no K: field, so no tune body")
        return self.build()

    def header_field(self, line: str) -> bool:
        """Take one header line; True when it was the K: that ends the header."""
        match = _FIELD_LINE.match(line)
        if not match:
            return False  # free text in a header is tolerated
        letter, value = match.group(1), _strip_comment(match.group(2)).strip()
        try:
            if letter == "X":
                digits = re.match(r"\d+", value)
                self.reference = int(digits.group()) if digits else 0
            elif letter == "T":
                self.titles.append(value)
            elif letter == "C":
                self.composer = value if not self.composer else f"{self.composer}; {value}"
            elif letter == "O":
                self.origin = value
            elif letter == "R":
                self.rhythm = value
            elif letter == "M":
                self.meter = parse_meter(value)
            elif letter == "L":
                self.unit = parse_unit(value)
            elif letter == "Q":
                self.tempo_text = value
            elif letter == "K":
                self.key = parse_key(value)
                return True
            elif letter == "V":
                if self.melody_voice is None and value:
                    self.melody_voice = value.split()[0]
            elif letter not in _DROPPED_HEADER_FIELDS:
                self.fields.append((letter, value))
        except ValueError as error:
            raise self.error(str(error), 2) from None
        return False

    def begin_body(self) -> None:
        self.body_meter = self.meter or Meter("none")
        self.body_unit = self.unit or default_unit(self.body_meter)
        self.unit = self.body_unit
        self.set_key(self.key)
        self.voice = self.melody_voice

    def set_key(self, key: Key) -> None:
        self.body_key = key
        self.signature = key.signature
        self.bar_accidentals = {}

    # ----- body -----
    def body_line(self, line: str) -> None:
        if line.startswith("%"):
            return
        match = _FIELD_LINE.match(line)
        if match and match.group(1) in _BODY_FIELDS:
            self.body_field(match.group(1), _strip_comment(match.group(2)).strip(), 2)
            return
        line = self.continued + _strip_comment(line)
        stripped = line.rstrip()
        if stripped.endswith("\\"):
            # Line continuation: the music goes on in the next line (`||\` then `:abc` is `||:`).
            self.continued = stripped[:-1]
            return
        self.continued = ""
        position = 0
        length = len(line)
        while position < length:
            match = _TOKEN.match(line, position)
            if match is None:
                raise self.error(f"unexpected character {line[position]!r}", position)
            position = match.end()
            kind = match.lastgroup
            if kind == "space":
                continue
            if self.skip_overlay or (self.voice is not None and self.voice != self.melody_voice):
                # Skipping another voice or an overlay: only voice switches and bars matter.
                if kind == "field" and match.group("field_letter") == "V":
                    self.body_field("V", match.group("field_value").strip(), match.start())
                elif kind == "bar" and self.skip_overlay:
                    self.skip_overlay = False
                    self.bar(match)
                continue
            try:
                self.token(kind, match)
            except (ValueError, ZeroDivisionError, TuneValueError) as error:
                raise self.error(str(error), match.start()) from None
            if self.note_count > MAX_NOTES:
                raise self.error(f"more than {MAX_NOTES} notes")

    def token(self, kind: str | None, match: re.Match) -> None:
        if kind == "note":
            self.note(match)
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
            self.pending_broken = _BROKEN[match.group("broken")]
        elif kind == "tuplet":
            self.tuplet(match)
        elif kind == "grace":
            self.pending_grace = self.grace(match.group("grace_inner"))
        elif kind == "string":
            text = match.group("string_text")
            if _CHORD_NAME.match(text):
                self.chords.append((len(self.events), text))
        elif kind == "field":
            self.body_field(match.group("field_letter"), match.group("field_value").strip(), match.start())
        elif kind == "ending":
            self.ending(_endings(match.group("ending_numbers")))
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
        key = (self.body_unit.denominator, text)
        value = _LENGTHS.get(key)
        if value is None:
            value = _LENGTHS[key] = self._length(text)
        return value

    def _length(self, text: str) -> Fraction:
        if not text:
            return self.body_unit * 4
        slash = text.find("/")
        if slash < 0:
            multiplier = Fraction(int(text))
        else:
            numerator = int(text[:slash]) if slash else 1
            rest = text[slash:]
            slashes = len(rest) - len(rest.lstrip("/"))
            digits = rest[slashes:]
            if digits and slashes == 1:
                denominator = int(digits)
            elif not digits:
                denominator = 2**slashes
            else:
                raise ValueError(f"unreadable note length {text!r}")
            multiplier = Fraction(numerator, denominator)
        if multiplier <= 0 or multiplier > MAX_LENGTH_FACTOR:
            raise ValueError(f"note length {text!r} out of range")
        return self.body_unit * 4 * multiplier

    def pitch(self, accidental: str | None, letter: str, octave_marks: str, grace: bool = False) -> int:
        upper = letter.upper()
        octave = (1 if letter.islower() else 0) + octave_marks.count("'") - octave_marks.count(",")
        if accidental is not None:
            alter = _ALTER[accidental]
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
        groups = match.groups()  # (space, note, accidental, letter, octave marks, length, ...)
        self.add_note((self.pitch(groups[2], groups[3], groups[4]),), self.length(groups[5]))

    def chord(self, match: re.Match) -> None:
        inner = match.group("chord_inner")
        pitches: list[int] = []
        first_length: str | None = None
        position = 0
        tie = False
        while position < len(inner):
            if not inner[position:].strip():
                break
            note = _INNER_NOTE.match(inner, position)
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
        for note in re.finditer(_NOTE, inner):
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
        self.events.append(["bar", _bar_kind(text), _endings(ending_text) if ending_text else ()])
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
        if self.tempo_text:
            try:
                tempo = parse_tempo(self.tempo_text, self.unit)
            except ValueError as error:
                raise AbcSyntaxError(str(error), self.source, self.start + 1, 1) from None
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
                raise AbcSyntaxError(str(error), self.source, self.start + 1, 1) from None
        onsets.append(fraction(numerator, denominator))
        chords = tuple(ChordSymbol(onsets[index], name) for index, name in self.chords)
        return Tune(
            reference=self.reference, titles=tuple(self.titles), meter=self.meter or Meter("none"),
            unit=self.unit, key=self.key, tempo=tempo, composer=self.composer, origin=self.origin,
            rhythm=self.rhythm, fields=tuple(self.fields), body=tuple(body), chords=chords, source=self.source,
        )


def _strip_comment(line: str) -> str:
    """Drop a `%` comment; an escaped `\\%` is a literal percent sign."""
    index = line.find("%")
    if index < 0:
        return line
    while index > 0 and line[index - 1] == "\\":
        index = line.find("%", index + 1)
    return (line if index < 0 else line[:index]).replace("\\%", "%")


def _bar_kind(text: str) -> str:
    left, right = text.startswith(":"), text.endswith(":")
    core = text.strip(":")
    if left and right:
        return "::"
    if left:
        return ":|"
    if right:
        return "|:"
    if core in ("|", "||", "|]", "[|"):
        return core
    if core == "[|]":
        return "|"
    return "|]" if core.endswith("]") else "||"


def _endings(text: str) -> tuple[int, ...]:
    numbers: set[int] = set()
    for part in text.split(","):
        if "-" in part:
            low, high = (int(x) for x in part.split("-", 1))
            numbers.update(range(low, high + 1))
        else:
            numbers.add(int(part))
    if not numbers or min(numbers) < 1 or max(numbers) > MAX_ENDING:
        raise ValueError(f"ending numbers [{text}] out of 1..{MAX_ENDING}")
    return tuple(sorted(numbers))

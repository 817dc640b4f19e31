"""Tune -> clean ABC 2.1 that our reader (and abc2midi, music21) reads back to the same Tune.

Pitches are spelled in the key in force; accidentals are written only where the key and the
bar's earlier accidentals do not already give the pitch. Durations are written in the tune's unit
length; ones that are not a power-of-two share of it become tuplets `(p:q:r`. Notes are grouped
(beamed) by the meter's beat, and lines hold four bars unless told otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from fractions import Fraction
from typing import TextIO

from symbolic.errors import SymbolicError
from symbolic.pitch import LETTER_SEMITONES
from symbolic.tune import Bar, Key, KeyChange, Meter, MeterChange, Note, PartMark, Tune

_ACCIDENTAL_TEXT = {-2: "__", -1: "_", 0: "=", 1: "^", 2: "^^"}
MAX_TUPLET = 32


class AbcWriteError(SymbolicError):
    """A Tune holds something ABC cannot say (for example a duration no tuplet can express)."""


def write_abc_tunebook(tunes: Iterable[Tune], bars_per_line: int = 4) -> str:
    """Several tunes as one tunebook, separated by blank lines."""
    return "".join(iter_abc_tunebook(tunes, bars_per_line))


def iter_abc_tunebook(tunes: Iterable[Tune], bars_per_line: int = 4) -> Iterator[str]:
    """A tunebook's text tune by tune, taking one tune from `tunes` at a time, so a tunebook of
    any size is written in bounded memory (join the pieces for `write_abc_tunebook`'s text)."""
    for index, tune in enumerate(tunes):
        yield ("\n" if index else "") + write_abc(tune, bars_per_line)


def write_abc_tunebook_to(handle: TextIO, tunes: Iterable[Tune], bars_per_line: int = 4) -> int:
    """Write a tunebook to an open text file tune by tune; returns how many tunes were written."""
    count = 0
    for count, piece in enumerate(iter_abc_tunebook(tunes, bars_per_line), start=1):  # noqa: B007
        handle.write(piece)
    return count


def write_abc(tune: Tune, bars_per_line: int = 4) -> str:
    """One tune as ABC text, ending with a newline."""
    lines = [f"X:{tune.reference}"]
    lines += [f"T:{_escape(title)}" for title in tune.titles]
    if tune.composer:
        lines.append(f"C:{_escape(tune.composer)}")
    if tune.origin:
        lines.append(f"O:{_escape(tune.origin)}")
    if tune.rhythm:
        lines.append(f"R:{_escape(tune.rhythm)}")
    lines += [f"{letter}:{_escape(value)}" for letter, value in tune.fields]
    lines.append(f"M:{tune.meter.text}")
    lines.append(f"L:1/{tune.unit.denominator}")
    if tune.tempo is not None:
        beat = tune.tempo.beat
        lines.append(f"Q:{beat.numerator}/{beat.denominator}={tune.tempo.bpm}")
    lines.append(f"K:{tune.key}")
    lines += _BodyWriter(tune, bars_per_line).lines()
    return "\n".join(lines) + "\n"


def _escape(text: str) -> str:
    return text.replace("%", "\\%")


def spell(pitch: int, signature: Mapping[str, int], prefer_sharps: bool, neutral: bool = False) -> tuple[str, int, int]:
    """(letter, alteration, octave) for a MIDI pitch: the key's own spelling when it has one,
    otherwise a natural, then a sharp or flat as the key prefers. Octave 0 is ABC's `C`..`B`."""
    pitch_class = pitch % 12
    candidates = []
    for letter, semitone in LETTER_SEMITONES.items():
        alter = (pitch_class - semitone + 6) % 12 - 6
        if -2 <= alter <= 2:
            candidates.append((letter, alter))
    in_key = [c for c in candidates if signature[c[0]] == c[1]]
    if in_key:
        letter, alter = in_key[0]
    else:
        preferred = 1 if prefer_sharps else -1
        if neutral and pitch_class in (3, 10):
            preferred = -1  # E flat and B flat read better than D sharp and A sharp

        def rank(candidate: tuple[str, int]) -> tuple[int, int]:
            alter = candidate[1]
            return (0 if alter == 0 else 1 if alter == preferred else 2 if alter == -preferred else 3, 0)

        letter, alter = min(candidates, key=rank)
    natural = pitch - alter
    octave = (natural - 60 - LETTER_SEMITONES[letter]) // 12
    return letter, alter, octave


def _note_name(letter: str, octave: int) -> str:
    if octave >= 1:
        return letter.lower() + "'" * (octave - 1)
    return letter + "," * (-octave)


def _is_dyadic(value: Fraction) -> bool:
    denominator = value.denominator
    return denominator & (denominator - 1) == 0


def _length_text(ratio: Fraction) -> str:
    if ratio == 1:
        return ""
    if ratio.denominator == 1:
        return str(ratio.numerator)
    if ratio.numerator == 1:
        return "/" if ratio.denominator == 2 else f"/{ratio.denominator}"
    return f"{ratio.numerator}/{ratio.denominator}"


def _beam_group(meter: Meter) -> Fraction | None:
    """Quarter notes in a beamed group: dotted quarters in 6/8, half bars in 4/4 and 2/2."""
    length = meter.bar_length
    if length is None:
        return Fraction(1)
    if meter.is_compound:
        return Fraction(3, 2)
    if meter.text in ("4/4", "C", "2/2", "C|"):
        return Fraction(2)
    if meter.denominator == 8:
        return length
    return Fraction(4, meter.denominator)


class _BodyWriter:
    def __init__(self, tune: Tune, bars_per_line: int) -> None:
        self.tune = tune
        self.bars_per_line = max(1, bars_per_line)
        self.unit_quarters = tune.unit * 4
        self.set_key(tune.key)
        self.group = _beam_group(tune.meter)
        self.bar_start = Fraction(0)
        # abc2midi swings an R:hornpipe itself, pairing each plain unit note with the next one of
        # the same length; a written `A>B` whose A it has just paired, or whose earlier notes put
        # its pairing out of step, fails ("Cannot apply broken rhythm"). So in a hornpipe `A>B`
        # is written only at a bar's start or right after another such pair, else `A3/B/`.
        self.hornpipe = "hornpipe" in tune.rhythm.lower()
        # (letter, octave) -> alteration of the note being written, and of a tied note before it.
        self.spellings: dict[tuple[str, int], int] = {}
        self.tied: dict[tuple[str, int], int] = {}

    def set_key(self, key: Key) -> None:
        self.signature = key.signature
        self.prefer_sharps = key.fifths >= 0
        self.neutral = not any(self.signature.values())
        self.bar_accidentals: dict[tuple[str, int], int] = {}

    def pitch_text(self, pitch: int, grace: bool = False) -> str:
        """The pitch spelled, with an accidental only where the reader would not infer it: from
        the note it is tied from, else from the bar's earlier accidentals, else from the key."""
        letter, alter, octave = spell(pitch, self.signature, self.prefer_sharps, self.neutral)
        if not grace and (letter, octave) in self.tied:
            current = self.tied[(letter, octave)]
        else:
            current = self.bar_accidentals.get((letter, octave), self.signature[letter])
        text = _note_name(letter, octave)
        if alter != current:
            self.bar_accidentals[(letter, octave)] = alter
            text = _ACCIDENTAL_TEXT[alter] + text
        if not grace:
            self.spellings[(letter, octave)] = alter
        return text

    def lines(self) -> list[str]:
        body = self.tune.body
        chords = list(self.tune.chords)
        ratios = {i: e.duration / self.unit_quarters for i, e in enumerate(body) if type(e) is Note}
        out: list[str] = []
        line: list[str] = []
        bars_on_line = notes_in_bar = 0
        tuplet_left = 0
        tuplet_scale = Fraction(1)
        previous_group: int | None = None
        previous_unpaired = False  # the last note in this bar was written alone, not in a broken pair
        chord_index = 0
        i = 0
        while i < len(body):
            element = body[i]
            if type(element) is Note:
                text = ""
                while chord_index < len(chords) and chords[chord_index].onset <= element.onset:
                    text += f'"{chords[chord_index].name}"'
                    chord_index += 1
                ratio = ratios[i]
                if tuplet_left == 0 and not _is_dyadic(ratio):
                    p, q, r = self._tuplet(body, ratios, i)
                    text += "(3" if (p, q, r) == (3, 2, 3) else f"({p}:{q}:{r}"
                    tuplet_left, tuplet_scale = r, Fraction(p, q)
                broken = self._broken_rhythm(body, ratios, i) if tuplet_left == 0 else ""
                if broken and self.hornpipe and previous_unpaired:
                    broken = ""  # abc2midi has paired the note with the plain one before it (see __init__)
                written = ratio * tuplet_scale if tuplet_left else ratio
                if tuplet_left:
                    tuplet_left -= 1
                    if tuplet_left == 0:
                        tuplet_scale = Fraction(1)
                if broken:
                    # `A>B` writes A at 2/3 of its length and B at twice its own; `A<B` the reverse.
                    following = body[i + 1]
                    assert type(following) is Note
                    first, second = (Fraction(2, 3), 2) if broken == ">" else (2, Fraction(2, 3))
                    before_second = self._chords_at(chords, chord_index, following.onset)
                    chord_index += len(before_second)
                    text += (self._note_text(element, written * first) + broken
                             + self._note_text(following, ratios[i + 1] * second, before_second))
                    i += 1
                    previous_unpaired = False
                else:
                    text += self._note_text(element, written)
                    previous_unpaired = True
                group = self._group_index(element.onset)
                if previous_group is not None and group != previous_group and line and not line[-1].endswith(" "):
                    line.append(" ")
                previous_group = self._group_index(body[i].onset)  # type: ignore[union-attr]
                line.append(text)
                notes_in_bar += 1
            elif type(element) is Bar:
                text = element.kind
                if element.ending:
                    numbers = ",".join(str(n) for n in element.ending)
                    text += numbers if element.kind in ("|", ":|") else f" [{numbers}"
                # A bar right after a key change keeps that key's fresh accidental state.
                self.bar_accidentals = {}
                previous_unpaired = False
                self.bar_start = element.onset
                previous_group = None
                if line and not line[-1].endswith(" "):
                    line.append(" ")
                line.append(text + " ")
                # Count bars that close some music, so a leading `|:` does not shorten a line.
                bars_on_line += notes_in_bar > 0
                notes_in_bar = 0
                if bars_on_line >= self.bars_per_line and i + 1 < len(body) and not element.ending:
                    out.append("".join(line).rstrip())
                    line, bars_on_line = [], 0
            elif type(element) is KeyChange:
                line.append(f"[K:{element.key}] ")
                self.set_key(element.key)
            elif type(element) is MeterChange:
                line.append(f"[M:{element.meter.text}] ")
                self.group = _beam_group(element.meter)
            elif type(element) is PartMark:
                # A field line of its own: an inline [P:...] would end at a `]` in the name.
                if line:
                    out.append("".join(line).rstrip())
                out.append(f"P:{_escape(element.name)}")
                line, bars_on_line = [], 0
            i += 1
        while chord_index < len(chords):
            line.append(f'"{chords[chord_index].name}"')
            chord_index += 1
        if line:
            out.append("".join(line).rstrip())
        return [text for text in out if text.strip()]

    @staticmethod
    def _broken_rhythm(body: tuple, ratios: dict[int, Fraction], i: int) -> str:  # type: ignore[type-arg]
        """`>` or `<` where a dotted note and its short partner (3:1 within a beat) can be written
        as broken rhythm, as folk ABC does; "" otherwise."""
        note = body[i]
        if note.tie or i + 1 >= len(body) or type(body[i + 1]) is not Note:
            return ""
        ratio, following = ratios[i], ratios[i + 1]
        if not (_is_dyadic(ratio) and _is_dyadic(following)):
            return ""
        if ratio == following * 3 and ratio.numerator == 3 and ratio.denominator >= 2:
            return ">"
        if following == ratio * 3 and following.numerator == 3 and following.denominator >= 2:
            return "<"
        return ""

    def _chords_at(self, chords: list, start: int, onset: Fraction) -> list:  # type: ignore[type-arg]
        taken = []
        while start + len(taken) < len(chords) and chords[start + len(taken)].onset <= onset:
            taken.append(chords[start + len(taken)])
        return taken

    def _group_index(self, onset: Fraction) -> int:
        assert self.group is not None
        return int((onset - self.bar_start) // self.group)

    def _tuplet(self, body: tuple, ratios: dict[int, Fraction], start: int) -> tuple[int, int, int]:  # type: ignore[type-arg]
        odd = ratios[start].denominator
        while odd % 2 == 0:
            odd //= 2
        if odd > MAX_TUPLET:
            raise AbcWriteError(f"duration {body[start].duration} at {body[start].onset} needs a ({odd} tuplet")
        p, q = odd, 1 << (odd.bit_length() - 1)
        r = 0
        j = start
        total = Fraction(0)
        while j < len(body) and type(body[j]) is Note and r < 64:
            ratio = ratios[j]
            if _is_dyadic(ratio) or not _is_dyadic(ratio * p / q):
                break
            r += 1
            j += 1
            total += ratio
            if _is_dyadic(total):
                break  # the group fills whole (power-of-two) units: `(3abc`, `(3A2B`
        return p, q, r

    def _note_text(self, note: Note, ratio: Fraction, chords_before: list | None = None) -> str:  # type: ignore[type-arg]
        text = "".join(f'"{c.name}"' for c in chords_before or [])
        if note.grace:
            text += "{" + "".join(self.pitch_text(p, grace=True) for p in note.grace) + "}"
        if not note.pitches:
            text += "z"
        elif len(note.pitches) == 1:
            text += self.pitch_text(note.pitches[0])
        else:
            text += "[" + "".join(self.pitch_text(p) for p in note.pitches) + "]"
        text += _length_text(ratio)
        if note.tie:
            text += "-"
        self.tied = self.spellings if note.tie else {}
        self.spellings = {}
        return text

"""The one core type that crosses every stage: `Tune` and its self-checking parts.

Times are exact `Fraction`s in quarter notes (a "beat" here is always a quarter note, whatever
the meter), counted from the start of the written tune (repeats not unfolded). Pitches are MIDI
numbers (ABC `C` is 60). Spelling is not stored: writers spell pitches in the key in force.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cache
from math import gcd
from types import MappingProxyType

from symbolic.errors import TuneValueError
from symbolic.pitch import LETTER_FIFTHS, LETTER_SEMITONES, LETTERS, MODE_FIFTHS, MODES, NAME_ALTER, ORDER_OF_SHARPS

BAR_KINDS: tuple[str, ...] = ("|", "||", "|]", "[|", "|:", ":|", "::")
MAX_ENDING = 9


_FRACTIONS: dict[tuple[int, int], Fraction] = {}


def fraction(numerator: int, denominator: int) -> Fraction:
    """Fraction(numerator, denominator) for already-reduced integers, shared from a cache: readers
    build hundreds of thousands of onsets, and Fraction's own arithmetic dominated their time."""
    value = _FRACTIONS.get((numerator, denominator))
    if value is None:
        if len(_FRACTIONS) > 200_000:
            _FRACTIONS.clear()
        value = _FRACTIONS[(numerator, denominator)] = Fraction(numerator, denominator)
    return value


def add_exact(numerator: int, denominator: int, value: Fraction) -> tuple[int, int]:
    """numerator/denominator + value, reduced, in integers."""
    n = numerator * value.denominator + value.numerator * denominator
    d = denominator * value.denominator
    g = gcd(n, d)
    return n // g, d // g


@cache
def _signature(fifths: int, extra: tuple[tuple[str, int], ...]) -> Mapping[str, int]:
    sig = {letter: 0 for letter in LETTERS}
    if fifths > 0:
        for i in range(fifths):
            sig[ORDER_OF_SHARPS[i % 7]] += 1
    else:
        for i in range(-fifths):
            sig[ORDER_OF_SHARPS[6 - i % 7]] -= 1
    sig.update(dict(extra))
    return MappingProxyType(sig)


def _accidental_text(alter: int) -> str:
    return {-2: "bb", -1: "b", 0: "", 1: "#", 2: "##"}[alter]


@dataclass(frozen=True, slots=True)
class Key:
    """A key: tonic (letter plus optional # or b), mode, and extra accidentals (letter, alter)
    that change the mode's standard signature, as in ABC's `K:D ^g` (alter 0 means natural)."""

    tonic: str = "C"
    mode: str = "major"
    extra: tuple[tuple[str, int], ...] = ()

    def __post_init__(self) -> None:
        if not self.tonic or self.tonic[0] not in LETTER_FIFTHS or self.tonic[1:] not in ("", "#", "b"):
            raise TuneValueError(f"bad key tonic {self.tonic!r}")
        if self.mode not in MODE_FIFTHS:
            raise TuneValueError(f"bad mode {self.mode!r}; known: {', '.join(MODES)}")
        for letter, alter in self.extra:
            if letter not in LETTER_FIFTHS or alter not in (-2, -1, 0, 1, 2):
                raise TuneValueError(f"bad key accidental {letter!r}{alter!r}")
        if list(self.extra) != sorted(dict(self.extra).items(), key=lambda la: LETTERS.index(la[0])):
            raise TuneValueError(f"key accidentals must be unique and in C..B order: {self.extra!r}")

    @property
    def fifths(self) -> int:
        """Sharps (positive) or flats (negative) of the mode's standard signature."""
        alter = NAME_ALTER[self.tonic[1:]]
        return LETTER_FIFTHS[self.tonic[0]] + 7 * alter + MODE_FIFTHS[self.mode]

    @property
    def tonic_pitch_class(self) -> int:
        alter = NAME_ALTER[self.tonic[1:]]
        return (LETTER_SEMITONES[self.tonic[0]] + alter) % 12

    @property
    def signature(self) -> Mapping[str, int]:
        """Alteration in semitones of each letter under this key (the extras included)."""
        return _signature(self.fifths, self.extra)

    @property
    def scale(self) -> frozenset[int]:
        """The seven pitch classes of the key's scale (its signature's letters), extras included."""
        return frozenset((LETTER_SEMITONES[letter] + alter) % 12 for letter, alter in self.signature.items())

    @property
    def tonic_chord(self) -> frozenset[int]:
        """Pitch classes of degrees 1, 3 and 5 of the mode, read off the signature (so extra
        accidentals count): A dorian gives A C E, D mixolydian D F# A."""
        first = LETTERS.index(self.tonic[0])
        signature = self.signature
        found = {self.tonic_pitch_class}
        for step in (2, 4):
            letter = LETTERS[(first + step) % 7]
            found.add((LETTER_SEMITONES[letter] + signature[letter]) % 12)
        return frozenset(found)

    def __str__(self) -> str:
        mode = {"major": "", "minor": "m"}.get(self.mode, self.mode[:3])
        extras = "".join(
            " " + {-2: "__", -1: "_", 0: "=", 1: "^", 2: "^^"}[alter] + letter.lower() for letter, alter in self.extra
        )
        return f"{self.tonic}{mode}{extras}"


@dataclass(frozen=True, slots=True)
class Meter:
    """A time signature as ABC writes it: `6/8`, `C`, `C|`, `2+3/8`, `2/4+3/8` or `none`."""

    text: str = "4/4"

    def __post_init__(self) -> None:
        if self.text not in ("none", "C", "C|"):
            try:
                total = _meter_length(self.text)
            except (ValueError, ZeroDivisionError):
                raise TuneValueError(f"bad meter {self.text!r}") from None
            if total <= 0 or total > 64:
                raise TuneValueError(f"bad meter {self.text!r}")

    @property
    def bar_length(self) -> Fraction | None:
        """Quarter notes in a full bar, or None for free meter."""
        if self.text == "none":
            return None
        if self.text == "C":
            return Fraction(4)
        if self.text == "C|":
            return Fraction(4)  # cut time: two half notes
        return _meter_length(self.text) * 4

    @property
    def fraction(self) -> Fraction | None:
        """The meter as a fraction of a whole note (6/8 -> 3/4), used for ABC's defaults."""
        length = self.bar_length
        return None if length is None else length / 4

    @property
    def numerator(self) -> int:
        if self.text in ("none", "C"):
            return 4
        if self.text == "C|":
            return 2
        # Additive meters of mixed denominators (2/4+3/8) count in the smallest unit (7/8).
        return int(_meter_length(self.text) * self.denominator)

    @property
    def denominator(self) -> int:
        if self.text in ("none", "C"):
            return 4
        if self.text == "C|":
            return 2
        return max(int(part.split("/")[1]) for part in self.text.split("+") if "/" in part)

    @property
    def beat(self) -> Fraction:
        """Quarter notes in a beat: the denominator's note, dotted in compound meters (6/8: 3/2)."""
        unit = Fraction(4, self.denominator)
        return unit * 3 if self.is_compound else unit

    @property
    def is_compound(self) -> bool:
        """6/8, 9/8, 12/8 and the like: three beats of the denominator to a pulse."""
        return self.text.count("/") == 1 and "+" not in self.text and self.numerator % 3 == 0 and self.numerator > 3


def _meter_length(text: str) -> Fraction:
    """Whole notes in a bar of an `n/d`, `a+b/d` or `a/d+b/e` meter."""
    if text.count("/") == 1:
        num, den = text.split("/")
        return Fraction(sum(int(p) for p in num.split("+")), int(den))
    return sum((Fraction(int(n), int(d)) for n, d in (p.split("/") for p in text.split("+"))), Fraction(0))


@dataclass(frozen=True, slots=True)
class Tempo:
    """`bpm` beats a minute where a beat lasts `beat` whole notes (Q:3/8=120 is bpm 120, beat 3/8)."""

    bpm: int = 120
    beat: Fraction = Fraction(1, 4)

    def __post_init__(self) -> None:
        if not 1 <= self.bpm <= 1000 or not 0 < self.beat <= 4:
            raise TuneValueError(f"bad tempo {self.beat}={self.bpm}")

    @property
    def quarters_per_minute(self) -> Fraction:
        return self.bpm * self.beat * 4


@dataclass(frozen=True, slots=True)
class Note:
    """A note, chord or rest. `pitches` ascending; empty means a rest; the top one is the melody.
    `tie` ties it to the next note; `grace` holds grace-note pitches before it (they take no time)."""

    onset: Fraction
    duration: Fraction
    pitches: tuple[int, ...] = ()
    tie: bool = False
    grace: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        # Numerators carry the sign (denominators are positive): cheaper than Fraction comparisons.
        if self.duration.numerator <= 0:
            raise TuneValueError(f"note at {self.onset} has non-positive duration {self.duration}")
        if self.onset.numerator < 0:
            raise TuneValueError(f"negative onset {self.onset}")
        for p in self.pitches + self.grace:
            if not 0 <= p <= 127:
                raise TuneValueError(f"pitch {p} at {self.onset} outside MIDI range 0..127")
        if len(self.pitches) > 1 and list(self.pitches) != sorted(set(self.pitches)):
            raise TuneValueError(f"chord pitches must be ascending and distinct: {self.pitches}")

    @property
    def is_rest(self) -> bool:
        return not self.pitches

    @property
    def pitch(self) -> int | None:
        """The melody pitch (top of a chord), or None for a rest."""
        return self.pitches[-1] if self.pitches else None

    @property
    def end(self) -> Fraction:
        return self.onset + self.duration


@dataclass(frozen=True, slots=True)
class Bar:
    """A bar line at `onset`: `kind` is one of BAR_KINDS; `ending` lists the numbers of the
    first/second/n-th ending that begins right after it (empty if none)."""

    onset: Fraction
    kind: str = "|"
    ending: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in BAR_KINDS:
            raise TuneValueError(f"bad bar kind {self.kind!r}")
        if list(self.ending) != sorted(set(self.ending)) or any(not 1 <= e <= MAX_ENDING for e in self.ending):
            raise TuneValueError(f"bad ending numbers {self.ending!r}")

    @property
    def starts_repeat(self) -> bool:
        return self.kind in ("|:", "::")

    @property
    def ends_repeat(self) -> bool:
        return self.kind in (":|", "::")


@dataclass(frozen=True, slots=True)
class KeyChange:
    onset: Fraction
    key: Key


@dataclass(frozen=True, slots=True)
class MeterChange:
    onset: Fraction
    meter: Meter


@dataclass(frozen=True, slots=True)
class PartMark:
    """A part label (`P:A` in the body) at `onset`."""

    onset: Fraction
    name: str


@dataclass(frozen=True, slots=True)
class ChordSymbol:
    """A guitar-chord symbol such as `Am7`, sounding from `onset`."""

    onset: Fraction
    name: str


Element = Note | Bar | KeyChange | MeterChange | PartMark


@dataclass(frozen=True, slots=True)
class Tune:
    """One tune: header, and a body of notes, bars and inline changes in written order."""

    reference: int = 1
    titles: tuple[str, ...] = ()
    meter: Meter = Meter("4/4")
    unit: Fraction = Fraction(1, 8)
    key: Key = Key()
    tempo: Tempo | None = None
    composer: str = ""
    origin: str = ""
    rhythm: str = ""
    fields: tuple[tuple[str, str], ...] = ()
    body: tuple[Element, ...] = ()
    chords: tuple[ChordSymbol, ...] = ()
    source: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if self.reference < 0:
            raise TuneValueError(f"negative reference number {self.reference}")
        if self.unit <= 0 or self.unit.numerator != 1:
            raise TuneValueError(f"unit note length must be 1/n, got {self.unit}")
        numerator, denominator = 0, 1  # the running time, in integers for speed
        for element in self.body:
            onset = element.onset
            if onset.numerator != numerator or onset.denominator != denominator:
                raise TuneValueError(
                    f"{type(element).__name__} at {onset} should start at {Fraction(numerator, denominator)}")
            if type(element) is Note:
                numerator, denominator = add_exact(numerator, denominator, element.duration)
        time = Fraction(numerator, denominator)
        last = Fraction(-1)
        for chord in self.chords:
            if chord.onset < last or chord.onset > time:
                raise TuneValueError(f"chord symbol {chord.name!r} at {chord.onset} out of order or past the end")
            last = chord.onset

    @property
    def title(self) -> str:
        return self.titles[0] if self.titles else ""

    @property
    def notes(self) -> list[Note]:
        """Notes and rests in written order."""
        return [e for e in self.body if type(e) is Note]

    @property
    def bars(self) -> list[Bar]:
        return [e for e in self.body if type(e) is Bar]

    @property
    def duration(self) -> Fraction:
        """Written length in quarter notes (repeats not unfolded)."""
        notes = self.notes
        return notes[-1].end if notes else Fraction(0)

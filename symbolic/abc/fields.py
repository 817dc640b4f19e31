"""Parsers for the ABC header fields that carry structure: K:, M:, L:, Q:.

Each raises `ValueError` with the reason; the tune reader turns that into an `AbcSyntaxError`
with file, line and column.
"""

from __future__ import annotations

import re
from fractions import Fraction

from symbolic.errors import TuneValueError
from symbolic.pitch import LETTER_FIFTHS, LETTERS, mode_named
from symbolic.tune import Key, Meter, Tempo

_KEY_ACCIDENTAL = re.compile(r"^(\^\^|\^|__|_|=)([A-Ga-g])$")
_ALTER = {"^^": 2, "^": 1, "=": 0, "_": -1, "__": -2}
_CLEFS = frozenset({"treble", "bass", "alto", "tenor", "perc", "none", "bass3", "alto1", "alto2"})
_TONIC = re.compile(r"^([A-G])([#b]?)(.*)$")


def _mode_of(word: str) -> str | None:
    """ABC reads a mode by its first three letters (`Dorian`, `dor`, `DOR`) or `m`."""
    return mode_named(word) if word else None


def parse_key(text: str) -> Key:
    """`G`, `Gm`, `A dorian`, `Ador`, `Bb`, `F#m`, `D ^g`, `D exp ^f ^c`, `HP`, `Hp`, `none`,
    `C clef=bass`: modifiers such as clef= are tolerated and ignored."""
    words = text.split()
    tonic, mode, rest = "C", "major", words
    explicit = False
    if words and words[0] in ("HP", "Hp"):
        # Highland pipes: HP shows no signature (the notes are read as written), Hp shows F# and C#.
        naturals = (("C", 0), ("F", 0)) if words[0] == "HP" else ()
        return _with_extras(Key("A", "mixolydian"), naturals, rest[1:], explicit)
    if words and words[0].lower() != "none":
        match = _TONIC.match(words[0])
        if not match and "=" not in words[0] and words[0].lower() not in _CLEFS and words[0].lower() != "exp":
            raise ValueError(f"bad key K:{text}")
        if match:
            tonic = match.group(1) + match.group(2)
            rest = words[1:]
            attached = match.group(3)
            if attached:
                mode_name = _mode_of(attached)
                if mode_name is None:
                    raise ValueError(f"unknown mode {attached!r} in K:{text}")
                mode = mode_name
            elif rest and "=" not in rest[0] and _mode_of(rest[0]):
                mode = _mode_of(rest[0]) or mode
                rest = rest[1:]
    elif words:
        rest = words[1:]
    if rest and rest[0].lower() == "exp":
        explicit, rest = True, rest[1:]
    return _with_extras(Key(tonic, mode), (), rest, explicit)


def _with_extras(key: Key, extras: tuple[tuple[str, int], ...], words: list[str], explicit: bool) -> Key:
    extra = dict(extras)
    if explicit:
        extra = {letter: 0 for letter in LETTER_FIFTHS}
    for word in words:
        match = _KEY_ACCIDENTAL.match(word)
        if match:
            extra[match.group(2).upper()] = _ALTER[match.group(1)]
        elif word.lower() == "exp":
            continue
        # clef=, middle=, transpose=, octave=, stafflines= and bare clef names are layout: ignored.
    signature = key.signature
    # Keep only extras that change the mode's own signature, so equal keys compare equal.
    kept = tuple(sorted(((letter, alter) for letter, alter in extra.items() if signature[letter] != alter),
                        key=lambda la: LETTERS.index(la[0])))
    return Key(key.tonic, key.mode, kept)


def parse_meter(text: str) -> Meter:
    """`6/8`, `C`, `C|`, `none`, `2+3+2/8`, `(2+3)/8`, `2/4+3/8`; an empty M: means none."""
    compact = text.replace(" ", "").replace("(", "").replace(")", "")
    if compact in ("", "none", "None", "NONE"):
        return Meter("none")
    try:
        return Meter(compact)
    except TuneValueError:
        raise ValueError(f"unreadable meter M:{text}") from None


def default_unit(meter: Meter) -> Fraction:
    """ABC 2.1: with no L:, a meter below 0.75 gives 1/16, else 1/8 (free meter: 1/8)."""
    value = meter.fraction
    return Fraction(1, 16) if value is not None and value < Fraction(3, 4) else Fraction(1, 8)


def parse_unit(text: str) -> Fraction:
    compact = text.replace(" ", "")
    try:
        value = Fraction(compact)
    except (ValueError, ZeroDivisionError):
        raise ValueError(f"unreadable unit note length L:{text}") from None
    if value <= 0 or value.numerator != 1 or value.denominator > 512:
        raise ValueError(f"unit note length must be 1/n, got L:{text}")
    return value


_TEMPO_BEATS = re.compile(r"((?:\d+/\d+\s*)+)=\s*(\d+)")
_TEMPO_OLD = re.compile(r"^\s*(?:C\s*=\s*)?(\d+)\s*$")


def parse_tempo(text: str, unit: Fraction) -> Tempo | None:
    """`1/4=120`, `3/8=60`, `"Allegro" 1/4=120`, `1/8 3/8=60` (beats add up), or the old `120`
    (beats of the unit length). Text alone (`"Allegro"`) gives None."""
    without_strings = re.sub(r'"[^"]*"', " ", text)
    match = _TEMPO_BEATS.search(without_strings)
    try:
        if match:
            beat = sum((Fraction(part) for part in match.group(1).split()), Fraction(0))
            return Tempo(int(match.group(2)), beat)
        old = _TEMPO_OLD.match(without_strings)
        if old:
            return Tempo(int(old.group(1)), unit)
    except (TuneValueError, ZeroDivisionError):
        raise ValueError(f"unreadable tempo Q:{text}") from None
    return None

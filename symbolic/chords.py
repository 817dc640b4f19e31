"""Chord symbols: reading a name (`Em/B`, `F#m7`), naming a set of pitch classes, and moving a
name to another key; the one table of chord qualities that every stage uses."""

from __future__ import annotations

import re
from dataclasses import dataclass

from symbolic.pitch import KEY_NAMES, pitch_class_name, pitch_class_of

# Quality suffix -> intervals above the root (the root first).
QUALITIES: dict[str, tuple[int, ...]] = {
    "": (0, 4, 7), "maj": (0, 4, 7), "m": (0, 3, 7), "min": (0, 3, 7), "-": (0, 3, 7),
    "7": (0, 4, 7, 10), "m7": (0, 3, 7, 10), "min7": (0, 3, 7, 10), "maj7": (0, 4, 7, 11), "M7": (0, 4, 7, 11),
    "6": (0, 4, 7, 9), "m6": (0, 3, 7, 9), "9": (0, 4, 7, 10, 2), "add9": (0, 4, 7, 2),
    "dim": (0, 3, 6), "dim7": (0, 3, 6, 9), "m7b5": (0, 3, 6, 10), "aug": (0, 4, 8), "+": (0, 4, 8),
    "sus4": (0, 5, 7), "sus": (0, 5, 7), "sus2": (0, 2, 7), "5": (0, 7),
}
# The suffixes a chord found in MIDI is named with, in order of preference.
NAMING_SUFFIXES = ("", "m", "7", "m7", "dim", "maj7")
_NAME = re.compile(r"([A-G])([#b]?)(" + "|".join(sorted(map(re.escape, QUALITIES), key=len, reverse=True))
                   + r")(?:/([A-G])([#b]?))?")
_ROOT = re.compile(r"^([A-G])([#b]?)(.*?)(?:/([A-G])([#b]?))?$")
# What an ABC "quoted string" must look like to be read as a chord symbol, not an annotation:
# a root letter, maybe an accidental, then no spaces; optional parentheses (an optional chord).
LOOKS_LIKE_CHORD = re.compile(r"^\(?[A-G][#b\u266f\u266d]?[^\s]*\)?$")


@dataclass(frozen=True, slots=True)
class Chord:
    """A chord as pitch classes: `root`, `intervals` above it (0 first), and the bass note."""

    name: str
    root: int
    intervals: tuple[int, ...]
    bass: int

    @property
    def pitch_classes(self) -> frozenset[int]:
        return frozenset((self.root + i) % 12 for i in self.intervals)

    @property
    def fifth(self) -> int:
        """The alternate bass note: the fifth when the chord has one, else the root."""
        return (self.root + 7) % 12 if 7 in self.intervals else self.root


def parse_chord(name: str) -> Chord | None:
    """`G`, `Am`, `D7`, `Em/B`, `F#m`, `Bb`, `Cmaj7`, `Gsus4`... as a Chord; None if unreadable."""
    match = _NAME.fullmatch(name.strip())
    if match is None:
        return None
    letter, accidental, quality, bass_letter, bass_accidental = match.groups()
    root = pitch_class_of(letter, accidental)
    bass = root if bass_letter is None else pitch_class_of(bass_letter, bass_accidental or "")
    return Chord(name.strip(), root, QUALITIES[quality], bass)


def name_chord(pitch_classes: set[int]) -> str | None:
    """The name of a chord of three or more pitch classes (`{7, 11, 2}` -> `G`), or None."""
    if len(pitch_classes) < 3:
        return None
    for root in range(12):
        for suffix in NAMING_SUFFIXES:
            if {(root + step) % 12 for step in QUALITIES[suffix]} == pitch_classes:
                return KEY_NAMES[root] + suffix
    return None


def transpose_chord_name(name: str, semitones: int, prefer_flats: bool) -> str:
    """`Em/B` up a tone -> `F#m/C#`; a name that is not a chord comes back as it is."""
    match = _ROOT.match(name)
    if not match:
        return name
    text = pitch_class_name(pitch_class_of(match.group(1), match.group(2)) + semitones, prefer_flats) + match.group(3)
    if match.group(4):
        text += "/" + pitch_class_name(pitch_class_of(match.group(4), match.group(5)) + semitones, prefer_flats)
    return text

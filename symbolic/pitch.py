"""Pitch letters, accidentals, pitch-class names and modes: the one table of each that every
stage spells and reads pitches with (pretty_midi keeps its note names in one place the same way)."""

from __future__ import annotations

LETTERS = "CDEFGAB"
LETTER_SEMITONES: dict[str, int] = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
LETTER_FIFTHS: dict[str, int] = {"F": -1, "C": 0, "G": 1, "D": 2, "A": 3, "E": 4, "B": 5}
ORDER_OF_SHARPS = "FCGDAEB"
# The accidental of a pitch or chord name (`F#`, `Bb`) as semitones.
NAME_ALTER: dict[str, int] = {"": 0, "#": 1, "b": -1}
SHARP_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
FLAT_NAMES = ("C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B")
# How a tonic found by pitch class is usually named (Eb, Ab and Bb keys, not D#, G#, A#).
KEY_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")

MODES: tuple[str, ...] = ("major", "minor", "dorian", "phrygian", "lydian", "mixolydian", "locrian")
# Fifths to add to the major key's signature for each mode (D dorian has C major's signature).
MODE_FIFTHS: dict[str, int] = {
    "major": 0, "minor": -3, "dorian": -2, "phrygian": -4, "lydian": 1, "mixolydian": -1, "locrian": -5,
}
# What ABC and users write for a mode: its first three letters (any case), `m`, or the name.
MODE_ABBREVIATIONS: dict[str, str] = {
    "maj": "major", "ion": "major", "min": "minor", "aeo": "minor", "m": "minor",
    "dor": "dorian", "phr": "phrygian", "lyd": "lydian", "mix": "mixolydian", "loc": "locrian",
}


def mode_named(word: str) -> str | None:
    """The mode a word names (`Dorian`, `dor`, `m`, `minor`, `Mix`), or None."""
    word = word.lower().strip()
    if word in MODES:
        return word
    return MODE_ABBREVIATIONS.get(word) or (MODE_ABBREVIATIONS.get(word[:3]) if len(word) >= 3 else None)


def mode_scale(mode: str) -> tuple[int, ...]:
    """The seven pitch classes of a mode above its tonic (dorian: 0 2 3 5 7 9 10)."""
    major = (0, 2, 4, 5, 7, 9, 11)
    degree = {"major": 0, "dorian": 1, "phrygian": 2, "lydian": 3, "mixolydian": 4, "minor": 5, "locrian": 6}[mode]
    return tuple(sorted((major[(degree + i) % 7] - major[degree]) % 12 for i in range(7)))


def pitch_class_of(letter: str, accidental: str = "") -> int:
    """`F`, `#` -> 6."""
    return (LETTER_SEMITONES[letter] + NAME_ALTER[accidental]) % 12


def pitch_class_name(pitch_class: int, prefer_flats: bool = False) -> str:
    return (FLAT_NAMES if prefer_flats else SHARP_NAMES)[pitch_class % 12]

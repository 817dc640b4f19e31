"""Transposition of a Tune to another key; writers then spell every note in the new key."""

from __future__ import annotations

import dataclasses
import re

from symbolic.abc.fields import parse_key
from symbolic.chords import transpose_chord_name
from symbolic.errors import SymbolicError
from symbolic.pitch import LETTER_SEMITONES, LETTERS, NAME_ALTER
from symbolic.tune import ChordSymbol, Key, KeyChange, Note, Tune


class TransposeError(SymbolicError):
    """A transposition that cannot be done (an unknown key, a mode change, notes off the MIDI range)."""


def transpose_to(tune: Tune, target: str) -> Tune:
    """Move `tune` to the key named by `target` (`D`, `Bb`, `Em`, `A dorian`). A bare tonic keeps
    the tune's mode; a named mode must be the tune's own, since transposing cannot change mode.
    Goes the shorter way (at most a tritone up or down)."""
    wanted = target_key(target)
    bare_tonic = re.fullmatch(r"\s*[A-G][#b]?\s*", target) is not None
    if not bare_tonic and wanted.mode != tune.key.mode:
        raise TransposeError(f"cannot transpose a {tune.key.mode} tune into {wanted.mode} ({target!r})")
    shift = semitones_between(tune.key.tonic_pitch_class, wanted.tonic_pitch_class)
    steps = (LETTERS.index(wanted.tonic[0]) - LETTERS.index(tune.key.tonic[0])) % 7
    if shift < 0 and steps:
        steps -= 7
    return transpose(tune, shift, steps)


def target_key(target: str) -> Key:
    """The key a user named (`D`, `Bb`, `Em`, `A dorian`); TransposeError if it is none."""
    try:
        return parse_key(target)
    except ValueError as error:
        raise TransposeError(f"unknown key {target!r}: {error}") from None


def semitones_between(tonic: int, wanted: int) -> int:
    """The shorter move from one tonic (pitch class) to another: -5..6 semitones."""
    shift = (wanted - tonic) % 12
    return shift - 12 if shift > 6 else shift


def transpose(tune: Tune, semitones: int, letter_steps: int | None = None) -> Tune:
    """Shift every pitch by `semitones`; key tonics move by `letter_steps` letters (by default the
    step that fits the interval best), so D major up a fourth is G major, not F## major."""
    if letter_steps is None:
        letter_steps = round(semitones * 7 / 12)
    new_key = _move_key(tune.key, semitones, letter_steps)
    body = []
    for element in tune.body:
        if type(element) is Note:
            pitches = tuple(_move_pitch(p, semitones, element.onset) for p in element.pitches)
            grace = tuple(_move_pitch(p, semitones, element.onset) for p in element.grace)
            element = dataclasses.replace(element, pitches=pitches, grace=grace)
        elif type(element) is KeyChange:
            element = KeyChange(element.onset, _move_key(element.key, semitones, letter_steps))
        body.append(element)
    prefer_flats = new_key.fifths < 0
    chords = tuple(ChordSymbol(c.onset, transpose_chord_name(c.name, semitones, prefer_flats)) for c in tune.chords)
    return dataclasses.replace(tune, key=new_key, body=tuple(body), chords=chords)


def _move_pitch(pitch: int, semitones: int, onset: object) -> int:
    moved = pitch + semitones
    if not 0 <= moved <= 127:
        raise TransposeError(f"note {pitch} at beat {onset} leaves the MIDI range when moved {semitones:+d}")
    return moved


def _move_letter(letter: str, alter: int, semitones: int, steps: int) -> tuple[str, int]:
    new_letter = LETTERS[(LETTERS.index(letter) + steps) % 7]
    pitch_class = (LETTER_SEMITONES[letter] + alter + semitones) % 12
    new_alter = (pitch_class - LETTER_SEMITONES[new_letter] + 6) % 12 - 6
    return new_letter, new_alter


def _move_key(key: Key, semitones: int, steps: int) -> Key:
    alter = NAME_ALTER[key.tonic[1:]]
    letter, new_alter = _move_letter(key.tonic[0], alter, semitones, steps)
    if abs(new_alter) > 1:
        # A double sharp or flat tonic: take the enharmonic letter instead.
        pitch_class = (LETTER_SEMITONES[letter] + new_alter) % 12
        letter, new_alter = next(
            (name, (pitch_class - semitone + 6) % 12 - 6) for name, semitone in LETTER_SEMITONES.items()
            if abs((pitch_class - semitone + 6) % 12 - 6) <= 1
        )
    extra = dict(_move_letter(name, value, semitones, steps) for name, value in key.extra)
    tonic = letter + {0: "", 1: "#", -1: "b"}[new_alter]
    moved = Key(tonic, key.mode)
    signature = moved.signature
    kept = tuple(sorted(((n, a) for n, a in extra.items() if signature[n] != a and -2 <= a <= 2),
                        key=lambda na: LETTERS.index(na[0])))
    return Key(tonic, key.mode, kept)

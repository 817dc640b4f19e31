"""Transposition: pitches move, keys and chord symbols follow, spelling fits the new key."""

from __future__ import annotations

import pytest

from symbolic.abc.reader import read_tune
from symbolic.abc.writer import write_abc
from symbolic.transpose import TransposeError, transpose, transpose_to
from symbolic.tune import Key

KESH = 'X:1\nT:Kesh\nM:6/8\nL:1/8\nK:G\n|:"G"GAG GAB|"D7"ABA ABd|"Em/B"e^cd =fdc:|\n'


def test_transpose_to_d_moves_down_a_fourth_and_spells_in_d() -> None:
    tune = read_tune(KESH)
    moved = transpose_to(tune, "D")
    assert moved.key == Key("D")
    assert [n.pitch for n in moved.notes] == [p - 5 for p in (n.pitch for n in tune.notes)]
    assert [c.name for c in moved.chords] == ["D", "A7", "Bm/F#"]
    text = write_abc(moved)
    assert "K:D" in text and "DED DEF" in text
    assert read_tune(text) == moved


def test_bare_tonic_keeps_mode_and_named_mode_must_match() -> None:
    tune = read_tune("X:1\nK:Ador\nABcd|\n")
    assert transpose_to(tune, "E").key == Key("E", "dorian")
    assert transpose_to(tune, "G dorian").key == Key("G", "dorian")
    with pytest.raises(TransposeError, match="cannot transpose a dorian tune into minor"):
        transpose_to(tune, "Em")


def test_flat_keys_and_extra_accidentals_follow() -> None:
    tune = read_tune("X:1\nK:D ^g\ng a|\n")
    moved = transpose_to(tune, "Bb")
    assert moved.key == Key("Bb", "major", (("E", 0),))
    assert [n.pitch for n in moved.notes] == [76, 77]
    assert read_tune(write_abc(moved)) == moved


def test_inline_key_changes_move_too() -> None:
    tune = read_tune("X:1\nK:G\nG [K:D] F|\n")
    moved = transpose(tune, 2)
    assert moved.key == Key("A") and moved.body[1].key == Key("E")


def test_leaving_midi_range_is_a_clear_error() -> None:
    with pytest.raises(TransposeError, match="MIDI range"):
        transpose(read_tune("X:1\nK:C\nc''''|\n"), 12)


def test_unknown_key_is_a_clear_error() -> None:
    with pytest.raises(TransposeError, match="unknown key"):
        transpose_to(read_tune(KESH), "Q")

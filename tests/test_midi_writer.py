"""Tune -> MIDI (symbolic.midi_writer): files reopened with both mido and pretty_midi."""

from __future__ import annotations

from pathlib import Path

import mido
import pretty_midi
import pytest

from symbolic.abc_reader import read_tune
from symbolic.errors import MidiWriteError, SymbolicError
from symbolic.midi_writer import DEFAULT_PROGRAM, key_number, tune_to_midi, write_midi
from symbolic.tune import Key

# Repeats with endings, a tie across the bar line, a chord, a triplet and a tempo.
JIG = """X:1
T:The Test Jig
M:6/8
L:1/8
Q:3/8=100
K:G
|:GAB c2d|1e3-e2d:|2[DGB]3 (3ABc d|]
"""

# Inline meter changes and a modal key.
CHANGES = """X:2
T:Changes
M:4/4
L:1/4
K:D dorian
DEFG|[M:3/4]ABc|[M:4/4][K:Bb]BAGF|]
"""


def write_and_reopen(tmp_path: Path, text: str, **options) -> tuple[mido.MidiFile, pretty_midi.PrettyMIDI]:
    path = write_midi(read_tune(text), tmp_path / "tune.mid", **options)
    return mido.MidiFile(str(path)), pretty_midi.PrettyMIDI(str(path))


def seconds(quarters: float, qpm: float) -> float:
    return quarters * 60 / qpm


def test_notes_repeats_ties_and_chords(tmp_path: Path) -> None:
    _, midi = write_and_reopen(tmp_path, JIG)
    notes = sorted(midi.instruments[0].notes, key=lambda n: (n.start, n.pitch))
    qpm = 150.0  # Q:3/8=100 is 100 dotted quarters, 150 quarters a minute
    # pass 1: G A B c2 d, then the tied e3-e2 (one note of 5 eighths) and d
    first = [(n.pitch, round(n.start * qpm / 60, 3), round((n.end - n.start) * qpm / 60, 3)) for n in notes[:8]]
    assert first == [(67, 0, 0.5), (69, 0.5, 0.5), (71, 1, 0.5), (72, 1.5, 1), (74, 2.5, 0.5),
                     (76, 3, 2.5), (74, 5.5, 0.5), (67, 6, 0.5)]
    # pass 2 takes the second ending: all three pitches of the chord sound together
    chord = [n for n in notes if abs(n.start - seconds(9, qpm)) < 1e-6]
    assert sorted(n.pitch for n in chord) == [62, 67, 71]
    # the triplet: three notes in the time of two eighths
    triplet = [n for n in notes if n.start > seconds(10.4, qpm)][:3]
    assert [round((n.end - n.start) * qpm / 60, 3) for n in triplet] == [0.333, 0.333, 0.333]
    # two passes of G A B c d, e-e d on pass 1, then chord (3 pitches), triplet, d on pass 2
    assert len(notes) == 5 + 2 + 5 + 3 + 3 + 1


def test_tempo_time_and_key_signature_program_and_name(tmp_path: Path) -> None:
    raw, midi = write_and_reopen(tmp_path, JIG)
    assert midi.get_tempo_changes()[1][0] == pytest.approx(150.0)
    assert [(t.numerator, t.denominator, t.time) for t in midi.time_signature_changes] == [(6, 8, 0.0)]
    assert [(k.key_number, k.time) for k in midi.key_signature_changes] == [(7, 0.0)]  # G major
    assert midi.instruments[0].program == DEFAULT_PROGRAM
    assert midi.instruments[0].name == "The Test Jig"
    messages = [m for track in raw.tracks for m in track]
    assert any(m.type == "set_tempo" and m.tempo == 400_000 for m in messages)
    assert any(m.type == "key_signature" and m.key == "G" for m in messages)
    assert any(m.type == "program_change" and m.program == 40 for m in messages)
    assert any(m.type == "track_name" and m.name == "The Test Jig" for m in messages)


def test_meter_and_key_changes_land_where_they_are_played(tmp_path: Path) -> None:
    raw, midi = write_and_reopen(tmp_path, CHANGES, tempo_qpm=60)
    assert [(t.numerator, t.denominator, round(t.time, 6)) for t in midi.time_signature_changes] == [
        (4, 4, 0.0), (3, 4, 4.0), (4, 4, 7.0)]
    # D dorian has C major's signature: written as its relative minor, A minor; then B flat major
    assert [(k.key_number, round(k.time, 6)) for k in midi.key_signature_changes] == [(21, 0.0), (10, 7.0)]
    keys = [m.key for track in raw.tracks for m in track if m.type == "key_signature"]
    assert keys == ["Am", "Bb"]


def test_default_tempo_and_overrides(tmp_path: Path) -> None:
    # no Q: field -> 120 quarter notes a minute; tempo, program and velocity can be chosen
    text = "X:3\nT:Plain\nM:2/4\nL:1/8\nK:C\nCDEF|\n"
    _, midi = write_and_reopen(tmp_path, text)
    assert midi.get_tempo_changes()[1][0] == pytest.approx(120.0)
    _, midi = write_and_reopen(tmp_path, text, tempo_qpm=90, program=73, velocity=64)
    assert midi.get_tempo_changes()[1][0] == pytest.approx(90.0, rel=1e-5)  # whole microseconds
    assert midi.instruments[0].program == 73
    assert {n.velocity for n in midi.instruments[0].notes} == {64}
    assert midi.instruments[0].notes[1].start == pytest.approx(seconds(0.5, 90))


def test_free_meter_is_written_as_four_four(tmp_path: Path) -> None:
    # free meter: MIDI has no "no meter"; the file says 4/4
    _, midi = write_and_reopen(tmp_path, "X:4\nT:Free\nM:none\nL:1/8\nK:C\nCDEFGABc\n")
    assert [(t.numerator, t.denominator) for t in midi.time_signature_changes] == [(4, 4)]


@pytest.mark.parametrize(("key", "number"), [
    (Key("C"), 0), (Key("A", "minor"), 21), (Key("F#", "minor"), 18), (Key("Eb"), 3),
    (Key("D", "dorian"), 21), (Key("G", "mixolydian"), 0), (Key("E", "phrygian"), 21),
    (Key("F", "lydian"), 0), (Key("B", "locrian"), 21), (Key("D", "major", (("G", 1),)), 2),
])
def test_key_numbers_keep_the_signature(key: Key, number: int) -> None:
    assert key_number(key) == number


def test_write_is_atomic_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    target = tmp_path / "tune.mid"
    target.write_bytes(b"old")
    write_midi(read_tune(JIG), target)
    assert target.read_bytes().startswith(b"MThd")
    assert [p.name for p in tmp_path.iterdir()] == ["tune.mid"]


def test_unwritable_path_is_a_midi_write_error(tmp_path: Path) -> None:
    with pytest.raises(MidiWriteError, match="missing") as caught:
        write_midi(read_tune(JIG), tmp_path / "missing" / "tune.mid")
    assert isinstance(caught.value, SymbolicError)


@pytest.mark.parametrize("options", [{"velocity": 0}, {"program": 128}, {"tempo_qpm": 1.0}, {"tempo_qpm": 5000}])
def test_settings_midi_cannot_hold_are_refused(options: dict) -> None:
    with pytest.raises(MidiWriteError):
        tune_to_midi(read_tune(JIG), **options)


def test_a_title_outside_latin1_still_writes(tmp_path: Path) -> None:
    _, midi = write_and_reopen(tmp_path, "X:5\nT:Tune \u2014 \u00e9t\u00e9\nM:2/4\nL:1/8\nK:C\nCDEF|\n")
    assert midi.instruments[0].name == "Tune ? \u00e9t\u00e9"

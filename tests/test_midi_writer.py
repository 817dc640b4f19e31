"""Tune -> MIDI (symbolic.midi.writer): files reopened with mido, pretty_midi and music21; meter
accents, humanisation, swing, --no-repeats, extra tracks and the `convert` options."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import mido
import pretty_midi
import pytest

from symbolic.abc.reader import read_tune
from symbolic.cli.main import main
from symbolic.errors import MidiWriteError, SymbolicError
from symbolic.instruments import UnknownInstrumentError
from symbolic.midi.reader import read_midi_file
from symbolic.midi.writer import (
    ACCENT_STEP,
    DEFAULT_PROGRAM,
    DEFAULT_VELOCITY,
    MidiOptions,
    key_number,
    tune_to_midi,
    write_midi,
)
from symbolic.performance.unfold import unfold
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
    path = write_midi(read_tune(text), tmp_path / "tune.mid", MidiOptions(**options))
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
    _, midi = write_and_reopen(tmp_path, text, tempo_qpm=90, instrument="flute", velocity=64, accents=False)
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
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a folder")
    with pytest.raises(MidiWriteError, match="blocker") as caught:
        write_midi(read_tune(JIG), blocker / "tune.mid")
    assert isinstance(caught.value, SymbolicError)


@pytest.mark.parametrize("options", [
    {"velocity": 0}, {"velocity": 128}, {"tempo_qpm": 1.0}, {"tempo_qpm": 5000}, {"swing": 0.3}, {"swing": 0.95},
    {"humanize_ms": -1}, {"humanize_ms": 1000}, {"humanize_velocity": 99}, {"accompaniment_instrument": "bodhran"},
])
def test_settings_midi_cannot_hold_are_refused(options: dict) -> None:
    with pytest.raises(MidiWriteError):
        MidiOptions(**options)


def test_unknown_instruments_are_refused_with_the_known_ones() -> None:
    for field in ("instrument", "accompaniment_instrument", "drone_instrument"):
        with pytest.raises(UnknownInstrumentError, match="known: .*fiddle"):
            MidiOptions(**{field: "theremin"})


def test_a_title_outside_latin1_still_writes(tmp_path: Path) -> None:
    _, midi = write_and_reopen(tmp_path, "X:5\nT:Tune \u2014 \u00e9t\u00e9\nM:2/4\nL:1/8\nK:C\nCDEF|\n")
    assert midi.instruments[0].name == "Tune ? \u00e9t\u00e9"


# --- a file for a DAW ---------------------------------------------------------------------

# A reel with chord symbols, a pickup and a repeat: for the extra tracks and their programs.
REEL = """X:6
T:The Test Reel
M:4/4
L:1/8
R:reel
Q:1/4=180
K:G
|:D|"G"GABc dBGB|"C"cBce "D"dBAF|"G"GABc dBGB|"D"cAFA "G"G3:|
"""


def programs(midi: pretty_midi.PrettyMIDI) -> list[tuple[str, int, bool]]:
    return [(i.name, i.program, i.is_drum) for i in midi.instruments]


@pytest.mark.filterwarnings("ignore:Unable to determine instrument")  # music21 on the drum track
def test_all_tracks_reopen_in_mido_and_music21_with_names_programs_and_meta(tmp_path: Path) -> None:
    import music21

    path = write_midi(read_tune(REEL), tmp_path / "reel.mid", MidiOptions(
        instrument="flute", accompaniment=True, accompaniment_instrument="guitar", drone=True, percussion=True))
    raw = mido.MidiFile(str(path))
    messages = [m for track in raw.tracks for m in track]
    assert [m.name for m in messages if m.type == "track_name"] == [
        "The Test Reel", "Accompaniment (guitar)", "Drone (accordion)", "Bodhr\u00e1n"]
    assert [(m.channel, m.program) for m in messages if m.type == "program_change"] == [
        (0, 73), (1, 25), (2, 21), (9, 0)]  # the bodhran on the General MIDI drum channel
    assert [m.tempo for m in messages if m.type == "set_tempo"] == [333_333]
    assert [(m.numerator, m.denominator) for m in messages if m.type == "time_signature"] == [(4, 4)]
    assert [m.key for m in messages if m.type == "key_signature"] == ["G"]
    score = music21.converter.parse(str(path))
    assert [p.partName for p in score.parts][:3] == ["The Test Reel", "Accompaniment (guitar)", "Drone (accordion)"]
    pitched = [{i.midiProgram for i in p.recurse().getElementsByClass("Instrument")} for p in score.parts[:3]]
    assert [73 in found for found in pitched] == [True, False, False]
    assert 25 in pitched[1] and 21 in pitched[2]
    flat = score.flatten()
    assert [round(m.number) for m in flat.getElementsByClass("MetronomeMark")][:1] == [180]
    assert flat.getElementsByClass("TimeSignature")[0].ratioString == "4/4"
    assert flat.getElementsByClass("KeySignature")[0].sharps == 1


def test_a_drum_instrument_keeps_the_fiddle_melody_and_adds_a_bodhran(tmp_path: Path) -> None:
    midi = tune_to_midi(read_tune(REEL), MidiOptions(instrument="bodhran"))
    assert programs(midi) == [("The Test Reel", DEFAULT_PROGRAM, False), ("Bodhr\u00e1n", 0, True)]
    drums = midi.instruments[1].notes
    assert {n.pitch for n in drums} == {41, 43, 45}
    # the strong stroke (41) falls on each downbeat: the first after the pickup at 1/2 quarter
    first_strong = min(n.start for n in drums if n.pitch == 41)
    assert first_strong == pytest.approx(seconds(0.5, 180))


def velocities(text: str, **options) -> list[tuple[float, int]]:
    midi = tune_to_midi(read_tune(text), MidiOptions(**options))
    qpm = midi.get_tempo_changes()[1][0]
    return [(round(n.start * qpm / 60, 3), n.velocity) for n in sorted(midi.instruments[0].notes, key=lambda n: n.start)]


def test_velocities_follow_the_meter_in_simple_and_compound_time() -> None:
    strong, beat, off = DEFAULT_VELOCITY, DEFAULT_VELOCITY - ACCENT_STEP, DEFAULT_VELOCITY - 2 * ACCENT_STEP
    # 6/8: beats are dotted quarters; the pickup d is off the beat
    jig = velocities("X:1\nM:6/8\nL:1/8\nK:G\nd|GAB cBA|B3 G3|]\n")
    assert [v for _, v in jig] == [off, strong, off, off, beat, off, off, strong, beat]
    # 4/4: quarters are beats, eighths between them are off-beats
    reel = velocities("X:2\nM:4/4\nL:1/8\nK:D\nDE F2 A2 dc|]\n")
    assert [v for _, v in reel] == [strong, off, beat, beat, beat, off]
    # without accents every note has the same velocity
    assert {v for _, v in velocities("X:3\nM:4/4\nL:1/8\nK:D\nDEFA dcBA|]\n", accents=False)} == {strong}


def test_bar_positions_follow_the_bar_lines_through_repeats() -> None:
    """The pickup A comes back after a full last bar: counting from the start modulo the bar
    length would put it on a downbeat; the bar lines say it is still a pickup."""
    strong, off = DEFAULT_VELOCITY, DEFAULT_VELOCITY - 2 * ACCENT_STEP
    notes = velocities("X:4\nM:2/4\nL:1/8\nK:G\n|:A|BcBA|G4:|\n")
    assert [t for t, _ in notes] == [0, 0.5, 1, 1.5, 2, 2.5, 4.5, 5, 5.5, 6, 6.5, 7]
    assert [v for _, v in notes] == [off, strong, off, DEFAULT_VELOCITY - ACCENT_STEP, off, strong] * 2


def test_humanize_is_deterministic_for_a_seed_and_stays_within_bounds() -> None:
    tune = read_tune(REEL)
    plain = tune_to_midi(tune, MidiOptions(accompaniment=True))
    options = MidiOptions(accompaniment=True, humanize_ms=20, humanize_velocity=8, seed=7)
    first, again = tune_to_midi(tune, options), tune_to_midi(tune, options)
    other = tune_to_midi(tune, MidiOptions(accompaniment=True, humanize_ms=20, humanize_velocity=8, seed=8))

    def notes(midi: pretty_midi.PrettyMIDI, track: int) -> list[tuple[float, float, int, int]]:
        return [(n.start, n.end, n.pitch, n.velocity) for n in midi.instruments[track].notes]

    assert notes(first, 0) == notes(again, 0) and notes(first, 1) == notes(again, 1)
    assert notes(first, 0) != notes(other, 0)
    for track in (0, 1):
        before = sorted(notes(plain, track), key=lambda n: (n[0], n[2]))
        after = sorted(notes(first, track), key=lambda n: (n[0], n[2]))
        assert len(before) == len(after)
        moved = [abs(a[0] - b[0]) for a, b in zip(before, after, strict=True)]
        assert max(moved) <= 0.020 + 1e-3 and max(moved) > 0.005
        assert all(abs(a[3] - b[3]) <= 8 for a, b in zip(before, after, strict=True))
        assert min(a[0] for a in after) >= 0
        by_pitch: dict[int, list[tuple[float, float]]] = {}
        for start, end, pitch, _ in after:
            by_pitch.setdefault(pitch, []).append((start, end))
        for spans in by_pitch.values():
            spans.sort()
            assert all(end <= next_start + 1e-9 and start < end
                       for (start, end), (next_start, _) in zip(spans, spans[1:], strict=False))


def test_swing_lengthens_the_first_eighth_of_each_pair() -> None:
    hornpipe = "X:5\nM:4/4\nL:1/8\nR:hornpipe\nK:D\nFAdA BdgB|]\n"
    straight = [t for t, _ in velocities(hornpipe)]
    swung = [t for t, _ in velocities(hornpipe, swing=Fraction(2, 3))]
    assert straight == [0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5]
    assert swung == [0, 0.667, 1, 1.667, 2, 2.667, 3, 3.667]
    # a jig is already lilting: compound meters are never swung
    jig = "X:6\nM:6/8\nL:1/8\nK:G\nGAB cBA|]\n"
    assert velocities(jig, swing=0.66) == velocities(jig)


def test_no_repeats_plays_each_part_once_and_the_last_ending() -> None:
    repeated = "X:7\nM:4/4\nL:1/4\nK:C\n|:CDEF:||:GABc:|\n"
    assert len(velocities(repeated)) == 16
    assert [t for t, _ in velocities(repeated, repeats=False)] == [float(i) for i in range(8)]
    endings = "X:8\nM:2/4\nL:1/4\nK:C\n|:CD|1EF:|2GA|]\n"
    played = tune_to_midi(read_tune(endings), MidiOptions(repeats=False)).instruments[0].notes
    assert [n.pitch for n in played] == [60, 62, 67, 69]


def test_reading_back_a_file_with_backing_tracks_recovers_the_melody(tmp_path: Path) -> None:
    tune = read_tune(REEL)
    path = write_midi(tune, tmp_path / "reel.mid", MidiOptions(accompaniment=True, drone=True))
    back = read_midi_file(path)
    expected = [n.pitches[-1] for n in unfold(tune) if n.pitches]
    assert [n.pitches[-1] for n in back.notes if n.pitches] == expected


def test_convert_writes_daw_ready_midi_and_refuses_bad_values(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    source = tmp_path / "reel.abc"
    source.write_text(REEL)
    out = tmp_path / "out"
    assert main(["convert", str(source), "--to", "mid", "--out", str(out), "--instrument", "whistle",
                 "--accompaniment", "--drone", "--swing", "2:1", "--humanize", "15", "--seed", "1",
                 "--no-repeats"]) == 0
    midi = pretty_midi.PrettyMIDI(str(out / "reel.mid"))
    assert [(i.name, i.program) for i in midi.instruments] == [
        ("The Test Reel", 78), ("Accompaniment (piano)", 0), ("Drone (accordion)", 21)]
    assert len(midi.instruments[0].notes) == len([n for n in read_tune(REEL).notes if n.pitches])
    capsys.readouterr()
    for bad in (["--instrument", "theremin"], ["--swing", "0.95"], ["--humanize", "-5"]):
        assert main(["convert", str(source), "--to", "mid", "--out", str(out), *bad]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("symbolic: error:") and "\n" not in err
    assert main(["convert", str(source), "--to", "abc", "--out", str(out), "--drone"]) == 2
    assert "only to --to mid" in capsys.readouterr().err

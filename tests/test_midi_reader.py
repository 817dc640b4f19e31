"""MIDI in: melody recovered from abc2midi's files, meta events, estimates, and hostile bytes."""

from __future__ import annotations

import dataclasses
import random
import shutil
import subprocess
from fractions import Fraction
from pathlib import Path

import pretty_midi
import pytest
from corpus import sample_folk_tunes
from hypothesis import given, settings
from hypothesis import strategies as st

from symbolic.abc.reader import read_tune
from symbolic.abc.writer import write_abc
from symbolic.chords import name_chord
from symbolic.cli.main import main
from symbolic.errors import MidiReadError
from symbolic.midi.reader import estimate_key, read_midi, read_midi_file
from symbolic.performance.unfold import merge_ties, unfold
from symbolic.tune import Key, Meter, Note, Tune

ABC2MIDI = shutil.which("abc2midi")
needs_abc2midi = pytest.mark.skipif(ABC2MIDI is None, reason="abc2midi (Debian package abcmidi) is not installed")


def sounding(notes: list[Note]) -> list[tuple[int, Fraction]]:
    return [(n.pitch, n.duration) for n in merge_ties(notes) if n.pitch is not None]


def abc2midi(tune: Tune, folder: Path) -> Path:
    source, target = folder / "tune.abc", folder / "tune.mid"
    source.write_text(write_abc(tune))
    target.unlink(missing_ok=True)
    subprocess.run([ABC2MIDI, str(source), "-o", str(target)], capture_output=True, check=False, timeout=30)
    return target


def plain(tune: Tune) -> Tune:
    """The tune without what abc2midi performs rather than notates: grace notes take time in its
    MIDI, and R:hornpipe is swung."""
    body = tuple(dataclasses.replace(e, grace=()) if type(e) is Note and e.grace else e for e in tune.body)
    return dataclasses.replace(tune, rhythm="", body=body)


@needs_abc2midi
def test_melody_from_abc2midi_matches_our_abc_reader(tmp_path: Path) -> None:
    # Measured: 297 of 300 agree (`python benchmarks/midi_agreement.py --sample 300 --seed 1`).
    tunes = [plain(t) for t in sample_folk_tunes(120, seed=7)]
    agree = compared = 0
    for tune in tunes:
        path = abc2midi(tune, tmp_path)
        if not path.exists():
            continue
        compared += 1
        agree += sounding(read_midi_file(path).notes) == sounding(unfold(tune))
    assert compared >= 110
    assert agree / compared >= 0.97


@needs_abc2midi
def test_meta_events_and_pickup(tmp_path: Path) -> None:
    # abc2midi writes meter, key and tempo; the pickup makes the first bar short.
    tune = read_tune("X:1\nT:t\nM:6/8\nL:1/8\nQ:3/8=100\nK:Dm\nA|d3 e2f|g3 f2e|d3 c2A|D3 D2|]\n")
    read, report = read_midi(abc2midi(tune, tmp_path))
    assert read.meter == Meter("6/8") and read.key == Key("D", "minor")
    assert read.tempo is not None and read.tempo.quarters_per_minute == 150
    assert not report.estimated and report.max_shift <= Fraction(1, 480)  # abc2midi starts notes a tick late
    assert read.bars[0].onset == Fraction(1, 2)  # after the one-eighth pickup


def test_missing_meta_events_are_estimated_and_said(tmp_path: Path) -> None:
    # No time or key signature: 6/8 from triplet-grid onsets, G major from the pitches.
    midi = pretty_midi.PrettyMIDI(initial_tempo=120)
    fiddle = pretty_midi.Instrument(program=40, name="fiddle")
    # A jig rhythm: quarter-eighth pairs and eighth runs, eighths of 0.25 s.
    pitches = [67, 71, 74, 72, 71, 69, 67, 71, 74, 76, 74, 71, 69, 72, 76, 74, 71, 67, 66, 67, 69, 67, 67]
    lengths = [2, 1, 1, 1, 1, 2, 1, 2, 1, 1, 1, 1, 2, 1, 2, 1, 1, 1, 1, 2, 1, 3, 3]
    time = 0.0
    for pitch, length in zip(pitches, lengths, strict=True):
        fiddle.notes.append(pretty_midi.Note(velocity=80, pitch=pitch, start=time, end=time + length * 0.25 - 0.01))
        time += length * 0.25
    midi.instruments.append(fiddle)
    path = tmp_path / "plain.mid"
    midi.write(str(path))
    without_signatures(path)
    read, report = read_midi(path)
    assert set(report.estimated) == {"meter", "key"}
    assert read.meter == Meter("6/8") and read.key == Key("G")
    assert ("N", "estimated from the notes: meter, key") in read.fields
    assert report.max_shift <= Fraction(1, 48)


def without_signatures(path: Path) -> None:
    """pretty_midi writes a 4/4 time signature by default; drop it (and any key signature)."""
    import mido

    midi = mido.MidiFile(str(path))
    for track in midi.tracks:
        track[:] = [m if m.type not in ("time_signature", "key_signature") else mido.MetaMessage("text", text="",
                                                                                                   time=m.time)
                    for m in track]
    midi.save(str(path))


def test_melody_track_chosen_over_accompaniment_and_chords_named(tmp_path: Path) -> None:
    midi = pretty_midi.PrettyMIDI()
    melody = pretty_midi.Instrument(program=73, name="flute")
    chords = pretty_midi.Instrument(program=0, name="piano")
    for i in range(16):
        melody.notes.append(pretty_midi.Note(velocity=80, pitch=72 + i % 5, start=i * 0.5, end=i * 0.5 + 0.5))
    for bar, triad in enumerate([(48, 52, 55), (53, 57, 60), (55, 59, 62, 65), (48, 52, 55)]):
        for pitch in triad:
            chords.notes.append(pretty_midi.Note(velocity=60, pitch=pitch, start=bar * 2.0, end=bar * 2.0 + 2.0))
    midi.instruments += [chords, melody]
    path = tmp_path / "two.mid"
    midi.write(str(path))
    read, report = read_midi(path)
    assert report.instrument == "flute" and read.notes[0].pitch == 72
    assert [c.name for c in read.chords] == ["C", "F", "G7", "C"]
    assert read_midi(path, track="piano")[0].notes[0].pitch == 55
    assert read_midi(path, program=0)[0].notes[0].pitch == 55
    with pytest.raises(MidiReadError, match="no pitched track 'oboe'"):
        read_midi(path, track="oboe")


@needs_abc2midi
def test_midi_to_abc_reads_back_to_the_same_notes(tmp_path: Path) -> None:
    # Bar lines, ties across bars and tuplets where the grid shows them.
    tune = read_tune("X:1\nT:t\nM:3/4\nL:1/8\nK:G\nG4 (3ABc|d6-|d2 B>G A2|G6|]\n")
    midi = abc2midi(tune, tmp_path)
    out = tmp_path / "out"
    assert main(["convert", str(midi), "--to", "abc", "--out", str(out)]) == 0
    text = (out / "tune.abc").read_text()
    assert "(3" in text and "-|" in text.replace(" ", "")
    again = read_tune(text)
    assert sounding(again.notes) == sounding(read_midi_file(midi).notes) == sounding(unfold(tune))


def test_key_and_chord_estimates() -> None:
    assert estimate_key([(62, 2), (64, 1), (65, 1), (67, 1), (69, 2), (71, 1), (72, 1), (74, 2), (62, 4)]) == Key(
        "D", "dorian")
    assert name_chord({7, 11, 2}) == "G" and name_chord({9, 0, 4}) == "Am" and name_chord({0, 1}) is None


@pytest.mark.parametrize("make, reason", [
    (lambda good: b"", "empty file"),
    (lambda good: good[: len(good) // 2], "not a readable MIDI file"),
    (lambda good: b"MThd" + bytes(range(200)), "not a readable MIDI file"),
    (lambda good: b"RIFF" + bytes(60), "not a readable MIDI file"),
])
def test_corrupt_files_raise_midi_read_error(tmp_path: Path, make, reason: str) -> None:  # type: ignore[no-untyped-def]
    good = _small_midi(tmp_path)
    bad = tmp_path / "bad.mid"
    bad.write_bytes(make(good.read_bytes()))
    with pytest.raises(MidiReadError, match=reason):
        read_midi_file(bad)


def test_drums_only_and_huge_ticks(tmp_path: Path) -> None:
    midi = pretty_midi.PrettyMIDI()
    drums = pretty_midi.Instrument(program=0, is_drum=True)
    drums.notes.append(pretty_midi.Note(velocity=80, pitch=36, start=0, end=0.1))
    midi.instruments.append(drums)
    path = tmp_path / "drums.mid"
    midi.write(str(path))
    with pytest.raises(MidiReadError, match="drums only"):
        read_midi_file(path)
    import mido

    huge = mido.MidiFile()
    track = mido.MidiTrack([mido.Message("note_on", note=60, velocity=64, time=0),
                            mido.Message("note_off", note=60, velocity=0, time=10**9)])
    huge.tracks.append(track)
    path = tmp_path / "huge.mid"
    huge.save(str(path))
    with pytest.raises(MidiReadError):
        read_midi_file(path)


def _small_midi(folder: Path) -> Path:
    midi = pretty_midi.PrettyMIDI()
    fiddle = pretty_midi.Instrument(program=40)
    for i, pitch in enumerate([62, 64, 66, 67, 69, 71, 73, 74]):
        fiddle.notes.append(pretty_midi.Note(velocity=80, pitch=pitch, start=i * 0.25, end=(i + 1) * 0.25))
    midi.instruments.append(fiddle)
    path = folder / "small.mid"
    midi.write(str(path))
    return path


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_byte_fuzz_gives_tune_or_midi_read_error(tmp_path_factory, data) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("fuzz")
    good = bytearray(_small_midi(folder).read_bytes())
    mode = data.draw(st.sampled_from(["flip", "truncate", "random"]))
    if mode == "flip":
        rng = random.Random(data.draw(st.integers(0, 10**6)))
        for _ in range(data.draw(st.integers(1, 8))):
            good[rng.randrange(len(good))] ^= 1 << rng.randrange(8)
        blob = bytes(good)
    elif mode == "truncate":
        blob = bytes(good[: data.draw(st.integers(0, len(good)))])
    else:
        blob = b"MThd" + data.draw(st.binary(max_size=300))
    path = folder / "fuzz.mid"
    path.write_bytes(blob)
    try:
        tune = read_midi_file(path)
    except MidiReadError:
        return
    assert isinstance(tune, Tune)
    read_tune(write_abc(tune))  # whatever we read, we can write as ABC and read again


def test_tune_to_midi_to_tune_keeps_the_melody_on_a_corpus_sample(tmp_path: Path) -> None:
    # Our writer then our reader, repeats unfolded on both sides: the same sounding melody.
    from symbolic.midi.writer import write_midi

    tunes = sample_folk_tunes(100, seed=11)
    same = 0
    for tune in tunes:
        path = write_midi(tune, tmp_path / "t.mid")
        same += sounding(read_midi_file(path).notes) == sounding(unfold(tune))
    assert same == len(tunes)

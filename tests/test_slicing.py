"""Audio slicing: on silence (held to pydub's split_on_silence) and every N seconds."""

from __future__ import annotations

import csv
import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy.io import wavfile

from symbolic.audio.slicing import Audio, SliceError, nonsilent_ranges, split_every, split_ranges
from symbolic.cli.main import main as run_cli

RATE = 22_050




def tones_with_gaps(seed: int, count: int, channels: int) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """Decaying tones separated by quiet noise; returns int16 samples and each tone's (start, end) s."""
    rng = np.random.default_rng(seed)
    parts, spans, now = [], [], 0.0
    for _ in range(count):
        n = int(RATE * rng.uniform(0.3, 1.2))
        t = np.arange(n) / RATE
        parts.append(0.5 * np.sin(2 * np.pi * 440 * t) * np.exp(-t * rng.uniform(0.5, 3)))
        spans.append((now, now + n / RATE))
        gap = int(RATE * rng.uniform(0.6, 1.2))
        parts.append(rng.normal(0, 1e-4, gap))
        now += (n + gap) / RATE
    mono = (np.concatenate(parts) * 32767).astype(np.int16)
    samples = np.stack([mono, mono // 2], axis=1) if channels == 2 else mono[:, None]
    return samples, spans


@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize(("min_silence", "threshold", "step"), [(300, -40, 1), (500, -30, 10), (250, -50, 7)])
def test_same_ranges_as_pydub(channels: int, min_silence: int, threshold: float, step: int) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pydub import AudioSegment
        from pydub.silence import detect_nonsilent, split_on_silence
    samples, _ = tones_with_gaps(channels, 5, channels)
    segment = AudioSegment(samples.tobytes(), sample_width=2, frame_rate=RATE, channels=channels)
    audio = Audio(samples, RATE)
    expected = [tuple(r) for r in detect_nonsilent(segment, min_silence, threshold, step)]
    assert nonsilent_ranges(audio, min_silence, threshold, step) == expected
    pieces = split_on_silence(segment, min_silence, threshold, 100, step)
    assert [e - s for s, e in split_ranges(audio, min_silence, threshold, 100, step)] == [len(p) for p in pieces]


def test_slice_finds_the_known_gaps(tmp_path: Path) -> None:
    samples, spans = tones_with_gaps(7, 6, 2)
    source = tmp_path / "take.wav"
    wavfile.write(source, RATE, samples)
    out = tmp_path / "pieces"
    assert run_cli(["audio", "split", str(source), "--out", str(out), "--silence", "--min-silence-ms", "400",
                    "--silence-thresh-db", "-45", "--keep-silence-ms", "0"]) == 0
    rows = list(csv.DictReader((out / "take.csv").open()))
    assert [r["file"] for r in rows] == [f"take-{n:03d}.wav" for n in range(1, 7)]
    for row, (start, _end) in zip(rows, spans, strict=True):
        assert float(row["start_s"]) == pytest.approx(start, abs=0.002)  # the onsets are sharp
        rate, piece = wavfile.read(out / row["file"])
        assert rate == RATE and piece.shape[1] == 2
        assert len(piece) / RATE == pytest.approx(float(row["end_s"]) - float(row["start_s"]), abs=1e-3)
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary files left


def test_slicing_a_rendered_tune_with_rests(tmp_path: Path) -> None:
    """Three flute notes with 2 s rests between them, rendered without reverb: three pieces."""
    from symbolic.abc.reader import read_tune
    from symbolic.audio.render import RenderOptions, render_tune

    tune = read_tune("X:1\nL:1/4\nQ:1/4=120\nK:C\nc2 z4 e2 z4 g2|\n")
    wav = tmp_path / "rests.wav"
    render_tune(tune, wav, RenderOptions(sample_rate=RATE, reverb=False, instrument="flute"))
    assert run_cli(["audio", "split", str(wav), "--out", str(tmp_path / "out"), "--silence",
                    "--min-silence-ms", "700", "--silence-thresh-db", "-40"]) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "rests-001.wav", "rests-002.wav", "rests-003.wav", "rests.csv"]


@pytest.mark.parametrize(("last", "count", "last_seconds"), [("keep", 4, 0.5), ("drop", 3, 1.0), ("pad", 4, 1.0)])
def test_every_n_seconds(tmp_path: Path, last: str, count: int, last_seconds: float) -> None:
    source = tmp_path / "x.wav"
    wavfile.write(source, RATE, np.ones(int(3.5 * RATE), dtype=np.int16))
    pieces = split_every(source, tmp_path / last, 1.0, last=last)
    assert len(pieces) == count
    assert len(wavfile.read(pieces[-1].path)[1]) == int(last_seconds * RATE)
    assert pieces[1].start_s == 1.0 and pieces[1].end_s == 2.0


def test_bad_input_is_one_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF0000WAVEjunk")
    assert run_cli(["audio", "split", str(bad), "--out", str(tmp_path / "o"), "--every", "1"]) == 2
    assert "not a readable WAV file" in capsys.readouterr().err
    assert run_cli(["audio", "split", str(tmp_path / "none.wav"), "--out", str(tmp_path / "o"), "--silence"]) == 2
    assert "no such file" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
    with pytest.raises(SliceError):
        split_every(bad, tmp_path, 0.0)


def test_a_wav_with_a_header_and_no_frames_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for channels in (1, 2):
        empty = tmp_path / f"empty{channels}.wav"
        wavfile.write(empty, RATE, np.zeros((0, channels) if channels == 2 else 0, dtype=np.int16))
        for how in (["--every", "1"], ["--silence"]):
            assert run_cli(["audio", "split", str(empty), "--out", str(tmp_path / "o"), *how]) == 2
            err = capsys.readouterr().err
            assert "holds no audio" in err and len(err.strip().splitlines()) == 1


def test_silence_splitting_works_on_float_wavs(tmp_path: Path) -> None:
    # Issue 16: RMS was floored as for integer samples, so float32 audio (full scale 1.0) was all silence.
    samples, spans = tones_with_gaps(7, 4, 1)
    source = tmp_path / "float.wav"
    wavfile.write(source, RATE, (samples[:, 0] / 32768).astype(np.float32))
    integer = tmp_path / "int.wav"
    wavfile.write(integer, RATE, samples[:, 0])
    for path in (source, integer):
        assert run_cli(["audio", "split", str(path), "--out", str(tmp_path / path.stem), "--silence",
                        "--min-silence-ms", "400", "--silence-thresh-db", "-45", "--keep-silence-ms", "0"]) == 0
    rows = list(csv.DictReader((tmp_path / "float" / "float.csv").open()))
    assert len(rows) == len(spans) == 4
    assert [r["start_s"] for r in rows] == [r["start_s"] for r in csv.DictReader((tmp_path / "int" / "int.csv").open())]


def test_every_has_a_minimum_and_the_pieces_a_cap(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    source = tmp_path / "x.wav"
    wavfile.write(source, RATE, np.ones(2 * RATE, dtype=np.int16))
    assert run_cli(["audio", "split", str(source), "--out", str(tmp_path / "o"), "--every", "0.00001"]) == 2
    assert "--every must be at least 0.1 seconds, not 1e-05" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
    monkeypatch.setattr("symbolic.audio.slicing.MAX_PIECES", 10)
    assert run_cli(["audio", "split", str(source), "--out", str(tmp_path / "o"), "--every", "0.1"]) == 2
    assert "cut 20 pieces, more than the limit of 10" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()

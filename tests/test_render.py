"""WAV rendering with the real FluidSynth and real soundfonts (FluidR3_GM and pretty_midi's
TimGM6mb); mocks only to simulate a missing library."""

from __future__ import annotations

import shutil
import sys
import tempfile
import wave
from pathlib import Path

import numpy as np
import pretty_midi
import pytest

from symbolic.abc.reader import read_abc_file, read_tune
from symbolic.audio.render import RenderError, RenderOptions, render_midi, render_tune, synthesize
from symbolic.audio.soundfonts import SoundfontError, pretty_midi_soundfont
from symbolic.cli.main import main as run_cli
from symbolic.instruments import instrument, known_instruments, preset_for
from symbolic.midi.writer import MidiOptions, tune_to_midi

DEMO = Path(__file__).parent.parent / "corpora" / "fixtures" / "demo.abc"
FLUID_R3 = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
SOUNDFONTS = [pytest.param(FLUID_R3, id="FluidR3_GM"), pytest.param(pretty_midi_soundfont(), id="TimGM6mb")]
RATE = 22_050  # half the default: the checks below do not need more, and it renders twice as fast
LONG_A = "X:1\nT:Long A\nL:1/4\nQ:1/4=120\nK:C\nA4|\n"  # A4 = 440 Hz for 2 s




def read_wav(path: Path) -> tuple[np.ndarray, int, int]:
    """(samples in -1..1 as frames x channels, rate, sample width in bytes)."""
    with wave.open(str(path)) as handle:
        width, rate, channels = handle.getsampwidth(), handle.getframerate(), handle.getnchannels()
        data = np.frombuffer(handle.readframes(handle.getnframes()), dtype="<i2")
    return data.reshape(-1, channels) / 32768.0, rate, width


def peak_dbfs(x: np.ndarray) -> float:
    return float(20 * np.log10(np.max(np.abs(x)) * 32768 / 32767))


def strongest_frequency(x: np.ndarray, rate: int) -> float:
    """The frequency of the largest spectral peak above 60 Hz (steady part of a note)."""
    mono = x.mean(axis=1)[int(0.2 * rate):int(1.8 * rate)]
    spectrum = np.abs(np.fft.rfft(mono * np.hanning(len(mono)), n=1 << 16))
    freqs = np.fft.rfftfreq(1 << 16, 1 / rate)
    return float(freqs[np.argmax(np.where(freqs > 60, spectrum, 0))])


@pytest.fixture(scope="module")
def demo_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("render") / "demo.wav"
    assert run_cli(["render", str(DEMO), "--out", str(out), "--soundfont", str(FLUID_R3),
                    "--sample-rate", str(RATE), "--normalize", "-3"]) == 0
    return out


def test_rendered_demo_has_the_tune_length_format_and_level(demo_wav: Path) -> None:
    x, rate, width = read_wav(demo_wav)
    tune = read_abc_file(DEMO).tunes[0]
    expected = tune_to_midi(tune).get_end_time() + RenderOptions().tail_seconds
    assert rate == RATE and width == 2 and x.shape[1] == 2
    # Only leading silence below -60 dBFS (a few ms of attack) may be trimmed.
    assert expected - 0.03 <= len(x) / rate <= expected + 0.001
    assert abs(peak_dbfs(x) - -3.0) < 0.5  # normalised, and no clipping
    assert np.sqrt(np.mean(x**2)) > 10 ** (-30 / 20)  # music, not silence
    # Fades: the first millisecond and the last 50 ms are far below the body of the tune.
    assert np.max(np.abs(x[: rate // 1000])) < 0.05
    assert np.max(np.abs(x[-rate // 20:])) < 0.1 * np.max(np.abs(x))


@pytest.mark.parametrize("soundfont", SOUNDFONTS)
def test_single_long_note_has_the_right_pitch(soundfont: Path, tmp_path: Path) -> None:
    out = tmp_path / "a.wav"
    render_tune(read_tune(LONG_A), out, RenderOptions(soundfont=soundfont, instrument="flute", sample_rate=RATE,
                                                      channels=1, normalize_dbfs=-1.0))
    x, rate, _ = read_wav(out)
    assert x.shape[1] == 1 and rate == RATE
    assert abs(peak_dbfs(x) - -1.0) < 0.5
    assert strongest_frequency(x, rate) == pytest.approx(440.0, rel=0.01)


@pytest.mark.parametrize("soundfont", SOUNDFONTS)
def test_every_folk_instrument_sounds_at_its_pitch(soundfont: Path) -> None:
    """The strongest partial of a long A4 is a harmonic of 440 Hz for every pitched instrument
    (this caught TimGM6mb's out-of-tune Whistle preset, now overridden in instruments.json)."""
    midi_tune = read_tune(LONG_A)
    options = RenderOptions(sample_rate=RATE, reverb=False)
    wrong = []
    for name in known_instruments():
        choice = instrument(name)
        if choice.is_drum:
            continue
        x = synthesize(tune_to_midi(midi_tune, MidiOptions(instrument=name)), soundfont, options,
                       {choice.program: preset_for(choice, soundfont)})
        ratio = strongest_frequency(x, RATE) / 440.0
        if not (np.max(np.abs(x)) > 0 and round(ratio) >= 1 and abs(ratio / round(ratio) - 1) < 0.03):
            wrong.append(f"{name}: {ratio:.2f} x 440 Hz")
    assert not wrong


def test_bodhran_plays_the_rhythm_on_the_drum_channel(tmp_path: Path) -> None:
    out = tmp_path / "bodhran.wav"
    assert run_cli(["render", str(DEMO), "--out", str(out), "--instrument", "bodhrán",
                    "--soundfont", str(pretty_midi_soundfont()), "--sample-rate", str(RATE)]) == 0
    x, rate, _ = read_wav(out)
    assert np.sqrt(np.mean(x**2)) > 10 ** (-40 / 20)


def test_midi_file_renders_every_track_and_the_drums(tmp_path: Path) -> None:
    midi = pretty_midi.PrettyMIDI(initial_tempo=120)
    drums = pretty_midi.Instrument(program=0, is_drum=True)
    drums.notes += [pretty_midi.Note(100, 38, t, t + 0.1) for t in (0.0, 0.25, 0.5, 0.75)]
    fiddle = pretty_midi.Instrument(program=40)
    fiddle.notes.append(pretty_midi.Note(100, 76, 2.0, 3.0))
    midi.instruments += [drums, fiddle]
    source = tmp_path / "two.mid"
    midi.write(str(source))
    out = tmp_path / "two.wav"
    assert run_cli(["render", str(source), "--out", str(out), "--sample-rate", str(RATE),
                    "--no-reverb", "--fade-in", "0"]) == 0
    x, rate, _ = read_wav(out)
    assert np.max(np.abs(x[: rate])) > 0.1  # the snare, on channel 9
    assert np.max(np.abs(x[int(2.1 * rate):int(2.9 * rate)])) > 0.1  # the fiddle
    # --tempo 60 halves the speed of a file written at 120: twice as long.
    slow = tmp_path / "slow.wav"
    assert run_cli(["render", str(source), "--out", str(slow), "--sample-rate", str(RATE), "--tempo", "60"]) == 0
    assert len(read_wav(slow)[0]) / rate == pytest.approx(2 * 3.0 + 1.0, abs=0.05)


def test_reverb_adds_a_tail_and_no_reverb_removes_it() -> None:
    tune = read_tune("X:1\nL:1/4\nQ:1/4=120\nK:C\nc|\n")  # 0.5 s of flute, then the 1 s tail
    tails = []
    for reverb in (True, False):
        midi = tune_to_midi(tune, MidiOptions(instrument="flute"))
        x = synthesize(midi, FLUID_R3, RenderOptions(sample_rate=RATE, reverb=reverb))
        tails.append(np.sqrt(np.mean(x[int(0.8 * RATE):int(1.2 * RATE)] ** 2)))
    assert tails[0] > 10 * tails[1]  # measured: about -66 dBFS against -108


def test_tunebook_writes_one_file_per_tune(tmp_path: Path) -> None:
    book = tmp_path / "book.abc"
    book.write_text("X:1\nT:A\nL:1/4\nK:G\nGAB|\n\nX:3\nT:C\nL:1/4\nK:D\nDEF|\n")
    assert run_cli(["render", str(book), "--out", str(tmp_path / "out" / "b.wav"), "--sample-rate", str(RATE)]) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["b-1.wav", "b-3.wav"]
    assert run_cli(["render", str(book), "--out", str(tmp_path / "one.wav"), "--tune", "3"]) == 0
    assert (tmp_path / "one.wav").is_file()


def test_unknown_instrument_lists_the_known_ones(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["render", str(DEMO), "--out", str(tmp_path / "x.wav"), "--instrument", "kazoo"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "'kazoo'" in err and "fiddle" in err and "tin whistle" in err
    assert list(tmp_path.iterdir()) == []


def test_missing_soundfont_is_one_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.sf2"
    assert run_cli(["render", str(DEMO), "--out", str(tmp_path / "x.wav"), "--soundfont", str(missing)]) == 2
    err = capsys.readouterr().err
    assert err == f"symbolic: error: soundfont {missing} (from --soundfont) does not exist\n"
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(SoundfontError):
        render_tune(read_tune(LONG_A), tmp_path / "y.wav", RenderOptions(soundfont=DEMO))  # not a soundfont


def test_compressed_formats_need_ffmpeg_and_leave_nothing_behind(tmp_path: Path) -> None:
    before = set(Path(tempfile.gettempdir()).iterdir())
    out = tmp_path / "a.mp3"
    if shutil.which("ffmpeg") is None:
        with pytest.raises(RenderError, match="needs ffmpeg.*apt-get install ffmpeg"):
            render_tune(read_tune(LONG_A), out, RenderOptions(sample_rate=RATE))
        assert list(tmp_path.iterdir()) == []
    else:
        render_tune(read_tune(LONG_A), tmp_path / "a.flac", RenderOptions(sample_rate=RATE))
        assert [p.name for p in tmp_path.iterdir()] == ["a.flac"]
    assert set(Path(tempfile.gettempdir()).iterdir()) <= before
    with pytest.raises(RenderError, match="unknown audio format '.aiff'"):
        render_tune(read_tune(LONG_A), tmp_path / "a.aiff")


def test_bad_options_are_typed_errors() -> None:
    with pytest.raises(RenderError, match="sample rate"):
        RenderOptions(sample_rate=100)
    with pytest.raises(RenderError, match="normalize"):
        RenderOptions(normalize_dbfs=3.0)


def _forget_fluidsynth(monkeypatch: pytest.MonkeyPatch) -> None:
    import symbolic.audio.render as render

    monkeypatch.delitem(sys.modules, "fluidsynth", raising=False)
    render._synth.cache_clear()
    render._write_float.cache_clear()


def test_missing_libfluidsynth_says_how_to_install_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import ctypes.util

    _forget_fluidsynth(monkeypatch)
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: None)  # as on a machine without it
    monkeypatch.delenv("HOMEBREW_PREFIX", raising=False)
    out = tmp_path / "a.wav"
    with pytest.raises(RenderError, match="Couldn't find the FluidSynth library.*apt-get install libfluidsynth3"):
        render_tune(read_tune(LONG_A), out)
    assert list(tmp_path.iterdir()) == []


def test_missing_pyfluidsynth_says_how_to_install_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _forget_fluidsynth(monkeypatch)
    monkeypatch.setitem(sys.modules, "fluidsynth", None)  # as if the package were not installed
    with pytest.raises(RenderError, match="pip install pyfluidsynth"):
        render_tune(read_tune(LONG_A), tmp_path / "a.wav")


# ---------------------------------------------------------------- rendering in blocks (issue 16, item 5)

# 52 whole notes at 20 quarter notes a minute: 10 minutes 24 s of audio from 80 bytes of ABC.
LONG_TUNE = "X:1\nT:Long\nL:1/1\nQ:1/4=20\nK:C\n" + "C D E F|" * 13 + "\n"


def test_long_render_memory_does_not_grow_with_length(tmp_path: Path) -> None:
    """The whole-in-memory render allocated about 100 MB for this at 8 kHz (a float stereo
    buffer, its mono mix, the 16-bit copy and pydub's copies); blocks keep it under 1 MB."""
    import tracemalloc

    out = tmp_path / "long.wav"
    tracemalloc.start()
    try:
        render_tune(read_tune(LONG_TUNE), out, RenderOptions(soundfont=pretty_midi_soundfont(), sample_rate=8_000,
                                                              channels=1, reverb=False))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    with wave.open(str(out)) as handle:
        assert handle.getnframes() / handle.getframerate() == pytest.approx(624 + 1, abs=0.05)
    assert peak < 5_000_000, f"{peak / 1e6:.1f} MB traced"
    assert [p.name for p in tmp_path.iterdir()] == ["long.wav"]  # the float pass left nothing


def pydub_finish(samples: np.ndarray, options: RenderOptions) -> np.ndarray:
    """The finish as it was done in memory with pydub, the reference for the streamed one."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pydub import AudioSegment
        from pydub.silence import detect_leading_silence
    mix = samples.mean(axis=1, keepdims=True) if options.channels == 1 else samples
    mix = mix * (10 ** (options.normalize_dbfs / 20) / float(np.max(np.abs(mix))))
    pcm = np.clip(np.round(mix * 32767), -32768, 32767).astype("<i2")
    segment = AudioSegment(data=pcm.tobytes(), sample_width=2, frame_rate=options.sample_rate,
                           channels=options.channels)
    segment = segment[detect_leading_silence(segment, -60.0, chunk_size=1):]
    segment = segment.fade_in(options.fade_in_ms).fade_out(options.fade_out_ms)
    return np.frombuffer(segment.raw_data, "<i2").reshape(-1, options.channels).astype(int)


@pytest.mark.parametrize("channels", [1, 2])
def test_streamed_finish_matches_the_in_memory_one(channels: int, tmp_path: Path) -> None:
    """Same trim, same level, same fades as pydub on the whole: the body within one step of
    16-bit rounding, the fades within a few steps (per sample rather than per millisecond)."""
    from symbolic.audio.render import _synth

    tune = read_abc_file(DEMO).tunes[0]
    options = RenderOptions(soundfont=pretty_midi_soundfont(), sample_rate=RATE, channels=channels)
    # A fresh synthesizer for each: the chorus keeps its phase from one render to the next.
    _synth.cache_clear()
    render_midi(tune_to_midi(tune), tmp_path / "demo.wav", options)
    streamed = (read_wav(tmp_path / "demo.wav")[0] * 32768).round().astype(int)
    _synth.cache_clear()
    expected = pydub_finish(synthesize(tune_to_midi(tune), pretty_midi_soundfont(), options), options)
    assert abs(len(streamed) - len(expected)) <= RATE // 500  # pydub's lengths are whole milliseconds
    n = min(len(streamed), len(expected))
    difference = np.abs(streamed[:n] - expected[:n])
    assert difference[RATE // 100: n - RATE].max() <= 1  # between the fades
    assert difference.max() <= 32
    assert np.abs(streamed).max() == np.abs(expected).max()

"""Tune or MIDI -> audio: FluidSynth in process, then pydub for the finish, then an atomic export.

- FluidSynth (pyfluidsynth) is imported only here, when something is rendered, and runs without
  an audio driver: samples are pulled with `fluid_synth_write_float` between note events, which
  is the fastest offline path (real-time `midi2audio` is not used). The float output cannot clip,
  keeps full precision before normalising, and fills one NumPy buffer in place.
- One synthesizer per (soundfont, sample rate) per process: the soundfont is loaded once and the
  synthesizer reset between renders. Not thread-safe; render from one thread.
- Every instrument of the PrettyMIDI gets its own channel (drums channel 9 first), with its
  program, control changes and pitch bends. `RenderOptions.tail_seconds` of sound after the last
  event lets the last note and the reverb ring out.
- Finish in blocks, so memory does not grow with the length of the audio: the first pass
  renders `BLOCK_SECONDS` at a time into a float temporary file (unlinked at once) and keeps
  the peak; the second pass reads it back a block at a time, normalises to `normalize_dbfs`,
  trims leading silence (1 ms chunks below -60 dBFS, as pydub's detect_leading_silence), fades
  in and out and writes 16-bit PCM. WAV needs nothing more; FLAC, OGG and MP3 go through the
  `ffmpeg` command. Every output is written to a temporary file beside the target and renamed
  into place, so a failure never leaves a half-written file or stray temp files.
"""

from __future__ import annotations

import ctypes
import dataclasses
import shutil
import subprocess
import tempfile
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from symbolic.atomic import write_atomically
from symbolic.audio.soundfonts import SoundfontError, find_soundfont
from symbolic.errors import SymbolicError
from symbolic.instruments import Instrument, instrument, preset_for

if TYPE_CHECKING:
    import pretty_midi

    from symbolic.midi.writer import MidiOptions
    from symbolic.tune import Tune

FORMATS = {".wav": "wav", ".flac": "flac", ".ogg": "ogg", ".mp3": "mp3"}
DRUM_CHANNEL = 9
MAX_CHANNELS = 256  # FluidSynth's channel count here: one instrument a channel
MAX_SECONDS = 3600.0  # named limit: refuse to render more than an hour (a corrupt tick count)
LEADING_SILENCE_DBFS = -60.0  # below this (after normalising) the start counts as silence
# Work in whole seconds: a block then holds whole 1 ms chunks (frame int(ms * rate / 1000)), and
# 1 s of float stereo is 0.35 MB at 44.1 kHz, so memory is the same for 10 s or 60 minutes.
BLOCK_SECONDS = 1
FADE_FLOOR = 10 ** (-120 / 20)  # where a fade starts or ends, as pydub's fades (-120 dB)
# A small room: folk tunes are played in kitchens and pubs, not cathedrals.
REVERB = {"roomsize": 0.4, "damping": 0.4, "width": 0.8, "level": 0.3}
CHORUS = {"nr": 3, "level": 0.6, "speed": 0.3, "depth": 4.0, "type": 0}  # type 0: sine (-1 makes FluidSynth warn)
LIBRARY_HINT = "apt-get install libfluidsynth3 (macOS: brew install fluid-synth)"


class RenderError(SymbolicError):
    """Audio that cannot be rendered or written: FluidSynth or ffmpeg missing, bad options, silence."""


@dataclass(frozen=True)
class RenderOptions:
    """How to render; every field has a default that gives a listenable WAV."""

    soundfont: str | Path | None = None  # None: the search order of symbolic.audio.soundfonts
    instrument: str | None = None  # a folk instrument name (symbolic.instruments); None keeps the programs
    tempo_qpm: float | None = None  # quarter notes a minute; None keeps the tune's or file's tempo
    sample_rate: int = 44_100
    channels: int = 2
    fade_in_ms: int = 10  # just enough to avoid a click at the very start
    fade_out_ms: int = 500
    normalize_dbfs: float | None = -1.0  # peak level; None leaves FluidSynth's level (about -25 dBFS)
    reverb: bool = True  # reverb and chorus together
    tail_seconds: float = 1.0
    trim_silence: bool = True

    def __post_init__(self) -> None:
        if not 8_000 <= self.sample_rate <= 192_000:
            raise RenderError(f"sample rate {self.sample_rate} is outside 8000..192000")
        if self.channels not in (1, 2):
            raise RenderError(f"channels must be 1 or 2, not {self.channels}")
        if self.fade_in_ms < 0 or self.fade_out_ms < 0:
            raise RenderError(f"fades must not be negative ({self.fade_in_ms}, {self.fade_out_ms} ms)")
        if self.normalize_dbfs is not None and not -90 <= self.normalize_dbfs <= 0:
            raise RenderError(f"normalize level {self.normalize_dbfs} dBFS is outside -90..0")
        if not 0 <= self.tail_seconds <= 30:
            raise RenderError(f"tail {self.tail_seconds} s is outside 0..30")
        if self.tempo_qpm is not None and not 1 <= self.tempo_qpm <= 1000:
            raise RenderError(f"tempo {self.tempo_qpm} is outside 1..1000 quarter notes a minute")


# ---------------------------------------------------------------- public entry points


def render_tune(tune: Tune, out_path: str | Path, options: RenderOptions | None = None,
                midi_options: MidiOptions | None = None) -> Path:
    """Render one Tune to `out_path` (format from its suffix). Used by render, convert and generate.
    `midi_options` shapes the performance (accompaniment, swing...); `options.instrument` and
    `options.tempo_qpm`, when set, replace its instrument and tempo."""
    from symbolic.midi.writer import MidiOptions, tune_to_midi

    options = options or RenderOptions()
    _check_format(Path(out_path))
    midi_options = midi_options or MidiOptions()
    if options.instrument:
        instrument(options.instrument)  # an unknown name lists the known ones, before any work
        midi_options = dataclasses.replace(midi_options, instrument=options.instrument)
    if options.tempo_qpm:
        midi_options = dataclasses.replace(midi_options, tempo_qpm=options.tempo_qpm)
    midi = tune_to_midi(tune, midi_options)
    return render_midi(midi, out_path, dataclasses.replace(options, instrument=None, tempo_qpm=None),
                       chosen=midi_options.melody)


def render_midi_file(midi_path: str | Path, out_path: str | Path, options: RenderOptions | None = None) -> Path:
    """Render a MIDI file with all its tracks. `options.instrument` replaces every pitched
    program; `options.tempo_qpm` rescales time so the first tempo becomes that tempo."""
    from symbolic.midi.reader import load_midi  # the reader's size guard and typed errors

    options = options or RenderOptions()
    _check_format(Path(out_path))
    midi = load_midi(Path(midi_path))
    choice = instrument(options.instrument) if options.instrument else None
    if choice is not None:
        if choice.is_drum:
            _play_on_drum(midi, choice)
        for track in midi.instruments:
            if not track.is_drum:
                track.program = choice.program
    if options.tempo_qpm:
        _set_tempo(midi, options.tempo_qpm)
    return render_midi(midi, out_path, dataclasses.replace(options, instrument=None, tempo_qpm=None),
                       chosen=choice)


def render_midi(midi: pretty_midi.PrettyMIDI, out_path: str | Path, options: RenderOptions | None = None,
                chosen: Instrument | None = None) -> Path:
    """Render a PrettyMIDI as it is and export it; `chosen` applies its soundfont preset override.
    Memory stays flat whatever the length: see the module's notes on blocks."""
    options = options or RenderOptions()
    target = Path(out_path)
    fmt = _check_format(target)
    soundfont = find_soundfont(options.soundfont)
    overrides = {}
    if chosen is not None and not chosen.is_drum:
        overrides[chosen.program] = preset_for(chosen, soundfont)
    # The float pass lives beside the target when it can (a tmpfs /tmp would hold it in RAM);
    # TemporaryFile is unlinked at once, so nothing is left behind even on a crash.
    folder = target.parent if target.parent.is_dir() else None
    with tempfile.TemporaryFile(prefix=".symbolic-render-", dir=folder) as raw:
        peak = 0.0
        for block in _mixed_blocks(midi, soundfont, options, overrides):
            if block.size:
                peak = max(peak, float(np.max(np.abs(block))))
            raw.write(block.tobytes())
        if peak <= 0:
            raise RenderError("the rendered audio is silent: the soundfont has no sound for these programs")
        if fmt == "wav":
            return write_atomically(target, lambda temp: _write_finished(raw, peak, options, temp))
        ffmpeg = _ffmpeg(fmt)
        with tempfile.TemporaryDirectory(prefix="symbolic-render-") as work:
            source = str(Path(work) / "audio.wav")
            _write_finished(raw, peak, options, source)
            return write_atomically(target, lambda temp: _encode(ffmpeg, source, temp, fmt))


def synthesize(midi: pretty_midi.PrettyMIDI, soundfont: Path, options: RenderOptions,
               overrides: dict[int, tuple[int, int]] | None = None) -> np.ndarray:
    """Float32 stereo samples, shape (frames, 2), of the whole MIDI plus the tail, in memory
    (for short audio and tests; rendering to a file goes block by block)."""
    return np.concatenate(list(_stereo_blocks(midi, soundfont, options, overrides)))


def _stereo_blocks(midi: pretty_midi.PrettyMIDI, soundfont: Path, options: RenderOptions,
                   overrides: dict[int, tuple[int, int]] | None = None) -> Iterator[np.ndarray]:
    """The performance as float32 stereo blocks of `BLOCK_SECONDS`, the last one shorter."""
    end = midi.get_end_time()
    if end > MAX_SECONDS:
        raise RenderError(f"the MIDI lasts {end:.0f} s, longer than the {MAX_SECONDS:.0f} s limit")
    if end <= 0:
        raise RenderError("nothing to render: the MIDI has no notes")
    synth, sfid = _synth(soundfont.resolve(), options.sample_rate)
    synth.system_reset()  # programs, controllers, sounding voices and effect buffers of the last render
    _set_effects(synth, options.reverb)
    channels = _select_programs(synth, sfid, midi.instruments, overrides or {})
    events = _events(midi.instruments, channels, options.sample_rate)
    frames = round((end + options.tail_seconds) * options.sample_rate)
    return _run(synth, events, frames, BLOCK_SECONDS * options.sample_rate)


def _mixed_blocks(midi: pretty_midi.PrettyMIDI, soundfont: Path, options: RenderOptions,
                  overrides: dict[int, tuple[int, int]]) -> Iterator[np.ndarray]:
    """Blocks with `options.channels` channels (mono: the mean of left and right)."""
    for block in _stereo_blocks(midi, soundfont, options, overrides):
        yield block.mean(axis=1, keepdims=True) if options.channels == 1 else block


# ---------------------------------------------------------------- FluidSynth


def _import_fluidsynth() -> Any:
    """pyfluidsynth, or a RenderError that says what to install."""
    try:
        import fluidsynth
    except ImportError as error:
        if "FluidSynth library" in str(error):
            raise RenderError(f"Couldn't find the FluidSynth library (libfluidsynth): {LIBRARY_HINT}") from None
        raise RenderError(f"pyfluidsynth is not installed ({error}): pip install pyfluidsynth") from None
    except OSError as error:
        raise RenderError(f"cannot load the FluidSynth library ({error}): {LIBRARY_HINT}") from None
    return fluidsynth


@cache
def _synth(soundfont: Path, sample_rate: int) -> tuple[Any, int]:
    """A driverless synthesizer with `soundfont` loaded, made once per process and rate."""
    fluidsynth = _import_fluidsynth()
    # No audio or MIDI driver is ever started. Dynamic sample loading reads only the samples of
    # the presets selected: same output, and 89 MB rather than 210 MB with the 141 MB FluidR3_GM.
    synth = fluidsynth.Synth(samplerate=float(sample_rate), channels=MAX_CHANNELS,
                             **{"synth.reverb.active": 1, "synth.chorus.active": 1,
                                "synth.dynamic-sample-loading": 1})
    sfid = synth.sfload(str(soundfont))
    if sfid < 0:
        synth.delete()
        raise SoundfontError(f"FluidSynth cannot load soundfont {soundfont}")
    return synth, sfid


@cache
def _write_float(fluidsynth: Any) -> Any:
    """`fluid_synth_write_float` from the library pyfluidsynth loaded (pyfluidsynth wraps only
    the 16-bit call, which clips and copies through a bytes buffer)."""
    prototype = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p, ctypes.c_int,
                                 ctypes.c_int, ctypes.c_void_p, ctypes.c_int, ctypes.c_int)
    return prototype(("fluid_synth_write_float", fluidsynth._fl))


def _set_effects(synth: Any, on: bool) -> None:
    if on:
        synth.set_reverb(**REVERB)
        synth.set_chorus(**CHORUS)
    else:  # level 0 rather than deactivating: the cached synthesizer serves both settings
        synth.set_reverb(**{**REVERB, "level": 0.0})
        synth.set_chorus(**{**CHORUS, "level": 0.0})


def _select_programs(synth: Any, sfid: int, tracks: list, overrides: dict[int, tuple[int, int]]) -> list[int]:
    """A channel for each track (drums first on 9), its preset selected; returns the channels."""
    free = [c for c in range(MAX_CHANNELS) if c != DRUM_CHANNEL]
    drum_channel_taken = False
    channels: list[int] = []
    for track in tracks:
        if track.is_drum and not drum_channel_taken:
            channel, drum_channel_taken = DRUM_CHANNEL, True
        elif free:
            channel = free.pop(0)
        else:
            raise RenderError(f"the MIDI has {len(tracks)} instruments; at most {MAX_CHANNELS - 1} can be rendered")
        wanted = (128, track.program) if track.is_drum else overrides.get(track.program, (0, track.program))
        fallback = (128, 0) if track.is_drum else (0, track.program)
        # A soundfont without the preset (a small GM set, a drum kit number it lacks) falls back.
        if synth.program_select(channel, sfid, *wanted) < 0 and synth.program_select(channel, sfid, *fallback) < 0:
            synth.program_select(channel, sfid, 0, 0)
        channels.append(channel)
    return channels


# Order of events at the same instant: controls first, then note-offs, then note-ons, so a
# repeated note is released before it sounds again.
_CONTROL, _BEND, _OFF, _ON = 0, 1, 2, 3


def _events(tracks: list, channels: list[int], rate: int) -> list[tuple[int, int, int, int, int]]:
    """(frame, kind, channel, a, b) for every event of every track, in playing order."""
    events: list[tuple[int, int, int, int, int]] = []
    for track, channel in zip(tracks, channels, strict=True):
        for note in track.notes:
            events.append((round(note.start * rate), _ON, channel, note.pitch, note.velocity))
            events.append((round(note.end * rate), _OFF, channel, note.pitch, 0))
        for change in track.control_changes:
            events.append((round(change.time * rate), _CONTROL, channel, change.number, change.value))
        for bend in track.pitch_bends:
            events.append((round(bend.time * rate), _BEND, channel, bend.pitch, 0))
    events.sort()
    return events


def _run(synth: Any, events: list[tuple[int, int, int, int, int]], frames: int,
         block: int) -> Iterator[np.ndarray]:
    """Pull `frames` samples from the synthesizer in blocks of `block` frames, playing each event
    at its frame; FluidSynth keeps its own state between calls, so block edges change nothing."""
    write = _write_float(_import_fluidsynth())
    position, index = 0, 0
    while position < frames:
        out = np.zeros((min(block, frames - position), 2), dtype=np.float32)
        base, stride, first = out.ctypes.data, out.strides[0], position
        end = position + len(out)
        while position < end:
            while index < len(events) and min(events[index][0], frames) <= position:
                _play(synth, events[index])
                index += 1
            stop = min(end, events[index][0]) if index < len(events) else end
            at = base + (position - first) * stride
            # Interleaved stereo straight into the buffer: left at offset 0, right at 1, step 2.
            write(synth.synth, stop - position, at, 0, 2, at, 1, 2)
            position = stop
        yield out


def _play(synth: Any, event: tuple[int, int, int, int, int]) -> None:
    _, kind, channel, a, b = event
    if kind == _ON:
        synth.noteon(channel, a, b)
    elif kind == _OFF:
        synth.noteoff(channel, a)
    elif kind == _CONTROL:
        synth.cc(channel, a, b)
    else:
        synth.pitch_bend(channel, a)


# ---------------------------------------------------------------- MIDI adjustments


def _play_on_drum(midi: pretty_midi.PrettyMIDI, drum: Instrument) -> None:
    """Turn a MIDI file's pitched tracks into `drum` strokes on their rhythm: a strong stroke
    on each beat, a weak one between (a bodhrán follows the rhythm, not the pitches). A Tune
    asked for on a drum gets the MIDI writer's own bodhrán track instead."""
    beats = midi.get_beats()
    strong = drum.drum_notes.get("strong", 41)
    weak = drum.drum_notes.get("weak", strong)
    for track in midi.instruments:
        if track.is_drum:
            continue
        track.is_drum, track.program = True, 0
        starts = sorted({round(n.start, 6): n for n in track.notes}.values(), key=lambda n: n.start)
        for note in starts:
            on_beat = beats.size and np.min(np.abs(beats - note.start)) < 0.01
            note.pitch = strong if on_beat else weak
        track.notes = starts


def _set_tempo(midi: pretty_midi.PrettyMIDI, qpm: float) -> None:
    """Rescale every time so that the file's first tempo becomes `qpm`."""
    first = float(midi.get_tempo_changes()[1][0])
    end = midi.get_end_time()
    if end > 0:
        midi.adjust_times(np.array([0.0, end]), np.array([0.0, end * first / qpm]))


# ---------------------------------------------------------------- finish and export


def _write_finished(raw: IO[bytes], peak: float, options: RenderOptions, path: str) -> None:
    """Second pass over the float file: normalise, trim leading silence, fade, write 16-bit PCM."""
    rate, channels = options.sample_rate, options.channels
    gain = 32767 * (10 ** (options.normalize_dbfs / 20) / peak if options.normalize_dbfs is not None else 1.0)
    block_bytes = BLOCK_SECONDS * rate * channels * 4
    total = raw.seek(0, 2) // (channels * 4)

    def pcm_blocks(start: int) -> Iterator[np.ndarray]:
        raw.seek(start * channels * 4)
        while data := raw.read(block_bytes):
            yield np.clip(np.round(np.frombuffer(data, "<f4").reshape(-1, channels) * gain), -32768, 32767)

    start = _leading_silence(pcm_blocks(0), rate, total) if options.trim_silence else 0
    length = total - start
    fade_in = min(int(options.fade_in_ms * rate / 1000), length)
    fade_out = min(int(options.fade_out_ms * rate / 1000), length)
    with wave.open(path, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.setnframes(length)
        done = 0
        for pcm in pcm_blocks(start):
            where = np.arange(done, done + len(pcm))
            if done < fade_in or done + len(pcm) > length - fade_out:
                ramp = np.ones(len(pcm))
                if fade_in:  # linear in amplitude from -120 dB, as pydub's fades
                    ramp *= np.clip(FADE_FLOOR + (1 - FADE_FLOOR) * where / fade_in, None, 1)
                if fade_out:
                    ramp *= np.clip(1 - (1 - FADE_FLOOR) * (where - (length - fade_out)) / fade_out, None, 1)
                pcm = np.floor(pcm * ramp[:, None])
            out.writeframes(pcm.astype("<i2").tobytes())
            done += len(pcm)


def _leading_silence(blocks: Iterator[np.ndarray], rate: int, total: int) -> int:
    """The first frame of the first 1 ms chunk at or above LEADING_SILENCE_DBFS, judged as pydub
    does (the integer RMS of the 16-bit samples); `total` when every chunk is below it."""
    seen, ms = 0, 0
    for pcm in blocks:
        squares = (pcm.astype(np.float64) ** 2).sum(axis=1)
        # Chunk boundaries of pydub's ms slicing; blocks hold whole seconds, so no chunk spans two.
        while (begin := int(ms * rate / 1000)) < seen + len(pcm):
            stop = min(int((ms + 1) * rate / 1000), seen + len(pcm))
            count = (stop - begin) * pcm.shape[1]
            rms = int(np.sqrt(squares[begin - seen:stop - seen].sum() / count)) if count else 0
            if rms and 20 * np.log10(rms / 32768) >= LEADING_SILENCE_DBFS:
                return begin
            ms += 1
        seen += len(pcm)
    return total


def _check_format(target: Path) -> str:
    """The target's format; raises before any rendering when it is unknown or needs a missing ffmpeg."""
    fmt = FORMATS.get(target.suffix.lower())
    if fmt is None:
        raise RenderError(f"cannot write {target}: unknown audio format {target.suffix or '(no suffix)'!r}; "
                          f"known: {', '.join(FORMATS)}")
    if fmt != "wav":
        _ffmpeg(fmt)
    return fmt


def _ffmpeg(fmt: str) -> str:
    found = shutil.which("ffmpeg")
    if found is None:
        raise RenderError(f"writing {fmt.upper()} needs ffmpeg, which is not installed "
                          "(apt-get install ffmpeg); .wav needs nothing")
    return found


def _encode(ffmpeg: str, source: str, temp: str, fmt: str) -> None:
    # -f names the container: the temporary file's suffix (.part) says nothing.
    command = [ffmpeg, "-nostdin", "-loglevel", "error", "-y", "-i", source, "-f", fmt, temp]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        detail = (result.stderr.strip().splitlines() or ["unknown error"])[-1]
        raise RenderError(f"ffmpeg could not write {fmt.upper()}: {detail}")

"""Rendering and slicing speed, side by side (prints; not a test).

1. Our in-process FluidSynth render (Tune's MIDI -> finished 16-bit WAV on disk) against the
   `fluidsynth -ni -F` command line on the same MIDI file and soundfont: seconds of audio
   rendered per second of wall time, and the ratio. Ours is timed warm (the soundfont already
   loaded, as in a process that renders several tunes) and cold (first render, load included);
   the command line loads the soundfont on every run.
2. Our NumPy silence splitter against pydub's split_on_silence on the same file and
   parameters: the same pieces, and the ratio of times.
3. Peak memory (the process's peak RSS, each render in a fresh process) against the length of
   the audio: our block-by-block render and finish beside the whole-in-memory one it replaced
   (the whole performance as one float array, then pydub), 44.1 kHz stereo, default soundfont.

    PYTHONPATH=. .venv/bin/python benchmarks/render.py [--repeat N] [--minutes M] [--lengths 1,10,45]

Needs the Debian `fluidsynth` package for the command line (apt-get install fluidsynth).
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from symbolic.abc.reader import read_abc_file, read_tune  # noqa: E402
from symbolic.audio.render import RenderOptions, _synth, render_midi, render_tune, synthesize  # noqa: E402
from symbolic.audio.slicing import Audio, split_ranges  # noqa: E402
from symbolic.audio.soundfonts import SYSTEM_SOUNDFONTS, find_soundfont, pretty_midi_soundfont  # noqa: E402
from symbolic.midi.writer import tune_to_midi  # noqa: E402
from symbolic.tune import Tune  # noqa: E402

DEMO = Path(__file__).resolve().parent.parent / "corpora" / "fixtures" / "demo.abc"


def best_of(repeat: int, action) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def render_speed(repeat: int, folder: Path) -> None:
    midi = tune_to_midi(read_abc_file(DEMO).tunes[0])
    midi_path = folder / "demo.mid"
    midi.write(str(midi_path))
    seconds = midi.get_end_time()
    command = shutil.which("fluidsynth")
    soundfonts = [p for p in SYSTEM_SOUNDFONTS[:1] if p.is_file()] + [pretty_midi_soundfont()]
    print(f"MIDI: {DEMO.name}, {seconds:.1f} s of music, 44100 Hz stereo, best of {repeat}")
    print(f"{'soundfont':<16} {'ours cold':>10} {'ours warm':>10} {'fluidsynth -ni':>15} {'x real time (ours/cli)':>24} {'ratio':>7}")
    for soundfont in soundfonts:
        options = RenderOptions(soundfont=soundfont)
        _synth.cache_clear()
        start = time.perf_counter()
        render_midi(midi, folder / "ours.wav", options)
        cold = time.perf_counter() - start
        warm = best_of(repeat, lambda o=options: render_midi(midi, folder / "ours.wav", o))
        if command:
            cli = best_of(repeat, lambda s=soundfont: subprocess.run(
                [command, "-ni", "-q", "-F", str(folder / "cli.wav"), "-r", "44100", str(s), str(midi_path)],
                check=True, capture_output=True))
            cli_text, ratio = f"{cli:.3f} s", f"{cli / warm:.1f}x"
            speed = f"{seconds / warm:.0f} / {seconds / cli:.0f}"
        else:
            cli_text, ratio, speed = "(not installed)", "-", f"{seconds / warm:.0f} / -"
        print(f"{soundfont.name:<16} {cold:>8.3f} s {warm:>8.3f} s {cli_text:>15} {speed:>24} {ratio:>7}")


def slicing_speed(minutes: float, repeat: int) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pydub import AudioSegment
        from pydub.silence import split_on_silence
    rng = np.random.default_rng(0)
    rate, parts, total = 44_100, [], 0
    while total < minutes * 60 * rate:  # notes of 0.3-2 s and silences of 0.2-1.5 s
        n = int(rate * rng.uniform(0.3, 2.0))
        t = np.arange(n) / rate
        parts += [0.5 * np.sin(2 * np.pi * 440 * t) * np.exp(-2 * t), rng.normal(0, 1e-4, int(rate * rng.uniform(0.2, 1.5)))]
        total += n + len(parts[-1])
    mono = (np.concatenate(parts) * 32767).astype(np.int16)
    stereo = np.stack([mono, mono], axis=1)
    segment = AudioSegment(stereo.tobytes(), sample_width=2, frame_rate=rate, channels=2)
    audio = Audio(stereo, rate)
    print(f"\nsilence split of {len(mono) / rate / 60:.1f} min (stereo 44100 Hz), min silence 500 ms, -40 dBFS")
    for step in (10, 1):
        start = time.perf_counter()
        theirs = [len(p) for p in split_on_silence(segment, 500, -40, 100, step)]
        pydub_time = time.perf_counter() - start
        ours_time = best_of(repeat, lambda s=step: split_ranges(audio, 500, -40, 100, s))
        ours = [e - s for s, e in split_ranges(audio, 500, -40, 100, step)]
        print(f"seek_step {step:>2} ms: pydub {pydub_time:7.2f} s, ours {ours_time:.3f} s, "
              f"ratio {pydub_time / ours_time:5.0f}x, {len(ours)} pieces, same pieces: {ours == theirs}")


def long_tune(minutes: float) -> Tune:
    """A tune of whole notes at 20 quarter notes a minute (12 s a note) lasting about `minutes`."""
    notes = max(1, round(minutes * 60 / 12))
    return read_tune("X:1\nT:Long\nL:1/1\nQ:1/4=20\nK:C\n" + " ".join("CDEFGAB"[i % 7] for i in range(notes)) + "|\n")


def whole_in_memory(tune: Tune, out: Path) -> None:
    """The render this project did before issue 16: one float array, then pydub on all of it."""
    from pydub import AudioSegment
    from pydub.silence import detect_leading_silence

    options = RenderOptions()
    midi = tune_to_midi(tune)
    samples = synthesize(midi, find_soundfont(None), options)
    mix = samples * (10 ** (options.normalize_dbfs / 20) / float(np.max(np.abs(samples))))
    pcm = np.clip(np.round(mix * 32767), -32768, 32767).astype("<i2")
    segment = AudioSegment(data=pcm.tobytes(), sample_width=2, frame_rate=options.sample_rate, channels=2)
    segment = segment[detect_leading_silence(segment, -60.0, chunk_size=1):]
    segment = segment.fade_in(options.fade_in_ms).fade_out(options.fade_out_ms)
    segment.export(str(out), format="wav")


def memory_child(how: str, minutes: float) -> None:
    """Run in a fresh process: one render, then print its seconds and peak RSS (MB)."""
    tune = long_tune(minutes)
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        if how == "blocks":
            render_tune(tune, Path(folder) / "out.wav")
        else:
            whole_in_memory(tune, Path(folder) / "out.wav")
        seconds = time.perf_counter() - start
    print(f"{seconds:.2f} {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}")


def render_memory(lengths: list[float], whole_up_to: float) -> None:
    print(f"\npeak RSS against audio length (44.1 kHz stereo, {find_soundfont(None).name}, one process a render)")
    print(f"{'audio':>8} {'blocks: s':>10} {'peak RSS':>9} {'whole in memory: s':>19} {'peak RSS':>9}")
    for minutes in lengths:
        row = [f"{minutes:>6g} m"]
        for how in ("blocks", "whole"):
            if how == "whole" and minutes > whole_up_to:
                row.append(f"{'(skipped: --whole-up-to)':>29}")
                continue
            done = subprocess.run([sys.executable, __file__, "--memory-child", how, str(minutes)],
                                  capture_output=True, text=True, check=True).stdout.split()
            width = 10 if how == "blocks" else 19
            row.append(f"{float(done[0]):>{width}.1f} {done[1]:>6} MB")
        print(" ".join(row))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the slicing test file (minutes)")
    parser.add_argument("--lengths", default="1,10,45", help="audio lengths for the memory test (minutes)")
    parser.add_argument("--whole-up-to", type=float, default=45.0,
                        help="longest audio rendered the old, whole-in-memory way (minutes)")
    parser.add_argument("--only", choices=["speed", "slicing", "memory"], help="run one part")
    parser.add_argument("--memory-child", nargs=2, metavar=("HOW", "MINUTES"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=RuntimeWarning)  # pydub without ffmpeg
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    if args.memory_child:
        memory_child(args.memory_child[0], float(args.memory_child[1]))
        return
    if args.only in (None, "speed"):
        with tempfile.TemporaryDirectory() as folder:
            render_speed(args.repeat, Path(folder))
    if args.only in (None, "slicing"):
        slicing_speed(args.minutes, args.repeat)
    if args.only in (None, "memory"):
        render_memory([float(x) for x in args.lengths.split(",")], args.whole_up_to)


if __name__ == "__main__":
    main()

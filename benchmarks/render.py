"""Rendering and slicing speed, side by side (prints; not a test).

1. Our in-process FluidSynth render (Tune's MIDI -> finished 16-bit WAV on disk) against the
   `fluidsynth -ni -F` command line on the same MIDI file and soundfont: seconds of audio
   rendered per second of wall time, and the ratio. Ours is timed warm (the soundfont already
   loaded, as in a process that renders several tunes) and cold (first render, load included);
   the command line loads the soundfont on every run.
2. Our NumPy silence splitter against pydub's split_on_silence on the same file and
   parameters: the same pieces, and the ratio of times.

    PYTHONPATH=. .venv/bin/python benchmarks/render.py [--repeat N] [--minutes M]

Needs the Debian `fluidsynth` package for the command line (apt-get install fluidsynth).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from symbolic.abc.reader import read_abc_file  # noqa: E402
from symbolic.audio.render import RenderOptions, _synth, render_midi  # noqa: E402
from symbolic.audio.slicing import Audio, split_ranges  # noqa: E402
from symbolic.audio.soundfonts import SYSTEM_SOUNDFONTS, pretty_midi_soundfont  # noqa: E402
from symbolic.midi.writer import tune_to_midi  # noqa: E402

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the slicing test file (minutes)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        render_speed(args.repeat, Path(folder))
    slicing_speed(args.minutes, args.repeat)


if __name__ == "__main__":
    main()

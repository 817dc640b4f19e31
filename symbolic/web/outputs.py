"""One tune's outputs for the page: its ABC, an SVG score (abcm2ps), MIDI and WAV, put in the store.

The score is drawn from our own writer's ABC of the parsed tune, not from the text a user typed:
abcm2ps obeys directives such as `%%abc-include FILE`, and feeding it only what our writer emits
keeps the user's text away from the file system. The score thus shows what is played.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from symbolic.abc.writer import write_abc
from symbolic.errors import SymbolicError
from symbolic.tune import Tune
from symbolic.web.store import OutputStore

ABCM2PS_TIMEOUT_S = 20
# A small WAV for the page: mono 22.05 kHz is a quarter of CD size and fine for listening.
WEB_SAMPLE_RATE = 22_050
MAX_SVG_BYTES = 4 * 1024 * 1024
_ABCM2PS_HINT = "apt-get install abcm2ps (or run scripts/system_deps.sh)"
# FluidSynth's synthesizer is shared per process and not thread-safe (see symbolic.audio.render).
_AUDIO_LOCK = threading.Lock()


class ScoreError(SymbolicError):
    """abcm2ps is missing or could not draw the tune."""


@dataclass(frozen=True)
class OutputSettings:
    instrument: str
    tempo: int | None


def tune_outputs(tune: Tune, abc_text: str, settings: OutputSettings, store: OutputStore,
                 stem: str) -> dict[str, Any]:
    """Score, MIDI and audio of `tune`, stored; returns what the page shows (the ids only)."""
    from symbolic.audio.render import RenderOptions, render_tune
    from symbolic.midi.writer import MidiOptions, write_midi

    midi_options = MidiOptions(instrument=settings.instrument, tempo_qpm=settings.tempo)
    svg = score_svg(tune)
    with tempfile.TemporaryDirectory(prefix="symbolic-web-") as folder:
        midi_path = write_midi(tune, Path(folder) / "tune.mid", midi_options)
        with _AUDIO_LOCK:
            wav_path = render_tune(tune, Path(folder) / "tune.wav",
                                   RenderOptions(sample_rate=WEB_SAMPLE_RATE, channels=1), midi_options)
        midi, wav = midi_path.read_bytes(), wav_path.read_bytes()
    title = tune.titles[0] if tune.titles else "Untitled"
    return {
        "title": title,
        "abc": abc_text,
        "files": {
            "abc": store.put(abc_text.encode(), "text/vnd.abc; charset=utf-8", f"{stem}.abc"),
            "svg": store.put(svg, "image/svg+xml", f"{stem}.svg"),
            "mid": store.put(midi, "audio/midi", f"{stem}.mid"),
            "wav": store.put(wav, "audio/wav", f"{stem}.wav"),
        },
    }


def score_svg(tune: Tune) -> bytes:
    """The tune drawn by abcm2ps as one SVG image."""
    program = shutil.which("abcm2ps")
    if program is None:
        raise ScoreError(f"abcm2ps is not installed; {_ABCM2PS_HINT}")
    with tempfile.TemporaryDirectory(prefix="symbolic-score-") as folder:
        source = Path(folder) / "tune.abc"
        source.write_text(write_abc(tune), encoding="utf-8")
        # -g: SVG, one image per tune; -q: quiet. The neutral file name is what its <title> shows.
        try:
            result = subprocess.run([program, "-q", "-g", "-O", "score.svg", "tune.abc"], cwd=folder,
                                    capture_output=True, timeout=ABCM2PS_TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired:
            raise ScoreError(f"abcm2ps took more than {ABCM2PS_TIMEOUT_S} s") from None
        images = sorted(Path(folder).glob("score*.svg"))
        if result.returncode != 0 or not images:
            reason = result.stderr.decode(errors="replace").strip().splitlines()
            raise ScoreError(f"abcm2ps could not draw the tune: {reason[-1] if reason else 'no output'}")
        svg = images[0].read_bytes()
    if len(svg) > MAX_SVG_BYTES:
        raise ScoreError("the score is too large to show")
    # abcm2ps writes its command line and the date into comments; they say nothing to a reader.
    return re.sub(rb"<!-- (CommandLine|CreationDate):[^>]*-->\n", b"", svg)

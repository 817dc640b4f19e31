"""One tune's outputs for the page: its ABC, an SVG score (abcm2ps), MIDI and WAV, put in the store.

The score is drawn from our own writer's ABC of the parsed tune, not from the text a user typed:
abcm2ps obeys directives such as `%%abc-include FILE`, and feeding it only what our writer emits
keeps the user's text away from the file system. The score thus shows what is played.

Every job has a budget, checked before anything is rendered: at most `MAX_AUDIO_SECONDS` of audio
a tune (the performance's length is known from its MIDI before FluidSynth runs) and at most
`MAX_JOB_BYTES` of output a job. A 346-byte tune at `Q:1/4=4` once rendered 59 minutes (a 156 MB
WAV) here; a tune played through is a few minutes, and `symbolic render` has no such limit.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from symbolic.abc.writer import write_abc
from symbolic.errors import SymbolicError
from symbolic.tune import Tune
from symbolic.web.store import OutputStore

if TYPE_CHECKING:
    from symbolic.midi.writer import MidiOptions

ABCM2PS_TIMEOUT_S = 20
# A small WAV for the page: mono 22.05 kHz is a quarter of CD size and fine for listening.
WEB_SAMPLE_RATE = 22_050
MAX_SVG_BYTES = 4 * 1024 * 1024
MAX_AUDIO_SECONDS = 300.0  # a tune played through, repeats and all, at any sane tempo
# A job's outputs (8 tunes of a minute are about 22 MB, WAV included); a quarter of the store.
MAX_JOB_BYTES = 64 * 1024 * 1024
WAV_HEADER_BYTES = 44
_ABCM2PS_HINT = "apt-get install abcm2ps (or run scripts/system_deps.sh)"
# FluidSynth's synthesizer is shared per process and not thread-safe (see symbolic.audio.render).
_AUDIO_LOCK = threading.Lock()


class ScoreError(SymbolicError):
    """abcm2ps is missing or could not draw the tune."""


class BudgetError(SymbolicError):
    """A job that would make more audio or output than the web composer gives one job."""


@dataclass(frozen=True)
class OutputSettings:
    instrument: str
    tempo: int | None

    def midi_options(self) -> MidiOptions:
        from symbolic.midi.writer import MidiOptions

        return MidiOptions(instrument=self.instrument, tempo_qpm=self.tempo)


@dataclass
class JobBudget:
    """What one job may still produce; `owner` (the client address) owns its stored files."""

    owner: str = ""
    bytes_left: int = MAX_JOB_BYTES
    max_seconds: float = MAX_AUDIO_SECONDS
    spent: list[int] = field(default_factory=list)

    def spend(self, size: int) -> None:
        self.bytes_left -= size
        self.spent.append(size)


def audio_seconds(tune: Tune, settings: OutputSettings) -> float:
    """How long the rendered audio of `tune` lasts (performance plus the reverb tail), without
    rendering it: the MIDI of the performance is cheap; FluidSynth is not."""
    from symbolic.audio.render import RenderOptions
    from symbolic.midi.writer import tune_to_midi

    return tune_to_midi(tune, settings.midi_options()).get_end_time() + RenderOptions().tail_seconds


def check_budget(tune: Tune, settings: OutputSettings, budget: JobBudget) -> float:
    """The audio's length in seconds, or a BudgetError that says what is over and by how much."""
    seconds = audio_seconds(tune, settings)
    if seconds > budget.max_seconds:
        raise BudgetError(f"the tune plays for {_minutes(seconds)} here; the web composer renders at most "
                          f"{_minutes(budget.max_seconds)} of audio (a faster Q: or tempo, or fewer repeats; "
                          "`symbolic render` has no such limit)")
    wav_bytes = WAV_HEADER_BYTES + 2 * round(seconds * WEB_SAMPLE_RATE)
    if wav_bytes > budget.bytes_left:
        raise BudgetError(f"this job's outputs would pass {MAX_JOB_BYTES // (1024 * 1024)} MB; "
                          "ask for fewer or shorter tunes")
    return seconds


def _minutes(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 60} min {whole % 60:02d} s" if whole >= 60 else f"{whole} s"


def tune_outputs(tune: Tune, abc_text: str, settings: OutputSettings, store: OutputStore,
                 stem: str, budget: JobBudget | None = None) -> dict[str, Any]:
    """Score, MIDI and audio of `tune`, stored; returns what the page shows (the ids only).
    The budget is checked before anything is drawn or rendered."""
    from symbolic.audio.render import RenderOptions, render_tune
    from symbolic.midi.writer import write_midi

    budget = budget or JobBudget()
    check_budget(tune, settings, budget)
    midi_options = settings.midi_options()
    svg = score_svg(tune)
    abc = abc_text.encode()
    files: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="symbolic-web-") as folder:
        midi_path = write_midi(tune, Path(folder) / "tune.mid", midi_options)
        with _AUDIO_LOCK:
            wav_path = render_tune(tune, Path(folder) / "tune.wav",
                                   RenderOptions(sample_rate=WEB_SAMPLE_RATE, channels=1), midi_options)
        sizes = len(abc) + len(svg) + midi_path.stat().st_size + wav_path.stat().st_size
        if sizes > budget.bytes_left:
            raise BudgetError(f"this job's outputs would pass {MAX_JOB_BYTES // (1024 * 1024)} MB; "
                              "ask for fewer or shorter tunes")
        budget.spend(sizes)
        files["abc"] = store.put(abc, "text/vnd.abc; charset=utf-8", f"{stem}.abc", budget.owner)
        files["svg"] = store.put(svg, "image/svg+xml", f"{stem}.svg", budget.owner)
        # Moved into the store, never read into memory.
        files["mid"] = store.put_file(midi_path, "audio/midi", f"{stem}.mid", budget.owner)
        files["wav"] = store.put_file(wav_path, "audio/wav", f"{stem}.wav", budget.owner)
    title = tune.titles[0] if tune.titles else "Untitled"
    return {"title": title, "abc": abc_text, "files": files}


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

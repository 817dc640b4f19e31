"""How fast does our ABC reader read folk tunes, next to music21 and abc2midi?

The same tunes (a fixed seeded sample of the five folk collections bundled with music21, or all of
them) are given, as the same text, to:

- ours: `symbolic.abc.reader.read_tune` on each tune's own text (and `read_abc` on the whole
  tunebook in one call, for reference);
- music21: `converter.parse(text, format="abc")` on each tune's own text (a string is never cached
  by music21; only files are);
- abc2midi (Debian's): one file holding every tune, converted to one MIDI file per tune in a
  temporary folder (parse and MIDI writing together, and one process start).

Each tune's X: line is renumbered 1..n for all three, so that abc2midi's `<stem><X>.mid` names do
not collide; the number does not change the music. Every reader is warmed up on one tune first.

    .venv/bin/python benchmarks/abc_parse.py               # 300 tunes
    .venv/bin/python benchmarks/abc_parse.py --all         # every tune: about 5 minutes
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from symbolic.abc.reader import read_abc, read_tune
from symbolic.evaluation.agreement.folk import DEFAULT_SEED, sample_tunes

DEFAULT_SAMPLE = 300
GOAL_RATIO = 50  # the project's goal: ours reads at least 50 times as many tunes a second as music21
ABC2MIDI = "/usr/bin/abc2midi"


@dataclass
class Timing:
    name: str
    tunes: int
    seconds: float
    failures: int = 0
    note: str = ""

    @property
    def rate(self) -> float:
        return self.tunes / self.seconds if self.seconds else float("inf")


def renumbered(texts: Sequence[str]) -> list[str]:
    """Each tune with its X: line replaced by its position (1-based)."""
    return [f"X:{n}\n" + text.split("\n", 1)[1] for n, text in enumerate(texts, 1)]


def time_each(name: str, read: Callable[[str], object], texts: Sequence[str], repeats: int) -> Timing:
    """Median over `repeats` passes of reading every text once; a failure counts as read (the time
    was spent) and is counted."""
    read(texts[0])  # warm-up: lazy imports and caches belong to start-up, not to reading
    passes, failures = [], 0
    for _ in range(repeats):
        failures = 0
        start = time.perf_counter()
        for text in texts:
            try:
                read(text)
            except Exception:  # noqa: BLE001 - each reader has its own error types; all count
                failures += 1
        passes.append(time.perf_counter() - start)
    return Timing(name, len(texts), statistics.median(passes), failures, f"median of {repeats}")


def read_with_music21(text: str) -> object:
    from music21 import converter

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # music21 warns on odd bars; printing them is not reading
        return converter.parse(text, format="abc")


def time_tunebook(texts: Sequence[str], repeats: int) -> Timing:
    """Ours on the whole tunebook in one call: the way a corpus is read in practice."""
    book = "\n\n".join(texts) + "\n"
    read_abc(book)
    passes, failures = [], 0
    for _ in range(repeats):
        start = time.perf_counter()
        result = read_abc(book)
        passes.append(time.perf_counter() - start)
        failures = len(result.errors)
    return Timing("ours, one tunebook", len(texts), statistics.median(passes), failures, f"median of {repeats}")


def time_abc2midi(texts: Sequence[str], repeats: int, program: str = ABC2MIDI) -> Timing | None:
    """abc2midi converting one file of all the tunes; failures are tunes that gave no MIDI file."""
    if shutil.which(program) is None:
        return None
    passes, made = [], 0
    for _ in range(repeats):
        with tempfile.TemporaryDirectory(prefix="abc_parse_") as folder:
            source = Path(folder) / "tunes.abc"
            source.write_text("\n\n".join(texts) + "\n", encoding="utf-8")
            start = time.perf_counter()
            subprocess.run([program, source.name, "-silent"], cwd=folder, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, check=False)
            passes.append(time.perf_counter() - start)
            made = len(list(Path(folder).glob("tunes*.mid")))
    return Timing("abc2midi (to MIDI)", len(texts), statistics.median(passes), len(texts) - made,
                  f"median of {repeats}, one process")


def report(timings: Sequence[Timing], music21: Timing | None, ours: Timing) -> list[str]:
    lines = [f"{'reader':22} {'tunes':>6} {'seconds':>9} {'tunes/s':>10} {'failed':>7}  how"]
    for t in timings:
        lines.append(f"{t.name:22} {t.tunes:6d} {t.seconds:9.3f} {t.rate:10.1f} {t.failures:7d}  {t.note}")
    if music21 is not None:
        ratio = ours.rate / music21.rate
        verdict = "met" if ratio >= GOAL_RATIO else "NOT met"
        lines.append(f"ours / music21: {ratio:.1f}x (goal {GOAL_RATIO}x: {verdict})")
    for t in timings:
        if t.name.startswith("abc2midi"):
            lines.append(f"ours / abc2midi: {ours.rate / t.rate:.2f}x")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--sample", type=int, default=DEFAULT_SAMPLE, help="tunes to sample (default %(default)s)")
    size.add_argument("--all", action="store_true", help="every tune of the five collections")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--repeats", type=int, default=5, help="passes for ours and abc2midi (median)")
    parser.add_argument("--music21-repeats", type=int, default=1, help="passes for music21 (median)")
    parser.add_argument("--no-music21", action="store_true", help="skip music21 (the slow one)")
    args = parser.parse_args(argv)

    texts = renumbered([t.text for t in sample_tunes(None if args.all else args.sample, args.seed)])
    print(f"{len(texts)} tunes, {sum(len(t) for t in texts) / 1024:.0f} KiB of ABC")
    ours = time_each("ours (per tune)", read_tune, texts, args.repeats)
    timings = [ours, time_tunebook(texts, args.repeats)]
    music21 = None
    if not args.no_music21:
        music21 = time_each("music21 (per tune)", read_with_music21, texts, args.music21_repeats)
        timings.append(music21)
    abc2midi = time_abc2midi(texts, args.repeats)
    if abc2midi is None:
        print(f"({ABC2MIDI} not found: abc2midi skipped)")
    else:
        timings.append(abc2midi)
    print("\n".join(report(timings, music21, ours)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

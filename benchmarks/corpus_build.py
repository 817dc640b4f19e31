"""Build the whole bundled folk corpus and compare with music21 parsing the same tunes.

    PYTHONPATH=. .venv/bin/python benchmarks/corpus_build.py [--jobs 2] [--music21-sample 200]

Prints the build's wall time, tunes per second and peak memory (this process and its workers),
and music21's parse rate on a seeded sample of the same tunes, with the time music21 would need
for all of them at that rate and the ratio. (All 12,947 tunes through music21 take about five
minutes; the sample keeps this script short.)
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from symbolic.abc.reader import read_text  # noqa: E402
from symbolic.corpus.build import BuildSettings, build_corpus  # noqa: E402
from symbolic.corpus.sources import expand_source  # noqa: E402


def tune_texts() -> list[str]:
    """Each tune's own text (X: line to the next X:), as music21 is given it."""
    texts = []
    for path in expand_source("music21:folk"):
        lines = read_text(path).splitlines()
        starts = [i for i, line in enumerate(lines) if line.startswith("X:")]
        for n, start in enumerate(starts):
            end = starts[n + 1] if n + 1 < len(starts) else len(lines)
            texts.append("\n".join(lines[start:end]))
    return texts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--music21-sample", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        manifest = build_corpus(["music21:folk"], folder, BuildSettings(jobs=args.jobs), progress=False)
        build_seconds = time.perf_counter() - started
    counts = manifest["counts"]
    peak_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    peak_workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"corpus build: {counts['read']} tunes read, {counts['kept']} kept, {counts['tokens']} tokens "
          f"in {build_seconds:.1f} s with {args.jobs} jobs = {counts['read'] / build_seconds:.0f} tunes/s")
    print(f"peak memory: {peak_self:.0f} MB (main process), {peak_workers:.0f} MB (largest worker)")

    import music21

    texts = tune_texts()
    sample = random.Random(0).sample(texts, min(args.music21_sample, len(texts)))
    started = time.perf_counter()
    parsed = 0
    for text in sample:
        try:
            music21.converter.parse(text, format="abc", forceSource=True)
            parsed += 1
        except Exception:  # music21 raises many kinds on odd tunes; we only time it
            continue
    rate = len(sample) / (time.perf_counter() - started)
    ours = counts["read"] / build_seconds
    print(f"music21 parse only: {rate:.1f} tunes/s on {len(sample)} sampled tunes ({parsed} parsed); "
          f"all {len(texts)} would take {len(texts) / rate:.0f} s")
    print(f"ratio: our whole build (parse, tokenise, dedupe, split, write) is {ours / rate:.0f}x music21's parse rate")


if __name__ == "__main__":
    main()

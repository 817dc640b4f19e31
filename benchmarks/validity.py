"""Validity of 1,000 tunes from the bundled model: read back, abc2midi, full bars, parts.

    OPENBLAS_NUM_THREADS=1 PYTHONPATH=. .venv/bin/python benchmarks/validity.py [--count 1000] [--model PATH]

Tunes are spread over the tune types and meters the model knows best (jig 6/8, reel 4/4,
hornpipe 4/4, polka 2/4, slip jig 9/8, waltz 3/4, march 6/8, strathspey 4/4), in its usual keys.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from symbolic.abc.reader import read_tune  # noqa: E402
from symbolic.abc.writer import write_abc  # noqa: E402
from symbolic.evaluation.musicality import has_pickup, last_note  # noqa: E402
from symbolic.evaluation.parts import parts as tune_parts  # noqa: E402
from symbolic.evaluation.validity import abc2midi_clean, full_bars  # noqa: E402
from symbolic.generation.generate import generate  # noqa: E402
from symbolic.models.modelfile import load_model  # noqa: E402

KINDS = (("jig", "6/8"), ("reel", "4/4"), ("hornpipe", "4/4"), ("polka", "2/4"), ("slip-jig", "9/8"),
         ("waltz", "3/4"), ("march", "6/8"), ("strathspey", "4/4"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--model")
    args = parser.parse_args()
    model = load_model(args.model)
    known = {t.split(":", 1)[1] for t in model.vocab.tokens if t.startswith("type:")}
    kinds = KINDS
    tunes = []
    started = time.perf_counter()
    per_kind = -(-args.count // len(kinds))
    for number, (kind, meter) in enumerate(kinds):
        tune_type = kind if kind in known else None  # a type the model never saw: by meter alone
        tunes += generate(model, count=min(per_kind, args.count - len(tunes)), tune_type=tune_type, meter=meter,
                          seed=number, parts=2, bars_per_part=8)
    seconds = time.perf_counter() - started
    read_back = sum(read_tune(write_abc(t)) == t for t in tunes)
    bars = [full_bars(t) for t in tunes]
    full = sum(f == n for f, n in bars)
    parts = sum([(p.repeated, p.bars) for p in tune_parts(t)] == [(True, 8), (True, 8)] for t in tunes)
    clean = abc2midi_clean(tunes) if shutil.which("abc2midi") else None
    count = len(tunes)
    print(f"{count} tunes in {seconds:.1f} s ({count / seconds:.0f} tunes/s), types: "
          + ", ".join(f"{k} {m}" for k, m in kinds))
    print(f"read back identically: {read_back}/{count} = {read_back / count:.1%}")
    print(f"every bar full:        {full}/{count} = {full / count:.1%}")
    print(f"two repeated 8-bar parts: {parts}/{count} = {parts / count:.1%}")
    home = sum((found := last_note(t)) is not None and found[0] % 12 == t.key.tonic_pitch_class for t in tunes)
    pickups = sum(map(has_pickup, tunes))
    print(f"ends on the tonic:     {home}/{count} = {home / count:.1%}")
    print(f"opens with a pickup:   {pickups}/{count} = {pickups / count:.1%}")
    endings = sum(any(b.ending for b in t.bars) for t in tunes)
    print(f"1st and 2nd endings:   {endings}/{count} = {endings / count:.1%}")
    if clean is not None:
        print(f"abc2midi, no warning:  {sum(clean)}/{count} = {sum(clean) / count:.1%}")


if __name__ == "__main__":
    main()

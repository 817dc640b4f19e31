"""Does attention help the encoder-decoder? Two small seq2seq models, alike but for attention,
trained one after the other on the same corpus with the same seed, scored on the test split.

    PYTHONPATH=. .venv/bin/python benchmarks/attention.py --corpus build/bundled/corpus [--epochs 3]

Small (1 x 128 units) so the comparison takes minutes on 2 cores; it says whether attention
over the encoder's outputs (the header and opening bars) lowers bits per note at that size, not
what it does for the bundled model's size.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from symbolic.models.config import ModelConfig  # noqa: E402
from symbolic.models.evaluate import evaluate  # noqa: E402
from symbolic.models.training import train  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    base = ModelConfig(arch="lstm-seq2seq", embedding=32, units=128, layers=1, dropout=0.1, epochs=args.epochs,
                       batch_size=64, learning_rate=0.003, checkpoint_every=1000, patience=args.epochs, seed=0)
    rows = []
    with tempfile.TemporaryDirectory() as work:
        for attention in (False, True):
            config = replace(base, attention=attention)
            started = time.time()
            model = train(args.corpus, Path(work) / f"attention-{attention}", config, verbose=0)
            seconds = time.time() - started
            figures = evaluate(model, args.corpus, "test")
            rows.append((attention, figures, seconds))
            print(f"attention={attention}: test {figures['bits_per_note']:.3f} bits/note, "
                  f"{figures['bits_per_token']:.3f} bits/token, {seconds:.0f} s", flush=True)
    (_, plain, _), (_, attended, _) = rows
    change = attended["bits_per_note"] / plain["bits_per_note"] - 1
    print(f"attention changes bits per note by {change:+.1%} (1 x 128 units, {args.epochs} epochs, seed 0)")


if __name__ == "__main__":
    main()

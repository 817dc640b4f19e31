"""Tokens normalised to the tonic against tokens normalised to the key signature, side by side:
the same dance tunes, the same split, the same 2 x 256 seq2seq trained from scratch on each.

    .venv/bin/python scripts/compare_normalisation.py [--work build/normalise] [--epochs 10]

For each of "tonic" and "signature" it builds WORK/corpus-NAME from the dance collections
(`corpus build dance:all --keys-from-finals --normalise-to NAME`, seed 0: the split follows the
melody, so both hold the same tunes), trains WORK/lstm-NAME (resuming from its checkpoint if
one exists), and writes the valid and test bits per note of both into WORK/comparison.json.
Then measure what the models write, without the mode prior and with it:

    PYTHONPATH=. .venv/bin/python benchmarks/musicality.py WORK/corpus-tonic --split train --balance-modes \\
        --model WORK/lstm-tonic --model WORK/lstm-signature --samples 240 --mode-prior 0
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from symbolic.corpus.build import BuildSettings, build_corpus, load_manifest  # noqa: E402
from symbolic.corpus.sources import DANCE_SOURCES  # noqa: E402
from symbolic.models.config import ModelConfig  # noqa: E402
from symbolic.models.evaluate import evaluate  # noqa: E402
from symbolic.models.modelfile import ModelFile, load_model  # noqa: E402
from symbolic.models.training import CHECKPOINT_DIR, train  # noqa: E402

NORMALISATIONS = ("tonic", "signature")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def corpus(work: Path, name: str) -> Path:
    folder = work / f"corpus-{name}"
    try:
        load_manifest(folder)
    except Exception:
        log(f"building {folder}")
        build_corpus(list(DANCE_SOURCES), folder, BuildSettings(seed=0, jobs=2, keys_from_finals=True, normalise_to=name),
                     progress=False)
    return folder


def model(work: Path, name: str, folder: Path, config: ModelConfig) -> ModelFile:
    out = work / f"lstm-{name}"
    state = out / CHECKPOINT_DIR / "state.json"
    if state.is_file():
        done = json.loads(state.read_text())
        if done["epoch"] >= config.epochs or done["stale_epochs"] >= config.patience:
            return load_model(out)
    log(f"training {out}")
    return train(folder, out, config, resume=state.is_file(), verbose=2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "normalise")
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    # The 2 x 256 recipe, in bfloat16 with bucketed batches (the same fit, 1.9x faster).
    config = dataclasses.replace(ModelConfig.from_file(ROOT / "scripts" / "configs" / "lstm-seq2seq.json"),
                                 precision="bfloat16", bucket_batches=8, epochs=args.epochs)
    folders = {name: corpus(args.work, name) for name in NORMALISATIONS}
    comparison = {}
    for name in NORMALISATIONS:
        trained = model(args.work, name, folders[name], config)
        training = trained.meta.get("training", {})
        comparison[name] = {split: evaluate(trained, folders[name], split)["bits_per_note"] for split in ("valid", "test")}
        comparison[name] |= {"training_seconds": training.get("seconds"), "best_epoch": training.get("best_epoch")}
        log(f"{name}: valid {comparison[name]['valid']:.3f}, test {comparison[name]['test']:.3f} bits/note")
    (args.work / "comparison.json").write_text(json.dumps(comparison, indent=2) + "\n")


if __name__ == "__main__":
    main()

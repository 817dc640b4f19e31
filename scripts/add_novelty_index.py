"""Add (or replace) the novelty index of a model folder, built from the corpus it was trained on:

    .venv/bin/python scripts/add_novelty_index.py MODEL_DIR CORPUS_DIR [--split train]

The index (`novelty.npz`: the training tunes' melody shingles, readable names and title words)
is written atomically beside the model's other files, so it can be added to a model already in
use; `symbolic generate` then resamples copies and names each tune's closest training tune.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from symbolic.errors import SymbolicError  # noqa: E402
from symbolic.generation.novelty import NoveltyIndex, build_from_corpus  # noqa: E402
from symbolic.models.modelfile import load_model, save_novelty  # noqa: E402

MODEL_FOLDER_LIMIT = 20 * 1024 * 1024  # the bundled model ships inside the package


def add_novelty_index(model_dir: str | Path, corpus_dir: str | Path, split: str = "train") -> Path:
    """Build the index of `corpus_dir`'s `split` and write it into `model_dir`; returns the file."""
    load_model(model_dir)  # refuse to write into something that is not a model
    index = build_from_corpus(corpus_dir, split)
    path = save_novelty(model_dir, index.to_arrays())
    NoveltyIndex.from_arrays(load_model(model_dir).novelty or {})  # reads back whole
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", type=Path, help="a model folder (e.g. symbolic/bundled)")
    parser.add_argument("corpus", type=Path, help="the corpus folder it was trained on (e.g. build/bundled/corpus)")
    parser.add_argument("--split", default="train", help="which split's tunes to index (train)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        path = add_novelty_index(args.model, args.corpus, args.split)
    except SymbolicError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    index = NoveltyIndex.from_arrays(load_model(args.model).novelty or {})
    total = sum(p.stat().st_size for p in args.model.iterdir() if p.is_file())
    print(f"wrote {path}: {len(index)} tunes, {index.keys.size} shingles, {len(index.title_words)} title words, "
          f"{path.stat().st_size / 1e6:.1f} MB (model folder {total / 1e6:.1f} MB) in "
          f"{time.perf_counter() - started:.1f} s")
    if total > MODEL_FOLDER_LIMIT:
        print(f"warning: the model folder is over {MODEL_FOLDER_LIMIT // 2**20} MB", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Train the bundled default model, in one command, resumable:

    .venv/bin/python scripts/train_bundled.py [--work build/bundled] [--archs A,B] [--normalise-to tonic]
        [--train-only | --no-train]

1. builds the corpus from music21's five folk collections and the shipped CRÉ dance tunes
   (seed 0; a modal tune's key named by its final, `corpus build --keys-from-finals`; tokens
   keyed to the signature, `--normalise-to signature`, unless asked otherwise) into
   WORK/corpus-all, then derives WORK/corpus from it: every tune trains, the dance
   tunes (all but the Essen songs) DANCE_WEIGHT times, and valid and test hold dance tunes only;
2. fits the Kneser-Ney n-gram (order chosen on the valid split), then trains the LSTMs asked for
   (--archs) with the configs in scripts/configs/ (each resumes from its checkpoint if one
   exists, so rerunning after an interruption carries on); a model named BASE-dance... starts
   from its base model's weights and trains on WORK/corpus-dance, the dance tunes alone;
3. evaluates them and the n-gram on the valid and test splits side by side into WORK/comparison.json;
4. copies the LSTM with the fewest bits per note on the valid split into symbolic/bundled/ (the default of
   `symbolic generate`), with the comparison in its model.json and the novelty index of the
   training tunes (`symbolic models index`).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from symbolic.corpus.build import BuildSettings, build_corpus, load_manifest  # noqa: E402
from symbolic.corpus.weighting import weighted_corpus  # noqa: E402
from symbolic.models.config import ModelConfig  # noqa: E402
from symbolic.models.evaluate import evaluate, evaluate_tunes  # noqa: E402
from symbolic.models.modelfile import BUNDLED, ModelFile, load_model  # noqa: E402
from symbolic.models.training import CHECKPOINT_DIR, train  # noqa: E402
from symbolic.novelty.index import add_to_model  # noqa: E402
from symbolic.tokens import TokenizerSettings  # noqa: E402


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


SOURCES = ["music21:folk", "corpora:cre"]
BUILD = BuildSettings(seed=0, jobs=2, keys_from_finals=True)
# The Essen songs teach tonality (a model trained without them scores worse on dance tunes), but
# the dance tunes are what users ask for: each counts this many times in training.
DANCE_WEIGHT = 2
DANCE_CORPUS = "corpus-dance"
# The shipped recipe: 2 x 256 and 2 x 512 pre-trained on everything, each tuned on the dance tunes,
# the 2 x 512 also into a model with attention.
DEFAULT_ARCHS = ("lstm-seq2seq,lstm-seq2seq-dance,lstm-seq2seq-512,lstm-seq2seq-512-dance,"
                 "lstm-seq2seq-512-dance-attention")
# A config named BASE-dance... (scripts/configs/) fine-tunes: it starts from model BASE's weights and
# trains on the dance tunes alone (pre-training on everything, then tuning on dance).
FINE_TUNED = "-dance"


def is_dance(name: str) -> bool:
    return "essenFolksong" not in name


def dance_weight(name: str) -> int:
    return DANCE_WEIGHT if is_dance(name) else 1


def corpus(work: Path, build: BuildSettings = BUILD) -> tuple[Path, Path]:
    """(the corpus of every tune, the dance-weighted corpus derived from it); also derives
    WORK/corpus-dance (the dance tunes alone, the same valid and test), which fine-tuning uses."""
    everything, folder = work / "corpus-all", work / "corpus"
    try:
        built = TokenizerSettings.from_dict(load_manifest(everything).get("tokenizer"))
        log(f"corpus already built in {everything}")
    except Exception:
        built = None
        log(f"building the corpus from {' '.join(SOURCES)}")
        build_corpus(SOURCES, everything, build, progress=False)
    if built is not None and built != build.tokenizer:
        sys.exit(f"{everything} holds tokens made with {built.to_dict()}, not {build.tokenizer.to_dict()}: "
                 "give another --work")
    try:
        load_manifest(folder)
        log(f"weighted corpus already derived in {folder}")
    except Exception:
        counts = weighted_corpus(everything, folder, dance_weight, is_dance)["counts"]
        log(f"derived {folder}: {counts['train']} train, {counts['valid']} valid, {counts['test']} test tunes")
    try:
        load_manifest(work / DANCE_CORPUS)
    except Exception:
        counts = weighted_corpus(everything, work / DANCE_CORPUS, lambda name: int(is_dance(name)), is_dance)["counts"]
        log(f"derived {work / DANCE_CORPUS}: {counts['train']} train tunes")
    return everything, folder


def best_ngram(folder: Path, work: Path) -> ModelFile:
    from symbolic.models.data import load_split

    target = work / "ngram"
    try:
        return load_model(target)
    except Exception:
        pass
    valid = load_split(folder, "valid")
    best: tuple[float, ModelFile] | None = None
    for order in range(3, 9):
        config = ModelConfig(arch="ngram", ngram_order=order)
        model = train(folder, work / f"ngram-{order}", config)
        bits = evaluate_tunes(model, valid)["bits_per_note"]
        log(f"ngram order {order}: valid {bits:.3f} bits/note")
        if best is None or bits < best[0]:
            best = (bits, model)
    assert best is not None
    best[1].save(target)
    return best[1]


def lstm(folder: Path, work: Path, arch: str, no_train: bool = False) -> ModelFile:
    config = ModelConfig.from_file(ROOT / "scripts" / "configs" / f"{arch}.json")
    out = work / arch
    base = work / arch.split(FINE_TUNED)[0] if FINE_TUNED in arch else None
    if base is not None:
        folder = work / DANCE_CORPUS
    if no_train:
        log(f"{arch}: the best model saved so far, not trained further")
        return load_model(out)
    resume = (out / CHECKPOINT_DIR / "state.json").is_file()
    if resume:
        state = json.loads((out / CHECKPOINT_DIR / "state.json").read_text())
        if state["epoch"] >= config.epochs or state["stale_epochs"] >= config.patience:
            log(f"{arch} already trained")
            return load_model(out)
    log(f"training {arch}{' (resuming)' if resume else ''}{f' from {base.name} on {folder.name}' if base else ''}")
    return train(folder, out, config, resume=resume, verbose=2, init_from=base)


def corpus_keyed_as(work: Path, tokenizer: TokenizerSettings) -> Path:
    """The same dance-weighted corpus tokenised as `tokenizer` says (without the bar countdown, or
    keyed to the tonic), on which a model made another way (the previous bundled model) is scored
    on the same test tunes: splits go by the melody, so they hold the same tunes."""
    name = f"{'counted' if tokenizer.bar_countdown else 'plain'}-{tokenizer.normalise_to}"
    everything, folder = work / f"corpus-all-{name}", work / f"corpus-{name}"
    try:
        load_manifest(folder)
    except Exception:
        settings = replace(BUILD, bar_countdown=tokenizer.bar_countdown, normalise_to=tokenizer.normalise_to)
        build_corpus(SOURCES, everything, settings, progress=False)
        weighted_corpus(everything, folder, dance_weight, is_dance)
    return folder


def previous_model(work: Path, folder: Path) -> dict:  # type: ignore[type-arg]
    """The model shipped until now, scored on the same test tunes (tokenised as it was trained)."""
    previous = load_model(BUNDLED)
    same = previous.tokenizer == TokenizerSettings.from_dict(load_manifest(folder).get("tokenizer"))
    test = folder if same else corpus_keyed_as(work, previous.tokenizer)
    figures = evaluate(previous, test, "test")
    log(f"previous bundled model: test {figures['bits_per_note']:.3f} bits/note")
    return {"previous-bundled": {**figures, "config": json.loads(previous.config.to_json()),
                                 "trained_on": previous.meta.get("data", {}).get("corpus")}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "bundled")
    parser.add_argument("--archs", default=DEFAULT_ARCHS,
                        help=f"the LSTMs to train and compare, in order (default: {DEFAULT_ARCHS}; a name is a "
                             "config in scripts/configs/)")
    parser.add_argument("--no-train", action="store_true",
                        help="compare and ship the best models saved so far (an interrupted run) without training")
    parser.add_argument("--normalise-to", choices=("tonic", "signature"), default="signature",
                        help="how the corpora's tokens are keyed (`corpus build --normalise-to`); a model tuned "
                             "from a base keyed the other way relearns where the modes sit")
    parser.add_argument("--train-only", action="store_true",
                        help="train and stop; compare and ship later with --no-train")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    everything, folder = corpus(args.work, replace(BUILD, normalise_to=args.normalise_to))
    models = {"ngram": best_ngram(folder, args.work)}
    for arch in args.archs.split(","):
        models[arch] = lstm(folder, args.work, arch, args.no_train)
    if args.train_only:
        return
    comparison = {}
    for name, model in models.items():
        figures = evaluate(model, folder, "test")
        training = model.meta.get("training", {})
        valid = evaluate(model, folder, "valid")["bits_per_note"]
        comparison[name] = {**figures, "valid_bits_per_note": valid, "parameters": training.get("parameters"),
                            "training_seconds": training.get("seconds"), "best_epoch": training.get("best_epoch"),
                            "epochs_run": len(training.get("history", [])) or None,
                            "config": json.loads(model.config.to_json())}
        log(f"{name}: test {figures['bits_per_token']:.3f} bits/token, {figures['bits_per_note']:.3f} bits/note")
    comparison.update(previous_model(args.work, folder))
    (args.work / "comparison.json").write_text(json.dumps(comparison, indent=2) + "\n")
    lstms = [n for n in comparison if n.startswith("lstm")]
    # Chosen on the valid split, so the test figures stay an unbiased estimate.
    winner = min(lstms, key=lambda n: comparison[n]["valid_bits_per_note"])
    gain = 1 - comparison[winner]["bits_per_note"] / comparison["ngram"]["bits_per_note"]
    log(f"shipping {winner}: {gain:.1%} fewer bits per note than the n-gram")
    chosen = models[winner]
    chosen = replace(chosen, meta={**chosen.meta, "comparison_on_test": comparison, "chosen": winner})
    # Save beside the old bundled model and swap, so a crash never leaves no model at all.
    fresh, stale = BUNDLED.with_name("bundled.new"), BUNDLED.with_name("bundled.old")
    shutil.rmtree(fresh, ignore_errors=True)
    chosen.save(fresh)
    add_to_model(fresh, everything)  # every training tune once
    if BUNDLED.exists():
        BUNDLED.rename(stale)
    fresh.rename(BUNDLED)
    shutil.rmtree(stale, ignore_errors=True)
    log(f"wrote {BUNDLED}")
    # The report sets the shipped model beside the n-gram and, for a fine-tuned model, its base.
    # A base keyed otherwise (tuned from tokens keyed to the tonic) cannot be scored on this corpus.
    base = winner.split(FINE_TUNED)[0] if FINE_TUNED in winner else None
    keyed_alike = base is not None and load_model(args.work / base).tokenizer == chosen.tokenizer
    others = ["ngram"] + ([base] if keyed_alike else [])
    write_docs_report([args.work / name for name in others], folder)


def write_docs_report(others: list[Path], folder: Path) -> None:
    """docs/report/: the evaluation report of the shipped model beside the others trained."""
    from symbolic.cli.main import main as cli

    report = ROOT / "docs" / "report"
    shutil.rmtree(report, ignore_errors=True)
    cli(["evaluate", "--model", str(BUNDLED.relative_to(ROOT)), *(a for o in others for a in ("--model", str(o))),
         "--corpus", str(folder), "--samples", "200", "--seed", "0", "--report", str(report), "--no-audio"])
    log(f"wrote {report}")


if __name__ == "__main__":
    main()

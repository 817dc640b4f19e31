"""CLI commands for models: `train`, `evaluate`, `models info` and `models index`."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from symbolic.cli.main import _positive_int, seed
    train = commands.add_parser(
        "train", help="train a model on a corpus folder",
        description=(
            "Train a model on CORPUS_DIR's train split, validating on its valid split. MODEL_DIR "
            "always holds the best model so far (model.json, vocab.json, weights.npz), a CSV of "
            "losses (training.csv), TensorBoard logs, and a checkpoint that --resume continues "
            "after an interruption. Several GPUs or machines: the LSTMs train under a tf.distribute "
            "strategy; set TF_CONFIG on each worker for MultiWorkerMirroredStrategy."
        ),
    )
    train.add_argument("corpus", metavar="CORPUS_DIR", help="a folder made by `symbolic corpus build`")
    train.add_argument("--out", required=True, metavar="MODEL_DIR", help="where the model is written")
    train.add_argument("--arch", choices=("lstm-lm", "lstm-seq2seq", "ngram"),
                       help="model type (default: the config's, else lstm-lm)")
    train.add_argument("--config", metavar="FILE", help="a JSON file of ModelConfig fields (see scripts/configs/)")
    train.add_argument("--epochs", type=_positive_int, metavar="N", help="override the config's epochs")
    train.add_argument("--resume", action="store_true", help="continue from MODEL_DIR's last checkpoint")
    train.add_argument("--init-from", metavar="BASE_DIR",
                       help="fine-tune: start from this model's weights ('bundled': the bundled model), with a "
                            "fresh optimizer and the config's learning-rate schedule; the config must have its "
                            "sizes and the corpus its tokenizer; the corpus is re-encoded into its vocabulary, "
                            "tunes with tokens it never saw left out")
    train.add_argument("--strategy", default="auto", choices=("auto", "default", "mirrored", "multiworker"),
                       help="tf.distribute strategy (auto: multiworker when TF_CONFIG is set, mirrored with "
                            "several GPUs, else default)")
    train.set_defaults(handler=_train)

    evaluate = commands.add_parser(
        "evaluate", help="held-out likelihood of a model; with --report, a full report on its samples",
        description=(
            "Bits per token and per note of each tune's body given its header, for any model type. With "
            "--report DIR: sample --samples tunes from each --model and write DIR/report.json and "
            "DIR/report.md (likelihood, validity, form, Yang & Lerch feature distributions against the "
            "real tunes of --split, novelty against the train split, mode adherence, plots and sample "
            "tunes as ABC, MIDI and WAV). Several --model options are measured side by side in one run."
        ),
    )
    evaluate.add_argument("--model", metavar="PATH", action="append",
                          help="a model folder (default: the bundled model); repeat to compare models")
    evaluate.add_argument("--corpus", required=True, metavar="DIR", help="a corpus folder")
    evaluate.add_argument("--split", default="test", choices=("train", "valid", "test"))
    evaluate.add_argument("--json", action="store_true", help="print one JSON object (one per model)")
    evaluate.add_argument("--report", metavar="DIR", help="write a full report of sampled tunes to DIR")
    evaluate.add_argument("--samples", type=int, default=100, metavar="N",
                          help="tunes sampled from each model for --report (default 100)")
    evaluate.add_argument("--seed", type=seed, default=0, metavar="S", help="seed of the samples (default 0)")
    evaluate.add_argument("--no-audio", action="store_true", help="with --report: write no WAV files")
    evaluate.set_defaults(handler=_evaluate)

    models = commands.add_parser("models", help="inspect model files")
    actions = models.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    info = actions.add_parser("info", help="print what a model is: type, size, data, training figures")
    info.add_argument("path", nargs="?", metavar="PATH", help="a model folder (default: the bundled model)")
    info.set_defaults(handler=_info)
    index = actions.add_parser(
        "index", help="add (or replace) a model's novelty index, built from the corpus it was trained on",
        description=(
            "Index the training tunes of CORPUS_DIR (their melody shingles, readable names and title words) "
            "into MODEL_DIR/novelty.npz. With it, `symbolic generate` resamples tunes too close to a training "
            "tune, names each tune's closest training tune, and titles tunes with the corpus's words."))
    index.add_argument("model", metavar="MODEL_DIR", help="a model folder")
    index.add_argument("corpus", metavar="CORPUS_DIR", help="the corpus folder the model was trained on")
    index.add_argument("--split", default="train", choices=("train", "valid", "test"),
                       help="which split's tunes to index (default: train)")
    index.set_defaults(handler=_index)


def _train(args: argparse.Namespace) -> int:
    from symbolic.models.config import ModelConfig
    from symbolic.models.training import train

    config = ModelConfig.from_file(args.config) if args.config else ModelConfig()
    if args.arch:
        config = replace(config, arch=args.arch)
    if args.epochs is not None:  # not `if args.epochs`: 0 must not fall back to the config's
        config = replace(config, epochs=args.epochs)
    from symbolic.models.modelfile import BUNDLED

    init_from = BUNDLED if args.init_from == "bundled" else args.init_from
    model = train(args.corpus, args.out, config, resume=args.resume, strategy=args.strategy, init_from=init_from)
    training = model.meta.get("training", {})
    if "best_valid_bits_per_token" in training:
        print(f"best model: epoch {training['best_epoch']}, valid {training['best_valid_bits_per_token']:.3f} "
              f"bits/token -> {args.out}")
    else:
        print(f"valid {training.get('valid', {}).get('bits_per_note', float('nan')):.3f} bits/note -> {args.out}")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from symbolic.models.evaluate import evaluate
    from symbolic.models.modelfile import load_model

    paths: list[str | None] = args.model or [None]
    if args.report:
        return _report(args, paths)
    for path in paths:
        model = load_model(path)
        figures = evaluate(model, args.corpus, args.split)
        if args.json:
            print(json.dumps({"model": path or "bundled", "arch": model.config.arch, "split": args.split, **figures}))
        else:
            print(f"{model.config.arch} on {args.split}: {figures['bits_per_token']:.3f} bits/token, "
                  f"{figures['bits_per_note']:.3f} bits/note ({figures['tunes']} tunes, {figures['notes']} notes"
                  + (f"; {figures['skipped_unknown_tokens']} tunes left out: they hold tokens the model never saw"
                     if figures["skipped_unknown_tokens"] else "") + ")")
    return 0


def _report(args: argparse.Namespace, paths: list[str | None]) -> int:
    import shlex

    from symbolic.evaluation.report import REPORT_MD, write_report
    from symbolic.evaluation.run import EvaluationSettings, evaluate_models

    settings = EvaluationSettings(samples=args.samples, seed=args.seed, split=args.split, audio=not args.no_audio)
    report = evaluate_models(paths, args.corpus, args.report, settings)
    command = "symbolic " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv[1:2] == ["evaluate"] else ""
    write_report(report, args.report, command)
    if args.json:
        print(json.dumps({"report": str(Path(args.report) / REPORT_MD)}))
        return 0
    for entry in report["models"]:
        likelihood, novelty = entry["likelihood"], entry["novelty"]
        overlaps = [f["overlap"] for f in entry["features"].values() if f["overlap"] == f["overlap"]]
        print(f"{entry['name']}: {likelihood.get('bits_per_note', float('nan')):.3f} bits/note, "
              f"abc2midi clean {entry['validity']['share_abc2midi_clean'] or 0:.2f}, "
              f"mean overlap {sum(overlaps) / max(len(overlaps), 1):.2f}, "
              f"novelty {novelty['mean_similarity']:.2f} (share > {novelty['threshold']}: "
              f"{novelty['share_above_threshold']:.2f})")
    print(f"report: {Path(args.report) / REPORT_MD}")
    return 0


def _info(args: argparse.Namespace) -> int:
    from symbolic.models.modelfile import load_model

    model = load_model(args.path)
    config = model.config
    size = sum(int(a.size) for a in model.weights.values())
    print(f"model: {args.path or 'bundled'}")
    print(f"architecture: {config.arch}" + ("" if config.arch == "ngram" else
                                            f" ({config.layers} x {config.units} units, embedding {config.embedding}"
                                            f"{', attention' if config.attention else ''})"))
    print(f"vocabulary: {len(model.vocab)} tokens (sha256 {model.vocab.sha256[:12]})")
    tokenizer = model.tokenizer
    print(f"tokens: keyed to the {tokenizer.normalise_to}, "
          f"{'with' if tokenizer.bar_countdown else 'without'} the bar countdown")
    print(f"stored numbers: {size:,}")
    training = model.meta.get("training", {})
    if "best_epoch" in training:
        print(f"training: best epoch {training['best_epoch']}, valid {training['best_valid_bits_per_token']:.3f} "
              f"bits/token, {training['seconds']:.0f} s, {training.get('parameters', 0):,} parameters")
    data = model.meta.get("data", {})
    if data:
        counts = data.get("counts", {})
        print(f"data: {data.get('corpus')} ({counts.get('train')} train, {counts.get('valid')} valid, "
              f"{counts.get('test')} test tunes)")
    base = training.get("fine_tuned_from")
    if base:
        counts = (base.get("data") or {}).get("counts", {})
        print(f"fine-tuned from a model trained on {(base.get('data') or {}).get('corpus')} ({counts.get('train')} "
              f"train tunes) for {(base.get('training') or {}).get('seconds') or 0:.0f} s")
    for name, figures in model.meta.get("comparison_on_test", {}).items():
        print(f"test {name}: {figures['bits_per_note']:.3f} bits/note, {figures['bits_per_token']:.3f} bits/token")
    versions = model.meta.get("versions", {})
    if versions:
        print("versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    sys.stdout.flush()
    return 0


def _index(args: argparse.Namespace) -> int:
    import time

    from symbolic.models.modelfile import load_model
    from symbolic.novelty.index import NoveltyIndex, add_to_model

    started = time.perf_counter()
    path = add_to_model(args.model, args.corpus, args.split)
    index = NoveltyIndex.from_arrays(load_model(args.model).novelty or {})
    print(f"wrote {path}: {len(index)} tunes, {index.keys.size} shingles, {len(index.title_words)} title words, "
          f"{path.stat().st_size / 1e6:.1f} MB in {time.perf_counter() - started:.1f} s")
    return 0

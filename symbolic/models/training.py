"""`symbolic train`: fit a model on a corpus folder, with checkpoints, resume and early stopping.

The LSTMs train with our own loop (not `model.fit`, which Keras 3 cannot run under
MultiWorkerMirroredStrategy: keras-team/keras#20585) under a `tf.distribute` strategy: one CPU,
one or several GPUs with MirroredStrategy, several machines with MultiWorkerMirroredStrategy from
TF_CONFIG. Each global batch is cut into one row slice per replica; the loss is the token-masked
mean cross-entropy over the global batch, so a step's update does not depend on the replica count.
Every `checkpoint_every` steps and after each epoch the whole compiled Keras model (weights and
optimizer state) is saved under a new name in MODEL_DIR/checkpoint, then state.json (the position
in the data, the interrupted epoch's sums so far, and the name of that checkpoint) replaces the old
state atomically: the state is the commit, so a kill at any moment leaves a state and the model it
names, never a state one checkpoint behind its optimizer. `--resume` continues from there, skipping
the batches already seen in the interrupted epoch. The
model file (see modelfile.py) is written whenever the validation loss improves, so MODEL_DIR
always holds the best model so far. With several workers only the chief writes under MODEL_DIR.
The config's speed options (precision, jit_compile, project_inputs_once, bucket_batches) change
how fast a step runs, not the model it trains; benchmarks/train_throughput.py measures them."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from symbolic.atomic import write_text_atomically
from symbolic.corpus.build import load_manifest, load_vocabulary
from symbolic.errors import SymbolicError
from symbolic.models.config import ModelConfig
from symbolic.models.data import (
    bar_ids,
    bucketed_batches,
    lm_windows,
    load_split,
    pad_width,
    padded_batches,
    seq2seq_examples,
)
from symbolic.models.lstm import LOGITS
from symbolic.models.modelfile import ModelFile
from symbolic.tokens import END_ID, START_ID, TokenizerSettings

CHECKPOINT_DIR = "checkpoint"
STATE_JSON = "state.json"
LAST_KERAS = "last.keras"  # the one checkpoint name of states written before they named theirs
HISTORY_CSV = "training.csv"
# With jit_compile, seq2seq training batches are padded to widths that are multiples of this: XLA
# compiles the step once per input shape, and padding bounds the shapes to a few dozen (the
# padding is masked out of the loss; it costs a few percent of the compute).
JIT_WIDTH_MULTIPLE = 32


class TrainingError(SymbolicError):
    """Training that cannot start or go on (no checkpoint to resume, an empty corpus...)."""


def train(corpus: str | Path, out: str | Path, config: ModelConfig, *, resume: bool = False,
          strategy: str = "auto", verbose: int | None = None, init_from: str | Path | None = None) -> ModelFile:
    """Train `config.arch` on the corpus's train split, validating on its valid split. With
    `init_from` (a model folder of the same size and tokenizer settings, keyed to the tonic or the
    signature either way), training starts from that model's weights with a fresh optimizer and
    schedule: fine-tuning a model pre-trained on a larger corpus on a smaller one. The corpus's
    tunes are then re-encoded into the base's vocabulary (a small corpus seldom has every token a
    large one has); tunes with a token the base never saw are left out, and counted."""
    corpus, out = Path(corpus), Path(out)
    manifest = load_manifest(corpus)
    vocab = load_vocabulary(corpus)
    train_tunes, valid_tunes = load_split(corpus, "train"), load_split(corpus, "valid")
    if not train_tunes or not valid_tunes:
        raise TrainingError(f"{corpus}: training needs tunes in both the train and the valid split")
    data_info = {"corpus": str(corpus), "counts": manifest["counts"], "vocabulary_sha256": vocab.sha256,
                 "tokenizer": TokenizerSettings.from_dict(manifest.get("tokenizer")).to_dict()}
    if config.arch == "ngram":
        if init_from is not None:
            raise TrainingError("an n-gram is counted, not fine-tuned: train it on the corpus it should count")
        return _train_ngram(config, vocab, train_tunes, valid_tunes, out, data_info)
    base = _base_model(init_from, config, data_info["tokenizer"]) if init_from is not None else None
    if base is not None and base.vocab.sha256 != vocab.sha256:
        train_tunes, valid_tunes, left_out = _in_vocabulary_of(base, corpus)
        vocab = base.vocab
        data_info.update(vocabulary_sha256=vocab.sha256, left_out_unknown_tokens=left_out)
    return _Trainer(config, vocab, train_tunes, valid_tunes, out, data_info, resume, strategy, verbose, base).run()


# The config fields that fix the weights' shapes: a fine-tuned model must match its base in each,
# but that a seq2seq may gain attention (`starting_weights`).
SHAPE_FIELDS = ("arch", "embedding", "units", "layers")


def _base_model(path: str | Path, config: ModelConfig, tokenizer: dict) -> ModelFile:  # type: ignore[type-arg]
    from symbolic.models.modelfile import load_model

    base = load_model(path)
    differing = [f"{name} {getattr(base.config, name)} (config: {getattr(config, name)})"
                 for name in SHAPE_FIELDS if getattr(base.config, name) != getattr(config, name)]
    if base.config.attention and not config.attention:
        differing.append("attention True (config: False)")
    if differing:
        raise TrainingError(f"{path}: cannot start from this model, its {', '.join(differing)} differ")
    # The same tokens, but for where each mode's notes sit: a model tuned from tokens keyed to the
    # tonic to tokens keyed to the signature (or back) relearns that; any other difference is new tokens.
    keyed_as_base = dataclasses.replace(TokenizerSettings.from_dict(tokenizer), normalise_to=base.tokenizer.normalise_to)
    if keyed_as_base != base.tokenizer:
        raise TrainingError(f"{path}: the model was trained on tokens made with other tokenizer settings")
    return base


def starting_weights(base: ModelFile, config: ModelConfig) -> dict[str, np.ndarray]:
    """The base's weights in `config`'s shapes. A seq2seq tuned into one with attention gets
    zero logit weights for the attention's context, so it starts as the very function its base
    computes and learns from there how much to read the header at each step."""
    weights = dict(base.weights)
    if config.attention and not base.config.attention:
        kernel = weights[f"{LOGITS}/kernel"]
        weights[f"{LOGITS}/kernel"] = np.concatenate([kernel, np.zeros_like(kernel)], axis=0)
    return weights


def _in_vocabulary_of(base: ModelFile, corpus: Path) -> tuple[list[np.ndarray], list[np.ndarray], int]:
    """The corpus's train and valid tunes as ids of the base model's vocabulary, and how many
    tunes were left out."""
    from symbolic.models.evaluate import corpus_tunes

    splits = {split: corpus_tunes(base, corpus, split, any_keying=True) for split in ("train", "valid")}
    if not all(tunes for tunes, _ in splits.values()):
        raise TrainingError(f"{corpus}: no train or no valid tunes are left in the base model's vocabulary")
    left_out = sum(skipped for _, skipped in splits.values())
    if left_out:
        print(f"fine-tuning leaves out {left_out} tunes with tokens the base model never saw", file=sys.stderr)
    return splits["train"][0], splits["valid"][0], left_out


def _train_ngram(config: ModelConfig, vocab, train_tunes, valid_tunes, out: Path, data_info: dict) -> ModelFile:  # type: ignore[no-untyped-def,type-arg]
    from symbolic.models.ngram import KneserNey

    started = time.time()
    model = KneserNey(config.ngram_order, len(vocab)).fit([[START_ID, *t.tolist(), END_ID] for t in train_tunes])
    model_file = ModelFile(config, vocab, model.to_arrays(), {"data": data_info, "versions": versions()})
    from symbolic.models.evaluate import evaluate_tunes

    figures = evaluate_tunes(model_file, valid_tunes)
    model_file.meta["training"] = {"seconds": round(time.time() - started, 1), "valid": figures}
    model_file.save(out)
    return model_file


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {"python": sys.version.split()[0]}
    for name in ("symbolic", "numpy", "tensorflow", "tensorflow-cpu", "keras"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            continue
    return found


def make_strategy(name: str) -> Any:
    """auto: MultiWorkerMirrored when TF_CONFIG names a cluster, Mirrored with several devices
    of one kind (GPUs, or logical CPUs set up by the caller), else the default strategy."""
    import tensorflow as tf

    if name == "multiworker" or (name == "auto" and "TF_CONFIG" in os.environ):
        return tf.distribute.MultiWorkerMirroredStrategy()
    gpus = tf.config.list_logical_devices("GPU")
    cpus = tf.config.list_logical_devices("CPU")
    if name == "mirrored" or (name == "auto" and len(gpus) > 1):
        return tf.distribute.MirroredStrategy([d.name for d in (gpus or cpus)])
    if name not in ("auto", "default"):
        raise TrainingError(f"unknown strategy {name!r}: auto, default, mirrored or multiworker")
    return tf.distribute.get_strategy()


# The running sums of the epoch in progress, saved with each checkpoint.
_EPOCH_START = {"epoch_loss_sum": 0.0, "epoch_tokens": 0.0, "epoch_seconds": 0.0}


class _Trainer:
    def __init__(self, config: ModelConfig, vocab, train_tunes: list[np.ndarray], valid_tunes: list[np.ndarray],  # type: ignore[no-untyped-def]
                 out: Path, data_info: dict, resume: bool, strategy: str, verbose: int | None,  # type: ignore[type-arg]
                 base: ModelFile | None = None) -> None:
        self.config, self.vocab, self.out, self.data_info = config, vocab, out, data_info
        self.base = base
        self.train_tunes, self.valid_tunes = train_tunes, valid_tunes
        self.resume, self.strategy_name = resume, strategy
        self.verbose = verbose if verbose is not None else (1 if sys.stderr.isatty() else 2)
        self.checkpoints = out / CHECKPOINT_DIR
        self.bars = bar_ids(vocab)
        self.chief = True  # set by run() from the strategy: the one worker that writes files

    # ----- data -----
    def batches(self, epoch: int | None) -> list[tuple]:  # type: ignore[type-arg]
        """The epoch's global batches ((inputs, targets) pairs), fixed by seed and epoch; None: validation."""
        config = self.config
        rng = np.random.default_rng([config.seed, epoch]) if epoch is not None else None
        tunes = self.train_tunes if epoch is not None else self.valid_tunes
        if config.arch == "lstm-lm":
            x, y = lm_windows(tunes, config.sequence_length, rng)
            return [(x[i:i + config.batch_size], y[i:i + config.batch_size])
                    for i in range(0, len(x), config.batch_size)]
        examples = seq2seq_examples(tunes, self.bars, config.max_decoder_length, rng)
        if rng is not None and config.bucket_batches > 1:
            batches = bucketed_batches(examples, config.batch_size, config.bucket_batches, rng)
        else:
            batches = padded_batches(examples, config.batch_size, rng)
        grid = JIT_WIDTH_MULTIPLE if config.jit_compile and epoch is not None else 1  # validation is not compiled
        return [((pad_width(enc, grid), pad_width(dec_in, grid)), pad_width(dec_out, grid)) for enc, dec_in, dec_out in batches]

    def dataset(self, strategy: Any, batches: list[tuple]) -> Any:  # type: ignore[type-arg]
        """The global batches spread over the strategy's replicas, one row slice per replica.

        We cut each global batch ourselves (distribute_datasets_from_function) rather than let
        experimental_distribute_dataset rebatch: the slices are then known exactly whatever the
        replica or worker count, the mid-epoch resume skips whole global batches, seq2seq
        batches of varying widths need no fixed shapes, and every worker yields the same number
        of steps (a worker that runs out early would hang its peers' collectives). A slice may
        be empty when a last batch has fewer rows than there are replicas; it adds nothing to
        the loss sums."""
        import tensorflow as tf

        lm = self.config.arch == "lstm-lm"
        width = self.config.sequence_length if lm else None
        spec = tf.TensorSpec(shape=(None, width), dtype=tf.int32)
        signature = (spec, spec) if lm else ((spec, spec), spec)

        def replica_slices(context: Any) -> Any:
            replicas = context.num_replicas_in_sync
            local = replicas // context.num_input_pipelines
            first = context.input_pipeline_id * local
            elements = []
            for inputs, targets in batches:
                rows = np.array_split(np.arange(len(targets)), replicas)[first:first + local]
                for chosen in rows:  # consecutive elements go to this worker's replicas in turn
                    part = (tuple(a[chosen] for a in inputs) if isinstance(inputs, tuple) else inputs[chosen])
                    elements.append((part, targets[chosen]))
            dataset = tf.data.Dataset.from_generator(lambda: iter(elements), output_signature=signature)
            return dataset.prefetch(tf.data.AUTOTUNE)

        return strategy.distribute_datasets_from_function(replica_slices)

    # ----- model -----
    def compile(self, steps_per_epoch: int):  # type: ignore[no-untyped-def]
        import keras

        from symbolic.models.lstm import build_model

        config = self.config
        model = build_model(config, len(self.vocab), training=True)
        schedule = keras.optimizers.schedules.CosineDecay(
            config.learning_rate, decay_steps=max(1, steps_per_epoch * config.epochs),
            alpha=config.min_learning_rate / config.learning_rate)
        optimizer_class = keras.optimizers.Adam if config.optimizer == "adam" else keras.optimizers.RMSprop
        # The loss is compiled in only so that a .keras checkpoint reloads as a complete compiled model;
        # the training loop below computes its own loss (see step_functions).
        model.compile(optimizer=optimizer_class(learning_rate=schedule, clipnorm=config.clip_norm),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0))
        return model

    def step_functions(self, strategy: Any, model: Any, element_spec: Any) -> tuple[Callable[[Any], Any],
                                                                                   Callable[[Any], Any]]:
        """The distributed train and validation steps; each returns the summed cross-entropy and
        the number of target tokens (targets of 0 are padding) over the global batch.

        The loss a replica differentiates is its own sum divided by the GLOBAL token count, so
        the gradients summed across replicas are those of the global batch's mean, whatever the
        replica count. Keras's optimizer clips each replica's gradients before it sums them
        across replicas (clipping partial gradients), so we sum and clip first, as one replica
        would, and hand it the replicas' equal shares, which its own clip leaves alone and its
        all-reduce sums back to the clipped global gradient."""
        import tensorflow as tf

        optimizer, variables = model.optimizer, model.trainable_variables
        replicas = strategy.num_replicas_in_sync
        total = tf.distribute.ReduceOp.SUM

        def loss_sums(targets: Any, logits: Any) -> tuple[Any, Any]:
            mask = tf.cast(tf.not_equal(targets, 0), tf.float32)
            losses = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=targets, logits=tf.cast(logits, tf.float32))
            return tf.reduce_sum(losses * mask), tf.reduce_sum(mask)

        def forward_backward(inputs: Any, targets: Any, tokens: Any) -> tuple[Any, Any, list[Any]]:
            with tf.GradientTape() as tape:
                loss_sum, count = loss_sums(targets, model(inputs, training=True))
                loss = loss_sum / tf.maximum(tokens, 1.0)
            # Dense gradients of static shape: the embedding's IndexedSlices (small) cannot be scaled
            # below, and the all-reduce packs tensors by their static sizes, which must agree on all replicas.
            grads = [tf.zeros_like(v) if g is None else tf.reshape(tf.convert_to_tensor(g), v.shape)
                     for g, v in zip(tape.gradient(loss, variables), variables, strict=True)]
            return loss_sum, count, grads

        if self.config.jit_compile:
            # Only the replica's own pass is compiled: the all-reduce and the optimizer's update
            # (cross-replica calls) stay outside XLA, so every strategy runs it unchanged.
            forward_backward = tf.function(forward_backward, jit_compile=True)

        def train_replica(inputs: Any, targets: Any) -> tuple[Any, Any]:
            context = tf.distribute.get_replica_context()
            tokens = context.all_reduce(total, tf.reduce_sum(tf.cast(tf.not_equal(targets, 0), tf.float32)))
            loss_sum, count, grads = forward_backward(inputs, targets, tokens)
            grads = _clip(optimizer, context.all_reduce(total, grads))
            optimizer.apply_gradients(zip([g / replicas for g in grads], variables, strict=True))
            return loss_sum, count

        def valid_replica(inputs: Any, targets: Any) -> tuple[Any, Any]:
            return loss_sums(targets, model(inputs, training=False))

        # One trace for every batch: without the signature, each new seq2seq width (and the LM's short
        # last batch) would retrace the step, since per-replica values carry their concrete shapes.
        @tf.function(input_signature=[element_spec])
        def train_step(element: Any) -> Any:
            sums = strategy.run(train_replica, args=element)
            return [strategy.reduce(total, s, axis=None) for s in sums]

        @tf.function(input_signature=[element_spec])
        def valid_step(element: Any) -> Any:
            sums = strategy.run(valid_replica, args=element)
            return [strategy.reduce(total, s, axis=None) for s in sums]

        return train_step, valid_step

    # ----- state -----
    def load_state(self) -> dict:  # type: ignore[type-arg]
        path = self.checkpoints / STATE_JSON
        if self.resume:
            # Multi-worker resume reads the chief's checkpoint: MODEL_DIR must be storage every worker sees.
            if not path.is_file():
                raise TrainingError(f"{self.out}: no checkpoint to resume from")
            try:
                state = json.loads(path.read_text(encoding="utf-8"))
                named = state.get("checkpoint", LAST_KERAS)
            except (ValueError, AttributeError) as error:
                raise TrainingError(f"{path}: damaged checkpoint state ({error})") from None
            if not isinstance(named, str) or Path(named).name != named or not (self.checkpoints / named).is_file():
                raise TrainingError(f"{path}: the checkpoint it names ({named!r}) is missing")
            try:  # through the dataclass, so that a state saved before a field existed compares with its default
                same = ModelConfig.from_dict(state.get("config")) == self.config
            except SymbolicError:
                same = False
            if not same:
                raise TrainingError(f"{self.out}: the checkpoint was made with another config; resume with it")
            return state
        if self.chief:  # other workers write nothing under MODEL_DIR, which they may share with the chief
            if self.checkpoints.exists():
                raise TrainingError(f"{self.out} holds a checkpoint of an earlier run: continue it with --resume, "
                                    "or train into another folder")
            self.checkpoints.mkdir(parents=True)
        return {"config": json.loads(self.config.to_json()), "epoch": 0, "step_in_epoch": 0, "best_valid": None,
                "best_epoch": None, "stale_epochs": 0, "seconds": 0.0, "tokens": 0, "history": [],
                "checkpoint": None, "saves": 0, **_EPOCH_START}

    def save_checkpoint(self, model, state: dict) -> None:  # type: ignore[no-untyped-def,type-arg]
        # Every worker saves: reading the compiled model's on-read (metric) variables can be a
        # collective under MultiWorkerMirroredStrategy, so a worker that skipped the save could
        # hang the chief. Only the chief's copy is kept (the TensorFlow multi-worker tutorial's way).
        folder = self.checkpoints if self.chief else Path(tempfile.mkdtemp(prefix="symbolic-worker-"))
        state["saves"] = state.get("saves", 0) + 1
        name = f"checkpoint-{state['saves']:06d}.keras"
        try:
            temp = folder / f".{name}.part.keras"
            model.save(temp)  # Keras wants the .keras suffix; renamed into place below
            if self.chief:
                os.replace(temp, self.checkpoints / name)
                # The commit: until state.json names the new file, a resume reads the old state
                # and the old checkpoint it names, which are kept until then.
                state["checkpoint"] = name
                write_text_atomically(self.checkpoints / STATE_JSON, json.dumps(state, indent=1))
                for old in self.checkpoints.glob("*.keras"):
                    if old.name != name:
                        old.unlink(missing_ok=True)
        finally:
            if not self.chief:
                shutil.rmtree(folder, ignore_errors=True)

    # ----- the loop -----
    def run(self) -> ModelFile:
        import keras

        # The strategy first: MultiWorkerMirroredStrategy must set up its collectives before other TF work.
        strategy = make_strategy(self.strategy_name)
        self.chief = bool(strategy.extended.should_checkpoint)
        keras.utils.set_random_seed(self.config.seed)
        state = self.load_state()
        first_batches = self.batches(state["epoch"])
        steps_per_epoch = len(first_batches)
        if self.config.project_inputs_once:
            from symbolic.models.lstm import projected_lstm

            projected_lstm()  # registers the layer class, which the checkpoint names, with Keras
        with strategy.scope():
            model = (keras.models.load_model(self.checkpoints / state.get("checkpoint", LAST_KERAS)) if self.resume
                     else self.compile(steps_per_epoch))
            if self.base is not None and not self.resume:  # a resumed checkpoint holds the tuned weights already
                from symbolic.models.lstm import import_weights

                import_weights(model, self.config, starting_weights(self.base, self.config))
            # Built here, in scope, so its slots are distributed variables and not created inside the tf.function.
            if not model.optimizer.built:
                model.optimizer.build(model.trainable_variables)
        valid = self.dataset(strategy, self.batches(None))
        train_step, valid_step = self.step_functions(strategy, model, valid.element_spec)
        board = _Board(self.out / "tensorboard") if self.chief else None
        best: ModelFile | None = None
        for epoch in range(state["epoch"], self.config.epochs):
            batches = first_batches if epoch == state["epoch"] else self.batches(epoch)
            skip = state["step_in_epoch"]
            progress = None
            if self.verbose == 1 and self.chief:
                print(f"epoch {epoch + 1}/{self.config.epochs}", file=sys.stderr, flush=True)
                progress = keras.utils.Progbar(len(batches), stateful_metrics=["loss"])
                progress.update(skip)
            # A resumed epoch goes on from the sums its checkpoint saved, so its row in
            # training.csv counts all its batches, not only those after the resume.
            loss_sum, tokens = float(state.get("epoch_loss_sum", 0.0)), float(state.get("epoch_tokens", 0.0))
            started = time.time() - float(state.get("epoch_seconds", 0.0))
            for element in self.dataset(strategy, batches[skip:]):
                step_sum, step_tokens = train_step(element)
                loss_sum, tokens = loss_sum + float(step_sum), tokens + float(step_tokens)
                state["step_in_epoch"] += 1
                if progress is not None:
                    progress.update(state["step_in_epoch"], [("loss", loss_sum / max(tokens, 1.0))])
                if state["step_in_epoch"] % self.config.checkpoint_every == 0:
                    state.update(epoch_loss_sum=loss_sum, epoch_tokens=tokens, epoch_seconds=time.time() - started)
                    self.save_checkpoint(model, state)
            seconds = time.time() - started
            train_loss = loss_sum / tokens if tokens else float("nan")
            valid_loss = _mean_loss(valid_step, valid)
            state["seconds"] += seconds
            state["tokens"] += int(tokens)
            learning_rate = float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))
            state["history"].append({"epoch": epoch + 1, "train_loss": train_loss, "valid_loss": valid_loss,
                                     "learning_rate": learning_rate, "seconds": round(seconds, 1),
                                     "tokens_per_second": round(tokens / max(seconds, 1e-9))})
            if board is not None:
                board.write(epoch, train_loss, valid_loss, learning_rate)
            improved = state["best_valid"] is None or valid_loss < state["best_valid"]
            if improved:
                state["best_valid"], state["best_epoch"], state["stale_epochs"] = valid_loss, epoch + 1, 0
            else:
                state["stale_epochs"] += 1
            state["epoch"], state["step_in_epoch"] = epoch + 1, 0
            state.update(_EPOCH_START)
            if improved:
                best = self.export(model, state)
            if self.chief:
                self.write_history(state)
            self.save_checkpoint(model, state)
            if self.chief:
                print(f"epoch {epoch + 1}/{self.config.epochs}: train {train_loss / math.log(2):.3f} bits/token, "
                      f"valid {valid_loss / math.log(2):.3f} bits/token{' (best)' if improved else ''}, "
                      f"{tokens / max(seconds, 1e-9):.0f} tokens/s", file=sys.stderr, flush=True)
            if state["stale_epochs"] >= self.config.patience:
                if self.chief:
                    print(f"early stop: no better validation loss for {self.config.patience} epochs", file=sys.stderr)
                break
        if best is None:
            from symbolic.models.modelfile import ModelFileError, load_model

            try:
                best = load_model(self.out)
            except ModelFileError:
                if self.chief:
                    raise
                # A worker without the chief's folder: its weights equal the chief's, take them as they are.
                best = self.export(model, state)
        return best

    def export(self, model, state: dict) -> ModelFile:  # type: ignore[no-untyped-def,type-arg]
        from symbolic.models.lstm import export_weights

        training = {k: state[k] for k in ("best_valid", "best_epoch", "seconds", "tokens", "history")}
        training["best_valid_bits_per_token"] = state["best_valid"] / math.log(2)
        training["parameters"] = int(model.count_params())
        if self.base is not None:  # the model card tells both stages: what the base learned from, and how long
            training["fine_tuned_from"] = {"data": self.base.meta.get("data"),
                                           "training": {k: self.base.meta.get("training", {}).get(k)
                                                        for k in ("seconds", "best_epoch", "best_valid_bits_per_token")}}
        model_file = ModelFile(self.config, self.vocab, export_weights(model, self.config),
                               {"data": self.data_info, "training": training, "versions": versions()})
        if self.chief:  # the other workers' weights are the chief's; they keep theirs in memory only
            model_file.save(self.out)
        return model_file

    def write_history(self, state: dict) -> None:  # type: ignore[type-arg]
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=["epoch", "train_loss", "valid_loss", "learning_rate", "seconds",
                                                    "tokens_per_second"])
        writer.writeheader()
        writer.writerows(state["history"])
        write_text_atomically(self.out / HISTORY_CSV, buffer.getvalue())


def _clip(optimizer: Any, grads: list[Any]) -> list[Any]:
    """The optimizer's own clipping setting (clipnorm per variable, global_clipnorm or clipvalue)."""
    import tensorflow as tf

    if optimizer.clipnorm:
        return [tf.clip_by_norm(g, optimizer.clipnorm) for g in grads]
    if optimizer.global_clipnorm:
        return list(tf.clip_by_global_norm(grads, optimizer.global_clipnorm)[0])
    if optimizer.clipvalue:
        return [tf.clip_by_value(g, -optimizer.clipvalue, optimizer.clipvalue) for g in grads]
    return grads


def _mean_loss(step: Callable[[Any], Any], dataset: Any) -> float:
    """The token-weighted mean loss over a whole distributed dataset."""
    loss_sum = tokens = 0.0
    for element in dataset:
        step_sum, step_tokens = step(element)
        loss_sum, tokens = loss_sum + float(step_sum), tokens + float(step_tokens)
    return loss_sum / tokens if tokens else float("nan")


class _Board:
    """Per-epoch TensorBoard scalars, with the folder and tag names Keras's callback used, so a run
    resumed from a checkpoint of the fit-based trainer continues the same curves."""

    def __init__(self, folder: Path) -> None:
        import tensorflow as tf

        self.tf = tf
        self.train = tf.summary.create_file_writer(str(folder / "train"))
        self.valid = tf.summary.create_file_writer(str(folder / "validation"))

    def write(self, epoch: int, train_loss: float, valid_loss: float, learning_rate: float) -> None:
        with self.train.as_default(step=epoch):
            self.tf.summary.scalar("epoch_loss", train_loss)
            self.tf.summary.scalar("epoch_learning_rate", learning_rate)
        with self.valid.as_default(step=epoch):
            self.tf.summary.scalar("epoch_loss", valid_loss)
        self.train.flush()
        self.valid.flush()


def clear_checkpoint(out: str | Path) -> None:
    shutil.rmtree(Path(out) / CHECKPOINT_DIR, ignore_errors=True)

"""`symbolic train`: fit a model on a corpus folder, with checkpoints, resume and early stopping.

The LSTMs train with Keras under a `tf.distribute` strategy (one CPU, one or several GPUs with
MirroredStrategy, several machines with MultiWorkerMirroredStrategy from TF_CONFIG). Every
`checkpoint_every` steps and after each epoch the whole Keras model (weights and optimizer
state) and the position in the data are saved atomically under MODEL_DIR/checkpoint; `--resume`
continues from there, skipping the batches already seen in the interrupted epoch. The model
file (see modelfile.py) is written whenever the validation loss improves, so MODEL_DIR always
holds the best model so far.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from symbolic.atomic import write_text_atomically
from symbolic.corpus import load_manifest, load_vocabulary
from symbolic.errors import SymbolicError
from symbolic.models.config import ModelConfig
from symbolic.models.data import bar_ids, lm_windows, load_split, padded_batches, seq2seq_examples
from symbolic.models.modelfile import ModelFile

CHECKPOINT_DIR = "checkpoint"
STATE_JSON = "state.json"
LAST_KERAS = "last.keras"
HISTORY_CSV = "training.csv"


class TrainingError(SymbolicError):
    """Training that cannot start or go on (no checkpoint to resume, an empty corpus...)."""


def train(corpus: str | Path, out: str | Path, config: ModelConfig, *, resume: bool = False,
          strategy: str = "auto", verbose: int | None = None) -> ModelFile:
    """Train `config.arch` on the corpus's train split, validating on its valid split."""
    corpus, out = Path(corpus), Path(out)
    manifest = load_manifest(corpus)
    vocab = load_vocabulary(corpus)
    train_tunes, valid_tunes = load_split(corpus, "train"), load_split(corpus, "valid")
    if not train_tunes or not valid_tunes:
        raise TrainingError(f"{corpus}: training needs tunes in both the train and the valid split")
    data_info = {"corpus": str(corpus), "counts": manifest["counts"], "vocabulary_sha256": vocab.sha256}
    if config.arch == "ngram":
        return _train_ngram(config, vocab, train_tunes, valid_tunes, out, data_info)
    return _Trainer(config, vocab, train_tunes, valid_tunes, out, data_info, resume, strategy, verbose).run()


def _train_ngram(config: ModelConfig, vocab, train_tunes, valid_tunes, out: Path, data_info: dict) -> ModelFile:  # type: ignore[no-untyped-def,type-arg]
    from symbolic.models.ngram import KneserNey

    started = time.time()
    model = KneserNey(config.ngram_order, len(vocab)).fit([[1, *t.tolist(), 2] for t in train_tunes])
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


class _Trainer:
    def __init__(self, config: ModelConfig, vocab, train_tunes: list[np.ndarray], valid_tunes: list[np.ndarray],  # type: ignore[no-untyped-def]
                 out: Path, data_info: dict, resume: bool, strategy: str, verbose: int | None) -> None:  # type: ignore[type-arg]
        self.config, self.vocab, self.out, self.data_info = config, vocab, out, data_info
        self.train_tunes, self.valid_tunes = train_tunes, valid_tunes
        self.resume, self.strategy_name = resume, strategy
        self.verbose = verbose if verbose is not None else (1 if sys.stderr.isatty() else 2)
        self.checkpoints = out / CHECKPOINT_DIR
        self.bars = bar_ids(vocab)

    # ----- data -----
    def batches(self, epoch: int | None) -> list[tuple]:  # type: ignore[type-arg]
        """The epoch's batches ((inputs, targets) pairs), fixed by seed and epoch; None: validation."""
        config = self.config
        rng = np.random.default_rng([config.seed, epoch]) if epoch is not None else None
        tunes = self.train_tunes if epoch is not None else self.valid_tunes
        if config.arch == "lstm-lm":
            x, y = lm_windows(tunes, config.sequence_length, rng)
            return [(x[i:i + config.batch_size], y[i:i + config.batch_size])
                    for i in range(0, len(x), config.batch_size)]
        examples = seq2seq_examples(tunes, self.bars, config.max_decoder_length, rng)
        return [((enc, dec_in), dec_out) for enc, dec_in, dec_out in padded_batches(examples, config.batch_size, rng)]

    def dataset(self, batches: list[tuple]):  # type: ignore[no-untyped-def,type-arg]
        import tensorflow as tf

        if self.config.arch == "lstm-lm":
            # Equal-shaped windows: plain tensors, which every strategy distributes.
            x = np.concatenate([b[0] for b in batches]) if batches else np.zeros((0, 1), np.int32)
            y = np.concatenate([b[1] for b in batches]) if batches else np.zeros((0, 1), np.int32)
            dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(self.config.batch_size)
        else:
            spec = tf.TensorSpec(shape=(None, None), dtype=tf.int32)
            dataset = tf.data.Dataset.from_generator(lambda: iter(batches), output_signature=((spec, spec), spec))
            dataset = dataset.apply(tf.data.experimental.assert_cardinality(len(batches)))
        options = tf.data.Options()
        # Batches are already made per example; shard by data, not by files, across workers.
        options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
        return dataset.with_options(options).prefetch(tf.data.AUTOTUNE)

    # ----- model -----
    def compile(self, steps_per_epoch: int):  # type: ignore[no-untyped-def]
        import keras

        from symbolic.models.lstm import build_model

        config = self.config
        model = build_model(config, len(self.vocab))
        schedule = keras.optimizers.schedules.CosineDecay(
            config.learning_rate, decay_steps=max(1, steps_per_epoch * config.epochs),
            alpha=config.min_learning_rate / config.learning_rate)
        optimizer_class = keras.optimizers.Adam if config.optimizer == "adam" else keras.optimizers.RMSprop
        model.compile(optimizer=optimizer_class(learning_rate=schedule, clipnorm=config.clip_norm),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0))
        return model

    # ----- state -----
    def load_state(self) -> dict:  # type: ignore[type-arg]
        path = self.checkpoints / STATE_JSON
        if self.resume:
            if not (self.checkpoints / LAST_KERAS).is_file() or not path.is_file():
                raise TrainingError(f"{self.out}: no checkpoint to resume from")
            state = json.loads(path.read_text())
            if state.get("config") != json.loads(self.config.to_json()):
                raise TrainingError(f"{self.out}: the checkpoint was made with another config; resume with it")
            return state
        if self.checkpoints.exists():
            raise TrainingError(f"{self.out} holds a checkpoint of an earlier run: continue it with --resume, "
                                "or train into another folder")
        self.checkpoints.mkdir(parents=True)
        return {"config": json.loads(self.config.to_json()), "epoch": 0, "step_in_epoch": 0, "best_valid": None,
                "best_epoch": None, "stale_epochs": 0, "seconds": 0.0, "tokens": 0, "history": []}

    def save_checkpoint(self, model, state: dict) -> None:  # type: ignore[no-untyped-def,type-arg]
        temp = self.checkpoints / f".{LAST_KERAS}.part.keras"
        model.save(temp)  # Keras wants the .keras suffix; renamed into place below
        os.replace(temp, self.checkpoints / LAST_KERAS)
        write_text_atomically(self.checkpoints / STATE_JSON, json.dumps(state, indent=1))

    # ----- the loop -----
    def run(self) -> ModelFile:
        import keras

        keras.utils.set_random_seed(self.config.seed)
        state = self.load_state()
        strategy = make_strategy(self.strategy_name)
        first_batches = self.batches(state["epoch"])
        steps_per_epoch = len(first_batches)
        with strategy.scope():
            model = (keras.models.load_model(self.checkpoints / LAST_KERAS) if self.resume
                     else self.compile(steps_per_epoch))
        valid = self.dataset(self.batches(None))
        trainer = self
        best: ModelFile | None = None

        class Checkpoint(keras.callbacks.Callback):
            def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
                state["step_in_epoch"] += 1
                if state["step_in_epoch"] % trainer.config.checkpoint_every == 0:
                    trainer.save_checkpoint(self.model, state)

        callbacks = [Checkpoint(), keras.callbacks.TensorBoard(log_dir=str(self.out / "tensorboard"),
                                                               update_freq="epoch", write_graph=False)]
        for epoch in range(state["epoch"], self.config.epochs):
            batches = first_batches if epoch == state["epoch"] else self.batches(epoch)
            skip = state["step_in_epoch"]
            started = time.time()
            if skip < len(batches):
                history = model.fit(self.dataset(batches[skip:]), epochs=epoch + 1, initial_epoch=epoch,
                                    callbacks=callbacks, verbose=self.verbose, shuffle=False)
                train_loss = float(history.history["loss"][-1])
            else:
                train_loss = float("nan")
            seconds = time.time() - started
            tokens = int(sum(int((b[1] != 0).sum()) for b in batches[skip:]))
            valid_loss = float(model.evaluate(valid, verbose=0))
            state["seconds"] += seconds
            state["tokens"] += tokens
            learning_rate = float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))
            state["history"].append({"epoch": epoch + 1, "train_loss": train_loss, "valid_loss": valid_loss,
                                     "learning_rate": learning_rate, "seconds": round(seconds, 1),
                                     "tokens_per_second": round(tokens / max(seconds, 1e-9))})
            improved = state["best_valid"] is None or valid_loss < state["best_valid"]
            if improved:
                state["best_valid"], state["best_epoch"], state["stale_epochs"] = valid_loss, epoch + 1, 0
            else:
                state["stale_epochs"] += 1
            state["epoch"], state["step_in_epoch"] = epoch + 1, 0
            if improved:
                best = self.export(model, state)
            self.write_history(state)
            self.save_checkpoint(model, state)
            print(f"epoch {epoch + 1}/{self.config.epochs}: train {train_loss / math.log(2):.3f} bits/token, "
                  f"valid {valid_loss / math.log(2):.3f} bits/token{' (best)' if improved else ''}, "
                  f"{tokens / max(seconds, 1e-9):.0f} tokens/s", file=sys.stderr, flush=True)
            if state["stale_epochs"] >= self.config.patience:
                print(f"early stop: no better validation loss for {self.config.patience} epochs", file=sys.stderr)
                break
        if best is None:
            from symbolic.models.modelfile import load_model

            best = load_model(self.out)
        return best

    def export(self, model, state: dict) -> ModelFile:  # type: ignore[no-untyped-def,type-arg]
        from symbolic.models.lstm import export_weights

        training = {k: state[k] for k in ("best_valid", "best_epoch", "seconds", "tokens", "history")}
        training["best_valid_bits_per_token"] = state["best_valid"] / math.log(2)
        training["parameters"] = int(model.count_params())
        model_file = ModelFile(self.config, self.vocab, export_weights(model, self.config),
                               {"data": self.data_info, "training": training, "versions": versions()})
        model_file.save(self.out)
        return model_file

    def write_history(self, state: dict) -> None:  # type: ignore[type-arg]
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=["epoch", "train_loss", "valid_loss", "learning_rate", "seconds",
                                                    "tokens_per_second"])
        writer.writeheader()
        writer.writerows(state["history"])
        write_text_atomically(self.out / HISTORY_CSV, buffer.getvalue())


def clear_checkpoint(out: str | Path) -> None:
    shutil.rmtree(Path(out) / CHECKPOINT_DIR, ignore_errors=True)

"""Models: NumPy and Keras agree, training lowers the loss, model files reload alone or fail
clearly, resuming after SIGKILL ends in a usable model, tf.distribute runs on two devices and two
worker processes."""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from symbolic.corpus.build import BuildSettings, build_corpus, load_vocabulary
from symbolic.corpus.sources import expand_source
from symbolic.models.config import ConfigError, ModelConfig
from symbolic.models.evaluate import evaluate
from symbolic.models.modelfile import WEIGHTS, ModelFile, ModelFileError, load_model
from symbolic.models.ngram import KneserNey

ROOT = Path(__file__).parent.parent
TINY = ModelConfig(embedding=8, units=16, layers=1, dropout=0.0, sequence_length=32, batch_size=16, epochs=3,
                   learning_rate=0.01, checkpoint_every=5, patience=5, max_decoder_length=128)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("corpus")
    build_corpus(["music21:miscFolk"], folder, BuildSettings(seed=1, valid_fraction=0.15, test_fraction=0.15),
                 progress=False)
    return folder


def run_python(code: str, env: dict[str, str] | None = None, timeout: int = 240) -> subprocess.CompletedProcess:  # type: ignore[type-arg]
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout,
                          cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})


@pytest.mark.parametrize("config", [TINY, replace(TINY, arch="lstm-seq2seq", layers=2),
                                    replace(TINY, arch="lstm-seq2seq", attention=True),
                                    replace(TINY, project_inputs_once=True),
                                    replace(TINY, arch="lstm-seq2seq", layers=2, project_inputs_once=True)])
def test_numpy_step_matches_keras(config: ModelConfig) -> None:
    from symbolic.models.lstm import build_model

    model = build_model(config, 30)
    # Untrained weights are too small to show errors: scale them up.
    model.set_weights([w * 3 for w in model.get_weights()])
    expected, got = _keras_and_numpy_logits(model, config)
    assert np.abs(got - expected).max() < 1e-4


def _keras_and_numpy_logits(model, config: ModelConfig) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
    """The Keras model's logits on a random prompt and continuation, and those of the NumPy step
    function running its exported weights token by token with carried states."""
    from symbolic.models.lstm import export_weights
    from symbolic.models.numpy_lstm import NumpyLstmModel

    vocab_size = 30
    rng = np.random.default_rng(0)
    prompt = rng.integers(3, vocab_size, size=(2, 6)).astype(np.int32)
    prompt[:, 0] = 1
    body = rng.integers(3, vocab_size, size=(2, 9)).astype(np.int32)
    body[:, 0] = 1
    network = NumpyLstmModel(config, export_weights(model, config))
    if config.arch == "lstm-lm":
        whole = np.concatenate([prompt, body[:, 1:]], axis=1)
        expected = np.asarray(model(whole, training=False))[:, prompt.shape[1] - 1:]
        logits, state = network.start(prompt)
        got = [logits]
        for t in range(1, body.shape[1]):
            logits, state = network.step(body[:, t], state)
            got.append(logits)
    else:
        expected = np.asarray(model([prompt, body], training=False))
        logits, state = network.start(prompt)
        got = [logits]
        for t in range(1, body.shape[1]):
            logits, state = network.step(body[:, t], state)
            got.append(logits)
    return np.asarray(expected, dtype=np.float32), np.stack(got, axis=1)


@pytest.mark.parametrize("arch", ["lstm-lm", "lstm-seq2seq"])
def test_bfloat16_training_exports_float32_weights_that_numpy_runs_as_float32_keras_does(arch: str) -> None:
    from symbolic.models.lstm import build_model, export_weights

    config = replace(TINY, arch=arch, layers=2, precision="bfloat16")
    trained = build_model(config, 30, training=True)
    assert trained.get_layer("logits").compute_dtype == "bfloat16"
    trained.set_weights([w * 3 for w in trained.get_weights()])
    assert {str(w.dtype) for w in trained.get_weights()} == {"float32"}  # mixed policy: float32 variables
    assert {str(w.dtype) for w in export_weights(trained, config).values()} == {"float32"}
    plain = build_model(config, 30)  # what evaluation and the generate benchmark build: float32
    assert plain.get_layer("logits").compute_dtype == "float32"
    plain.set_weights(trained.get_weights())
    expected, got = _keras_and_numpy_logits(plain, config)
    assert np.abs(got - expected).max() < 1e-4
    rough, got = _keras_and_numpy_logits(trained, config)  # the bfloat16 pass: the same network, 8-bit mantissas
    assert np.abs(got - rough).max() < 0.05 * np.abs(got).max()


# Each training-speed option alone and together, on both LSTMs: training runs and lowers the loss.
SPEED_OPTIONS = [pytest.param("lstm-lm", {"jit_compile": True}, id="lm-jit"),
                 pytest.param("lstm-lm", {"precision": "bfloat16"}, id="lm-bfloat16"),
                 pytest.param("lstm-lm", {"project_inputs_once": True}, id="lm-project-inputs-once"),
                 pytest.param("lstm-seq2seq", {"jit_compile": True, "precision": "bfloat16", "project_inputs_once": True,
                                               "bucket_batches": 4}, id="seq2seq-all-options")]


@pytest.mark.parametrize(("arch", "options"), SPEED_OPTIONS)
def test_a_tiny_model_trains_with_each_speed_option(corpus: Path, tmp_path: Path, arch: str,
                                                    options: dict) -> None:  # type: ignore[type-arg]
    from symbolic.models.training import train

    config = replace(TINY, arch=arch, **options)
    model = train(corpus, tmp_path / "m", config, verbose=0)
    history = model.meta["training"]["history"]
    assert history[-1]["valid_loss"] < history[0]["valid_loss"] < np.log(len(model.vocab))
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    again = load_model(tmp_path / "m")
    assert again.config == config and {str(w.dtype) for w in again.weights.values()} == {"float32"}
    assert evaluate(again, corpus, "test")["bits_per_token"] < np.log2(len(model.vocab))
    assert _optimizer_steps(tmp_path / "m") > 0  # its checkpoint reloads (as a resume does)


def test_speed_options_are_checked_and_default_off_for_older_configs() -> None:
    old = ModelConfig.from_dict({"arch": "lstm-seq2seq", "units": 256})  # a model.json from before they existed
    assert (old.precision, old.jit_compile, old.project_inputs_once, old.bucket_batches) == ("float32", False, False, 1)
    with pytest.raises(ConfigError, match="precision must be float32 or bfloat16"):
        ModelConfig.from_dict({"precision": "float16"})
    with pytest.raises(ConfigError, match="jit_compile must be true or false"):
        ModelConfig.from_dict({"jit_compile": "yes"})
    with pytest.raises(ConfigError, match="bucket_batches must be positive"):
        ModelConfig.from_dict({"bucket_batches": 0})


def test_bucketed_seq2seq_batches_hold_every_example_once_with_less_padding(corpus: Path) -> None:
    from symbolic.corpus.build import load_vocabulary
    from symbolic.models.data import bar_ids, bucketed_batches, load_split, padded_batches, seq2seq_examples

    examples = seq2seq_examples(load_split(corpus, "train"), bar_ids(load_vocabulary(corpus)), 768,
                                np.random.default_rng(0))

    def rows_and_padding(batches: list) -> tuple[list, float]:  # type: ignore[type-arg]
        rows = sorted(tuple(np.trim_zeros(row, "b").tolist()) for b in batches for part in b for row in part)
        fed = sum(part.size for b in batches for part in (b[0], b[2]))
        return rows, 1 - sum(np.count_nonzero(part) for b in batches for part in (b[0], b[2])) / fed

    plain, plain_padding = rows_and_padding(padded_batches(examples, 8, np.random.default_rng(1)))
    bucketed, padding = rows_and_padding(bucketed_batches(examples, 8, 4, np.random.default_rng(1)))
    assert bucketed == plain and padding < plain_padding


def test_tiny_lm_trains_saves_reloads_and_evaluates(corpus: Path, tmp_path: Path) -> None:
    from symbolic.models.training import train

    out = tmp_path / "lm"
    model = train(corpus, out, TINY, verbose=0)
    history = model.meta["training"]["history"]
    assert history[-1]["valid_loss"] < history[0]["valid_loss"] < 5.0
    assert (out / "training.csv").read_text().count("\n") == 4 and any((out / "tensorboard").iterdir())
    again = load_model(out)
    assert again.config == TINY and again.vocab == model.vocab
    figures = evaluate(again, corpus, "test")
    assert 0 < figures["bits_per_token"] < 6 and figures["bits_per_note"] > figures["bits_per_token"]
    with pytest.raises(Exception, match="--resume"):
        train(corpus, out, TINY, verbose=0)


def test_seq2seq_and_ngram_train_and_beat_uniform(corpus: Path, tmp_path: Path) -> None:
    from symbolic.models.training import train

    ngram_model = train(corpus, tmp_path / "ng", replace(TINY, arch="ngram"))
    uniform = np.log2(len(ngram_model.vocab))
    ngram = evaluate(load_model(tmp_path / "ng"), corpus, "test")
    seq2seq = train(corpus, tmp_path / "s2s", replace(TINY, arch="lstm-seq2seq", epochs=2), verbose=0)
    figures = evaluate(seq2seq, corpus, "test")
    assert ngram["bits_per_token"] < uniform and figures["bits_per_token"] < uniform
    assert ngram["tokens"] == figures["tokens"]  # every model is scored on the same tokens


def test_fine_tuning_starts_from_the_base_models_weights(corpus: Path, tmp_path: Path) -> None:
    from symbolic.models.training import TrainingError, train

    config = replace(TINY, arch="lstm-seq2seq", epochs=2)
    base = train(corpus, tmp_path / "base", config, verbose=0)
    # A learning rate too small to move the weights: the first epoch validates the base's weights.
    still = replace(config, epochs=1, learning_rate=1e-9, min_learning_rate=1e-10)
    tuned = train(corpus, tmp_path / "tuned", still, verbose=0, init_from=tmp_path / "base")
    scratch = train(corpus, tmp_path / "scratch", still, verbose=0)
    base_valid = base.meta["training"]["best_valid"]
    assert abs(tuned.meta["training"]["best_valid"] - base_valid) < 1e-3 < scratch.meta["training"]["best_valid"] - base_valid
    assert tuned.meta["training"]["fine_tuned_from"]["data"]["corpus"] == str(corpus)
    with pytest.raises(TrainingError, match="units 16 \\(config: 32\\)"):
        train(corpus, tmp_path / "wider", replace(still, units=32), verbose=0, init_from=tmp_path / "base")
    # Tuned into a model with attention, it starts as its base: the context's logit weights are zero.
    attending = train(corpus, tmp_path / "attending", replace(still, attention=True), verbose=0,
                      init_from=tmp_path / "base")
    assert abs(attending.meta["training"]["best_valid"] - base_valid) < 1e-3
    assert np.abs(attending.weights["logits/kernel"][config.units:]).max() < 1e-6
    with pytest.raises(TrainingError, match="attention True"):
        train(corpus, tmp_path / "plain", still, verbose=0, init_from=tmp_path / "attending")
    with pytest.raises(TrainingError, match="n-gram"):
        train(corpus, tmp_path / "ng", replace(still, arch="ngram"), init_from=tmp_path / "base")
    # A smaller corpus (one of the two files, and a tune in a meter the base never saw) has a
    # vocabulary of its own: its tunes are re-encoded into the base's, the unknown one left out.
    odd = tmp_path / "odd.abc"
    odd.write_text("X:1\nM:13/16\nL:1/16\nK:D\nd2e2f2g2a2b2c' | d'13 |]\n", encoding="utf-8")
    small = tmp_path / "small"
    build_corpus([str(expand_source("music21:miscFolk")[0]), str(odd)], small,
                 BuildSettings(seed=1, valid_fraction=0.2, test_fraction=0), progress=False)
    assert load_vocabulary(small).sha256 != base.vocab.sha256
    on_small = train(small, tmp_path / "on-small", still, verbose=0, init_from=tmp_path / "base")
    assert on_small.vocab == base.vocab and on_small.meta["data"]["left_out_unknown_tokens"] == 1
    # Ids re-encoded right, the base's weights fit the small corpus far better than random ones.
    scratch_small = train(small, tmp_path / "scratch-small", still, verbose=0)
    assert on_small.meta["training"]["best_valid"] < scratch_small.meta["training"]["best_valid"] - 0.5
    # Tokens keyed to the signature: the base (keyed to the tonic) is tuned to them, the model says so.
    keyed = tmp_path / "keyed"
    build_corpus(["music21:miscFolk"], keyed, BuildSettings(seed=1, valid_fraction=0.15, test_fraction=0.15,
                                                            normalise_to="signature"), progress=False)
    retuned = train(keyed, tmp_path / "retuned", still, verbose=0, init_from=tmp_path / "base")
    assert retuned.tokenizer.normalise_to == "signature" and base.tokenizer.normalise_to == "tonic"
    assert evaluate(retuned, keyed, "test")["tokens"] > 0


def test_kneser_ney_distributions_sum_to_one() -> None:
    model = KneserNey(3, 10).fit([[1, 4, 5, 6, 4, 5, 7, 2], [1, 4, 5, 6, 2], [1, 8, 9, 2]])
    for history in ([1], [1, 4], [1, 4, 5], [3, 3], [9, 9, 9]):
        assert abs(model.distribution(history).sum() - 1) < 1e-9
    assert model.distribution([1, 4])[5] > 0.5
    restored = KneserNey.from_arrays(model.to_arrays())
    assert np.allclose(restored.distribution([1, 4, 5]), model.distribution([1, 4, 5]))


def test_model_file_errors_are_clear(corpus: Path, tmp_path: Path) -> None:
    from symbolic.tokens import Vocabulary

    with pytest.raises(ModelFileError, match="does not exist"):
        load_model(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelFileError, match="no model.json"):
        load_model(tmp_path / "empty")
    model = ModelFile(replace(TINY, arch="ngram"), Vocabulary.build(["p:60", "d:1"]),
                      KneserNey(2, 5).fit([[1, 3, 4, 2]]).to_arrays())
    model.save(tmp_path / "ok")
    assert load_model(tmp_path / "ok").config.arch == "ngram"
    data = (tmp_path / "ok" / WEIGHTS).read_bytes()
    (tmp_path / "ok" / WEIGHTS).write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="damaged or truncated"):
        load_model(tmp_path / "ok")
    model.save(tmp_path / "other")
    (tmp_path / "other" / "vocab.json").write_text(Vocabulary.build(["p:61"]).to_json())
    with pytest.raises(ModelFileError, match="not the vocabulary"):
        load_model(tmp_path / "other")
    with pytest.raises(ConfigError, match="unknown config keys: colour"):
        ModelConfig.from_dict({"colour": "red"})


def test_resume_after_sigkill_ends_in_a_usable_model(corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "killed"
    config = replace(TINY, epochs=4, checkpoint_every=3)
    code = (f"from symbolic.models.training import train\nfrom symbolic.models.config import ModelConfig\n"
            f"train({str(corpus)!r}, {str(out)!r}, ModelConfig.from_dict({config.__dict__!r}), verbose=0)")
    process = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    state = out / "checkpoint" / "state.json"
    deadline = time.time() + 180
    while time.time() < deadline and process.poll() is None:
        if state.exists() and json.loads(state.read_text())["epoch"] >= 1:
            break
        time.sleep(0.2)
    assert process.poll() is None, "training ended before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    killed_at = json.loads(state.read_text())
    assert 1 <= killed_at["epoch"] < config.epochs
    assert _optimizer_steps(out) == _state_steps(corpus, config, killed_at)
    from symbolic.models.training import train

    model = train(corpus, out, config, resume=True, verbose=0)
    history = model.meta["training"]["history"]
    assert [h["epoch"] for h in history] == list(range(1, len(history) + 1)) and len(history) == config.epochs
    assert evaluate(load_model(out), corpus, "test")["bits_per_token"] < 6


def _state_steps(corpus: Path, config: ModelConfig, state: dict) -> int:  # type: ignore[type-arg]
    """The optimizer steps a checkpoint state stands for (an LM epoch has a fixed batch count)."""
    from symbolic.models.data import lm_windows, load_split

    windows = len(lm_windows(load_split(corpus, "train"), config.sequence_length, None)[0])
    return state["epoch"] * -(-windows // config.batch_size) + state["step_in_epoch"]


def _optimizer_steps(out: Path) -> int:
    """The optimizer step count of the checkpoint that state.json names."""
    import keras

    state = json.loads((out / "checkpoint" / "state.json").read_text())
    model = keras.models.load_model(out / "checkpoint" / state.get("checkpoint", "last.keras"))
    return int(keras.ops.convert_to_numpy(model.optimizer.iterations))


def test_a_kill_between_checkpoint_and_state_leaves_them_agreeing(corpus: Path, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 16: the checkpoint used to be replaced before its state, so a kill between the two
    left the state 3 steps behind the optimizer; and the interrupted epoch's row counted only the
    batches after the resume. A kill is simulated just before the second state write."""
    from symbolic.models import training

    config = replace(TINY, epochs=2, checkpoint_every=3)
    out = tmp_path / "crashed"
    real_write, state_writes = training.write_text_atomically, []

    def killed_on_second_state(path: Path, text: str) -> Path:
        if Path(path).name == "state.json":
            state_writes.append(path)
            if len(state_writes) == 2:
                raise KeyboardInterrupt
        return real_write(path, text)

    monkeypatch.setattr(training, "write_text_atomically", killed_on_second_state)
    with pytest.raises(KeyboardInterrupt):
        training.train(corpus, out, config, verbose=0)
    monkeypatch.undo()
    state = json.loads((out / "checkpoint" / "state.json").read_text())
    assert (state["epoch"], state["step_in_epoch"]) == (0, 3)
    assert _optimizer_steps(out) == _state_steps(corpus, config, state) == 3
    resumed = training.train(corpus, out, config, resume=True, verbose=0).meta["training"]
    whole = training.train(corpus, tmp_path / "whole", config, verbose=0).meta["training"]
    assert resumed["tokens"] == whole["tokens"]
    for got, expected in zip(resumed["history"], whole["history"], strict=True):
        assert got["train_loss"] == pytest.approx(expected["train_loss"], rel=1e-4)
    assert len(list((out / "checkpoint").glob("*.keras"))) == 1  # older checkpoints are removed


def test_mirrored_strategy_on_two_logical_cpus(corpus: Path, tmp_path: Path) -> None:
    code = f"""
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from symbolic.models.training import make_strategy, train
from symbolic.models.config import ModelConfig
strategy = make_strategy("mirrored")
assert strategy.num_replicas_in_sync == 2, strategy.num_replicas_in_sync
config = ModelConfig.from_dict({replace(TINY, epochs=1).__dict__!r})
model = train({str(corpus)!r}, {str(tmp_path / "mirrored")!r}, config, strategy="mirrored", verbose=0)
print("replicas", strategy.num_replicas_in_sync, "valid", model.meta["training"]["best_valid"])
"""
    result = run_python(code)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "replicas 2" in result.stdout


@pytest.mark.parametrize(("arch", "fast"), [("lstm-lm", False), ("lstm-seq2seq", False), ("lstm-lm", True)])
def test_two_replicas_take_the_same_steps_as_one(corpus: Path, tmp_path: Path, arch: str, fast: bool) -> None:
    """The training loop's loss is the token mean over the GLOBAL batch, so two replicas must end
    an epoch with the weights one replica reaches (up to float rounding). The LM's batch size is
    chosen so that its last batch has one row: the second replica then gets an empty slice.
    seq2seq batches vary in width from batch to batch. `fast`: with jit_compile (each replica's
    pass compiled by XLA, the all-reduce outside it) and project_inputs_once."""
    from symbolic.models.data import lm_windows, load_split
    from symbolic.models.training import train

    windows = len(lm_windows(load_split(corpus, "train"), TINY.sequence_length, None)[0])
    batch = next(b for b in range(9, windows) if windows % b == 1) if arch == "lstm-lm" else TINY.batch_size
    config = replace(TINY, arch=arch, epochs=1, batch_size=batch, attention=arch == "lstm-seq2seq",
                     jit_compile=fast, project_inputs_once=fast)
    code = f"""
import numpy as np, tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from symbolic.models.training import train
from symbolic.models.config import ModelConfig
model = train({str(corpus)!r}, {str(tmp_path / "two")!r}, ModelConfig.from_dict({config.__dict__!r}),
              strategy="mirrored", verbose=0)
np.savez({str(tmp_path / "two.npz")!r}, **model.weights)
"""
    result = run_python(code)
    assert result.returncode == 0, result.stderr[-2000:]
    one = train(corpus, tmp_path / "one", config, strategy="default", verbose=0)
    with np.load(tmp_path / "two.npz") as two:
        assert sorted(two.files) == sorted(one.weights)
        for name in two.files:
            assert np.allclose(two[name], one.weights[name], rtol=0, atol=1e-5), name


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def test_two_worker_processes_on_loopback_end_with_the_same_weights(corpus: Path, tmp_path: Path) -> None:
    ports = _free_ports(2)
    cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
    code = f"""
import sys, numpy as np
from symbolic.models.training import train
from symbolic.models.config import ModelConfig
config = ModelConfig.from_dict({replace(TINY, epochs=1).__dict__!r})
model = train({str(corpus)!r}, sys.argv[1], config, strategy="multiworker", verbose=0)
np.save(sys.argv[1] + ".npy", model.weights["logits/kernel"])
"""
    workers = []
    for index in range(2):
        env = {**os.environ, "PYTHONPATH": str(ROOT),
               "TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})}
        workers.append(subprocess.Popen([sys.executable, "-c", code, str(tmp_path / f"worker{index}")], cwd=ROOT,
                                        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    outputs = [w.communicate(timeout=300) for w in workers]
    errors = [out[1][out[1].rfind("Traceback"):][-1500:] for out in outputs]
    assert all(w.returncode == 0 for w in workers), "\n".join(errors)
    first, second = (np.load(tmp_path / f"worker{i}.npy") for i in range(2))
    assert np.array_equal(first, second)


def _fake_lstm_model(folder: Path, config: ModelConfig = TINY) -> ModelFile:
    """A model file with random weights of the right shapes: enough to load, no training."""
    from symbolic.models.weightcheck import expected_shapes
    from symbolic.tokens import Vocabulary

    vocab = Vocabulary.build(["p:60", "p:62", "d:1", "d:2"])
    rng = np.random.default_rng(0)
    weights = {name: rng.normal(size=shape).astype(np.float32)
               for name, shape in expected_shapes(config, len(vocab)).items()}
    model = ModelFile(config, vocab, weights)
    model.save(folder)
    return model


@pytest.mark.parametrize("change", [{"units": 32}, {"layers": 2}, {"embedding": 4}, {"arch": "lstm-seq2seq"}])
def test_a_model_json_whose_sizes_disagree_with_the_weights_is_refused(tmp_path: Path, capsys,  # type: ignore[no-untyped-def]
                                                                        change: dict) -> None:  # type: ignore[type-arg]
    # Issue 16: `models info` accepted it; generate and evaluate then failed with a traceback.
    from symbolic.cli.main import main

    _fake_lstm_model(tmp_path / "m")
    assert load_model(tmp_path / "m").config == TINY
    document = json.loads((tmp_path / "m" / "model.json").read_text())
    document["config"].update(change)
    (tmp_path / "m" / "model.json").write_text(json.dumps(document))
    with pytest.raises(ModelFileError, match="but the config"):
        load_model(tmp_path / "m")
    for command in (["models", "info", str(tmp_path / "m")],
                    ["generate", "--model", str(tmp_path / "m"), "--formats", "abc", "--out", "-"]):
        assert main(command) == 2
        err = capsys.readouterr().err
        assert "weights.npz" in err and len(err.strip().splitlines()) == 1


def test_a_weights_entry_declaring_a_huge_array_is_refused_before_allocating(tmp_path: Path) -> None:
    import zipfile

    _fake_lstm_model(tmp_path / "m")
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False,
                                                  "shape": (400_000, 1_000_000)})  # 1.46 TiB
    with zipfile.ZipFile(tmp_path / "m" / WEIGHTS, "a") as archive:
        archive.writestr("huge.npy", header.getvalue() + b"\0" * 64)
    with pytest.raises(ModelFileError, match="huge: declares"):
        load_model(tmp_path / "m")

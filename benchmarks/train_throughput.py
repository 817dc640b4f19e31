"""Training throughput of the default LSTM LM, and its share of the machine's matmul rate (prints; not a test).

1. Builds a corpus from `music21:folk` into a temporary folder (or uses --corpus), takes the
   first training batches of the config (default scripts/configs/lstm-lm.json) and times
   --steps steps of our training loop (the same distributed train step `symbolic train` runs,
   default strategy) after --warmup untimed steps (the first one traces the tf.function):
   tokens per second and seconds per step.
2. Times float32 1024 x 1024 matrix multiplies with NumPy and with TensorFlow (best of --repeat)
   and takes the faster as the machine's matmul rate.
3. Estimates the training FLOPs per token from the config: 2 * 4 * units * (input + units) per
   LSTM layer (input = embedding for the first layer, units after) plus 2 * units * vocabulary
   for the output layer, times 3 for forward and backward passes; prints the FLOP rate the
   training reaches and its share of the matmul rate. The estimate leaves out the gate
   nonlinearities, the softmax and the optimizer, so the share is a lower bound on the work done.

    PYTHONPATH=. .venv/bin/python benchmarks/train_throughput.py [--steps 30] [--corpus DIR] [--config FILE]

The figures are noisy while another job (a background training, say) shares the CPU: the load
average is printed first so that a reader can tell; compare runs made on an idle machine.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from symbolic.corpus.build import BuildSettings, build_corpus, load_vocabulary  # noqa: E402
from symbolic.models.config import ModelConfig  # noqa: E402
from symbolic.models.data import load_split  # noqa: E402
from symbolic.models.training import _Trainer, make_strategy  # noqa: E402


def flops_per_token(config: ModelConfig, vocabulary: int) -> float:
    """Multiply-adds of the LSTM stack and output layer per token, as FLOPs, forward and backward."""
    forward = 0
    width = config.embedding
    for _ in range(config.layers):
        forward += 2 * 4 * config.units * (width + config.units)
        width = config.units
    forward += 2 * config.units * vocabulary
    return 3.0 * forward  # the backward pass costs about twice the forward one


def matmul_rate(repeat: int, size: int = 1024) -> dict[str, float]:
    """Best float32 FLOP/s of a size x size matmul, per library."""
    import tensorflow as tf

    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((size, size), dtype=np.float32) for _ in range(2))
    ta, tb = tf.constant(a), tf.constant(b)
    flops = 2.0 * size ** 3
    rates = {}
    for name, multiply in (("numpy", lambda: a @ b), ("tensorflow", lambda: tf.matmul(ta, tb).numpy())):
        multiply()  # warm up: thread pools, oneDNN kernels
        best = float("inf")
        for _ in range(repeat):
            started = time.perf_counter()
            multiply()
            best = min(best, time.perf_counter() - started)
        rates[name] = flops / best
    return rates


def train_rate(corpus: Path, work: Path, config: ModelConfig, steps: int, warmup: int) -> dict[str, Any]:
    """Tokens per second of `steps` timed training steps on the first batches of epoch 0."""
    import keras

    vocab = load_vocabulary(corpus)
    trainer = _Trainer(config, vocab, load_split(corpus, "train"), load_split(corpus, "valid"),
                       work, {}, False, "default", 0)  # writes nothing: no checkpoint, no export
    strategy = make_strategy("default")
    keras.utils.set_random_seed(config.seed)
    batches = trainer.batches(0)
    # Full batches only, so that every timed step does the same work.
    batches = [b for b in batches if len(b[1]) == config.batch_size][: warmup + steps]
    if len(batches) < warmup + steps:
        raise SystemExit(f"the corpus gives only {len(batches)} full batches; ask for fewer --steps")
    with strategy.scope():
        model = trainer.compile(len(batches))
        model.optimizer.build(model.trainable_variables)
    warm = trainer.dataset(strategy, batches[:warmup])
    timed = trainer.dataset(strategy, batches[warmup:])
    train_step, _ = trainer.step_functions(strategy, model, warm.element_spec)
    for element in warm:
        train_step(element)
    tokens = 0.0
    started = time.perf_counter()
    for element in timed:
        _, count = train_step(element)
        tokens += float(count)  # float() waits for the step, so the clock stops after the last one
    seconds = time.perf_counter() - started
    return {"tokens": tokens, "seconds": seconds, "steps": steps, "parameters": int(model.count_params()),
            "vocabulary": len(vocab)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", type=Path, default=ROOT / "scripts" / "configs" / "lstm-lm.json")
    parser.add_argument("--corpus", type=Path, help="an existing corpus folder (default: build music21:folk)")
    parser.add_argument("--steps", type=int, default=30, help="timed training steps (default 30)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first (default 3)")
    parser.add_argument("--repeat", type=int, default=20, help="matmul repetitions, best taken (default 20)")
    args = parser.parse_args()
    config = ModelConfig.from_file(args.config)
    if config.arch != "lstm-lm":
        raise SystemExit(f"{args.config}: the FLOP estimate is for lstm-lm, not {config.arch}")
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} on {os.cpu_count()} CPUs"
          + ("  (busy: expect noisy, low figures)" if load[0] > 0.5 else ""))
    with tempfile.TemporaryDirectory(prefix="symbolic-corpus-") as temp:
        corpus = args.corpus
        if corpus is None:
            corpus = Path(temp) / "folk"
            started = time.time()
            build_corpus(["music21:folk"], corpus, BuildSettings(seed=0, jobs=min(2, os.cpu_count() or 1)),
                         progress=False)
            print(f"corpus music21:folk built in {time.time() - started:.0f} s")
        result = train_rate(corpus, Path(temp) / "model", config, args.steps, args.warmup)
    rates = matmul_rate(args.repeat)
    per_token = flops_per_token(config, result["vocabulary"])
    tokens_per_second = result["tokens"] / result["seconds"]
    reached = tokens_per_second * per_token
    best_library = max(rates, key=lambda name: rates[name])
    print(f"config {args.config.name}: {config.layers} x {config.units} units, embedding {config.embedding}, "
          f"vocabulary {result['vocabulary']}, {result['parameters']:,} parameters, "
          f"batch {config.batch_size} x {config.sequence_length}")
    print(f"training: {result['steps']} steps in {result['seconds']:.1f} s, "
          f"{result['seconds'] / result['steps']:.2f} s/step, {tokens_per_second:,.0f} tokens/s")
    print(f"estimated {per_token / 1e6:.2f} MFLOP per token (forward + backward) -> {reached / 1e9:.1f} GFLOP/s")
    print("float32 1024x1024 matmul: " + ", ".join(f"{name} {rate / 1e9:.1f} GFLOP/s" for name, rate in rates.items()))
    print(f"training reaches {100 * reached / rates[best_library]:.1f}% of the matmul rate ({best_library})")


if __name__ == "__main__":
    main()

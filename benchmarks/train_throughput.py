"""Training throughput of the LSTMs with each speed option, side by side in one run (prints; not a test).

For each config (default: the bundled scripts/configs/lstm-seq2seq.json and lstm-lm.json) it builds
one model per variant: today's settings as the config has them, each option alone (jit_compile,
precision bfloat16, project_inputs_once, a 4x larger batch, and for seq2seq bucket_batches 8),
and then the combinations named by --combine (default: the options that beat today in the
first round, together).
Every variant runs our training step (the same distributed train step `symbolic train` runs,
default strategy) on the first full training batches of epoch 0, about --tokens target tokens.

1. A first, untimed pass over its batches traces the tf.function (and, with jit_compile, XLA
   compiles one program per batch shape); its time is printed as "first pass".
2. Timed passes go round-robin over the variants (--rounds of them), so that a load that comes
   and goes (another job on the machine) weighs on every variant alike; the median pass counts.
3. The machine's matmul rate: float32 1024 x 1024 products with NumPy and TensorFlow, best of
   --repeat, measured before, between and after the passes, best taken. The bfloat16 rate of
   TensorFlow's product is printed too (AVX512_BF16 CPUs run it faster than float32).
4. Training FLOPs per pass from the real (unpadded) tokens: 2 * 4 * units * (input + units) per
   LSTM layer and token (input = embedding for the first layer), the encoder's layers for encoder
   tokens, plus 2 * (units or 2 x units with attention) * vocabulary for the output layer per target
   token, times 3 for the forward and backward passes. The share of the float32 matmul rate
   leaves out gate nonlinearities, softmax, optimizer and padding: a lower bound on the work done.
5. The training loss (bits per token) of each variant's last pass: variants of one batch size
   start from the same weights and take the same steps on the same batches, so a loss that
   drifts from today's shows an option changing the arithmetic, not only its speed.
6. The fixed cost of one step call (Python, tf.function dispatch, tf.data, the graph's op
   launches) from steps on a one-token batch: what running several steps per call could save.

    PYTHONPATH=. .venv/bin/python benchmarks/train_throughput.py --corpus build/bundled/corpus
        [--configs A.json B.json] [--tokens 40000] [--rounds 3] [--large-batch 256] [--combine "bf16+proj"]

Without --corpus it builds one from `music21:folk` first (about 5 minutes). Figures are noisy while
another job shares the CPU: the load average is printed at the start and the end.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from symbolic.corpus.build import BuildSettings, build_corpus, load_vocabulary  # noqa: E402
from symbolic.models.config import ModelConfig  # noqa: E402
from symbolic.models.data import load_split  # noqa: E402
from symbolic.models.training import _Trainer, make_strategy  # noqa: E402

CONFIGS = [ROOT / "scripts" / "configs" / "lstm-seq2seq.json", ROOT / "scripts" / "configs" / "lstm-lm.json"]
BETTER = 1.03  # an option joins the combination when it beats today by this factor


def layer_flops(config: ModelConfig) -> float:
    """Forward FLOPs of one token through the LSTM stack."""
    total, width = 0.0, config.embedding
    for _ in range(config.layers):
        total += 2 * 4 * config.units * (width + config.units)
        width = config.units
    return total


def batch_flops(config: ModelConfig, vocabulary: int, element: tuple) -> float:  # type: ignore[type-arg]
    """Training FLOPs (forward and backward) of one global batch, counting real tokens only."""
    inputs, targets = element
    output = 2 * config.units * vocabulary * (2 if config.attention else 1)
    targets_count = float(np.count_nonzero(targets))
    forward = targets_count * (layer_flops(config) + output)
    if config.arch == "lstm-seq2seq":
        encoder, _ = inputs
        forward += float(np.count_nonzero(encoder)) * layer_flops(config)
        if config.attention:  # scores and context: 2 products of units x encoder width per target token
            forward += targets_count * 4 * config.units * encoder.shape[1]
    return 3.0 * forward  # the backward pass costs about twice the forward one


def matmul_rates(repeat: int, size: int = 1024) -> dict[str, float]:
    """Best FLOP/s of a size x size product: float32 with NumPy and TensorFlow, bfloat16 with TensorFlow."""
    import tensorflow as tf

    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((size, size), dtype=np.float32) for _ in range(2))
    ta, tb = tf.constant(a), tf.constant(b)
    ha, hb = tf.cast(ta, tf.bfloat16), tf.cast(tb, tf.bfloat16)
    flops = 2.0 * size ** 3
    rates = {}
    for name, multiply in (("numpy float32", lambda: a @ b), ("tensorflow float32", lambda: tf.matmul(ta, tb).numpy()),
                           ("tensorflow bfloat16", lambda: tf.matmul(ha, hb).numpy())):
        multiply()  # warm up: thread pools, oneDNN kernels
        best = float("inf")
        for _ in range(repeat):
            started = time.perf_counter()
            multiply()
            best = min(best, time.perf_counter() - started)
        rates[name] = flops / best
    return rates


@dataclass
class Variant:
    config_name: str
    name: str
    config: ModelConfig
    trainer: _Trainer
    model: Any
    step: Callable[[Any], Any]
    dataset: Any
    steps: int  # batches per pass
    tokens: float  # target tokens per pass
    flops: float  # training FLOPs per pass
    padding: float  # share of the LSTM steps fed that are padding
    shapes: int  # distinct batch shapes in a whole epoch: the programs XLA compiles with jit_compile
    first_pass: float = 0.0
    passes: list[float] = field(default_factory=list)
    loss: float = float("nan")  # mean training loss (bits per token) of the latest pass

    def run_pass(self) -> float:
        started = time.perf_counter()
        loss_sum = tokens = 0.0
        for element in self.dataset:
            step_sum, count = self.step(element)
            loss_sum, tokens = loss_sum + float(step_sum), tokens + float(count)  # float() waits for the step
        seconds = time.perf_counter() - started
        self.loss = loss_sum / tokens / math.log(2)
        return seconds

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / statistics.median(self.passes)


def make_variant(corpus: Path, work: Path, config_name: str, name: str, config: ModelConfig,
                 tokens: int, cache: dict) -> Variant:  # type: ignore[type-arg]
    import keras

    if "vocab" not in cache:
        cache.update(vocab=load_vocabulary(corpus), train=load_split(corpus, "train"), valid=load_split(corpus, "valid"))
    trainer = _Trainer(config, cache["vocab"], cache["train"], cache["valid"], work, {}, False, "default", 0)
    strategy = make_strategy("default")
    keras.utils.set_random_seed(config.seed)
    chosen, count = [], 0
    epoch = trainer.batches(0)
    shapes = len({(tuple(a.shape for a in inputs) if isinstance(inputs, tuple) else inputs.shape, targets.shape)
                  for inputs, targets in epoch})
    for batch in epoch:  # full batches only, in epoch 0's order, up to the token budget
        if len(batch[1]) == config.batch_size and count < tokens:
            chosen.append(batch)
            count += int(np.count_nonzero(batch[1]))
    if not chosen:
        raise SystemExit(f"{config_name}: the corpus gives no full batch of {config.batch_size}")
    with strategy.scope():
        model = trainer.compile(len(chosen))
        model.optimizer.build(model.trainable_variables)  # in scope, as training does
    dataset = trainer.dataset(strategy, chosen)
    step, _ = trainer.step_functions(strategy, model, dataset.element_spec)
    # Padding: the share of the LSTM steps fed (encoder and decoder) that are padding.
    blocks = [block for inputs, targets in chosen for block in ((inputs[0], targets) if isinstance(inputs, tuple)
                                                                 else (targets,))]
    padding = 1 - sum(np.count_nonzero(b) for b in blocks) / sum(b.size for b in blocks)
    return Variant(config_name, name, config, trainer, model, step, dataset, len(chosen), float(count),
                   sum(batch_flops(config, len(cache["vocab"]), b) for b in chosen), padding, shapes)


def call_overhead(variant: Variant, calls: int = 30) -> float:
    """Seconds per step on a one-token batch, fed as training feeds (tf.data, the tf.function
    call, one time step each side, the optimizer's update): the fixed cost of a step, an upper
    bound on what running several steps per tf.function call could save."""
    import tensorflow as tf

    spec = tf.TensorSpec((None, None), tf.int32)
    seq2seq = variant.config.arch == "lstm-seq2seq"
    signature = ((spec, spec), spec) if seq2seq else (spec, spec)
    step, _ = variant.trainer.step_functions(make_strategy("default"), variant.model, signature)
    one = np.array([[5]], dtype=np.int32)
    element = ((one, one), one) if seq2seq else (one, one)
    dataset = tf.data.Dataset.from_generator(lambda: iter([element] * calls), output_signature=signature)
    elements = iter(dataset.prefetch(tf.data.AUTOTUNE))
    for _ in range(3):  # the first calls trace
        float(step(next(elements))[1])
    started = time.perf_counter()
    for element in elements:
        float(step(element)[1])
    return (time.perf_counter() - started) / (calls - 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--configs", type=Path, nargs="+", default=CONFIGS)
    parser.add_argument("--corpus", type=Path, help="an existing corpus folder (default: build music21:folk)")
    parser.add_argument("--tokens", type=int, default=40_000, help="target tokens per pass (default 40,000)")
    parser.add_argument("--rounds", type=int, default=3, help="timed passes per variant (default 3)")
    parser.add_argument("--large-batch", type=int, default=0, help="the larger batch tried (default 4 x the config's)")
    parser.add_argument("--repeat", type=int, default=10, help="matmul repetitions, best taken (default 10)")
    parser.add_argument("--combine", action="append", default=[], metavar="A+B",
                        help="a combination to measure, of variant names joined by + (e.g. 'bf16+proj+bucket 8'; "
                             "repeatable; names a config lacks are left out); default: the options that beat today")
    args = parser.parse_args()
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} on {os.cpu_count()} CPUs"
          + ("  (busy: expect noisy, low figures)" if load[0] > 0.5 else ""), flush=True)
    started_run = time.time()
    rates = matmul_rates(args.repeat)
    with tempfile.TemporaryDirectory(prefix="symbolic-throughput-") as temp:
        corpus = args.corpus
        if corpus is None:
            corpus = Path(temp) / "folk"
            build_corpus(["music21:folk"], corpus, BuildSettings(seed=0, jobs=min(2, os.cpu_count() or 1)),
                         progress=False)
        cache: dict = {}  # type: ignore[type-arg]
        groups: list[list[Variant]] = []
        for path in args.configs:
            base = ModelConfig.from_file(path)
            if base.precision != "float32" or base.jit_compile or base.project_inputs_once or base.bucket_batches > 1:
                raise SystemExit(f"{path}: give today's settings (float32, no jit_compile); the options are added here")
            large = args.large_batch or 4 * base.batch_size
            options = {"jit": {"jit_compile": True}, "bf16": {"precision": "bfloat16"},
                       "proj": {"project_inputs_once": True}, f"batch {large}": {"batch_size": large}}
            if base.arch == "lstm-seq2seq":
                options["bucket 8"] = {"bucket_batches": 8}
            group = []
            for name, change in [("today", {}), *options.items()]:
                group.append(make_variant(corpus, Path(temp) / "model", path.name, name, replace(base, **change),
                                          args.tokens, cache))
            groups.append(group)
        variants = [v for group in groups for v in group]
        for variant in variants:
            variant.first_pass = variant.run_pass()
            print(f"{variant.config_name} {variant.name}: first pass {variant.first_pass:.1f} s", flush=True)
        first_rounds = max(1, args.rounds // 2)
        for _ in range(first_rounds):
            for variant in variants:
                variant.passes.append(variant.run_pass())
        rates = {k: max(v, r) for (k, v), r in zip(rates.items(), matmul_rates(args.repeat).values(), strict=True)}
        # The combinations asked for, or every option that beat today so far, measured in the later rounds.
        for group in groups:
            today = group[0].tokens_per_second
            singles = {v.name: v for v in group[1:]}
            combinations = [[singles[n] for n in c.split("+") if n in singles] for c in args.combine]
            if not args.combine:
                combinations = [[v for v in group[1:] if v.tokens_per_second > BETTER * today]]
            for members in combinations:
                if len(members) < 2:
                    continue
                change: dict = {}  # type: ignore[type-arg]
                for member in members:
                    change.update({k: getattr(member.config, k)
                                   for k in ("jit_compile", "precision", "project_inputs_once", "batch_size",
                                             "bucket_batches")
                                   if getattr(member.config, k) != getattr(group[0].config, k)})
                combined = make_variant(corpus, Path(temp) / "model", group[0].config_name,
                                        " + ".join(m.name for m in members), replace(group[0].config, **change),
                                        args.tokens, cache)
                combined.first_pass = combined.run_pass()
                print(f"{combined.config_name} {combined.name}: first pass {combined.first_pass:.1f} s", flush=True)
                group.append(combined)
                variants.append(combined)
        for _ in range(args.rounds - first_rounds):
            for variant in variants:
                variant.passes.append(variant.run_pass())
        overheads = {group[0].config_name: call_overhead(group[0]) for group in groups}
    rates = {k: max(v, r) for (k, v), r in zip(rates.items(), matmul_rates(args.repeat).values(), strict=True)}
    float32 = max(rates["numpy float32"], rates["tensorflow float32"])
    print()
    print("matmul 1024 x 1024: " + ", ".join(f"{name} {rate / 1e9:.0f} GFLOP/s" for name, rate in rates.items()))
    print("variants: today = the config as it is; jit = jit_compile; bf16 = precision bfloat16; "
          "proj = project_inputs_once; batch N = batch_size N; bucket N = bucket_batches N")
    header = (f"{'config':<18} {'variant':<30} {'batch':>5} {'passes':>6} {'pad':>4} {'tokens/s':>9} "
              f"{'x today':>7} {'GFLOP/s':>7} {'% fp32 matmul':>13} {'first pass':>10} {'shapes/epoch':>12} {'loss':>5}")
    print(header)
    print("-" * len(header))
    for group in groups:
        today = group[0].tokens_per_second
        for v in group:
            reached = v.flops / statistics.median(v.passes)
            print(f"{v.config_name:<18} {v.name:<30} {v.config.batch_size:>5} {len(v.passes):>6} "
                  f"{100 * v.padding:>3.0f}% {v.tokens_per_second:>9,.0f} {v.tokens_per_second / today:>7.2f} "
                  f"{reached / 1e9:>7.1f} {100 * reached / float32:>12.1f}% {v.first_pass:>9.1f}s {v.shapes:>12} {v.loss:>5.2f}")
        step = statistics.median(group[0].passes) / group[0].steps
        overhead = overheads[group[0].config_name]
        print(f"{group[0].config_name}: a one-token step takes {1e3 * overhead:.1f} ms, {100 * overhead / step:.1f}% of "
              f"today's {step:.2f} s step: the most that several steps per call could save")
    load = os.getloadavg()
    print(f"median of the timed passes; {time.time() - started_run:.0f} s in all; load average at the end "
          f"{load[0]:.2f}")


if __name__ == "__main__":
    main()

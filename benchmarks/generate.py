"""Generation speed, side by side (prints; not a test).

1. Our sampler (NumPy LSTM step with carried states, grammar-masked, batched) against the naive
   loop that calls Keras `model.predict` once per token on the growing sequence, on the same
   model (the Keras model is rebuilt from the model file's config and given its weights) and the
   same tokens (the naive loop is fed the tokens our sampler chose, so both do the same number
   of steps; it is spared the grammar and the sampling, which only flatters it). Ms per tune for
   one tune, tunes per second for a batch of 64, and the ratios (goal: at least 500x).
2. The whole `symbolic generate --formats abc --out -` command against `python -c "import
   tensorflow"`: wall seconds of each and the ratio (goal: under half).
3. The novelty check: ms to compare one tune with every training tune in the model's index.

    PYTHONPATH=. .venv/bin/python benchmarks/generate.py [--model PATH] [--repeat N] [--naive-steps K]

`--naive-steps K` times only the naive loop's first K tokens and scales by the token count: the
early steps read the shortest sequences, so this underestimates the naive time (and the ratio).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from symbolic.generation.generate import Request, _Generator  # noqa: E402
from symbolic.generation.sampler import SamplingSettings, sample_tokens  # noqa: E402
from symbolic.models.lstm import EMBEDDING, LOGITS, build_model, decoder_layer, encoder_layer, lm_layer  # noqa: E402
from symbolic.models.modelfile import ModelFile, load_model  # noqa: E402
from symbolic.novelty.index import NoveltyIndex  # noqa: E402
from symbolic.tokens import START  # noqa: E402

BATCH = 64


def keras_model(model: ModelFile) -> Any:
    """The Keras model of a model file: built from its config, given its saved weights."""
    keras_net = build_model(model.config, len(model.vocab))
    weights = model.weights
    keras_net.get_layer(EMBEDDING).set_weights([weights[f"{EMBEDDING}/embeddings"]])
    layers = ([lm_layer(i) for i in range(model.config.layers)] if model.config.arch == "lstm-lm" else
              [encoder_layer(i) for i in range(model.config.layers)] + [decoder_layer(i) for i in range(model.config.layers)])
    for name in layers:
        keras_net.get_layer(name).set_weights([weights[f"{name}/kernel"], weights[f"{name}/recurrent_kernel"],
                                               weights[f"{name}/bias"]])
    keras_net.get_layer(LOGITS).set_weights([weights[f"{LOGITS}/kernel"], weights[f"{LOGITS}/bias"]])
    return keras_net


def naive_loop(keras_net: Any, model: ModelFile, prompts: list[list[int]], bodies: list[list[int]],
               steps_limit: int | None) -> tuple[float, np.ndarray, list[int]]:
    """Seconds for `model.predict` on the growing sequences, one call per token (scaled when
    `steps_limit` cuts it short), the last logits of row 0 and the ids they followed (to check
    that both models agree)."""
    lm = model.config.arch == "lstm-lm"
    rows = [(p if lm else [model.vocab.tokens.index(START)]) + b for p, b in zip(prompts, bodies, strict=True)]
    first = len(prompts[0]) if lm else 1  # every prompt of a request has the same length
    width = max(len(r) for r in rows)
    block = np.zeros((len(rows), width), dtype=np.int32)
    for i, row in enumerate(rows):
        block[i, :len(row)] = row
    encoder = np.array([p[1:] for p in prompts], dtype=np.int32)
    steps = max(len(b) for b in bodies)
    timed = steps if steps_limit is None else min(steps, steps_limit)
    logits, t = np.zeros(0), first
    start = time.perf_counter()
    for t in range(first, first + timed):
        out = keras_net.predict(block[:, :t] if lm else [encoder, block[:, :t]], verbose=0)
        logits = out[0, -1]
    elapsed = time.perf_counter() - start
    return elapsed * steps / timed, logits, block[0, :t].tolist()


def sampler_speed(model: ModelFile, generator: _Generator, count: int, repeat: int,
                  seed: int) -> tuple[float, list[list[int]], list[list[int]]]:
    """Best-of-`repeat` seconds to sample `count` tunes, with the prompts and sampled bodies."""
    vocab = model.vocab
    prompts = [[vocab.tokens.index(START), *vocab.encode(generator.header + generator.prime_tokens("D"),
                                                          add_start_end=False)] for _ in range(count)]
    best, bodies = float("inf"), []
    for _ in range(repeat):
        rng = np.random.default_rng(seed)
        start = time.perf_counter()
        bodies = sample_tokens(model, generator.grammar, prompts, generator.request.sampling, rng)
        best = min(best, time.perf_counter() - start)
    return best, prompts, bodies


def command_times(model_path: str | None, repeat: int) -> tuple[float, float]:
    """Median wall seconds of `symbolic generate --formats abc --out -` and of `import tensorflow`."""
    generate = [sys.executable, "-m", "symbolic", "generate", "--formats", "abc", "--out", "-", "--seed", "1"]
    if model_path:
        generate += ["--model", model_path]
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2"}

    def median_of(command: list[str]) -> float:
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True, cwd=ROOT, env=environment)
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    return median_of(generate), median_of([sys.executable, "-c", "import tensorflow"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="a model folder (default: the bundled model)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each timing (best or median of N)")
    parser.add_argument("--naive-steps", type=int, help="time only the naive loop's first K tokens, then scale")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    model = load_model(args.model)
    if model.config.arch == "ngram":
        sys.exit("the naive Keras loop needs an LSTM model, not an n-gram")
    request = Request(tune_type="reel", key="D", seed=args.seed, sampling=SamplingSettings(top_p=0.95))
    generator = _Generator(model, request)
    print(f"model: {args.model or 'bundled'} ({model.config.arch}, {model.config.layers} x {model.config.units}); "
          f"reels of 2 x 8 bars, top-p 0.95; {os.cpu_count()} CPUs")

    one, prompts_1, bodies_1 = sampler_speed(model, generator, 1, args.repeat, args.seed)
    batch, prompts_64, bodies_64 = sampler_speed(model, generator, BATCH, args.repeat, args.seed)
    tokens_1 = len(bodies_1[0])
    tokens_64 = sum(len(b) for b in bodies_64)

    import tensorflow as tf  # noqa: F401  (imported here, after our timings, as the naive loop needs it)

    keras_net = keras_model(model)
    keras_net.predict(np.zeros((1, 2), dtype=np.int32) if model.config.arch == "lstm-lm"
                      else [np.ones((1, 2), np.int32), np.ones((1, 2), np.int32)], verbose=0)  # build, warm up
    naive_1, last_logits, fed = naive_loop(keras_net, model, prompts_1, bodies_1, args.naive_steps)
    naive_64, _, _ = naive_loop(keras_net, model, prompts_64, bodies_64, args.naive_steps)

    # The same model: the NumPy step's logits after the same ids equal Keras's.
    network = model.lstm()
    if model.config.arch == "lstm-lm":
        logits, _ = network.start(np.array([fed]))
    else:
        logits, state = network.start(np.array([prompts_1[0][1:]]))  # then the decoder is past <start>
        for token in fed[1:]:
            logits, state = network.step(np.array([token]), state)
    agreement = float(np.abs(logits[0] - last_logits).max())

    scaled = "" if args.naive_steps is None else f" (first {args.naive_steps} tokens timed, scaled)"
    print(f"\n{'':<24} {'ours':>12} {'Keras predict loop':>20} {'ratio':>9}")
    print(f"{'one tune, ms per tune':<24} {one * 1000:>12.1f} {naive_1 * 1000:>20.0f} {naive_1 / one:>8.0f}x"
          f"   ({tokens_1} tokens)")
    print(f"{'batch of 64, tunes/s':<24} {BATCH / batch:>12.1f} {BATCH / naive_64:>20.3f} {naive_64 / batch:>8.0f}x"
          f"   ({tokens_64} tokens)")
    print(f"naive loop{scaled}; largest logit difference NumPy vs Keras: {agreement:.2e}")

    if model.novelty is not None:
        index = NoveltyIndex.from_arrays(model.novelty)
        tokens = generator.header + model.vocab.decode(bodies_1[0][:-1])
        start = time.perf_counter()
        for _ in range(20):
            index.closest(tokens)
        print(f"novelty check against {len(index)} training tunes: {(time.perf_counter() - start) / 20 * 1000:.2f} ms a tune")

    command, tensorflow = command_times(args.model, args.repeat)
    print(f"\n`symbolic generate --formats abc --out -`: {command:.2f} s; `python -c 'import tensorflow'`: "
          f"{tensorflow:.2f} s; ratio {command / tensorflow:.2f} (goal: under 0.5), median of {args.repeat}")


if __name__ == "__main__":
    main()

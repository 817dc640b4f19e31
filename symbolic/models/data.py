"""Training examples from corpus shards, in NumPy (tf.data wraps them in training.py).

- LM: every tune as <start> tokens <end>, tunes shuffled and packed end to end, cut into windows
  of `sequence_length` inputs (and the same shifted by one as targets): no padding at all.
- seq2seq: each tune split at a random bar k (0 <= k <= MAX_PROMPT_BARS): the encoder reads the
  header and the first k bars, the decoder reads <start> + the rest and predicts the rest + <end>.
  Examples of similar length are batched together and padded with 0 (ignored by the loss).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from symbolic.corpus.build import iter_split
from symbolic.tokens import BAR, END_ID, HEADER_TOKENS, START_ID, Vocabulary

START, END = START_ID, END_ID
MAX_PROMPT_BARS = 8  # the opening bars a user may prime with


def load_split(corpus: str | Path, split: str) -> list[np.ndarray]:
    return [ids.astype(np.int32) for _, ids in iter_split(corpus, split)]


def lm_windows(tunes: list[np.ndarray], length: int, rng: np.random.Generator | None) -> tuple[np.ndarray, np.ndarray]:
    order = rng.permutation(len(tunes)) if rng is not None else np.arange(len(tunes))
    pieces = []
    for i in order:
        pieces += [np.array([START], np.int32), tunes[i], np.array([END], np.int32)]
    flat = np.concatenate(pieces)
    count = (len(flat) - 1) // length
    x = flat[: count * length].reshape(count, length)
    y = flat[1: count * length + 1].reshape(count, length)
    return x, y


def bar_ids(vocab: Vocabulary) -> np.ndarray:
    return np.array([i for i, t in enumerate(vocab.tokens) if t.startswith(BAR)], dtype=np.int32)


def split_points(tune: np.ndarray, bars: np.ndarray) -> list[int]:
    """Token positions where a prompt may end: after the header, and after each bar line
    (with its ending marker), up to MAX_PROMPT_BARS bars."""
    positions = [HEADER_TOKENS]
    is_bar = np.isin(tune, bars)
    for index in np.flatnonzero(is_bar[HEADER_TOKENS:]) + HEADER_TOKENS:
        if len(positions) > MAX_PROMPT_BARS:
            break
        cut = index + 1
        if cut < len(tune) and cut not in positions:
            positions.append(int(cut))
    return positions


def seq2seq_examples(tunes: list[np.ndarray], bars: np.ndarray, max_decoder: int,
                     rng: np.random.Generator | None) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(encoder ids, decoder input, decoder target) per tune; a random split when `rng` is
    given, else the split after the header (bar 0) for a fixed validation set."""
    examples = []
    for tune in tunes:
        points = split_points(tune, bars)
        cut = points[rng.integers(len(points))] if rng is not None else HEADER_TOKENS
        rest = np.concatenate([tune[cut:], [END]]).astype(np.int32)[:max_decoder]
        decoder_in = np.concatenate([[START], rest[:-1]]).astype(np.int32)
        examples.append((tune[:cut].astype(np.int32), decoder_in, rest))
    return examples


def padded_batches(examples: list[tuple[np.ndarray, np.ndarray, np.ndarray]], batch: int,
                   rng: np.random.Generator | None) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Batches of similar decoder length, each padded to its longest member; batch order shuffled."""
    order = np.argsort([len(e[1]) for e in examples], kind="stable")
    batches = []
    for start in range(0, len(order), batch):
        chosen = [examples[i] for i in order[start:start + batch]]
        arrays = []
        for part in range(3):
            width = max(len(e[part]) for e in chosen)
            block = np.zeros((len(chosen), width), dtype=np.int32)
            for row, e in enumerate(chosen):
                block[row, : len(e[part])] = e[part]
            arrays.append(block)
        batches.append((arrays[0], arrays[1], arrays[2]))
    if rng is not None:
        batches = [batches[i] for i in rng.permutation(len(batches))]
    return batches


def bucketed_batches(examples: list[tuple[np.ndarray, np.ndarray, np.ndarray]], batch: int, window: int,
                      rng: np.random.Generator) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """seq2seq batches with less padding: examples sorted by decoder length (as padded_batches
    does), then, in each run of `window` batches' worth, by encoder length, then cut into
    batches. Sorting by the decoder alone leaves the prompts (0 to 8 bars, drawn at random) of
    one batch of very different lengths: about 60 % of the encoder's steps were padding."""
    order = np.argsort([len(e[1]) for e in examples], kind="stable")
    regrouped: list[int] = []
    for start in range(0, len(order), batch * window):
        part = order[start:start + batch * window]
        regrouped += part[np.argsort([len(examples[i][0]) for i in part], kind="stable")].tolist()
    batches = [padded_batches([examples[i] for i in regrouped[start:start + batch]], batch, None)[0]
               for start in range(0, len(regrouped), batch)]
    return [batches[i] for i in rng.permutation(len(batches))]


def pad_width(block: np.ndarray, multiple: int) -> np.ndarray:
    """`block` with zero columns added up to a width that is a multiple of `multiple`."""
    extra = -block.shape[1] % multiple
    return np.pad(block, ((0, 0), (0, extra))) if extra else block

"""Held-out likelihood for any model type, without TensorFlow.

Every model is scored on the same tokens: each tune's body and its <end>, given its header
(type, meter, unit, mode) — the LM reads <start> and the header first, the encoder-decoder gets
the header as its conditioning, the n-gram has it as context. Bits per token divide the summed
negative log2-probability by those tokens; bits per note divide the same sum by the tune's note
events (`p:` and `rest` tokens), so tokenisers with other token counts can be compared.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from symbolic.models.data import END, START, load_split
from symbolic.models.modelfile import ModelFile
from symbolic.models.numpy_lstm import log_softmax
from symbolic.tokens import HEADER_TOKENS

SCORING_BATCH = 64


def evaluate(model: ModelFile, corpus: str | Path, split: str = "test") -> dict[str, float | int]:
    return evaluate_tunes(model, load_split(corpus, split))


def evaluate_tunes(model: ModelFile, tunes: list[np.ndarray]) -> dict[str, float | int]:
    note_ids = {i for i, t in enumerate(model.vocab.tokens) if t.startswith("p:") or t == "rest"}
    bits = tune_bits(model, tunes)
    tokens = sum(len(t) - HEADER_TOKENS + 1 for t in tunes)
    notes = sum(int(np.isin(t, list(note_ids)).sum()) for t in tunes)
    total = float(sum(bits))
    return {"bits_per_token": total / max(tokens, 1), "bits_per_note": total / max(notes, 1), "tunes": len(tunes),
            "tokens": tokens, "notes": notes}


def tune_bits(model: ModelFile, tunes: list[np.ndarray]) -> list[float]:
    """The negative log2-probability of each tune's body and <end> given its header."""
    if model.config.arch == "ngram":
        ngram = model.ngram()
        return [-sum(ngram.log2_probabilities([START, *t.tolist(), END], skip=HEADER_TOKENS)) for t in tunes]
    network = model.lstm()
    bits = [0.0] * len(tunes)
    order = np.argsort([len(t) for t in tunes])
    for start in range(0, len(order), SCORING_BATCH):
        chosen = order[start:start + SCORING_BATCH]
        for index, value in zip(chosen, _batch_bits(network, model.config.arch, [tunes[i] for i in chosen]), strict=True):
            bits[index] = value
    return bits


def _batch_bits(network, arch: str, tunes: list[np.ndarray]) -> list[float]:  # type: ignore[no-untyped-def]
    batch = len(tunes)
    headers = np.stack([t[:HEADER_TOKENS] for t in tunes]).astype(np.int64)
    targets = [np.concatenate([t[HEADER_TOKENS:], [END]]) for t in tunes]
    width = max(len(t) for t in targets)
    padded = np.zeros((batch, width), dtype=np.int64)
    for row, t in enumerate(targets):
        padded[row, : len(t)] = t
    if arch == "lstm-lm":
        logits, state = network.start(np.concatenate([np.full((batch, 1), START), headers], axis=1))
    else:
        logits, state = network.start(headers)
    total = np.zeros(batch)
    rows = np.arange(batch)
    for step in range(width):
        wanted = padded[:, step]
        log_probabilities = log_softmax(logits.astype(np.float64))[rows, wanted]
        total -= np.where(wanted != 0, log_probabilities, 0.0)
        if step + 1 < width:
            logits, state = network.step(wanted, state)
    return list(total / np.log(2))

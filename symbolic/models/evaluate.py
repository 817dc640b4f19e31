"""Held-out likelihood for any model type, without TensorFlow: the one place it is computed.

Every model is scored on the same tokens: each tune's body and its <end>, given its header
(type, meter, unit, mode) — the LM reads <start> and the header first, the encoder-decoder gets
the header as its conditioning, the n-gram has it as context. Control tokens (the bar countdown)
are read but not scored, as the header is not: they say where the form is, not what is played.
Bits per token divide the summed negative log2-probability by the scored tokens; bits per note
divide the same sum by the tune's note events (`p:` and `rest` tokens), so tokenisers with other
token counts can be compared.

A corpus is scored by token text, not id: a corpus built apart from the model (another
vocabulary) is re-encoded into the model's, and its tunes with tokens the model never saw are
left out and counted. A corpus tokenised with other settings is refused.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from symbolic.corpus.build import iter_split, load_manifest, load_vocabulary
from symbolic.errors import SymbolicError
from symbolic.models.data import END, START
from symbolic.models.modelfile import ModelFile
from symbolic.models.numpy_lstm import log_softmax
from symbolic.tokens import HEADER_TOKENS, TokenError, TokenizerSettings, is_control, is_note

SCORING_BATCH = 64


class LikelihoodError(SymbolicError):
    """A corpus a model cannot be scored on (tokenised another way, or no tunes to score)."""


def evaluate(model: ModelFile, corpus: str | Path, split: str = "test") -> dict[str, float | int]:
    """Bits per token and per note of the model on the corpus's split, with `skipped_unknown_tokens`
    (tunes left out because they hold a token the model's vocabulary lacks)."""
    tunes, skipped = corpus_tunes(model, corpus, split)
    if not tunes:
        raise LikelihoodError(f"{corpus}: no {split} tunes to score" +
                              (f" ({skipped} left out: tokens the model never saw)" if skipped else ""))
    return {**evaluate_tunes(model, tunes), "skipped_unknown_tokens": skipped}


def corpus_tunes(model: ModelFile, corpus: str | Path, split: str,
                 any_keying: bool = False) -> tuple[list[np.ndarray], int]:
    """The split's tunes as ids of the model's vocabulary, and how many were left out.
    `any_keying`: the corpus may be keyed otherwise than the model's tokens (a model to be tuned)."""
    corpus_settings = TokenizerSettings.from_dict(load_manifest(corpus).get("tokenizer"))
    if any_keying:
        corpus_settings = dataclasses.replace(corpus_settings, normalise_to=model.tokenizer.normalise_to)
    if corpus_settings != model.tokenizer:
        raise LikelihoodError(f"{corpus} was tokenised with {corpus_settings.to_dict()}, the model with "
                              f"{model.tokenizer.to_dict()}; build the corpus again with this symbolic, or "
                              "evaluate on the model's own corpus")
    corpus_vocab = load_vocabulary(corpus)
    tunes = [ids.astype(np.int32) for _, ids in iter_split(corpus, split)]
    if corpus_vocab.sha256 == model.vocab.sha256:
        return tunes, 0
    encoded, skipped = [], 0
    for ids in tunes:
        try:
            encoded.append(np.array(model.vocab.encode(corpus_vocab.decode(ids.tolist()), add_start_end=False),
                                    dtype=np.int32))
        except TokenError:
            skipped += 1
    return encoded, skipped


def evaluate_tunes(model: ModelFile, tunes: list[np.ndarray]) -> dict[str, float | int]:
    note_ids = [i for i, t in enumerate(model.vocab.tokens) if is_note(t)]
    controls = _control_ids(model)
    bits = tune_bits(model, tunes)
    tokens = sum(len(t) - HEADER_TOKENS + 1 - int(np.isin(t, controls).sum()) for t in tunes)
    notes = sum(int(np.isin(t, note_ids).sum()) for t in tunes)
    total = float(sum(bits))
    return {"bits_per_token": total / max(tokens, 1), "bits_per_note": total / max(notes, 1), "tunes": len(tunes),
            "tokens": tokens, "notes": notes}


def _control_ids(model: ModelFile) -> np.ndarray:
    return np.array([i for i, t in enumerate(model.vocab.tokens) if is_control(t)], dtype=np.int64)


def tune_bits(model: ModelFile, tunes: list[np.ndarray]) -> list[float]:
    """The negative log2-probability of each tune's body and <end> given its header, control
    tokens not counted."""
    controls = _control_ids(model)
    if model.config.arch == "ngram":
        ngram = model.ngram()
        bits = []
        for t in tunes:
            sequence = [START, *t.tolist(), END]
            scored = ~np.isin(sequence[1 + HEADER_TOKENS:], controls)
            bits.append(-float(np.sum(np.array(ngram.log2_probabilities(sequence, skip=HEADER_TOKENS))[scored])))
        return bits
    network = model.lstm()
    bits = [0.0] * len(tunes)
    order = np.argsort([len(t) for t in tunes])
    for start in range(0, len(order), SCORING_BATCH):
        chosen = order[start:start + SCORING_BATCH]
        batch_bits = _batch_bits(network, model.config.arch, [tunes[i] for i in chosen], controls)
        for index, value in zip(chosen, batch_bits, strict=True):
            bits[index] = value
    return bits


def _batch_bits(network, arch: str, tunes: list[np.ndarray], controls: np.ndarray) -> list[float]:  # type: ignore[no-untyped-def]
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
        total -= np.where((wanted != 0) & ~np.isin(wanted, controls), log_probabilities, 0.0)
        if step + 1 < width:
            logits, state = network.step(wanted, state)
    return list(total / np.log(2))

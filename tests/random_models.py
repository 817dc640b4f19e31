"""Models with random weights over a given vocabulary: the worst case for the generation grammar
(such a model has learned nothing about bars, cadences or modes), and cheap to make."""

from __future__ import annotations

from typing import Any

import numpy as np

from symbolic.models.config import ModelConfig
from symbolic.models.modelfile import ModelFile
from symbolic.tokens import TokenizerSettings, Vocabulary


def random_lstm(vocab: Vocabulary, tokenizer: TokenizerSettings | None = None,
                meta: dict[str, Any] | None = None) -> ModelFile:
    """A 2 x 16 LSTM LM; `tokenizer` (default: the plain one) is recorded as training would."""
    config = ModelConfig(embedding=8, units=16, layers=2)
    rng = np.random.default_rng(0)
    weights = {"embedding/embeddings": rng.normal(0, 1, (len(vocab), 8)),
               "logits/kernel": rng.normal(0, 1, (16, len(vocab))), "logits/bias": np.zeros(len(vocab))}
    for i, width in enumerate((8, 16)):
        weights[f"lstm_{i}/kernel"] = rng.normal(0, 0.5, (width, 64))
        weights[f"lstm_{i}/recurrent_kernel"] = rng.normal(0, 0.5, (16, 64))
        weights[f"lstm_{i}/bias"] = np.zeros(64)
    meta = dict(meta or {})
    if tokenizer is not None:
        meta["data"] = {**meta.get("data", {}), "tokenizer": tokenizer.to_dict()}
    return ModelFile(config, vocab, weights, meta)

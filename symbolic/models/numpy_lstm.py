"""The trained LSTMs run in NumPy: O(1) work per token with carried states, batched, no TensorFlow.

Mirrors `lstm.py` layer for layer (Keras gate order i, f, c, o; sigmoid gates, tanh cell).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from symbolic.models.config import ModelConfig
from symbolic.models.lstm import EMBEDDING, LOGITS, decoder_layer, encoder_layer, lm_layer

State = list[tuple[np.ndarray, np.ndarray]]  # (h, c) per layer, each (batch, units)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (np.tanh(0.5 * x) + 1.0)  # stable for large |x|


@dataclass
class _Cell:
    kernel: np.ndarray
    recurrent: np.ndarray
    bias: np.ndarray

    def step(self, x: np.ndarray, h: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        z = x @ self.kernel + h @ self.recurrent + self.bias
        units = h.shape[1]
        i = _sigmoid(z[:, :units])
        f = _sigmoid(z[:, units:2 * units])
        g = np.tanh(z[:, 2 * units:3 * units])
        o = _sigmoid(z[:, 3 * units:])
        c = f * c + i * g
        return o * np.tanh(c), c


def _cells(weights: dict[str, np.ndarray], names: list[str]) -> list[_Cell]:
    return [_Cell(weights[f"{n}/kernel"].astype(np.float32), weights[f"{n}/recurrent_kernel"].astype(np.float32),
                  weights[f"{n}/bias"].astype(np.float32)) for n in names]


class NumpyLstmModel:
    """Both LSTM architectures. For the LM, `start(prompt)` reads the prompt token by token; for
    seq2seq it encodes the prompt and starts the decoder from <start>. Then `step` feeds one
    token per tune and returns next-token logits."""

    def __init__(self, config: ModelConfig, weights: dict[str, np.ndarray]) -> None:
        self.config = config
        self.embeddings = weights[f"{EMBEDDING}/embeddings"].astype(np.float32)
        self.out_kernel = weights[f"{LOGITS}/kernel"].astype(np.float32)
        self.out_bias = weights[f"{LOGITS}/bias"].astype(np.float32)
        self.units = config.units
        if config.arch == "lstm-lm":
            self.decoder = _cells(weights, [lm_layer(i) for i in range(config.layers)])
            self.encoder: list[_Cell] = []
        else:
            self.encoder = _cells(weights, [encoder_layer(i) for i in range(config.layers)])
            self.decoder = _cells(weights, [decoder_layer(i) for i in range(config.layers)])
        self.attention = config.arch == "lstm-seq2seq" and config.attention
        self.memory: np.ndarray | None = None  # encoder outputs (batch, time, units) for attention
        self.memory_mask: np.ndarray | None = None

    @property
    def vocab_size(self) -> int:
        return int(self.embeddings.shape[0])

    def zero_state(self, batch: int) -> State:
        zeros = np.zeros((batch, self.units), dtype=np.float32)
        return [(zeros, zeros) for _ in self.decoder]

    def _run(self, cells: list[_Cell], ids: np.ndarray, state: State) -> tuple[np.ndarray, State]:
        """Feed one token per row (id 0 = padding: that row's state is kept, as Keras masks)."""
        x = self.embeddings[ids]
        keep = (ids == 0)[:, None]
        new_state: State = []
        for cell, (h, c) in zip(cells, state, strict=True):
            h2, c2 = cell.step(x, h, c)
            h2 = np.where(keep, h, h2)
            c2 = np.where(keep, c, c2)
            new_state.append((h2, c2))
            x = h2
        return x, new_state

    def _logits(self, top: np.ndarray) -> np.ndarray:
        if self.attention:
            assert self.memory is not None and self.memory_mask is not None
            scores = np.einsum("bu,btu->bt", top, self.memory)
            scores = np.where(self.memory_mask, scores, -1e9)
            scores -= scores.max(axis=1, keepdims=True)
            attention = np.exp(scores)
            attention /= attention.sum(axis=1, keepdims=True)
            context = np.einsum("bt,btu->bu", attention, self.memory)
            top = np.concatenate([top, context], axis=1)
        return top @ self.out_kernel + self.out_bias

    def start(self, prompts: np.ndarray) -> tuple[np.ndarray, State]:
        """Read prompts (batch, time), right-padded with 0. Returns the logits for the token after
        each prompt and the state. LM prompts start with <start>; seq2seq prompts are the
        encoder's conditioning tokens (the decoder then starts from <start>)."""
        batch = prompts.shape[0]
        if self.config.arch == "lstm-lm":
            state = self.zero_state(batch)
            top = np.zeros((batch, self.units), dtype=np.float32)
            for t in range(prompts.shape[1]):
                out, state = self._run(self.decoder, prompts[:, t], state)
                moved = (prompts[:, t] != 0)[:, None]
                top = np.where(moved, out, top)
            return self._logits(top), state
        state = self.zero_state(batch)
        outputs = []
        for t in range(prompts.shape[1]):
            out, state = self._run(self.encoder, prompts[:, t], state)
            outputs.append(out)
        self.memory = np.stack(outputs, axis=1) if outputs else np.zeros((batch, 1, self.units), np.float32)
        self.memory_mask = prompts != 0 if outputs else np.ones((batch, 1), bool)
        return self.step(np.full(batch, 1, dtype=np.int64), state)

    def step(self, ids: np.ndarray, state: State) -> tuple[np.ndarray, State]:
        top, state = self._run(self.decoder, ids, state)
        return self._logits(top), state


def log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))

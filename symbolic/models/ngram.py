"""Interpolated Kneser-Ney n-gram over token ids: the baseline every LSTM must beat.

P(w | h) = max(c(h w) - D, 0) / c(h) + D * N1+(h .) / c(h) * P(w | h'), where h' drops the oldest
token, lower orders use continuation counts (in how many contexts a token follows h'), and the
lowest order is interpolated with the uniform distribution. D per order is Ney's n1 / (n1 + 2 n2).
Contexts never seen back off entirely to the lower order.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

import numpy as np

Context = tuple[int, ...]


class KneserNey:
    def __init__(self, order: int, vocab_size: int) -> None:
        if order < 1:
            raise ValueError("order must be at least 1")
        self.order = order
        self.vocab_size = vocab_size
        # counts[n][context] = Counter(next token -> count), n = context length (0 .. order-1).
        self.counts: list[dict[Context, Counter]] = [defaultdict(Counter) for _ in range(order)]  # type: ignore[type-arg]
        self.discounts = [0.75] * order
        self._totals: list[dict[Context, tuple[int, int]]] = []

    def fit(self, sequences: Iterable[Sequence[int]]) -> KneserNey:
        """Train on sequences that start with <start> (id 1) and end with <end> (id 2)."""
        top = self.order - 1
        for sequence in sequences:
            padded = [1] * top + list(sequence[1:])  # repeat <start> as the left context
            for i in range(top, len(padded)):
                self.counts[top][tuple(padded[i - top:i])][padded[i]] += 1
        # Continuation counts: how many distinct longer contexts each (shorter context, token) has.
        for n in range(top, 0, -1):
            for context, followers in self.counts[n].items():
                shorter = context[1:]
                for token in followers:
                    self.counts[n - 1][shorter][token] += 1
        self._finish()
        return self

    def _finish(self) -> None:
        for n in range(self.order):
            histogram = Counter(c for followers in self.counts[n].values() for c in followers.values() if c <= 2)
            n1, n2 = histogram[1], histogram[2]
            self.discounts[n] = n1 / (n1 + 2 * n2) if n1 and n2 else 0.75
        self._totals = [{context: (sum(f.values()), len(f)) for context, f in level.items()} for level in self.counts]

    def distribution(self, history: Sequence[int]) -> np.ndarray:
        """P(next token | history) over the whole vocabulary (sums to 1)."""
        top = self.order - 1
        context = tuple(([1] * top + list(history))[-top:]) if top else ()
        probabilities = np.full(self.vocab_size, 1.0 / self.vocab_size)
        for n in range(0, top + 1):
            sub = context[top - n:] if n else ()
            followers = self.counts[n].get(sub)
            if not followers:
                continue
            total, distinct = self._totals[n][sub]
            discount = self.discounts[n]
            lower = probabilities * (discount * distinct / total)
            probabilities = lower
            for token, count in followers.items():
                probabilities[token] += max(count - discount, 0.0) / total
        return probabilities

    def log2_probabilities(self, sequence: Sequence[int], skip: int = 0) -> list[float]:
        """log2 P of each token of `sequence` after its first `skip + 1` tokens (the first is <start>)."""
        result = []
        for i in range(1 + skip, len(sequence)):
            result.append(float(np.log2(self.distribution(sequence[:i])[sequence[i]])))
        return result

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Counts as integer matrices (context..., token, count), one per context length."""
        arrays: dict[str, np.ndarray] = {"order": np.array([self.order, self.vocab_size], dtype=np.int64)}
        for n, level in enumerate(self.counts):
            rows = [(*context, token, count) for context, followers in level.items() for token, count in followers.items()]
            arrays[f"counts_{n}"] = np.array(rows, dtype=np.int64).reshape(-1, n + 2)
        return arrays

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> KneserNey:
        order, vocab_size = (int(x) for x in arrays["order"])
        model = cls(order, vocab_size)
        for n in range(order):
            level = model.counts[n]
            for row in arrays[f"counts_{n}"].tolist():
                level[tuple(row[:n])][row[n]] = row[n + 1]
        model._finish()
        return model

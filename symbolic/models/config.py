"""Model hyper-parameters as a dataclass, saved as JSON beside every model."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from symbolic.errors import SymbolicError

ARCHITECTURES = ("lstm-lm", "lstm-seq2seq", "ngram")
PRECISIONS = ("float32", "bfloat16")
# Named ceilings: a typo or a hostile config (units 10**9) must not ask for terabytes of weights.
MAXIMA = {"embedding": 16_384, "units": 16_384, "layers": 64, "ngram_order": 32, "sequence_length": 1_000_000,
          "max_decoder_length": 1_000_000, "batch_size": 1_000_000, "epochs": 1_000_000,
          "checkpoint_every": 1_000_000_000, "patience": 1_000_000, "seed": 2**64 - 1, "bucket_batches": 1_000_000}


class ConfigError(SymbolicError):
    """A config file or value that cannot be used."""


@dataclass(frozen=True)
class ModelConfig:
    arch: str = "lstm-lm"
    embedding: int = 64
    units: int = 256
    layers: int = 2
    dropout: float = 0.2
    attention: bool = False  # seq2seq only: dot-product attention over the encoder outputs
    ngram_order: int = 5  # ngram only
    # Training.
    sequence_length: int = 256  # LM: packed windows of this many tokens
    max_decoder_length: int = 768  # seq2seq: longer continuations are cut
    batch_size: int = 64
    epochs: int = 20
    learning_rate: float = 3e-3
    min_learning_rate: float = 1e-4  # cosine decay ends here
    optimizer: str = "adam"
    clip_norm: float = 1.0
    patience: int = 3  # epochs without a better validation loss before stopping
    checkpoint_every: int = 200  # steps
    seed: int = 0
    # Training speed (benchmarks/train_throughput.py measures them side by side). Weights are
    # float32 whatever the precision, and NumPy generation runs them in float32.
    precision: str = "float32"  # bfloat16: Keras's mixed_bfloat16 policy while training
    jit_compile: bool = False  # XLA-compile each replica's forward and backward pass
    project_inputs_once: bool = False  # LSTM inputs times kernel in one product per layer, not one per step
    bucket_batches: int = 1  # seq2seq: sort by prompt length within runs of this many batches (less padding)

    def __post_init__(self) -> None:
        self._check_types()
        if self.arch not in ARCHITECTURES:
            raise ConfigError(f"unknown architecture {self.arch!r}; choose one of {', '.join(ARCHITECTURES)}")
        if self.precision not in PRECISIONS:
            raise ConfigError(f"precision must be {' or '.join(PRECISIONS)}, not {self.precision!r}"[:200])
        if self.optimizer not in ("adam", "rmsprop"):
            raise ConfigError(f"optimizer must be adam or rmsprop, not {self.optimizer!r}")
        positive = ("embedding", "units", "layers", "sequence_length", "max_decoder_length", "batch_size", "epochs",
                    "checkpoint_every", "ngram_order", "bucket_batches")
        for name in positive:
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be positive, got {getattr(self, name)}")
        for name, most in MAXIMA.items():
            if not 0 <= getattr(self, name) <= most:
                raise ConfigError(f"{name} must be in 0..{most}, got {getattr(self, name)}")
        if not 0 <= self.dropout < 1 or self.learning_rate <= 0 or self.clip_norm <= 0:
            raise ConfigError("dropout must be in [0, 1); learning rate and clip norm positive")
        if self.min_learning_rate <= 0:
            raise ConfigError(f"min_learning_rate must be positive, got {self.min_learning_rate}")

    def _check_types(self) -> None:
        """Each field of the type of its default (JSON gives strings, lists, bools, NaN...)."""
        for spec in fields(self):
            value, kind = getattr(self, spec.name), type(spec.default)
            if kind is float:
                fits = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
            elif kind is int:
                fits = isinstance(value, int) and not isinstance(value, bool)
            else:
                fits = isinstance(value, kind)
            if not fits:
                wanted = {float: "a finite number", int: "a whole number", bool: "true or false"}.get(kind, "text")
                raise ConfigError(f"{spec.name} must be {wanted}, got {value!r}"[:200])

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2) + "\n"

    @classmethod
    def from_dict(cls, data: dict) -> ModelConfig:  # type: ignore[type-arg]
        if not isinstance(data, dict):
            raise ConfigError(f"a config is a JSON object of fields, not {type(data).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ConfigError(f"unknown config keys: {', '.join(sorted(map(str, unknown)))}"[:300])
        try:
            return cls(**data)
        except TypeError as error:
            raise ConfigError(str(error)) from None

    @classmethod
    def from_file(cls, path: str | Path) -> ModelConfig:
        try:
            return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
        except (OSError, ValueError, RecursionError) as error:  # ValueError: also binary (not UTF-8) files
            raise ConfigError(f"{path}: not a JSON config ({error})"[:300]) from None
        except ConfigError as error:
            raise ConfigError(f"{path}: {error}") from None

"""Model hyper-parameters as a dataclass, saved as JSON beside every model."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from symbolic.errors import SymbolicError

ARCHITECTURES = ("lstm-lm", "lstm-seq2seq", "ngram")


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

    def __post_init__(self) -> None:
        if self.arch not in ARCHITECTURES:
            raise ConfigError(f"unknown architecture {self.arch!r}; choose one of {', '.join(ARCHITECTURES)}")
        if self.optimizer not in ("adam", "rmsprop"):
            raise ConfigError(f"optimizer must be adam or rmsprop, not {self.optimizer!r}")
        positive = ("embedding", "units", "layers", "sequence_length", "max_decoder_length", "batch_size", "epochs",
                    "checkpoint_every", "ngram_order")
        for name in positive:
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be positive, got {getattr(self, name)}")
        if not 0 <= self.dropout < 1 or self.learning_rate <= 0 or self.clip_norm <= 0:
            raise ConfigError("dropout must be in [0, 1); learning rate and clip norm positive")

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2) + "\n"

    @classmethod
    def from_dict(cls, data: dict) -> ModelConfig:  # type: ignore[type-arg]
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ConfigError(f"unknown config keys: {', '.join(sorted(unknown))}")
        try:
            return cls(**data)
        except TypeError as error:
            raise ConfigError(str(error)) from None

    @classmethod
    def from_file(cls, path: str | Path) -> ModelConfig:
        try:
            return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
        except (OSError, json.JSONDecodeError) as error:
            raise ConfigError(f"{path}: {error}") from None

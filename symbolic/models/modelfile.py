"""The model file: a folder that reloads alone, without TensorFlow.

    model.json    format version, architecture config, tokenizer settings, training figures,
                  evaluation figures, library versions, and the vocabulary's SHA-256
    vocab.json    the vocabulary (ids in the documented layout)
    weights.npz   named NumPy arrays (LSTM weights, or n-gram counts)
    novelty.npz   optional: the index of the training tunes and their title words
                  (`symbolic.novelty.index`); a model without it generates without novelty checks

Each file is written atomically; model.json last, so a folder without it is not a model.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from symbolic.atomic import write_atomically, write_text_atomically
from symbolic.errors import SymbolicError
from symbolic.models.config import ConfigError, ModelConfig
from symbolic.models.weightcheck import WeightFileError, check_weight_file, declared_arrays
from symbolic.tokens import TokenizerSettings, Vocabulary

FORMAT_VERSION = 1
MODEL_JSON, VOCAB_JSON, WEIGHTS, NOVELTY = "model.json", "vocab.json", "weights.npz", "novelty.npz"
# The default model ships inside the package (a wheel installs it as plain files).
BUNDLED = Path(str(resources.files("symbolic") / "bundled"))


class ModelFileError(SymbolicError):
    """A path that is not a model, a damaged model, or one made for another vocabulary."""


@dataclass
class ModelFile:
    config: ModelConfig
    vocab: Vocabulary
    weights: dict[str, np.ndarray]
    meta: dict[str, Any] = field(default_factory=dict)  # training and evaluation figures, versions
    novelty: dict[str, np.ndarray] | None = None  # the arrays of novelty.npz, when the folder has one

    def save(self, folder: str | Path) -> Path:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / MODEL_JSON).unlink(missing_ok=True)
        write_text_atomically(folder / VOCAB_JSON, self.vocab.to_json())

        def write_weights(temp: str) -> None:
            with open(temp, "wb") as handle:
                np.savez_compressed(handle, **self.weights)

        write_atomically(folder / WEIGHTS, write_weights)
        if self.novelty is not None:
            save_novelty(folder, self.novelty)
        else:
            (folder / NOVELTY).unlink(missing_ok=True)  # an index left by another model would mislead
        document = {"format_version": FORMAT_VERSION, "config": json.loads(self.config.to_json()),
                    "vocabulary_sha256": self.vocab.sha256, **self.meta}
        write_text_atomically(folder / MODEL_JSON, json.dumps(document, indent=2) + "\n")
        return folder

    @property
    def tokenizer(self) -> TokenizerSettings:
        """How the model's training tunes were tokenised (in model.json's `data`); models from
        before the settings were recorded read as the plain tokenizer they were made with."""
        return TokenizerSettings.from_dict(self.meta.get("data", {}).get("tokenizer"))

    def lstm(self):  # type: ignore[no-untyped-def]
        from symbolic.models.numpy_lstm import NumpyLstmModel

        return NumpyLstmModel(self.config, self.weights)

    def ngram(self):  # type: ignore[no-untyped-def]
        from symbolic.models.ngram import KneserNey

        return KneserNey.from_arrays(self.weights)


def load_model(path: str | Path | None = None) -> ModelFile:
    """Load a model folder (default: the bundled model); every failure is a ModelFileError."""
    folder = Path(path) if path is not None else BUNDLED
    if not folder.is_dir():
        raise ModelFileError(f"{folder}: not a model folder" + ("" if folder.exists() else " (it does not exist)"))
    try:
        document = json.loads((folder / MODEL_JSON).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelFileError(f"{folder}: no {MODEL_JSON}; not a model, or its training never saved one") from None
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ModelFileError(f"{folder}/{MODEL_JSON}: unreadable ({error})") from None
    if not isinstance(document, dict) or document.get("format_version") != FORMAT_VERSION:
        raise ModelFileError(f"{folder}: model format {document.get('format_version') if isinstance(document, dict) else '?'}"
                             f", this symbolic reads {FORMAT_VERSION}")
    try:
        config = ModelConfig.from_dict(document["config"])
        vocab = Vocabulary.from_json((folder / VOCAB_JSON).read_text(encoding="utf-8"))
    except (KeyError, OSError, json.JSONDecodeError, ConfigError, SymbolicError) as error:
        raise ModelFileError(f"{folder}: damaged model ({error})") from None
    if vocab.sha256 != document.get("vocabulary_sha256"):
        raise ModelFileError(f"{folder}: {VOCAB_JSON} is not the vocabulary this model was trained with")
    try:
        # Shapes and sizes are checked from the headers first: NumPy allocates what a header declares.
        check_weight_file(folder / WEIGHTS, config, len(vocab))
        with np.load(folder / WEIGHTS) as archive:
            weights = {name: archive[name] for name in archive.files}
    except WeightFileError as error:
        raise ModelFileError(f"{folder}/{WEIGHTS}: {error}") from None
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as error:
        raise ModelFileError(f"{folder}/{WEIGHTS}: damaged or truncated ({error})") from None
    meta = {k: v for k, v in document.items() if k not in ("format_version", "config", "vocabulary_sha256")}
    novelty = None
    if (folder / NOVELTY).is_file():
        try:
            declared_arrays(folder / NOVELTY)  # sizes checked before NumPy allocates them
            with np.load(folder / NOVELTY) as archive:
                novelty = {name: archive[name] for name in archive.files}
        except (OSError, ValueError, zipfile.BadZipFile, EOFError) as error:
            raise ModelFileError(f"{folder}/{NOVELTY}: damaged or truncated ({error}); rebuild it with "
                                 "`symbolic models index` or delete it") from None
    model = ModelFile(config, vocab, weights, meta, novelty)
    _check_shapes(model, folder)
    return model


def save_novelty(folder: str | Path, arrays: dict[str, np.ndarray]) -> Path:
    """Write (or replace) a model folder's novelty index atomically: a reader sees the old file or
    the new one, never half of one, so it can be added to a model that is in use."""

    def write(temp: str) -> None:
        with open(temp, "wb") as handle:
            np.savez_compressed(handle, **arrays)

    return write_atomically(Path(folder) / NOVELTY, write)


def _check_shapes(model: ModelFile, folder: Path) -> None:
    if model.config.arch == "ngram":
        order = model.weights.get("order")
        if order is None or int(order[1]) != len(model.vocab):
            raise ModelFileError(f"{folder}: n-gram counts do not match the vocabulary")
        if int(order[0]) != len(model.weights) - 1:  # one counts_n array per context length
            raise ModelFileError(f"{folder}: an order-{int(order[0])} n-gram with {len(model.weights) - 1} count arrays")
        return
    embeddings = model.weights.get("embedding/embeddings")
    logits = model.weights.get("logits/kernel")
    if embeddings is None or logits is None:
        raise ModelFileError(f"{folder}: weights are missing layers")
    if embeddings.shape != (len(model.vocab), model.config.embedding) or logits.shape[1] != len(model.vocab):
        raise ModelFileError(f"{folder}: weights were made for a vocabulary of {embeddings.shape[0]} tokens, "
                             f"the model's vocabulary has {len(model.vocab)}")

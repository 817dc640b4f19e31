"""Checks on a weights.npz before any of its arrays is read.

An .npy member's header declares its shape and dtype, and NumPy allocates that much before it
reads a byte of data: a doctored entry declaring a 1.46 TiB array would be allocated. So the
headers are read first, every LSTM weight's shape is compared with what the model config makes
(a model.json whose sizes disagree with weights.npz is refused at load, not deep in generate),
and every declared size must fit the member's own (zip) sizes and a named ceiling.
"""

from __future__ import annotations

import zipfile
import zlib
from math import prod
from pathlib import Path

import numpy as np

from symbolic.models.config import ModelConfig

MAX_WEIGHT_BYTES = 4 * 2**30  # all arrays of a model file together; the bundled model has ~10 MB
# Deflate cannot shrink data by more than about 1032:1; a member claiming more is not what it says.
MAX_DEFLATE_RATIO = 1100


class WeightFileError(ValueError):
    """A weights file whose declared arrays are too large, malformed, or not the config's shapes."""


def declared_arrays(path: str | Path) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """name -> (shape, dtype) of each array of an .npz, from the headers alone."""
    found: dict[str, tuple[tuple[int, ...], np.dtype]] = {}
    total = 0
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            name = info.filename.removesuffix(".npy")
            try:
                with archive.open(info) as member:
                    version = np.lib.format.read_magic(member)
                    reader = np.lib.format.read_array_header_1_0 if version == (1, 0) else \
                        np.lib.format.read_array_header_2_0
                    shape, _, dtype = reader(member)
            # An encrypted entry (RuntimeError), an unknown compression (NotImplementedError), a
            # corrupt stream (zlib.error) or header (ValueError): all a damaged file.
            except (RuntimeError, NotImplementedError, zlib.error, EOFError, ValueError) as error:
                raise WeightFileError(f"{name}: unreadable entry ({error})"[:300]) from None
            if dtype.hasobject:
                raise WeightFileError(f"{name}: holds Python objects, not numbers")
            size = prod(shape) * dtype.itemsize
            if size > info.file_size or info.file_size > MAX_DEFLATE_RATIO * info.compress_size + 4096:
                raise WeightFileError(f"{name}: declares {shape} {dtype} ({size:,} bytes) in a "
                                      f"{info.compress_size:,}-byte entry")
            total += size
            if total > MAX_WEIGHT_BYTES:
                raise WeightFileError(f"{name}: the arrays declare more than the limit of {MAX_WEIGHT_BYTES:,} bytes")
            found[name] = (tuple(shape), dtype)
    return found


def expected_shapes(config: ModelConfig, vocab_size: int) -> dict[str, tuple[int, ...]]:
    """The shape of every weight an LSTM model of `config` has (the names export_weights writes)."""
    from symbolic.models.lstm import EMBEDDING, LOGITS, decoder_layer, encoder_layer, lm_layer

    units, gates = config.units, 4 * config.units
    shapes = {f"{EMBEDDING}/embeddings": (vocab_size, config.embedding)}
    stacks = ([[lm_layer(i) for i in range(config.layers)]] if config.arch == "lstm-lm"
              else [[encoder_layer(i) for i in range(config.layers)], [decoder_layer(i) for i in range(config.layers)]])
    for stack in stacks:
        for depth, name in enumerate(stack):
            shapes[f"{name}/kernel"] = (config.embedding if depth == 0 else units, gates)
            shapes[f"{name}/recurrent_kernel"] = (units, gates)
            shapes[f"{name}/bias"] = (gates,)
    width = 2 * units if config.arch == "lstm-seq2seq" and config.attention else units
    shapes[f"{LOGITS}/kernel"] = (width, vocab_size)
    shapes[f"{LOGITS}/bias"] = (vocab_size,)
    return shapes


def check_weight_file(path: str | Path, config: ModelConfig, vocab_size: int) -> None:
    """Raise WeightFileError unless the file's declared arrays are what `config` needs."""
    declared = declared_arrays(path)
    if config.arch == "ngram":
        # The order is a value in the file (read after loading); here: (order, vocabulary size)
        # and one integer matrix of n + 2 columns per context length n, with no gaps.
        if "order" not in declared or declared["order"][0] != (2,) or declared["order"][1].kind not in "iu":
            raise WeightFileError("order: missing, or not the pair (order, vocabulary size)")
        levels = sorted(declared.keys() - {"order"})
        if levels != sorted(f"counts_{n}" for n in range(len(levels))):
            raise WeightFileError(f"n-gram count arrays {', '.join(levels)[:200]}: expected counts_0, counts_1, ...")
        for n in range(len(levels)):
            shape, dtype = declared[f"counts_{n}"]
            if len(shape) != 2 or shape[1] != n + 2 or dtype.kind not in "iu":
                raise WeightFileError(f"counts_{n} is {shape} {dtype}, expected integer rows of {n + 2}")
        return
    for name, shape in expected_shapes(config, vocab_size).items():
        if name not in declared:
            raise WeightFileError(f"{name} is missing, but the config ({_sizes(config)}) needs it")
        if declared[name][0] != shape:
            raise WeightFileError(f"{name} is {declared[name][0]}, but the config ({_sizes(config)}, "
                                  f"vocabulary {vocab_size}) needs {shape}")
        if declared[name][1].kind != "f":
            raise WeightFileError(f"{name}: {declared[name][1]} numbers, not floating point")


def _sizes(config: ModelConfig) -> str:
    return f"{config.arch}, {config.layers} x {config.units} units, embedding {config.embedding}"

"""A corpus derived from another by weighting its tunes: the same vocabulary and token ids, the
training tunes repeated by a weight (0 leaves a tune out), the held-out splits filtered.

The bundled model learns from every folk collection (the songs teach tonality) while the dance
tunes users ask for count more: `weighted_corpus(all, out, dance_weight)` repeats each dance tune
in the train split and keeps only dance tunes in valid and test, so model selection and the
held-out figures are about dance tunes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from symbolic.atomic import write_text_atomically
from symbolic.corpus.build import MANIFEST, SPLITS, VOCAB, CorpusError, iter_split, load_manifest, save_shard

SHARD_TUNES = 2000


def weighted_corpus(source: str | Path, out: str | Path, weight: Callable[[str], int],
                    held_out: Callable[[str], bool]) -> dict:  # type: ignore[type-arg]
    """Write the derived corpus to `out` (a new or earlier-derived folder): `weight(name)` gives
    each tune's repeats in the train split, `held_out(name)` whether a valid or test tune stays."""
    source, out = Path(source), Path(out)
    manifest = load_manifest(source)
    if out.exists() and any(out.iterdir()):
        old = load_manifest(out)  # refuses a folder that is not a corpus
        (out / MANIFEST).unlink()  # a folder without a manifest is not a corpus while we write
        for shard in (s for split in old["shards"].values() for s in split):
            (out / shard).unlink(missing_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    shards: dict[str, list[str]] = {}
    counts: dict[str, int] = {"tokens": 0}
    for split in SPLITS:
        ids: list[list[int]] = []
        names: list[str] = []
        for name, tune in iter_split(source, split):
            repeats = weight(name)
            if repeats < 0:
                raise CorpusError(f"negative weight {repeats} for {name}")
            repeats = repeats if split == "train" else int(held_out(name))
            ids += [tune.tolist()] * repeats
            names += [name] * repeats
            counts["tokens"] += repeats * len(tune)
        shards[split] = []
        for start in range(0, len(ids), SHARD_TUNES):
            shard = f"{split}-{start // SHARD_TUNES:05d}.npz"
            save_shard(out / shard, ids[start:start + SHARD_TUNES], names[start:start + SHARD_TUNES])
            shards[split].append(shard)
        counts[split] = len(ids)
    write_text_atomically(out / VOCAB, (source / VOCAB).read_text(encoding="utf-8"))
    derived = {**manifest, "shards": shards, "derived_from": str(source),
               "counts": {**manifest["counts"], **counts, "kept": sum(counts[s] for s in SPLITS)}}
    write_text_atomically(out / MANIFEST, json.dumps(derived, indent=2) + "\n")
    return derived

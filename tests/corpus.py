"""Access to music21's bundled folk tunebooks for the tests (read in place, never copied)."""

from __future__ import annotations

import random
from functools import lru_cache
from pathlib import Path

from symbolic.abc.reader import read_abc_file
from symbolic.corpus.sources import expand_source
from symbolic.tune import Tune


@lru_cache(maxsize=1)
def folk_files() -> tuple[Path, ...]:
    return tuple(expand_source("music21:folk"))


@lru_cache(maxsize=1)
def all_folk_tunes() -> tuple[Tune, ...]:
    return tuple(t for f in folk_files() for t in read_abc_file(f).tunes)


def sample_folk_tunes(n: int, seed: int = 2026) -> list[Tune]:
    tunes = list(all_folk_tunes())
    return random.Random(seed).sample(tunes, min(n, len(tunes)))

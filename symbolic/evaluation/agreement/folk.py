"""music21's bundled folk tunebooks, read in place: each tune's own text, or the tunes read."""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from symbolic.abc.reader import read_abc_file, read_text
from symbolic.corpus.sources import MUSIC21_FOLK, expand_source, music21_corpus_dir
from symbolic.tune import Tune

DEFAULT_SEED = 20240601


@dataclass(frozen=True)
class CorpusTune:
    """One tune's own text (from its X: line to the next X:), the header block of its file (before
    the first X:, as abc2midi applies it to every tune) and where it came from."""

    collection: str
    file: str
    index: int  # position in its file, from 0
    reference: str
    text: str
    header: str = ""

    @property
    def label(self) -> str:
        return f"{self.collection}/{self.file} X:{self.reference}"

    @property
    def text_with_header(self) -> str:
        return f"{self.header}\n\n{self.text}" if self.header else self.text


def split_tunebook(text: str) -> list[tuple[str, str]]:
    """(reference, text) for each tune of a tunebook. None of the bundled books has a file header
    with fields (only `%` comments before the first X:), so a tune's text alone is complete."""
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("X:")]
    tunes = []
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        tunes.append((lines[start][2:].strip(), "\n".join(lines[start:end]).rstrip() + "\n"))
    return tunes


def file_header(text: str) -> str:
    """The first block of non-blank lines before the first X: line ("" when there is none)."""
    header: list[str] = []
    for line in text.splitlines():
        if line.startswith("X:"):
            break
        if not line.strip():
            if header:
                break
            continue
        header.append(line)
    return "\n".join(header)


def corpus_tunes(root: Path | None = None) -> list[CorpusTune]:
    """Every tune of the five folk collections, in collection, file and file order."""
    root = root or music21_corpus_dir()
    tunes: list[CorpusTune] = []
    for collection in MUSIC21_FOLK:
        for path in sorted((root / collection).glob("*.abc")):
            text = read_text(path)
            header = file_header(text)
            for index, (reference, tune_text) in enumerate(split_tunebook(text)):
                tunes.append(CorpusTune(collection, path.name, index, reference, tune_text, header))
    return tunes


def sample_tunes(count: int | None, seed: int = DEFAULT_SEED, ordered: bool = True) -> list[CorpusTune]:
    """A fixed sample across the collections (all tunes when count is None), in corpus order, or
    in the order drawn when not `ordered` (the order abc2midi's measured sample was taken in)."""
    tunes = corpus_tunes()
    if count is None or count >= len(tunes):
        return tunes
    chosen = random.Random(seed).sample(range(len(tunes)), count)
    return [tunes[i] for i in (sorted(chosen) if ordered else chosen)]


@lru_cache(maxsize=1)
def folk_files() -> tuple[Path, ...]:
    return tuple(expand_source("music21:folk"))


@lru_cache(maxsize=1)
def all_folk_tunes() -> tuple[Tune, ...]:
    """Every folk tune our reader reads (those it refuses left out); cached, as reading takes a while."""
    return tuple(t for f in folk_files() for t in read_abc_file(f).tunes)


def sample_folk_tunes(n: int, seed: int = 2026) -> list[Tune]:
    tunes = list(all_folk_tunes())
    return random.Random(seed).sample(tunes, min(n, len(tunes)))

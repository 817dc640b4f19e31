"""Where tunes come from: files, folders, and music21's bundled folk collections by name.

`music21:oneills1850` names one bundled collection and `music21:folk` all five; they are read
in place from music21's installed corpus, never copied into this repository.
"""

from __future__ import annotations

from pathlib import Path

from symbolic.errors import SymbolicError

MUSIC21_FOLK = ("essenFolksong", "oneills1850", "airdsAirs", "ryansMammoth", "miscFolk")
ABC_SUFFIXES = (".abc",)
MIDI_SUFFIXES = (".mid", ".midi")


class SourceError(SymbolicError):
    """An input that names nothing readable."""


def music21_corpus_dir() -> Path:
    try:
        import music21
    except ImportError:
        raise SourceError("music21 is not installed; `pip install music21` to use music21:NAME sources") from None
    return Path(music21.__file__).parent / "corpus"


def expand_source(source: str, suffixes: tuple[str, ...] = ABC_SUFFIXES + MIDI_SUFFIXES) -> list[Path]:
    """The files a source names, sorted: a file itself, a folder's matching files (recursive),
    or a music21 collection's ABC files."""
    if source.startswith("music21:"):
        name = source.split(":", 1)[1]
        names = MUSIC21_FOLK if name == "folk" else (name,)
        root = music21_corpus_dir()
        files: list[Path] = []
        for collection in names:
            folder = root / collection
            if collection not in MUSIC21_FOLK or not folder.is_dir():
                known = ", ".join(f"music21:{n}" for n in ("folk", *MUSIC21_FOLK))
                raise SourceError(f"unknown music21 collection {name!r}; known: {known}")
            files += sorted(folder.rglob("*.abc"))
        return files
    path = Path(source)
    if path.is_dir():
        found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in suffixes)
        if not found:
            raise SourceError(f"{source}: no {'/'.join(suffixes)} files in this folder")
        return found
    if path.is_file():
        return [path]
    raise SourceError(f"{source}: no such file or folder")

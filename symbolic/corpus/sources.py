"""Where tunes come from: files, folders, music21's bundled folk collections and the corpora
shipped with the source repository, by name.

- `music21:oneills1850` names one music21 collection and `music21:folk` all five; they are read in
  place from music21's installed corpus, never copied into this repository.
- `corpora:cre` names the ABC of *Ceol Rince na hÉireann* shipped in the repository's `corpora/cre/`
  folder (`corpora:cre-midi` its MIDI files). The wheel does not carry `corpora/`, so these names
  work from a checkout only; an installed package asks for the folder path instead.
- `dance:all` names the dance-tune collections: music21's oneills1850, ryansMammoth, airdsAirs and
  miscFolk, and `corpora:cre` (the bundled model's default training corpus).
"""

from __future__ import annotations

from pathlib import Path

from symbolic.errors import SymbolicError

MUSIC21_FOLK = ("essenFolksong", "oneills1850", "airdsAirs", "ryansMammoth", "miscFolk")
MUSIC21_DANCE = ("oneills1850", "ryansMammoth", "airdsAirs", "miscFolk")
ABC_SUFFIXES = (".abc",)
MIDI_SUFFIXES = (".mid", ".midi")
# corpora:NAME -> (folder under the repository's corpora/, the suffixes read there)
SHIPPED_CORPORA = {"cre": ("cre/abc", ABC_SUFFIXES), "cre-midi": ("cre/midi", MIDI_SUFFIXES)}
DANCE_SOURCES = (*(f"music21:{name}" for name in MUSIC21_DANCE), "corpora:cre")
NAMED_SETS = {"dance:all": DANCE_SOURCES}


class SourceError(SymbolicError):
    """An input that names nothing readable."""


def music21_corpus_dir() -> Path:
    try:
        import music21
    except ImportError:
        raise SourceError("music21 is not installed; `pip install music21` to use music21:NAME sources") from None
    return Path(music21.__file__).parent / "corpus"


def repository_corpora_dir() -> Path | None:
    """The source repository's `corpora/` folder when this package runs from a checkout (found
    next to the package's own folder), else None (an installed wheel has no corpora)."""
    import symbolic

    folder = Path(symbolic.__file__).resolve().parent.parent / "corpora"
    return folder if folder.is_dir() else None


def shipped_corpus_dir(name: str) -> tuple[Path, tuple[str, ...]]:
    """The folder and suffixes of `corpora:NAME`; a one-line error when unknown or not shipped."""
    if name not in SHIPPED_CORPORA:
        known = ", ".join(f"corpora:{n}" for n in SHIPPED_CORPORA)
        raise SourceError(f"unknown shipped corpus corpora:{name}; known: {known}")
    relative, suffixes = SHIPPED_CORPORA[name]
    root = repository_corpora_dir()
    folder = root / relative if root is not None else None
    if folder is None or not folder.is_dir():
        raise SourceError(f"corpora:{name}: the shipped corpora are in the source repository's corpora/ folder, "
                          f"not in the installed package; pass that folder's path (corpora/{relative}) instead")
    return folder, suffixes


def expand_source(source: str, suffixes: tuple[str, ...] = ABC_SUFFIXES + MIDI_SUFFIXES) -> list[Path]:
    """The files a source names, sorted: a file itself, a folder's matching files (recursive),
    a music21 collection's ABC files, a shipped corpus, or a named set of those."""
    if source in NAMED_SETS:
        return [path for member in NAMED_SETS[source] for path in expand_source(member, suffixes)]
    if source.startswith("corpora:"):
        folder, own = shipped_corpus_dir(source.split(":", 1)[1])
        return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in own)
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
    if source.startswith("dance:") and not Path(source).exists():
        raise SourceError(f"unknown source {source!r}; known named sets: {', '.join(NAMED_SETS)}")
    path = Path(source)
    if path.is_dir():
        found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in suffixes)
        if not found:
            raise SourceError(f"{source}: no {'/'.join(suffixes)} files in this folder")
        return found
    if path.is_file():
        return [path]
    raise SourceError(f"{source}: no such file or folder")


def source_label(source: str, path: Path) -> str:
    """The source a file is counted under: the sets (music21:folk, dance:all) are reported per
    collection."""
    if source not in NAMED_SETS and source != "music21:folk":
        return source
    if path.suffix.lower() in ABC_SUFFIXES and path.parent.parent.name == "corpus" \
            and path.parent.name in MUSIC21_FOLK:
        return f"music21:{path.parent.name}"
    for name, (relative, _) in SHIPPED_CORPORA.items():
        if path.parent.as_posix().endswith(relative):
            return f"corpora:{name}"
    return source

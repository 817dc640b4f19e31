"""Corpus building: tunes from ABC/MIDI sources -> deduplicated, split, tokenised shards.

A corpus folder holds `train-00000.npz` ... shards (int32 token ids of each tune, one after the
other, with offsets), `vocab.json`, `skipped.tsv` and, written last, `manifest.json`. A build
first removes an old manifest, so a folder whose build was interrupted has none and is never
taken for a whole corpus. A build refuses a non-empty folder that is not a corpus, and deletes
only the files an earlier build's manifest lists.

Memory stays bounded: files are read one at a time by worker processes, tunes stream through,
only a hash per kept tune (for deduplication) and the current shard are held.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sys
import time
import zipfile
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from multiprocessing import Pool
from pathlib import Path

import numpy as np

from symbolic.atomic import write_atomically, write_text_atomically
from symbolic.corpus.finals import with_key_from_final
from symbolic.corpus.sources import MIDI_SUFFIXES, expand_source, source_label
from symbolic.errors import SymbolicError
from symbolic.tokens import TokenizerSettings, Vocabulary, normalize, tune_to_tokens
from symbolic.tune import Tune

SPLITS = ("train", "valid", "test")
MANIFEST = "manifest.json"
VOCAB = "vocab.json"
SKIPPED = "skipped.tsv"
# Written before a build deletes or writes anything, removed after its manifest: the files this
# folder's builds own, so that an interrupted build's folder is still recognised as a corpus.
PENDING = ".build-pending.json"
WORK_DIR = ".building"
FORMAT_VERSION = 1


class CorpusError(SymbolicError):
    """A corpus folder that is missing, incomplete or from another format version."""


@dataclass(frozen=True)
class BuildSettings:
    seed: int = 0
    valid_fraction: float = 0.05
    test_fraction: float = 0.05
    shard_tunes: int = 4096
    jobs: int = 1
    bar_countdown: bool = True  # the tokenizer's bar countdown (off: tokens as models before it had)
    keys_from_finals: bool = False  # name a modal tune's key by its final (`finals`), not its K: signature
    normalise_to: str = "tonic"  # tokens with every tune in C, or with no sharps or flats ("signature")

    @property
    def tokenizer(self) -> TokenizerSettings:
        return TokenizerSettings(bar_countdown=self.bar_countdown, normalise_to=self.normalise_to)

    def __post_init__(self) -> None:
        if not (0 <= self.valid_fraction < 1 and 0 <= self.test_fraction < 1
                and self.valid_fraction + self.test_fraction < 1):
            raise CorpusError("--valid and --test must be fractions in [0, 1) that add up to less than 1")
        if self.shard_tunes < 1 or self.jobs < 1:
            raise CorpusError("shard size and jobs must be positive")


@dataclass
class _FileResult:
    source: str
    path: str
    tunes: list[tuple[str, list[str], str]] = field(default_factory=list)  # (id, tokens, melody key)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (tune id, reason)
    renamed: int = 0  # tunes whose key their final named


def _read_file(task: tuple[str, str, TokenizerSettings, bool]) -> _FileResult:
    """Worker: one file's tunes as tokens, and what was skipped with why."""
    source, path, tokenizer, keys_from_finals = task
    result = _FileResult(source, path)
    try:
        if Path(path).suffix.lower() in MIDI_SUFFIXES:
            from symbolic.midi.reader import read_midi_file

            tunes = [read_midi_file(path)]
            errors: list = []  # type: ignore[type-arg]
        else:
            from symbolic.abc.reader import read_abc_file

            book = read_abc_file(path)
            tunes, errors = book.tunes, book.errors
    except (SymbolicError, OSError) as error:
        result.skipped.append(("-", str(error)))
        return result
    if not tunes and not errors:  # say why a file gave nothing, rather than drop it unseen
        result.skipped.append(("-", no_tune_reason(path)))
    for error in errors:
        result.skipped.append((f"line {error.line}", error.reason))
    for tune in tunes:
        try:
            named = with_key_from_final(tune) if keys_from_finals else tune
            result.renamed += named is not tune
            # The melody key (and so the split) is the written tune's, whatever the key is named.
            result.tunes.append((f"X:{tune.reference}", tune_to_tokens(named, tokenizer), melody_key(tune)))
        except SymbolicError as error:
            result.skipped.append((f"X:{tune.reference}", str(error)))
    return result


def no_tune_reason(path: str | Path) -> str:
    """Why an ABC file that read without errors held no tune: empty, binary, or no tune header."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(65536)
    except OSError as error:
        return f"unreadable ({error.strerror or error})"
    if not head.strip():
        return "empty file"
    if b"\x00" in head:
        return "a binary file, not ABC text"
    return "no tune found (no X: or K: line)"


def melody_key(tune: Tune) -> str:
    """What makes two tunes duplicates: the same melody as played (repeats unfolded, ties
    merged) after key normalisation, so a tune in another key or octave, written with or without
    repeat signs, or read from MIDI, is the same tune."""
    from symbolic.performance.unfold import merge_ties, unfold

    played = merge_ties(unfold(normalize(tune)))
    melody = ";".join(f"{n.pitch}/{n.duration}" for n in played)
    return hashlib.sha1(melody.encode("utf-8")).hexdigest()


def split_of(key: str, settings: BuildSettings) -> str:
    """Deterministic split from the melody hash and the seed: duplicates always land together."""
    value = int(hashlib.sha1(f"{settings.seed}:{key}".encode()).hexdigest()[:12], 16) / 16**12
    if value < settings.test_fraction:
        return "test"
    if value < settings.test_fraction + settings.valid_fraction:
        return "valid"
    return "train"


class _ShardWriter:
    """Buffers one split's tunes with provisional ids and flushes full shards to a work folder."""

    def __init__(self, work: Path, split: str, size: int) -> None:
        self.work, self.split, self.size = work, split, size
        self.ids: list[list[int]] = []
        self.names: list[str] = []
        self.paths: list[Path] = []
        self.count = 0

    def add(self, name: str, ids: list[int]) -> None:
        self.ids.append(ids)
        self.names.append(name)
        self.count += 1
        if len(self.ids) >= self.size:
            self.flush()

    def flush(self) -> None:
        if not self.ids:
            return
        path = self.work / f"{self.split}-{len(self.paths):05d}.npz"
        save_shard(path, self.ids, self.names)
        self.paths.append(path)
        self.ids, self.names = [], []


def save_shard(path: Path, ids: list[list[int]], names: list[str]) -> None:
    offsets = np.zeros(len(ids) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(x) for x in ids])
    flat = np.fromiter((i for x in ids for i in x), dtype=np.int32, count=int(offsets[-1]))

    def write(temp: str) -> None:
        with open(temp, "wb") as handle:
            np.savez(handle, ids=flat, offsets=offsets, names=np.array(names, dtype=str))

    write_atomically(path, write)


def build_corpus(sources: list[str], out: str | Path, settings: BuildSettings = BuildSettings(),
                 progress: bool = True) -> dict:  # type: ignore[type-arg]
    """Build a corpus folder from `sources`; returns the manifest (also written as manifest.json)."""
    started = time.time()
    out = Path(out)
    tasks = [(_label(source, path), str(path), settings.tokenizer, settings.keys_from_finals) for source in sources
             for path in expand_source(source)]
    owned = _owned_files(out)  # refuses a folder that holds anything but an earlier corpus
    out.mkdir(parents=True, exist_ok=True)
    # Recorded before anything is deleted, so a build interrupted from here on leaves a folder
    # that the next build recognises as its own.
    _record_pending(out, owned | {VOCAB, SKIPPED, MANIFEST})
    (out / MANIFEST).unlink(missing_ok=True)
    for name in owned - {PENDING}:
        if (out / name).is_file():
            (out / name).unlink()
    work = Path(out / WORK_DIR)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    writers = {split: _ShardWriter(work, split, settings.shard_tunes) for split in SPLITS}
    provisional: dict[str, int] = {}
    seen: set[str] = set()
    per_source: dict[str, Counter] = defaultdict(Counter)  # type: ignore[type-arg]
    skipped_rows: list[str] = []
    token_count = 0
    try:
        for result in _results(tasks, settings.jobs, progress):
            counts = per_source[result.source]
            counts["files"] += 1
            for tune_id, reason in result.skipped:
                skipped_rows.append("\t".join([result.path, tune_id, reason.replace("\t", " ").replace("\n", " ")]))
            counts["skipped"] += len(result.skipped)
            counts["read"] += len(result.tunes) + len(result.skipped)
            if settings.keys_from_finals:
                counts["keys_from_finals"] += result.renamed
            for tune_id, tokens, key in result.tunes:
                if key in seen:
                    counts["duplicates"] += 1
                    continue
                seen.add(key)
                split = split_of(key, settings)
                counts[split] += 1
                ids = [provisional.setdefault(t, len(provisional)) for t in tokens]
                token_count += len(ids)
                writers[split].add(f"{result.path}#{tune_id}", ids)
        for writer in writers.values():
            writer.flush()
        vocab = Vocabulary.build(provisional)
        _record_pending(out, owned | {VOCAB, SKIPPED, MANIFEST} | {p.name for w in writers.values() for p in w.paths})
        shards = _finalise_shards(writers, provisional, vocab, out)
        write_text_atomically(out / VOCAB, vocab.to_json())
        write_text_atomically(out / SKIPPED, "source\ttune\treason\n" + "".join(r + "\n" for r in skipped_rows))
        totals: Counter = Counter()  # type: ignore[type-arg]
        for counts in per_source.values():
            totals.update(counts)
        manifest = {
            "format_version": FORMAT_VERSION,
            "sources": sources,
            "counts": {
                "files": totals["files"], "read": totals["read"], "skipped": totals["skipped"],
                "duplicates": totals["duplicates"], "kept": sum(totals[s] for s in SPLITS),
                **({"keys_from_finals": totals["keys_from_finals"]} if settings.keys_from_finals else {}),
                **{split: totals[split] for split in SPLITS}, "tokens": token_count,
            },
            "per_source": {source: dict(counts) for source, counts in per_source.items()},
            "shards": shards,
            "settings": asdict(settings),
            "tokenizer": settings.tokenizer.to_dict(),
            "vocabulary": {"file": VOCAB, "size": len(vocab), "sha256": vocab.sha256},
            "versions": _versions(),
            "build_seconds": round(time.time() - started, 2),
        }
        write_text_atomically(out / MANIFEST, json.dumps(manifest, indent=2) + "\n")
        (out / PENDING).unlink(missing_ok=True)
        return manifest
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _owned_files(out: Path) -> set[str]:
    """The files of `out` an earlier build wrote, which this build may delete: those its manifest
    (or the pending record of an interrupted build) lists. A folder that is neither empty nor a
    corpus is refused: pointed at a model folder, a build once deleted its weights."""
    if not out.exists():
        return set()
    if not out.is_dir():
        raise CorpusError(f"{out}: not a folder; --out must be a new, empty or corpus folder")
    if not any(out.iterdir()):
        return set()
    names: set[str] = set()
    for record in (MANIFEST, PENDING):
        path = out / record
        if not path.is_file():
            continue
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            if record == MANIFEST:
                listed = [name for split in document["shards"].values() for name in split]
                listed += [document["vocabulary"]["file"], SKIPPED]
            else:
                listed = list(document["files"])
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
            raise CorpusError(f"{path}: not a corpus {record} ({error}); refusing to write into {out}") from None
        # Only plain names inside the folder: a doctored manifest must not delete files elsewhere.
        names |= {n for n in listed if isinstance(n, str) and n not in ("", ".", "..") and Path(n).name == n}
        names.add(record)
    if not names:
        raise CorpusError(f"{out}: not empty and not a corpus folder (no {MANIFEST}); "
                          "give --out a new or empty folder, or an earlier corpus to replace")
    return names


def _record_pending(out: Path, names: set[str]) -> None:
    write_text_atomically(out / PENDING, json.dumps({"files": sorted(names)}, indent=1) + "\n")


def _label(source: str, path: Path) -> str:
    """The source a file is counted under: music21:folk and dance:all are reported per collection."""
    return source_label(source, path)


def _results(tasks: list[tuple[str, str, TokenizerSettings, bool]], jobs: int,
             progress: bool) -> Iterator[_FileResult]:
    from tqdm import tqdm

    bar = tqdm(total=len(tasks), unit="file", desc="building corpus", disable=not progress or None,
               file=sys.stderr)
    try:
        jobs = max(1, min(jobs, len(tasks), max_jobs()))  # never more processes than files or cores
        if jobs == 1:
            for task in tasks:
                yield _read_file(task)
                bar.update()
        else:
            with Pool(jobs) as pool:
                # imap keeps file order, so the corpus is the same whatever --jobs is.
                for result in pool.imap(_read_file, tasks, chunksize=1):
                    yield result
                    bar.update()
    finally:
        bar.close()


def _finalise_shards(writers: dict[str, _ShardWriter], provisional: dict[str, int], vocab: Vocabulary,
                     out: Path) -> dict[str, list[str]]:
    """Rewrite provisional ids as final vocabulary ids into the corpus folder."""
    remap = np.zeros(len(provisional), dtype=np.int32)
    final_ids = vocab.encode(list(provisional), add_start_end=False)
    remap[list(provisional.values())] = final_ids
    shards: dict[str, list[str]] = {}
    for split, writer in writers.items():
        shards[split] = []
        for path in writer.paths:
            with np.load(path) as data:
                ids, offsets, names = remap[data["ids"]], data["offsets"], data["names"]
            target = out / path.name

            def write(temp: str, ids=ids, offsets=offsets, names=names) -> None:  # type: ignore[no-untyped-def]
                with open(temp, "wb") as handle:
                    np.savez(handle, ids=ids, offsets=offsets, names=names)

            write_atomically(target, write)
            shards[split].append(target.name)
    return shards


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {"python": sys.version.split()[0]}
    for name in ("symbolic", "numpy", "music21", "pretty_midi"):
        with contextlib.suppress(PackageNotFoundError):
            found[name] = version(name)
    return found


def load_manifest(folder: str | Path) -> dict:  # type: ignore[type-arg]
    path = Path(folder) / MANIFEST
    if not path.is_file():
        raise CorpusError(f"{folder}: no {MANIFEST}; not a corpus folder, or its build did not finish")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, RecursionError) as error:  # also a binary file (UnicodeDecodeError)
        raise CorpusError(f"{path}: not a corpus manifest ({error})"[:300]) from None
    if not isinstance(manifest, dict) or manifest.get("format_version") != FORMAT_VERSION:
        found = manifest.get("format_version") if isinstance(manifest, dict) else type(manifest).__name__
        raise CorpusError(f"{folder}: corpus format {str(found)[:40]}, expected {FORMAT_VERSION}")
    shards, counts = manifest.get("shards"), manifest.get("counts")
    # What readers index without looking: a damaged manifest is one line, not a KeyError.
    if (not isinstance(shards, dict) or not isinstance(counts, dict)
            or not all(isinstance(v, list) and all(isinstance(n, str) and Path(n).name == n for n in v)
                       for v in shards.values())):
        raise CorpusError(f"{path}: damaged manifest (its shards or counts are missing or malformed)")
    return manifest


def load_vocabulary(folder: str | Path) -> Vocabulary:
    path = Path(folder) / VOCAB
    try:
        return Vocabulary.from_json(path.read_text(encoding="utf-8"))
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as error:
        raise CorpusError(f"{path}: damaged vocabulary ({error})"[:300]) from None


def iter_split(folder: str | Path, split: str) -> Iterator[tuple[str, np.ndarray]]:
    """(name, token ids) of each tune of a split, shard by shard."""
    manifest = load_manifest(folder)
    for shard in manifest["shards"].get(split, []):
        try:
            with np.load(Path(folder) / shard) as data:
                ids, offsets, names = data["ids"], data["offsets"], data["names"]
        except (ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
            raise CorpusError(f"{Path(folder) / shard}: damaged shard ({error})"[:300]) from None
        for i, name in enumerate(names):
            yield str(name), ids[offsets[i]:offsets[i + 1]]


def default_jobs() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def max_jobs() -> int:
    """The most worker processes worth starting: one per core (files are parsed on the CPU)."""
    return max(1, os.cpu_count() or 1)

"""Novelty: how close a tune is to the tunes a model was trained on, in milliseconds.

Similarity is the Jaccard index of two tunes' sets of melody shingles. A tune's melody is its
key-normalised notes as events (pitch interval from the previous sounding note, duration), tied
notes merged, rests kept as their own event; a shingle is `SHINGLE` events in a row, hashed to 64
bits. Why this measure:

- intervals make it transposition- and octave-invariant (key normalisation alone keeps the mode
  and picks an octave, so it is not enough for modal re-spellings or octave shifts);
- sets ignore how often a passage is played, so a tune written with repeat signs and the same tune
  written out in full score the same, as do AABB and AB forms of one melody;
- it is 1 only for identical shingle sets and falls steadily as passages are changed, so a
  threshold such as 0.95 flags copies and near-copies, not tunes that merely share stock figures.

The index is an inverted index (shingle hash -> training tunes holding it) stored as sorted keys
plus CSR postings, so comparing one tune with all ~11,000 training tunes is a few array lookups
and one `bincount`. It also carries the title words harvested from the training tunes.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from symbolic.errors import SymbolicError
from symbolic.tokens import (
    HEADER_NAMES,
    HEADER_TOKENS,
    TIE,
    duration_of,
    is_note,
    pitch_of,
    tune_to_tokens,
    without_controls,
)
from symbolic.tune import Tune
from symbolic.tune_types import TYPE_WORDS, tune_type

# Events per shingle. Measured on the bundled corpus (held-out tunes against the 11,349 training
# tunes), the closest match's median similarity is 0.12 with 3, 0.075 with 4 and 0.03 with 6: 4
# keeps stock figures (a run up the scale) from making unrelated tunes look alike, while one
# changed note costs only the 4 shingles that hold it.
SHINGLE = 4
INDEX_VERSION = 1
MAX_TITLE_WORDS = 600
# Hash mixing constants (splitmix64 and a large odd multiplier): fixed, so an index built on one
# machine matches queries on another.
_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)
_MIX1, _MIX2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
_REST = 255  # interval code of a rest (intervals are clipped to -127..127 and offset by 128)
_STOP_TEXT = (
    "the of and a an to in on at for with my his her our your their from by or o' is was be no not ye me "
    "it its i you he she we they that this what who when where how all de la le du der die das den dem des "
    "und ein eine im am vom zum zur mit von auf "
    # editors' words, not names: "Setting of ...", "Favorite ...", "... (version 2)"
    "setting favorite favourite version part new")
_STOP_WORDS = frozenset(_STOP_TEXT.split())


class NoveltyError(SymbolicError):
    """An index that cannot be built or read (no training tunes, a damaged file...)."""


def _melody_codes(tokens: Sequence[str]) -> np.ndarray:
    """One int64 code per melody event: (interval or rest) x duration, tied notes merged."""
    events: list[tuple[int | None, Fraction]] = []  # (pitch or None for a rest, duration)
    tied = False
    i = HEADER_TOKENS if tokens and tokens[0].startswith(f"{HEADER_NAMES[0]}:") else 0
    while i < len(tokens):
        token = tokens[i]
        duration = duration_of(tokens[i + 1]) if i + 1 < len(tokens) else None
        if is_note(token) and duration is not None:
            pitch = pitch_of(token)
            if tied and events and events[-1][0] == pitch:
                events[-1] = (pitch, events[-1][1] + duration)
            else:
                events.append((pitch, duration))
            tied = i + 2 < len(tokens) and tokens[i + 2] == TIE
            i += 3 if tied else 2
            continue
        i += 1
    codes = np.empty(len(events), dtype=np.int64)
    previous: int | None = None
    for k, (pitch, duration) in enumerate(events):
        if pitch is None:
            interval = _REST
        else:
            interval = 128 if previous is None else 128 + max(-127, min(127, pitch - previous))
            previous = pitch
        numerator, denominator = min(duration.numerator, 4095), min(duration.denominator, 4095)
        codes[k] = (interval << 24) | (numerator << 12) | denominator
    return codes


def _mix(values: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: spreads the polynomial hash over all 64 bits."""
    values = values ^ (values >> np.uint64(30))
    values = values * _MIX1
    values = values ^ (values >> np.uint64(27))
    values = values * _MIX2
    return values ^ (values >> np.uint64(31))


def shingles(tokens: Sequence[str]) -> np.ndarray:
    """The sorted unique 64-bit shingle hashes of a key-normalised tune's tokens (header optional).
    A melody shorter than one shingle is one shingle of all its events; no notes, no shingles."""
    codes = _melody_codes(tokens).astype(np.uint64)
    if codes.size == 0:
        return np.zeros(0, dtype=np.uint64)
    width = min(SHINGLE, codes.size)
    count = codes.size - width + 1
    hashes = np.zeros(count, dtype=np.uint64)
    with np.errstate(over="ignore"):  # uint64 arithmetic wraps on purpose
        for j in range(width):
            hashes = hashes * _MULTIPLIER + codes[j:j + count] + np.uint64(1)
        return np.unique(_mix(hashes ^ np.uint64(width)))


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """|a & b| / |a | b| of two sorted unique hash arrays (1.0 for two empty melodies)."""
    if a.size == 0 and b.size == 0:
        return 1.0
    common = np.intersect1d(a, b, assume_unique=True).size
    return common / (a.size + b.size - common)


def similarity(a: Tune | Sequence[str], b: Tune | Sequence[str]) -> float:
    """Melody similarity in [0, 1] of two tunes (or key-normalised token lists); 1 for the same
    melody in any key or octave."""
    return jaccard(*(shingles(tune_to_tokens(x) if isinstance(x, Tune) else x) for x in (a, b)))


@dataclass(frozen=True)
class Match:
    name: str
    similarity: float


@dataclass(frozen=True)
class NoveltyIndex:
    keys: np.ndarray  # sorted unique shingle hashes (uint64)
    offsets: np.ndarray  # postings of keys[i] are postings[offsets[i]:offsets[i + 1]]
    postings: np.ndarray  # tune numbers (uint16 when there are few enough tunes)
    sizes: np.ndarray  # shingles per tune
    names: np.ndarray  # readable tune names (str)
    title_words: tuple[str, ...] = ()
    title_counts: tuple[int, ...] = ()
    info: str = "{}"  # JSON: how and from what the index was built

    @classmethod
    def build(cls, names: Sequence[str], token_lists: Iterable[Sequence[str]], titles: Iterable[tuple[str, str]] = (),
              info: dict | None = None) -> NoveltyIndex:  # type: ignore[type-arg]
        """Index tunes (`names[i]` for `token_lists[i]`); `titles` are (title, tune type) pairs."""
        per_tune = [shingles(tokens) for tokens in token_lists]
        if not per_tune or len(per_tune) != len(names):
            raise NoveltyError(f"an index needs one name per tune and at least one tune ({len(names)} names, "
                               f"{len(per_tune)} tunes)")
        sizes = np.array([s.size for s in per_tune], dtype=np.int64)
        all_keys = np.concatenate(per_tune)
        owners = np.repeat(np.arange(len(per_tune), dtype=np.int64), sizes)
        order = np.lexsort((owners, all_keys))
        all_keys, owners = all_keys[order], owners[order]
        keys, starts = np.unique(all_keys, return_index=True)
        offsets = np.append(starts, all_keys.size).astype(np.int64)
        id_type = np.uint16 if len(per_tune) <= np.iinfo(np.uint16).max + 1 else np.uint32
        words, counts = title_vocabulary(titles)
        return cls(keys, offsets, owners.astype(id_type), sizes.astype(np.uint32), np.array(list(names), dtype=str),
                   words, counts, json.dumps({"version": INDEX_VERSION, "shingle": SHINGLE, **(info or {})}))

    def __len__(self) -> int:
        return int(self.sizes.size)

    def scores(self, tokens: Sequence[str]) -> np.ndarray:
        """Similarity of the tune to every indexed tune."""
        query = shingles(tokens)
        if query.size == 0:
            return (self.sizes == 0).astype(np.float64)
        where = np.minimum(np.searchsorted(self.keys, query), self.keys.size - 1)
        found = where[self.keys[where] == query]
        starts, ends = self.offsets[found], self.offsets[found + 1]
        lengths = ends - starts
        # Gather all the postings lists at once: position p of list k is postings[starts[k] + p].
        flat = np.repeat(starts - np.concatenate(([0], np.cumsum(lengths)[:-1])), lengths) + np.arange(lengths.sum())
        common = np.bincount(self.postings[flat].astype(np.int64), minlength=len(self)).astype(np.float64)
        return common / (self.sizes.astype(np.float64) + query.size - common)

    def closest(self, tokens: Sequence[str]) -> Match:
        scores = self.scores(tokens)
        best = int(np.argmax(scores))
        return Match(str(self.names[best]), float(scores[best]))

    def to_arrays(self) -> dict[str, np.ndarray]:
        small = self.postings.size < 2**32  # 4-byte offsets on disk when they fit: a smaller file
        return {"keys": self.keys, "offsets": self.offsets.astype(np.uint32 if small else np.int64), "postings": self.postings, "sizes": self.sizes,
                "names": self.names, "title_words": np.array(self.title_words, dtype=str),
                "title_counts": np.array(self.title_counts, dtype=np.int64), "info": np.array(self.info)}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> NoveltyIndex:
        try:
            index = cls(arrays["keys"].astype(np.uint64, copy=False), arrays["offsets"].astype(np.int64, copy=False),
                        arrays["postings"], arrays["sizes"], arrays["names"],
                        tuple(str(w) for w in arrays.get("title_words", ())),
                        tuple(int(c) for c in arrays.get("title_counts", ())), str(arrays.get("info", "{}")))
        except KeyError as error:
            raise NoveltyError(f"the novelty index lacks its {error} array") from None
        if json.loads(index.info).get("shingle", SHINGLE) != SHINGLE:
            raise NoveltyError("the novelty index was built with another shingle length; rebuild it")
        if (index.offsets.size != index.keys.size + 1 or int(index.offsets[-1]) != index.postings.size
                or index.names.size != index.sizes.size
                or (index.postings.size and int(index.postings.max()) >= index.sizes.size)):
            raise NoveltyError("the novelty index's arrays do not fit together (damaged file?)")
        return index


def title_vocabulary(titles: Iterable[tuple[str, str]]) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """The words new titles are built from, with how many training titles use each.

    The templates ("The Humours of {a}", "{a}'s Reel") are the naming habits of dance tunes, so
    words come from the titles of tunes whose rhythm names a dance type; when a corpus has too few
    of those (a corpus of songs), from all titles. Function words and tune-type words are left out
    (the template adds the type), as are words of one title only, which are mostly spelling noise."""
    titled = [(title, kind) for title, kind in titles if title.strip()]
    dances = [title for title, kind in titled if tune_type(kind) != "other"]
    counts = _word_counts(dances)
    if len(counts) < 50:
        counts = _word_counts([title for title, _ in titled])
    common = sorted(((w, c) for w, c in counts.items() if c >= 2), key=lambda wc: (-wc[1], wc[0]))[:MAX_TITLE_WORDS]
    return tuple(w for w, _ in common), tuple(c for _, c in common)


def _word_counts(titles: Iterable[str]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for title in titles:
        words = set()
        for raw in re.findall(r"[^\W\d_]+(?:'[^\W\d_]+)?", title):
            word = raw.lower()
            # Of words with an apostrophe only Irish names (O'Neill) are kept, not I'm, o'er, Paddy's.
            if (len(word) < 3 or word in _STOP_WORDS or word in TYPE_WORDS
                    or ("'" in word and not word.startswith("o'"))):
                continue
            words.add("'".join(part[:1].upper() + part[1:] for part in word.split("'")))  # O'More
        counts.update(words)
    return counts


def readable_name(shard_name: str, title: str = "") -> str:
    """`/.../oneills1850/1176-1275.abc#X:2` -> `1176-1275 X:2 "The Humors of Westport"`."""
    path, _, tune_id = shard_name.partition("#")
    name = f"{Path(path).stem} {tune_id}".strip()
    title = title.strip().strip('"').strip()
    if title.isupper():  # SCHLAF KINDLEIN SCHLAF -> Schlaf Kindlein Schlaf
        title = title.title()
    return f'{name} "{title}"' if title else name


def build_from_corpus(corpus: str | Path, split: str = "train", with_titles: bool = True) -> NoveltyIndex:
    """The index of a corpus folder's `split`, with titles read back from its ABC sources (the
    corpus keeps only a `path#X:n` name per tune; sources that are gone or unreadable just give
    no title)."""
    from symbolic.corpus.build import iter_split, load_manifest, load_vocabulary

    manifest = load_manifest(corpus)
    vocab = load_vocabulary(corpus)
    shard_names: list[str] = []
    token_lists: list[list[str]] = []
    for name, ids in iter_split(corpus, split):
        shard_names.append(name)
        token_lists.append(without_controls(vocab.decode(ids.tolist())))  # generated tunes are compared without them
    if not shard_names:
        raise NoveltyError(f"{corpus}: the {split} split has no tunes")
    found = _source_titles(shard_names) if with_titles else {}
    names = [readable_name(n, found.get(n, ("", ""))[0]) for n in shard_names]
    return NoveltyIndex.build(names, token_lists, found.values(),
                              {"split": split, "tunes": len(names), "sources": manifest.get("sources", []),
                               "corpus_vocabulary_sha256": manifest.get("vocabulary", {}).get("sha256")})


def _source_titles(shard_names: Sequence[str]) -> dict[str, tuple[str, str]]:
    """shard name -> (first title, R: field) for the tunes of readable ABC source files."""
    from symbolic.abc.reader import read_abc_file

    wanted: dict[str, set[str]] = {}
    for name in shard_names:
        path, _, tune_id = name.partition("#")
        wanted.setdefault(path, set()).add(tune_id)
    found: dict[str, tuple[str, str]] = {}
    for path, ids in wanted.items():
        if not path.lower().endswith(".abc"):
            continue
        try:
            book = read_abc_file(path)
        except (SymbolicError, OSError):
            continue
        for tune in book.tunes:
            tune_id = f"X:{tune.reference}"
            if tune_id in ids and tune.titles:
                found.setdefault(f"{path}#{tune_id}", (tune.titles[0].strip(), tune.rhythm))
    return found


def add_to_model(model_dir: str | Path, corpus_dir: str | Path, split: str = "train") -> Path:
    """Build the index of `corpus_dir`'s `split` and write it into `model_dir` (atomically, so a
    model in use sees the old index or the new one); returns the file."""
    from symbolic.models.modelfile import load_model, save_novelty

    load_model(model_dir)  # refuse to write into something that is not a model
    index = build_from_corpus(corpus_dir, split)
    path = save_novelty(model_dir, index.to_arrays())
    NoveltyIndex.from_arrays(load_model(model_dir).novelty or {})  # reads back whole
    return path

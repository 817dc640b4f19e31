"""Novelty: the melody similarity, the index shipped with a model, resampling of copies, titles.

The model is random (as in test_generate.py); copies are made to happen on purpose: by indexing
the very tunes a seed produces (so the same seed's first attempt is a copy and must be resampled),
and by a prime holding a whole tune (so every attempt is a copy and the least similar is kept).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from corpus import folk_files

from symbolic.abc.reader import read_abc_file, read_tune
from symbolic.abc.writer import write_abc
from symbolic.cli.main import main
from symbolic.corpus.build import BuildSettings, build_corpus
from symbolic.generation.generate import Request, generate, novelty_note
from symbolic.generation.grammar import GenerationError
from symbolic.models.config import ModelConfig
from symbolic.models.modelfile import NOVELTY, ModelFile, ModelFileError, load_model
from symbolic.novelty.index import (
    NoveltyIndex,
    build_from_corpus,
    readable_name,
    shingles,
    similarity,
    title_vocabulary,
)
from symbolic.tokens import Vocabulary, tune_to_tokens
from symbolic.transpose import transpose, transpose_to
from symbolic.tune import Tune

FORCED = "X:1\nT:The Forced Reel\nR:reel\nM:4/4\nL:1/8\nK:D\n|:DFAd fdAF|dfaf gfed:|\n"
BOOK = """X:1
T:The Humours of Ballyloughlin
R:jig
M:6/8
L:1/8
K:D
|:DFA dAF|GBd gdB|AFD DFA|BAG FED:|

X:2
T:Ballyloughlin Lass
R:jig
M:6/8
L:1/8
K:G
|:GAB dBG|ced cBA|GAB dBG|AGF G3:|

X:3
T:Lied
M:3/4
L:1/4
K:F
|:F A c|d c A|G F E|F3:|
"""


@pytest.fixture(scope="module")
def oneills() -> list[Tune]:
    path = next(p for p in folk_files() if p.parent.name == "oneills1850")
    return read_abc_file(path).tunes


@pytest.fixture(scope="module")
def model(oneills: list[Tune]) -> ModelFile:
    tokens = {t for tune in oneills for t in tune_to_tokens(tune)} | set(tune_to_tokens(read_tune(FORCED)))
    tokens |= {"type:reel", "type:jig"}
    vocab = Vocabulary.build(tokens)
    config = ModelConfig(embedding=8, units=16, layers=1)
    rng = np.random.default_rng(0)
    weights = {"embedding/embeddings": rng.normal(0, 1, (len(vocab), 8)),
               "logits/kernel": rng.normal(0, 1, (16, len(vocab))), "logits/bias": np.zeros(len(vocab)),
               "lstm_0/kernel": rng.normal(0, 0.5, (8, 64)), "lstm_0/recurrent_kernel": rng.normal(0, 0.5, (16, 64)),
               "lstm_0/bias": np.zeros(64)}
    return ModelFile(config, vocab, weights)


def test_similarity_is_one_for_itself_and_transposed_copies_low_for_others(oneills: list[Tune]) -> None:
    tune = oneills[0]
    assert similarity(tune, tune) == 1.0
    assert similarity(tune, transpose(tune, 5, 3)) == 1.0  # up a fourth
    assert similarity(tune, transpose(tune, -12, -7)) == 1.0  # down an octave
    assert similarity(tune, transpose_to(tune, "A")) == 1.0
    others = [similarity(tune, other) for other in oneills[1:31]]
    assert max(others) < 0.5 and float(np.median(others)) < 0.15
    # One changed bar lowers it, but it stays well above unrelated tunes.
    body = list(tune.body)
    changed = next(i for i, e in enumerate(body) if getattr(e, "pitches", ()) and i > 4)
    body[changed] = dataclasses.replace(body[changed], pitches=(body[changed].pitches[-1] + 7,))
    near = similarity(tune, dataclasses.replace(tune, body=tuple(body)))
    assert max(others) < near < 1.0


def test_index_agrees_with_pairwise_similarity_and_survives_the_model_file(oneills: list[Tune], model: ModelFile,
                                                                         tmp_path: Path) -> None:
    tunes = oneills[:40]
    index = NoveltyIndex.build([f"tune {i}" for i in range(len(tunes))], [tune_to_tokens(t) for t in tunes])
    query = tune_to_tokens(transpose_to(tunes[7], "E"))
    scores = index.scores(query)
    assert np.allclose(scores, [similarity(query, tune_to_tokens(t)) for t in tunes])
    assert index.closest(query).name == "tune 7" and index.closest(query).similarity == 1.0
    dataclasses.replace(model, novelty=index.to_arrays()).save(tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    assert loaded.novelty is not None
    assert NoveltyIndex.from_arrays(loaded.novelty).closest(query) == index.closest(query)
    model.save(tmp_path / "m")  # a model without an index removes the stale one
    assert not (tmp_path / "m" / NOVELTY).exists() and load_model(tmp_path / "m").novelty is None
    (tmp_path / "m" / NOVELTY).write_bytes(b"PK\x03\x04 not a zip")
    with pytest.raises(ModelFileError, match="novelty.npz"):
        load_model(tmp_path / "m")


def test_a_copy_of_a_training_tune_is_resampled(model: ModelFile, oneills: list[Tune]) -> None:
    options = {"count": 4, "tune_type": "reel", "key": "D", "seed": 5, "bars_per_part": 2, "parts": 1}
    originals = generate(model, **options)
    # Index what this seed samples first (among real tunes): its first attempts are now copies.
    index_tunes = originals + oneills[:20]
    index = NoveltyIndex.build([f"copy {i}" for i in range(len(index_tunes))], [tune_to_tokens(t) for t in index_tunes])
    guarded = dataclasses.replace(model, novelty=index.to_arrays())
    unchecked = generate(guarded, max_similarity=1.0, **options)
    assert [t.notes for t in unchecked] == [t.notes for t in originals]  # the first attempts are the copies
    assert all("copy" in (novelty_note(t) or "") and "(similarity 1.00)" in (novelty_note(t) or "") for t in unchecked)
    fresh = generate(guarded, **options)
    for original, tune in zip(originals, fresh, strict=True):
        assert tune.notes != original.notes
        note = novelty_note(tune)
        assert note is not None and "still above" not in note
        assert index.closest(tune_to_tokens(tune)).similarity <= 0.95
        assert read_tune(write_abc(tune)) == tune  # the N: field reads back
    assert fresh == generate(guarded, **options)  # resampling keeps the seed's promise


def test_a_forced_copy_is_kept_and_reported(model: ModelFile, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    forced = read_tune(FORCED)
    index = NoveltyIndex.build(["forced X:1 \"The Forced Reel\""], [tune_to_tokens(forced)])
    dataclasses.replace(model, novelty=index.to_arrays()).save(tmp_path / "m")
    prime = "|:DFAd fdAF|dfaf gfed:|"
    (tune,) = generate(str(tmp_path / "m"), tune_type="reel", key="G", prime=prime, parts=1, bars_per_part=2, seed=1)
    assert similarity(tune, forced) == 1.0  # in G, still the same melody
    note = novelty_note(tune)
    assert note is not None and "The Forced Reel" in note and "similarity 1.00" in note and "still above the 0.95" in note
    assert main(["generate", "--model", str(tmp_path / "m"), "--type", "reel", "--key", "D", "--prime", prime,
                 "--parts", "1", "--bars-per-part", "2", "--formats", "abc", "--out", "-", "--seed", "1"]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("X:1") and "N:closest training tune: forced X:1" in captured.out
    assert "X:1" in captured.err and "closest training tune" in captured.err and "still above" in captured.err
    assert main(["generate", "--model", str(tmp_path / "m"), "--max-similarity", "1.5", "--out", "-",
                 "--formats", "abc"]) == 2
    with pytest.raises(GenerationError, match="similarity"):
        Request(max_similarity=0)


def test_index_from_a_corpus_has_readable_names_and_title_words(model: ModelFile, tmp_path: Path) -> None:
    source = tmp_path / "book.abc"
    source.write_text(BOOK)
    build_corpus([str(source)], tmp_path / "corpus", BuildSettings(valid_fraction=0, test_fraction=0), progress=False)
    index = build_from_corpus(tmp_path / "corpus")
    assert sorted(index.names) == ['book X:1 "The Humours of Ballyloughlin"', 'book X:2 "Ballyloughlin Lass"',
                                   'book X:3 "Lied"']
    assert index.title_words == ("Ballyloughlin",)  # the only word of two titles; "Humours" is in one
    guarded = dataclasses.replace(model, novelty=index.to_arrays())
    tunes = generate(guarded, count=5, tune_type="jig", seed=2, bars_per_part=2, parts=1)
    assert all("Ballyloughlin" in t.title for t in tunes)


def test_title_words_prefer_dance_titles_and_drop_noise() -> None:
    titles = [(f"The {w} Reel", "reel") for w in ("Kerry", "Kerry", "Sligo", "Sligo", "Sligo", "Once")]
    titles += [("Der Kerry Mond", ""), ("I'm O'Neill's Jig", "jig"), ("O'Neill's Fancy", "jig")]
    words, counts = title_vocabulary(titles)
    assert "Sligo" in words and "Kerry" in words and "O'Neill" in words
    assert not {"Once", "Reel", "Jig", "I'm", "Mond", "The"} & set(words)  # one title only, types, noise
    counties = ("Ash Oak Elm Yew Fir Bay Box Cork Clare Derry Down Mayo Meath Louth "
                "Laois Offaly Kildare Wicklow Wexford Carlow Kilkenny Tipperary Galway "
                "Leitrim Roscommon")
    many = [(f"{w} {w}field", "jig") for w in counties.split()] * 2
    assert "Mond" not in title_vocabulary(many + [("Der Mond", "")] * 2)[0]  # dance titles, when there are enough
    assert "Mond" in title_vocabulary(titles + [("Der Mond", "")] * 2)[0]  # else every title
    assert readable_name("/x/y/Book.abc#X:3", "SCHLAF KINDLEIN") == 'Book X:3 "Schlaf Kindlein"'
    assert shingles([]).size == 0 and shingles(["p:60", "d:1"]).size == 1
    assert dict(zip(words, counts, strict=True))["Sligo"] == 3

"""Note-event tokens: lossless for the normalised melody, key-normalised, a deterministic vocabulary."""

from __future__ import annotations

import pytest
from corpus import all_folk_tunes

from symbolic.abc.reader import read_tune
from symbolic.tokens import (
    TokenError,
    Vocabulary,
    normalize,
    split_at_bar,
    tokens_to_tune,
    tune_to_tokens,
)
from symbolic.tune_types import tune_type

JIG_D = 'X:3\nT:t\nR:double jig\nM:6/8\nL:1/8\nK:D\n|:"D"{g}FAF [DFA]2d|e3- e2f:|1 g3 a3:|2 f3 d3|]\n'
JIG_G = JIG_D.replace("K:D", "K:G").replace("FAF", "B,DB,").replace("[DFA]2d", "[G,B,D]2G").replace(
    "e3- e2f", "A3- A2B").replace("g3 a3", "c3 d3").replace("f3 d3", "B3 G3")


def test_tokens_of_a_small_tune() -> None:
    tokens = tune_to_tokens(read_tune(JIG_D))
    # D major moves down to C major; the chord keeps its top note; the grace note is dropped.
    assert tokens[:4] == ["type:jig", "meter:6/8", "unit:1/8", "mode:major"]
    assert tokens[4:12] == ["bar:|:", "p:64", "d:1/2", "p:67", "d:1/2", "p:64", "d:1/2", "p:67"]
    assert "tie" in tokens and "ending:1" in tokens and "ending:2" in tokens and "bar::|" in tokens


def test_same_melody_in_another_key_gives_the_same_tokens() -> None:
    # Key normalisation: a transposed copy (D major vs G major) is the same token sequence.
    assert tune_to_tokens(read_tune(JIG_D)) == tune_to_tokens(read_tune(JIG_G))


def test_lossless_on_the_whole_bundled_corpus() -> None:
    failures = [t for t in all_folk_tunes() if tokens_to_tune(tune_to_tokens(t), t.reference) != normalize(t)]
    assert not failures, f"{len(failures)} tunes lost something, first {failures[0].source} X:{failures[0].reference}"


def test_vocabulary_is_sorted_with_specials_first_and_round_trips() -> None:
    tokens = tune_to_tokens(read_tune(JIG_D))
    vocab = Vocabulary.build(reversed(tokens))
    assert vocab.tokens[:3] == ("<pad>", "<start>", "<end>")
    assert list(vocab.tokens[3:]) == sorted(set(tokens))
    assert Vocabulary.build(tokens) == vocab  # order of discovery does not matter
    ids = vocab.encode(tokens)
    assert ids[0] == 1 and ids[-1] == 2 and vocab.decode(ids[1:-1]) == tokens
    assert Vocabulary.from_json(vocab.to_json()) == vocab and len(vocab.sha256) == 64


def test_unknown_token_is_a_clear_error_not_unk() -> None:
    vocab = Vocabulary.build(["p:60", "d:1"])
    with pytest.raises(TokenError, match="'p:61' is not in this vocabulary"):
        vocab.encode(["p:61", "d:1"])


def test_split_at_any_bar_gives_prompt_and_continuation() -> None:
    tokens = tune_to_tokens(read_tune(JIG_D))
    for bar in range(0, 4):
        prompt, rest = split_at_bar(tokens, bar)
        assert prompt + rest == tokens and prompt[:4] == tokens[:4]
    prompt, rest = split_at_bar(tokens, 2)
    assert prompt[-1] == "bar:|" and rest[0] == "p:74"  # e in D is d in C
    with pytest.raises(TokenError, match="only"):
        split_at_bar(tokens, 99)


@pytest.mark.parametrize("tokens", [["type:jig"], ["type:jig", "meter:6/8", "unit:1/8", "mode:major", "p:60"],
                                    ["type:jig", "meter:6/8", "unit:1/8", "mode:major", "zzz"],
                                    ["type:jig", "meter:6/8", "unit:1/8", "mode:nonsense"]])
def test_bad_token_sequences_raise_token_error(tokens: list[str]) -> None:
    with pytest.raises(TokenError):
        tokens_to_tune(tokens)


def test_tune_types_from_rhythm_fields() -> None:
    assert [tune_type(r) for r in ["Double Jig", "slip-jig", "Reel", "Strathspey", "Romanze, Ballade", ""]] == [
        "jig", "slip-jig", "reel", "strathspey", "other", "other"]

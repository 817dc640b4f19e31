"""Keys named by a tune's final: the rule, and a corpus built with it."""

from __future__ import annotations

from pathlib import Path

from symbolic.abc.reader import read_tune
from symbolic.corpus.build import BuildSettings, build_corpus, iter_split, load_vocabulary
from symbolic.corpus.finals import key_from_final, with_key_from_final
from symbolic.evaluation.run import load_real, load_written, with_written_keys
from symbolic.tune import Key

# A dorian tune written, as O'Neill's writes them, with G major's signature: both parts end on A.
DORIAN_AS_G = "X:1\nM:6/8\nL:1/8\nK:G\n|:A3 ABc|BAG EDB,|A3 ABc|BGE A3:|\n|:e3 edB|AGE GAB|e3 dBG|BGE A3:|\n"


def tune(text: str):  # type: ignore[no-untyped-def]
    return read_tune(text)


def test_a_tune_is_named_by_the_note_every_part_ends_on() -> None:
    assert key_from_final(tune(DORIAN_AS_G)) == Key("A", "dorian")
    # The notes choose the mode on that final: B flats make a K:C tune ending on F F major, not lydian.
    assert key_from_final(tune("X:1\nM:4/4\nL:1/8\nK:C\n|:FAcA _BAGF:|\n|:cAGF _BAGF:|\n")) == Key("F", "major")
    # A final on the leading tone names no mode folk musicians use: the written key stays.
    assert key_from_final(tune("X:1\nM:4/4\nL:1/8\nK:C\n|:CDEF GAB2:|\n|:cBAG FGAB:|\n")) is None


def test_a_tune_keeps_its_key_without_plain_evidence() -> None:
    ends_home = "X:1\nM:6/8\nL:1/8\nK:G\n|:G3 ABc|BAG DEF|G3 ABc|BAF G3:|\n"
    one_part = "X:1\nM:6/8\nL:1/8\nK:G\n|:A3 ABc|BAG EDB,|A3 ABc|BGE A3:|\n"  # a song may end away from home
    parts_disagree = DORIAN_AS_G.replace("BGE A3:|\n|:e3", "BGE G3:|\n|:e3")
    key_change = DORIAN_AS_G.replace("|:e3 edB", "[K:D]|:e3 edB")
    extra_accidental = DORIAN_AS_G.replace("K:G", "K:G ^c")
    for text in (ends_home, one_part, parts_disagree, key_change, extra_accidental):
        assert key_from_final(tune(text)) is None
        assert with_key_from_final(tune(text)) == tune(text)


def test_corpus_built_with_keys_from_finals_names_the_mode_and_keeps_the_split(tmp_path: Path) -> None:
    source = tmp_path / "tunes.abc"
    source.write_text(DORIAN_AS_G, encoding="utf-8")
    folders = {}
    for named in (False, True):
        folders[named] = tmp_path / f"corpus-{named}"
        manifest = build_corpus([str(source)], folders[named], BuildSettings(keys_from_finals=named), progress=False)
        assert manifest["counts"].get("keys_from_finals") == (1 if named else None)
    modes = {}
    for named, folder in folders.items():
        (split, (_, ids)), = [(s, t) for s in ("train", "valid", "test") for t in iter_split(folder, s)]
        modes[named] = (split, load_vocabulary(folder).decode(ids.tolist())[3])
    assert modes == {False: (modes[False][0], "mode:major"), True: (modes[False][0], "mode:dorian")}
    # The real tune read back from its file carries the key the corpus named: A, not G.
    real = load_real(folders[True], modes[True][0])
    assert [h[3] for h in with_written_keys(real, load_written(real)).headers] == ["A"]

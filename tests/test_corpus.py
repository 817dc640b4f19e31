"""`symbolic corpus build`: deduplicated, leak-free, deterministic, atomic, lossless shards."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from symbolic.abc.reader import read_abc
from symbolic.abc.writer import write_abc_tunebook
from symbolic.cli.main import main
from symbolic.corpus.build import (
    MANIFEST,
    BuildSettings,
    CorpusError,
    build_corpus,
    iter_split,
    load_manifest,
    load_vocabulary,
    melody_key,
)
from symbolic.corpus.stats import corpus_stats
from symbolic.tokens import tokens_to_tune, tune_to_tokens
from symbolic.transpose import transpose_to


def write_book(folder: Path, name: str, count: int, offset: int = 0) -> Path:
    letters = "CDEFGABcdefgab"
    tunes = []
    for n in range(count):
        # A distinct melody per n: its first four notes walk up from a different letter.
        start = (n + offset) % 10
        notes = "".join(letters[start + i] for i in range(4))
        tunes.append(f"X:{n + 1}\nT:T{n + offset}\nR:reel\nM:4/4\nL:1/8\nK:G\n"
                     f"|:{notes} {letters[(n + offset) // 10 % 7]}2B2|cBAG A4:|\n")
    path = folder / name
    path.write_text("\n".join(tunes))
    return path


@pytest.fixture
def sources(tmp_path: Path) -> list[str]:
    folder = tmp_path / "abc"
    folder.mkdir()
    first = write_book(folder, "a.abc", 40)
    # b.abc repeats a.abc's first 10 melodies moved to D: duplicates after key normalisation.
    moved = [transpose_to(t, "D") for t in read_abc(first.read_text()).tunes[:10]]
    (folder / "b.abc").write_text(write_abc_tunebook(moved))
    write_book(folder, "c.abc", 30, offset=40)
    (folder / "bad.abc").write_text("X:1\nT:broken\nK:C\nAB = C|\n")
    return [str(folder)]


def test_build_counts_dedupes_and_splits_without_leaks(sources: list[str], tmp_path: Path) -> None:
    out = tmp_path / "corpus"
    manifest = build_corpus(sources, out, BuildSettings(seed=3, valid_fraction=0.2, test_fraction=0.2), progress=False)
    counts = manifest["counts"]
    assert counts["read"] == 81 and counts["skipped"] == 1
    assert counts["duplicates"] == 10
    assert counts["kept"] == 70 == counts["train"] + counts["valid"] + counts["test"]
    assert counts["valid"] > 0 and counts["test"] > 0
    vocab = load_vocabulary(out)
    keys = {split: {melody_key(tokens_to_tune(vocab.decode(ids.tolist()))) for _, ids in iter_split(out, split)}
            for split in ("train", "valid", "test")}
    assert not keys["train"] & keys["valid"] and not keys["train"] & keys["test"] and not keys["valid"] & keys["test"]
    assert sum(len(k) for k in keys.values()) == 70
    skipped = (out / "skipped.tsv").read_text().splitlines()
    assert len(skipped) == 2 and "bad.abc" in skipped[1] and "unexpected character" in skipped[1]
    assert manifest["vocabulary"]["sha256"] == vocab.sha256
    assert json.loads((out / MANIFEST).read_text()) == manifest


def test_shards_decode_to_the_normalised_tunes(sources: list[str], tmp_path: Path) -> None:
    out = tmp_path / "corpus"
    build_corpus(sources, out, progress=False)
    vocab = load_vocabulary(out)
    decoded = {}
    for split in ("train", "valid", "test"):
        for name, ids in iter_split(out, split):
            decoded[name] = tokens_to_tune(vocab.decode(ids.tolist()))
    path = Path(sources[0]) / "c.abc"
    for tune in read_abc(path.read_text()).tunes:
        name = f"{path}#X:{tune.reference}"
        assert tokens_to_tune(tune_to_tokens(tune), 1) == decoded[name]


def test_same_seed_same_corpus_whatever_the_jobs(sources: list[str], tmp_path: Path) -> None:
    one = build_corpus(sources, tmp_path / "one", BuildSettings(seed=5, jobs=1), progress=False)
    two = build_corpus(sources, tmp_path / "two", BuildSettings(seed=5, jobs=2), progress=False)
    build_corpus(sources, tmp_path / "other", BuildSettings(seed=6, valid_fraction=0.3), progress=False)
    assert one["counts"] == two["counts"]
    for split in ("train", "valid", "test"):
        assert [n for n, _ in iter_split(tmp_path / "one", split)] == [n for n, _ in iter_split(tmp_path / "two", split)]
    assert [n for n, _ in iter_split(tmp_path / "one", "valid")] != [n for n, _ in iter_split(tmp_path / "other", "valid")]


def test_interrupted_build_leaves_no_manifest(sources: list[str], tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "corpus"
    build_corpus(sources, out, progress=False)
    assert (out / MANIFEST).exists()

    def crash(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt

    monkeypatch.setattr("symbolic.corpus.build._finalise_shards", crash)
    with pytest.raises(KeyboardInterrupt):
        build_corpus(sources, out, progress=False)
    assert not (out / MANIFEST).exists() and not (out / ".building").exists()
    with pytest.raises(CorpusError, match="did not finish"):
        load_manifest(out)


def test_cli_build_and_stats(sources: list[str], tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "corpus"
    assert main(["corpus", "build", *sources, "--out", str(out), "--jobs", "1"]) == 0
    printed = capsys.readouterr().out
    assert "kept 70 tunes" in printed
    assert main(["corpus", "stats", str(out), "--plot"]) == 0
    printed = capsys.readouterr().out
    assert "train" in printed and "meters: 4/4 70" in printed and (out / "lengths.png").stat().st_size > 1000
    stats = corpus_stats(out)
    assert stats["types"]["reel"] == 70
    assert main(["corpus", "stats", str(tmp_path)]) == 2


def test_midi_files_are_a_source_too(tmp_path: Path) -> None:
    # A folder mixing ABC and MIDI: MIDI melodies are read, tokenised and counted like ABC tunes;
    # a corrupt MIDI file is skipped with its reason.
    from symbolic.midi.writer import write_midi

    folder = tmp_path / "mixed"
    folder.mkdir()
    book = write_book(folder, "a.abc", 5)
    for tune in read_abc(book.read_text()).tunes[:2]:
        write_midi(transpose_to(tune, "A"), folder / f"t{tune.reference}.mid")
    (folder / "broken.mid").write_bytes(b"MThd\x00\x00")
    manifest = build_corpus([str(folder)], tmp_path / "out", progress=False)
    counts = manifest["counts"]
    assert counts["read"] == 8 and counts["skipped"] == 1
    # The two MIDI files hold melodies of a.abc in another key: found as duplicates.
    assert counts["duplicates"] == 2 and counts["kept"] == 5
    assert "broken.mid" in (tmp_path / "out" / "skipped.tsv").read_text()


def test_build_refuses_a_folder_that_is_not_a_corpus(sources: list[str], tmp_path: Path) -> None:
    # Issue 16: pointed at a model folder, a build deleted its weights.npz and novelty.npz.
    model = tmp_path / "model"
    model.mkdir()
    for name in ("weights.npz", "novelty.npz", "vocab.json", "mine.npz"):
        (model / name).write_bytes(b"precious")
    with pytest.raises(CorpusError, match="not a corpus folder"):
        build_corpus(sources, model, progress=False)
    assert sorted(p.name for p in model.iterdir()) == ["mine.npz", "novelty.npz", "vocab.json", "weights.npz"]
    assert all(p.read_bytes() == b"precious" for p in model.iterdir())
    assert main(["corpus", "build", *sources, "--out", str(model), "--jobs", "1"]) == 2


def test_rebuild_deletes_only_what_the_old_manifest_lists(sources: list[str], tmp_path: Path) -> None:
    out = tmp_path / "corpus"
    build_corpus(sources, out, BuildSettings(shard_tunes=10), progress=False)
    old_shards = {p.name for p in out.glob("*.npz")}
    assert len(old_shards) > 3
    (out / "notes.npz").write_bytes(b"the user's own")
    (out / "README").write_text("mine")
    manifest = build_corpus(sources, out, progress=False)  # fewer, larger shards this time
    kept = {name for split in manifest["shards"].values() for name in split}
    assert {p.name for p in out.glob("*.npz")} == kept | {"notes.npz"}
    assert (out / "notes.npz").read_bytes() == b"the user's own" and (out / "README").read_text() == "mine"
    assert not (out / ".build-pending.json").exists()


def test_a_folder_left_by_an_interrupted_build_can_be_rebuilt(sources: list[str], tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "corpus"

    def crash(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr("symbolic.corpus.build._finalise_shards", crash)
        with pytest.raises(KeyboardInterrupt):
            build_corpus(sources, out, progress=False)
    assert any(out.iterdir()) and not (out / MANIFEST).exists()
    assert build_corpus(sources, out, progress=False)["counts"]["kept"] == 70


def test_a_doctored_manifest_deletes_nothing_outside_the_folder(sources: list[str], tmp_path: Path) -> None:
    out = tmp_path / "corpus"
    build_corpus(sources, out, progress=False)
    outside = tmp_path / "outside.npz"
    outside.write_bytes(b"keep")
    manifest = json.loads((out / MANIFEST).read_text())
    manifest["shards"]["train"].append(str(outside))
    manifest["shards"]["train"].append("../outside.npz")
    (out / MANIFEST).write_text(json.dumps(manifest))
    build_corpus(sources, out, progress=False)
    assert outside.read_bytes() == b"keep"


def test_empty_and_binary_abc_files_are_skipped_with_a_reason(tmp_path: Path) -> None:
    folder = tmp_path / "src"
    folder.mkdir()
    write_book(folder, "good.abc", 3)
    (folder / "empty.abc").write_bytes(b"")
    (folder / "binary.abc").write_bytes(bytes(range(256)) * 8)
    (folder / "prose.abc").write_text("just some words\n")
    manifest = build_corpus([str(folder)], tmp_path / "out", progress=False)
    assert manifest["counts"]["skipped"] == 3
    rows = {Path(line.split("\t")[0]).name: line.split("\t")[2]
            for line in (tmp_path / "out" / "skipped.tsv").read_text().splitlines()[1:]}
    assert rows == {"empty.abc": "empty file", "binary.abc": "a binary file, not ABC text",
                    "prose.abc": "no tune found (no X: or K: line)"}


def test_jobs_are_capped_at_the_core_count(sources: list[str], tmp_path: Path, capsys,  # type: ignore[no-untyped-def]
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[int] = []

    class CountingPool:
        def __init__(self, processes: int) -> None:
            started.append(processes)

        def __enter__(self):  # type: ignore[no-untyped-def]
            return self

        def __exit__(self, *exc: object) -> None:
            return None

        def imap(self, function, tasks, chunksize=1):  # type: ignore[no-untyped-def]
            return map(function, tasks)

    monkeypatch.setattr("symbolic.corpus.build.Pool", CountingPool)
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    assert main(["corpus", "build", *sources, "--out", str(tmp_path / "c"), "--jobs", "1000"]) == 0
    assert started == [2]
    assert "--jobs 1000 is more than the 2 cores here; using 2" in capsys.readouterr().err

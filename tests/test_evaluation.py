"""`symbolic evaluate --report`: every figure against hand-computed values on small tunes, copies
flagged by novelty, and one end-to-end run of the command with a tiny random-weight model."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from random_models import random_lstm

from symbolic.abc.reader import read_tune
from symbolic.abc.writer import write_abc
from symbolic.cli.main import main
from symbolic.corpus.build import BuildSettings, build_corpus, iter_split, load_manifest, load_vocabulary
from symbolic.evaluation import EvaluationError
from symbolic.evaluation.metrics import (
    compare_distributions,
    edit_similarity,
    inter_distances,
    interval_histogram,
    intra_distances,
    melody,
    mode_adherence,
    note_length_histogram,
    note_length_transitions,
    notes_per_bar,
    pitch_class_histogram,
    pitch_class_transitions,
    pitch_range,
)
from symbolic.evaluation.parts import form_figures, is_aabb, parts
from symbolic.evaluation.run import EvaluationSettings, load_real
from symbolic.evaluation.validity import abc2midi_clean, full_bars, validity_figures
from symbolic.models.modelfile import ModelFile
from symbolic.novelty.copies import TrainingIndex, bar_keys, novelty_figures
from symbolic.tokens import TokenizerSettings, normalize
from symbolic.transpose import transpose


def tune(body: str, meter: str = "4/4", key: str = "C", unit: str = "1/8") -> object:
    return read_tune(f"X:1\nT:t\nM:{meter}\nL:{unit}\nK:{key}\n{body}\n")


# ------------------------------------------------------------------ Yang & Lerch features


def test_pitch_class_and_interval_histograms_by_hand() -> None:
    t = tune("C D E C | G2 z2 c4 |]")  # C D E C G c: pitch classes 0 2 4 0 7 0
    expected = np.zeros(12)
    expected[[0, 2, 4, 7]] = [3, 1, 1, 1]
    assert np.allclose(pitch_class_histogram(t), expected / 6)
    # Intervals +2 +2 -4 +7 +5, rests skipped.
    histogram = interval_histogram(t)
    assert histogram.shape == (25,)
    assert np.allclose(histogram[[12 + 2, 12 - 4, 12 + 7, 12 + 5]], [2 / 5, 1 / 5, 1 / 5, 1 / 5])
    assert pitch_range(t)[0] == 72 - 60
    transitions = pitch_class_transitions(t).reshape(12, 12)
    assert transitions[0, 2] == transitions[2, 4] == transitions[4, 0] == transitions[0, 7] == transitions[7, 0] == 1 / 5
    assert transitions.sum() == pytest.approx(1)


def test_intervals_beyond_an_octave_are_clipped() -> None:
    histogram = interval_histogram(tune("C,, c' |]"))
    assert histogram[-1] == 1


def test_note_lengths_ties_and_notes_per_bar() -> None:
    # Eighths (1/2 quarter) C D, a quarter E, a half tied over the bar to a quarter (one 3-quarter note).
    t = tune("C D E2 G4- | G2 A2 B4 |]")
    assert [d for _, d in melody(t)] == [Fraction(1, 2), Fraction(1, 2), Fraction(1), Fraction(3), Fraction(1),
                                         Fraction(2)]
    histogram = note_length_histogram(t)
    # Classes: 1/4 1/3 1/2 3/4 1 3/2 2 3 4 other.
    assert np.allclose(histogram, np.array([0, 0, 2, 0, 2, 0, 1, 1, 0, 0]) / 6)
    transitions = note_length_transitions(t).reshape(10, 10)
    assert transitions[2, 2] == transitions[2, 4] == transitions[4, 7] == transitions[7, 4] == transitions[4, 6] == 1 / 5
    assert notes_per_bar(t)[0] == 6 / 2  # six sounding notes over two bars


def test_distances_overlap_and_kl() -> None:
    a = np.array([[0.0, 0.0], [3.0, 4.0], [6.0, 8.0]])
    assert np.allclose(sorted(intra_distances(a)), [5, 5, 10])
    assert np.allclose(inter_distances(a[:1], a), [0, 5, 10])
    values = np.random.default_rng(0).normal(5, 1, 400)
    same = compare_distributions(values, values.copy())
    assert same.overlap == pytest.approx(1.0, abs=1e-9) and same.kl == pytest.approx(0.0, abs=1e-9)
    far = compare_distributions(values, values + 50)
    assert far.overlap < 0.01 and far.kl > 5
    shifted = compare_distributions(values, values + 1)
    # Two unit normals one sd apart overlap by 2 * Phi(-1/2) = 0.617 and have KL 1/2 nat.
    assert shifted.overlap == pytest.approx(0.617, abs=0.06) and shifted.kl == pytest.approx(0.5, abs=0.15)
    constant = compare_distributions(np.ones(10), np.ones(10))  # degenerate: all distances equal
    assert constant.overlap == pytest.approx(1.0) and constant.kl == pytest.approx(0.0, abs=1e-9)


def test_mode_adherence_and_edit_similarity() -> None:
    assert mode_adherence(tune("A B c d e f g a |]", key="Am")) == (8, 8)  # A minor's scale: all in
    assert mode_adherence(tune("D E F G A B c d |]", key="Ddor")) == (8, 8)
    assert mode_adherence(tune("C ^C D ^D E F ^F G |]")) == (5, 8)
    assert mode_adherence(tune("C D [K:G] ^F =F |]")) == (3, 4)  # the inline key is followed
    assert edit_similarity([1, 2, 3, 4], [1, 2, 3, 4]) == 1.0
    assert edit_similarity([1, 2, 3, 4], [1, 2, 9, 4]) == 0.75
    assert edit_similarity([], []) == 1.0 and edit_similarity([1], [2]) == 0.0


# ------------------------------------------------------------------ form and validity

EIGHT = "C D E F G A B c | " * 7 + "C D E F G A B c"
AABB = f"|: {EIGHT} :|\n|: {EIGHT.replace('C D', 'E D')} :|"


def test_parts_of_an_aabb_reel() -> None:
    found = parts(tune(AABB))
    assert [(p.repeated, p.bars) for p in found] == [(True, 8), (True, 8)]
    assert is_aabb(found)
    figures = form_figures([tune(AABB)])
    assert figures["share_aabb"] == 1 and figures["mean_parts"] == 2 and figures["mean_bars_per_part"] == 8
    assert figures["mean_ab_edit_similarity"] == pytest.approx(1 - 8 / 64)  # 8 of 64 notes changed
    same = f"|: {EIGHT} :|\n|: {EIGHT} :|"
    assert form_figures([tune(same)])["mean_ab_edit_similarity"] == 1.0


def test_parts_with_pickup_endings_and_a_plain_part() -> None:
    # A pickup, a repeated part with first and second endings, then an unrepeated 2-bar part.
    t = tune("G | c2 c2 d2 d2 | e2 e2 f2 f2 |1 g8 :|2 a8 || b8 | c'8 |]")
    found = parts(t)
    assert [(p.repeated, p.bars) for p in found] == [(True, 3), (False, 2)]
    assert found[0].events[0] == (67, Fraction(1, 2))  # the pickup joined the first part
    assert (81, Fraction(4)) not in found[0].events  # the second ending is not in the first pass
    assert not is_aabb(found)


def test_full_bars_and_read_back() -> None:
    # A pickup and the last bar that gives it back make one full bar; when they do not add up, one short bar.
    assert full_bars(tune("G | c2 d2 e2 f2 | g8 | c7 |]")) == (3, 3)
    assert full_bars(tune("G | c2 d2 e2 f2 | g8 | c6 |]")) == (2, 4)
    assert full_bars(tune("|: G | c2 d2 e2 f2 | g7 :|: A | c2 d2 e2 f2 | g7 :|")) == (4, 4)
    assert full_bars(tune("|: C4 D4 :|: E4 F4 :|")) == (2, 2)  # `:|:` closes one bar
    assert full_bars(tune("|: G | c2 d2 e2 f2 |1 g7 :|2 a7 || |: G | c8 | g7 :|")) == (5, 5)  # each ending gives it back
    assert full_bars(tune("C2 D2 E2 | [M:3/4] C2 D2 E2 |]")) == (1, 2)  # measured against the meter in force
    figures = validity_figures([tune(AABB)], check_abc2midi=False)
    assert figures["share_read_back"] == 1 and figures["share_full_bars"] == 1 and figures["bars"] == 16


def test_abc2midi_warnings_are_given_to_their_tune() -> None:
    clean = abc2midi_clean([tune(AABB), tune("C D E F G A B c | C D E | C D E F G A B c |]"), tune(AABB)])
    if clean is None:
        pytest.skip("abc2midi is not installed")
    assert clean == [True, False, True]  # the short bar of the second tune only


def test_hornpipes_are_written_so_that_abc2midi_swings_them_cleanly() -> None:
    # abc2midi pairs the plain eighths of an R:hornpipe itself: `eA<d` written as such fails there.
    hornpipe = read_tune("X:1\nT:t\nR:hornpipe\nM:4/4\nL:1/8\nK:A\n"
                         "|: e>cc>A B3A | eA<de>Bcec | c>AB>c d<dee | d>fe>g f>ba>a :|\n")
    assert read_tune(write_abc(hornpipe)) == hornpipe
    clean = abc2midi_clean([hornpipe])
    if clean is None:
        pytest.skip("abc2midi is not installed")
    assert clean == [True]
    assert ">" in write_abc(hornpipe)  # pairs on the beat keep their folk spelling


# ------------------------------------------------------------------ novelty

@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("corpus")
    build_corpus(["music21:miscFolk"], folder, BuildSettings(seed=1, valid_fraction=0.15, test_fraction=0.15),
                 progress=False)
    return folder


def test_copies_of_training_tunes_are_flagged(corpus: Path) -> None:
    train = load_real(corpus, "train")
    real = load_real(corpus, "test")
    index = TrainingIndex(train.tunes)
    # A "model" that copies training tunes, some moved to another key (still copies); samples are
    # key-normalised before they are compared, as the report does.
    copies = train.tunes[:10] + [normalize(transpose(t, 5, 3)) for t in train.tunes[10:15]]
    assert index.most_similar(transpose(train.tunes[0], 5, 3)) == (0, 1.0)  # shingles ignore the key
    copied = novelty_figures(copies, index, train.names)
    assert copied["share_above_threshold"] == 1.0 and copied["mean_similarity"] == pytest.approx(1.0)
    assert [t["nearest"] for t in copied["per_tune"][:10]] == train.names[:10]
    assert [t["longest_copied_bars"] for t in copied["per_tune"]] == [len(bar_keys(t)) for t in copies]
    fresh = novelty_figures(real.tunes, index, train.names)
    assert fresh["share_above_threshold"] < 0.2 and fresh["mean_similarity"] < 0.5


def test_longest_copied_run_counts_bars_in_order() -> None:
    source = tune("C2 D2 E2 F2 | G2 A2 B2 c2 | c2 B2 A2 G2 | F2 E2 D2 C2 | E8 |]")
    index = TrainingIndex([source])
    # Bars 2 and 3 of the source in order, then a bar the source has elsewhere, then new ones.
    sample = tune("G2 A2 B2 c2 | c2 B2 A2 G2 | C2 D2 E2 F2 | ^C8 | ^D8 |]")
    assert index.longest_copied_run(sample) == (2, 0)
    assert index.most_similar(source) == (0, 1.0)


# ------------------------------------------------------------------ end to end


def random_model(vocab_folder: Path) -> ModelFile:
    history = [{"epoch": 1, "train_loss": 3.0, "valid_loss": 2.5}, {"epoch": 2, "train_loss": 2.0, "valid_loss": 2.2}]
    # The model reads tokens made as its corpus's were.
    tokenizer = TokenizerSettings.from_dict(load_manifest(vocab_folder)["tokenizer"])
    return random_lstm(load_vocabulary(vocab_folder), tokenizer, {"training": {"history": history}})


def test_cli_report_end_to_end(corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = random_model(corpus).save(tmp_path / "tiny")
    other = random_model(corpus).save(tmp_path / "other" / "tiny")  # same folder name: numbered
    out = tmp_path / "report"
    assert main(["evaluate", "--model", str(model), "--model", str(other), "--corpus", str(corpus),
                 "--samples", "6", "--seed", "3", "--report", str(out), "--no-audio"]) == 0
    report = json.loads((out / "report.json").read_text())
    assert {"corpus", "split", "samples", "seed", "real", "models", "plots"} <= set(report)
    assert [m["name"] for m in report["models"]] == ["tiny", "tiny-2"]
    entry = report["models"][0]
    assert {"likelihood", "validity", "form", "mode", "features", "novelty", "training_history",
            "sample_files"} <= set(entry)
    assert entry["likelihood"]["tunes"] == sum(1 for _ in iter_split(corpus, "test"))
    assert entry["validity"]["share_read_back"] == 1 and entry["validity"]["share_full_bars"] == 1
    assert entry["form"]["share_aabb"] == 1  # the generator's form
    assert set(entry["features"]) == set(report["real"]["features"]["ceiling"])
    assert len(entry["novelty"]["per_tune"]) == 6
    # Same model, same seed: the same figures.
    assert entry["features"] == report["models"][1]["features"]
    for name in ("pitch_class_histogram.png", "interval_histogram.png", "overlap.png", "novelty.png",
                 "training-tiny.png"):
        assert (out / name).read_bytes()[:4] == b"\x89PNG"
    assert (out / "samples" / "tiny" / "sample-1.mid").is_file()
    text = (out / "report.md").read_text()
    for heading in ("## Likelihood", "## Validity", "## Form", "## Mode adherence", "## Distribution match",
                    "## Novelty", "## Samples", "](samples/tiny/sample-1.mid)", "![overlap.png](overlap.png)"):
        assert heading in text
    assert "report.md" in capsys.readouterr().out


def test_cli_without_report_keeps_its_output(corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = random_model(corpus).save(tmp_path / "tiny")
    assert main(["evaluate", "--model", str(model), "--corpus", str(corpus), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["model"] == str(model) and printed["split"] == "test" and "bits_per_note" in printed


def test_a_corpus_with_another_vocabulary_is_mapped_by_token_text(corpus: Path, tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    # Another corpus, built apart: its ids mean other tokens, and one tune uses a note the model's
    # corpus never has (a 64th note), so that tune cannot be scored and is left out.
    book = tmp_path / "book.abc"
    tunes = [f"X:{n}\nT:t{n}\nM:4/4\nL:1/8\nK:D\n|:{body}:|\n" for n, body in enumerate(
        ["DFAd fdAF|GBdg fedB|ABcd efge|fdec d4", "dcBA GFED|EFGA B2AG|FGAB c2BA|G8", "A/B/cde fgab|a8|g8|f8"], 1)]
    tunes.append("X:9\nT:odd\nM:4/4\nL:1/8\nK:D\n|:D//E//F//G// A7|d8|A8|D8:|\n")
    book.write_text("\n".join(tunes))
    other = tmp_path / "other"
    build_corpus([str(book)], other, BuildSettings(valid_fraction=0, test_fraction=0), progress=False)
    assert load_vocabulary(other).sha256 != load_vocabulary(corpus).sha256
    model = random_model(corpus).save(tmp_path / "tiny")
    assert main(["evaluate", "--model", str(model), "--corpus", str(other), "--split", "train", "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["skipped_unknown_tokens"] >= 1 and figures["tunes"] + figures["skipped_unknown_tokens"] == 4
    # Scored by text, a random model costs about log2(vocabulary) bits a token; mapped by id it was hundreds.
    assert 0 < figures["bits_per_token"] < 2 * np.log2(len(load_vocabulary(corpus)))
    # The model's own corpus gives the figures it always gave: no mapping there.
    assert main(["evaluate", "--model", str(model), "--corpus", str(corpus), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["skipped_unknown_tokens"] == 0


def test_a_corpus_tokenised_another_way_is_refused(corpus: Path, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    plain = random_lstm(load_vocabulary(corpus), TokenizerSettings(bar_countdown=False)).save(tmp_path / "plain")
    assert main(["evaluate", "--model", str(plain), "--corpus", str(corpus)]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and "tokenised with" in error[0]


def test_bad_sample_count_is_a_symbolic_error() -> None:
    with pytest.raises(EvaluationError):
        EvaluationSettings(samples=0)

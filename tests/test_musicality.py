"""Musicality figures (cadence, mode, register, rhythm, form) and the classifier two-sample test,
each on small hand-made tunes whose answer is known, including the tunes that must fail."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from symbolic import Tune, read_abc
from symbolic.evaluation import EvaluationError
from symbolic.evaluation.classifier import accuracy, feature_rows, features, real_baseline, two_sample_test
from symbolic.evaluation.musicality import (
    ALL,
    cadence_figures,
    form_marks,
    has_endings,
    has_pickup,
    histogram_distance,
    last_note,
    mode_figures,
    musicality_figures,
    part_endings,
    register_figures,
    restated_bars,
    rhythm_figures,
)
from symbolic.evaluation.report import musicality_markdown
from symbolic.evaluation.restatement import (
    bars_by_part,
    home_closes,
    restated_places,
    restatement_forms,
    restatement_profile,
    second_part_rise,
)
from symbolic.tokens import normalize
from symbolic.tune import Key


def tune(body: str, key: str = "D", meter: str = "4/4", rhythm: str = "reel", unit: str = "1/8") -> Tune:
    (found,) = read_abc(f"X:1\nT:t\nR:{rhythm}\nM:{meter}\nL:{unit}\nK:{key}\n{body}\n").tunes
    return found


# ------------------------------------------------------------------ cadence


def test_tonic_chord_follows_the_mode() -> None:
    assert Key("A", "dorian").tonic_chord == {9, 0, 4}  # A C E
    assert Key("D", "mixolydian").tonic_chord == {2, 6, 9}  # D F# A
    assert Key("D", "major").tonic_chord == {2, 6, 9}
    assert Key("E", "minor").tonic_chord == {4, 7, 11}  # E G B
    assert Key("Bb", "major").tonic_chord == {10, 2, 5}  # Bb D F


def test_last_note_on_the_tonic_counts_and_off_it_does_not() -> None:
    home = tune("ABcd efge | d8 |]")  # ends on D in D
    away = tune("ABcd efge | e8 |]")  # ends on E in D: no cadence
    assert last_note(home) == (74, Key("D"))
    figures = cadence_figures([home, away])
    assert figures["share_last_note_tonic"] == 0.5
    # The same notes in E dorian end on the tonic: the key decides, not the pitch.
    assert cadence_figures([tune("ABcd efge | e8 |]", key="Edor")])["share_last_note_tonic"] == 1.0
    # A rest after the last note does not hide it; a key change before it moves the tonic.
    assert cadence_figures([tune("ABcd efge | d6 z2 |]")])["share_last_note_tonic"] == 1.0
    assert cadence_figures([tune("ABcd efge | [K:G] d8 |]")])["share_last_note_tonic"] == 0.0


def test_a_part_ends_after_its_last_ending_and_a_lone_pickup_is_no_part() -> None:
    # Pickup A, part 1 with endings: the first ending stops on E (not a D-chord tone), the second on D.
    t = tune("A |: d2f2 e2c2 |1 B2A2 G2E2 :|2 B2c2 d4 |]")
    assert [p for p, _ in part_endings(t)] == [74]
    # Two parts: the first ends on F# (a tonic-chord tone of D), the second on G (not one).
    two = tune("|: d2f2 e2c2 | B2A2 A2f2 :|: g2f2 e2d2 | c2B2 A2G2 :|")
    assert [p for p, _ in part_endings(two)] == [78, 67]
    assert cadence_figures([two])["share_parts_end_tonic_chord"] == 0.5
    assert cadence_figures([two])["parts"] == 2


# ------------------------------------------------------------------ form


def test_pickups_and_endings() -> None:
    assert has_pickup(tune("A | d2f2 e2c2 | d8 |]"))
    assert has_pickup(tune("AB |: d2f2 e2c2 | d6 :|", meter="6/8", rhythm="jig")) is True
    assert not has_pickup(tune("|: d2f2 e2c2 | d8 :|"))  # the opening |: is not a bar's end
    assert not has_pickup(tune("d2f2 e2c2 | d8 |]"))
    assert has_endings(tune("|: d2f2 e2c2 |1 d8 :|2 d6 z2 |]"))
    assert not has_endings(tune("|: d2f2 e2c2 | d8 :|"))
    marks = form_marks([tune("A | d2f2 e2c2 | d8 |]"), tune("d2f2 e2c2 | d8 |]"), tune("d2f2 e2c2 | d8 |]")])
    assert marks == {"share_pickup": pytest.approx(1 / 3), "share_endings": 0.0, "share_bars_restated": 0.0}


def test_restated_bars_are_the_same_notes_at_the_same_places() -> None:
    # Bars 3 and 5 restate bar 1; bar 4 has bar 2's pitches at other places; the pickup A is a bar.
    assert restated_bars(tune("A | d2f2 e2c2 | dcBA B4 | d2f2 e2c2 | dcB2 A2B2 | d2f2 e2c2 | d8 |]")) == (2, 7)
    assert restated_bars(tune("d2f2 e2c2 | d2f2 e2c3 | d8 |]")) == (0, 3)  # a length differs
    assert restated_bars(tune("d2f2 e2c2 | D2F2 E2C2 |]")) == (0, 2)  # an octave lower


def test_bars_by_part_leave_out_pickups_and_second_endings() -> None:
    # Each part opens with the pickup A, left out; its last bar is short by as much. The second
    # part's second ending is not read; its first ending is its bar 2.
    found = bars_by_part(tune("A | d2f2 e2c2 | d6 :: A | d2f2 e2c2 |1 B6 :|2 c6 |]"))
    assert [len(part) for part in found] == [2, 2]
    assert found[0][0] == found[1][0]
    assert [pitch for pitch, _, _ in found[1][1]] == [71]  # B6, not c6


def test_restatement_is_counted_by_place_in_the_form() -> None:
    # Parts of 4 bars: bar 3 restates bar 1 (half a part back, and two bars back: the same bar),
    # and the second part's last bar the first's; nothing else is restated.
    a = tune("d2f2 e2c2 | B2A2 G2F2 | d2f2 e2c2 | d8 :: f2a2 g2e2 | f2d2 e2c2 | a2g2 f2e2 | d8 :|")
    b = tune("d2f2 e2c2 | B2A2 G2F2 | A2B2 c2e2 | d8 :: f2a2 g2e2 | f2d2 e2c2 | a2g2 f2e2 | D8 :|")
    found = bars_by_part(a)
    assert restated_places(found, 0) == {(2, "half"), (2, "two")}
    assert restated_places(found, 1) == {(3, "part")}
    profile = restatement_profile([a, b, tune("d8 | d8 |]")], bars_per_part=4)  # the third has one part
    assert profile["tunes"] == 2
    assert profile["first"].tolist() == [[0, 0, 0.5, 0], [0, 0, 0.5, 0], [0, 0, 0, 0]]
    assert profile["later"].tolist() == [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0.5]]
    forms = restatement_forms([a, b], bars_per_part=4)
    assert forms["first"] == Counter({frozenset({(2, "half"), (2, "two")}): 1, frozenset(): 1})
    assert forms["later"] == Counter({frozenset({(3, "part")}): 1, frozenset(): 1})


def test_home_closes_are_parts_before_the_last_ending_on_a_long_tonic() -> None:
    home = tune("d2f2 e2c2 | B2A2 d4 :: f2a2 g2e2 | d8 :|")  # the first part ends on a half note d
    short = tune("d2f2 e2c2 | B2A2 G2d2 :: f2a2 g2e2 | d8 :|")  # on a quarter (a beat of 4/4 is one)
    away = tune("d2f2 e2c2 | B2A2 A4 :: f2a2 g2e2 | d8 :|")
    assert home_closes([home, short, away, tune("d8 | d8 |]")]) == (2, 3)


def test_second_part_rise_is_measured_from_the_parts_medians() -> None:
    up = tune("d2f2 e2c2 | d8 :: a2f2 a2f2 | a8 :|")  # medians d (74), then a (81): +7
    down = tune("d2f2 e2c2 | d8 :: D2F2 E2C2 | D8 :|")  # then D (62): -12
    assert second_part_rise([up, down, tune("d8 | d8 |]")]) == {"tunes": 2, "mean_rise": -2.5, "share_higher": 0.5}


# ------------------------------------------------------------------ mode, register, rhythm


def test_mode_adherence_per_mode() -> None:
    # E dorian: E F# G A B C# D. The dorian tune has a G# (outside), the minor one is all inside.
    dorian = tune("EFGA Bc^de | e8 |]", key="Edor")
    minor = tune("EFGA Bcde | e8 |]", key="Em")
    figures = mode_figures([dorian, minor])
    assert figures["dorian"] == {"tunes": 1, "notes": 9, "share_in_scale": pytest.approx(8 / 9)}
    assert figures["minor"] == {"tunes": 1, "notes": 9, "share_in_scale": 1.0}


def test_register_is_measured_as_written_and_against_instrument_ranges() -> None:
    low = tune("D,F,A,D FAdf | d8 |]")  # D3 ... D5: below a fiddle's G3
    high = tune("dfad' f'a'd''a' | d'8 |]")  # D5 ... D7
    assert register_figures([low])["lowest"] == 50 and register_figures([high])["highest"] == 98
    figures = register_figures([low, high])
    assert figures["share_in_range"]["fiddle"] == 0.5  # the high one only
    assert figures["share_in_range"]["tin whistle"] == 0.0  # D7 is past a whistle's B6
    assert register_figures([high])["median_pitch"] - register_figures([normalize(high)])["median_pitch"] >= 12
    # musicality_figures takes register from the written tunes, not the (normalised) tunes given.
    assert musicality_figures([normalize(high)], [high])["by_type"][ALL]["register"]["median_pitch"] == \
        register_figures([high])["median_pitch"]
    assert musicality_figures([normalize(high)], None)["by_type"][ALL]["register"] == {"tunes": 0}


def test_rhythm_histogram_tells_a_reel_from_a_jig_and_a_song() -> None:
    reel = tune("ABcd efge | dcBA GFED |]")  # eighths only
    jig = tune("A2B c2d | e3 d3 |]", meter="6/8", rhythm="jig")  # quarter-eighth, dotted quarters
    song = tune("A4 B4 | c8 |]", rhythm="air")
    lengths = ["1/4", "1/3", "1/2", "3/4", "1", "3/2", "2", "3", "4", "other"]
    histogram = dict(zip(lengths, rhythm_figures([reel])["histogram"], strict=True))
    assert histogram["1/2"] == 1.0
    jig_histogram = dict(zip(lengths, rhythm_figures([jig])["histogram"], strict=True))
    assert jig_histogram == pytest.approx({**dict.fromkeys(lengths, 0.0), "1": 1 / 3, "1/2": 1 / 3, "3/2": 1 / 3},
                                          abs=1e-6)
    assert histogram_distance(rhythm_figures([reel])["histogram"], rhythm_figures([song])["histogram"]) == 1.0
    assert histogram_distance(rhythm_figures([reel])["histogram"], rhythm_figures([reel])["histogram"]) == 0.0


def test_figures_are_grouped_by_type() -> None:
    tunes = [tune("ABcd efge | d8 |]"), tune("A2B c2d | e3 d3 |]", meter="6/8", rhythm="Double Jig")]
    figures = musicality_figures(tunes, tunes)["by_type"]
    assert set(figures) == {ALL, "reel", "jig"}
    assert figures["reel"]["tunes"] == figures["jig"]["tunes"] == 1 and figures[ALL]["tunes"] == 2
    assert figures["reel"]["cadence"]["share_last_note_tonic"] == 1.0
    assert figures["jig"]["cadence"]["share_last_note_tonic"] == 1.0
    assert figures["jig"]["register"]["tunes"] == 1


# ------------------------------------------------------------------ classifier


def random_tunes(rng: np.random.Generator, count: int, pool: str, lengths: tuple[int, ...], rhythm: str = "reel",
                 ending: str = "", echo: bool = False) -> list[Tune]:
    """`count` 4-bar 4/4 tunes of random notes from `pool`, in random `lengths` (eighths) that fill each bar;
    with `echo`, bars 3 and 4 restate bars 1 and 2."""
    found = []
    for _ in range(count):
        bars = []
        for _ in range(4):
            notes, left = [], 8
            while left:
                length = int(rng.choice([n for n in lengths if n <= left]))
                notes.append(f"{rng.choice(list(pool))}{length}")
                left -= length
            bars.append(" ".join(notes))
        if echo:
            bars[2:] = bars[:2]
        found.append(tune(" | ".join(bars) + f" {ending}|]", rhythm=rhythm))
    return found


def test_features_are_key_relative() -> None:
    t = tune("ABcd efge | d8 |]")
    assert np.allclose(features(t), features(normalize(t)))
    assert features(t).shape == (73,)


def test_classifier_separates_different_sets_and_not_identical_ones() -> None:
    rng = np.random.default_rng(1)
    eighths = random_tunes(rng, 40, "DEFGABcd", (1,), ending="d8")
    halves = random_tunes(rng, 40, "DEFGAB", (4,), ending="^G8")
    assert accuracy(feature_rows(eighths), feature_rows(halves))["accuracy"] >= 0.95
    alike = random_tunes(rng, 80, "DEFGABcd", (1, 2), ending="d8")
    chance = accuracy(feature_rows(alike[:40]), feature_rows(alike[40:]))["accuracy"]
    assert 0.25 <= chance <= 0.75
    assert 0.25 <= real_baseline(alike)[ALL]["accuracy"] <= 0.75
    # Balanced: the larger set is drawn down; too few tunes on a side give no figure.
    assert accuracy(feature_rows(eighths), feature_rows(halves[:12]))["per_class"] == 12
    assert accuracy(feature_rows(eighths), feature_rows(halves[:3]))["accuracy"] is None


def test_classifier_hears_tunes_that_never_restate_a_bar() -> None:
    rng = np.random.default_rng(3)
    wandering = random_tunes(rng, 40, "DEFGABcd", (1, 2), ending="d8")
    echoing = random_tunes(rng, 40, "DEFGABcd", (1, 2), ending="d8", echo=True)  # only restatement differs
    assert accuracy(feature_rows(wandering), feature_rows(echoing))["accuracy"] >= 0.9


def test_two_sample_test_per_type() -> None:
    rng = np.random.default_rng(2)
    reels = random_tunes(rng, 20, "DEFGABcd", (1,), ending="d8")
    jigs = random_tunes(rng, 20, "DEFGABcd", (1,), rhythm="jig", ending="d8")
    odd_jigs = random_tunes(rng, 20, "DEFGAB", (4,), rhythm="jig", ending="^G8")
    found = two_sample_test(reels + odd_jigs, reels + jigs)
    assert set(found) == {ALL, "jig", "reel"}
    assert found["jig"]["accuracy"] >= 0.9
    assert found["reel"]["accuracy"] <= 0.75  # the very same reels on both sides


def test_missing_scikit_learn_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sklearn", None)  # makes `import sklearn...` raise ImportError
    monkeypatch.setitem(sys.modules, "sklearn.linear_model", None)
    rows = np.zeros((20, 73))
    with pytest.raises(EvaluationError, match="scikit-learn"):
        accuracy(rows, rows)


# ------------------------------------------------------------------ report and corpus


def test_markdown_shows_real_and_generated_side_by_side() -> None:
    real = [tune("A | d2f2 e2c2 | d8 |]"), tune("A | d2f2 e2c2 | d8 |]")]
    generated = [tune("d2f2 e2c2 | e8 |]")]
    report = {"split": "test", "real": {"musicality": {**musicality_figures(real, real), "written_not_found": 0,
                                                       "classifier_baseline": {ALL: {"accuracy": 0.5, "per_class": 1}}}},
              "models": [{"name": "tiny", "musicality": {**musicality_figures(generated, generated),
                                                         "classifier": {ALL: {"accuracy": 0.9, "per_class": 1}}}}]}
    text = "\n".join(musicality_markdown(report))
    assert "*real / tiny*" in text
    assert "| all | 2 / 1 | 1.00 / 0.00 |" in text  # tunes; last note tonic real / generated
    assert "| all | 0.500 | 0.900 |" in text
    assert musicality_markdown({"real": {}, "models": []}) == []


def test_real_register_comes_from_the_source_files(tmp_path: Path) -> None:
    from symbolic.corpus.build import BuildSettings, build_corpus
    from symbolic.evaluation.run import RealSet, load_real, load_written, with_written_keys

    source = tmp_path / "tunes.abc"
    source.write_text("X:1\nT:high\nR:reel\nM:4/4\nL:1/8\nK:D\ndfad' f'a'd''a' | d'8 |]\n\n"
                      "X:2\nT:low\nR:reel\nM:4/4\nL:1/8\nK:G\nG,A,B,C DEFG | G,8 |]\n", encoding="utf-8")
    folder = tmp_path / "corpus"
    build_corpus([str(source)], folder, BuildSettings(valid_fraction=0, test_fraction=0), progress=False)
    real = load_real(folder, "train")
    written = load_written(real)
    assert sorted(register_figures([t])["lowest"] for t in written) == [55, 74]  # type: ignore[list-item]
    assert register_figures(real.tunes)["highest"] < register_figures(written)["highest"]  # type: ignore[arg-type]
    assert sorted(h[3] for h in with_written_keys(real, written).headers) == ["D", "G"]  # type: ignore[type-var]
    source.unlink()
    assert load_written(RealSet(real.tunes, real.names, real.headers)) == [None, None]

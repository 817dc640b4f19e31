"""Tokens normalised to the key signature (`corpus build --normalise-to signature`): every tune
written with no sharps or flats, so a scale's notes are the same tokens in every mode; lossless,
and generation keys its cadence, mode prior and opening bars the same way."""

from __future__ import annotations

from fractions import Fraction

import pytest
from corpus import sample_folk_tunes
from random_models import random_lstm

from symbolic.abc.reader import read_tune
from symbolic.evaluation.metrics import melody
from symbolic.generation import generate as generate_module
from symbolic.generation.generate import generate
from symbolic.generation.sampler import SamplingSettings
from symbolic.models.modelfile import ModelFile
from symbolic.tokens import (
    SIGNATURE_TONICS,
    TokenizerSettings,
    Vocabulary,
    normalize,
    pitch_of,
    tokens_to_tune,
    tune_to_tokens,
)
from symbolic.tune import Key

SIGNATURE = TokenizerSettings(bar_countdown=True, normalise_to="signature")
TONIC = TokenizerSettings(bar_countdown=True)
# The same dorian reel opening, in A and in E.
A_DORIAN = "X:1\nM:4/4\nL:1/8\nK:A dorian\n|:EAAB cBAG|EAAB cdef|gfed cBAG|EGDG EA A2:|\n"
E_DORIAN = "X:1\nM:4/4\nL:1/8\nK:E dorian\n|:B,EEF GFED|B,EEF GABc|dcBA GFED|B,DA,D B,E E2:|\n"


def test_every_mode_is_written_without_sharps_or_flats() -> None:
    tokens = tune_to_tokens(read_tune(A_DORIAN), SIGNATURE)
    assert tokens == tune_to_tokens(read_tune(E_DORIAN), SIGNATURE)  # any key, the same tokens
    tune = tokens_to_tune(tokens, settings=SIGNATURE)
    assert tune.key == Key("D", "dorian")  # A dorian has G major's signature; C major's is D dorian
    pitches = [p for p in map(pitch_of, tokens) if p is not None]
    assert {p % 12 for p in pitches} <= Key("C").scale  # the white keys only
    # Normalised to the tonic, the same tune has its flat third and seventh as accidentals.
    assert {p % 12 for p in map(pitch_of, tune_to_tokens(read_tune(A_DORIAN), TONIC)) if p is not None} >= {3, 10}
    assert all(Key(tonic, mode).fifths == 0 for mode, tonic in SIGNATURE_TONICS.items())


def test_signature_tokens_round_trip_on_real_tunes() -> None:
    for tune in sample_folk_tunes(1500, seed=12):
        tokens = tune_to_tokens(tune, SIGNATURE)
        assert tokens_to_tune(tokens, tune.reference, SIGNATURE) == normalize(tune, SIGNATURE)
        # The same melody as the tonic's tokens, moved: normalising it again gives those.
        assert normalize(normalize(tune, SIGNATURE)) == normalize(tune)


def test_settings_saved_before_the_choice_read_as_the_tonic() -> None:
    saved = TONIC.to_dict()
    del saved["normalise_to"]
    assert TokenizerSettings.from_dict(saved) == TONIC
    assert TokenizerSettings.from_dict(SIGNATURE.to_dict()) == SIGNATURE


@pytest.fixture(scope="module")
def signature_model() -> ModelFile:
    tokens = {t for tune in sample_folk_tunes(3000, seed=4) for t in tune_to_tokens(tune, SIGNATURE)}
    return random_lstm(Vocabulary.build(tokens | {"type:reel"}), SIGNATURE)


def test_generation_keys_cadence_and_mode_prior_by_the_models_tokens(signature_model: ModelFile) -> None:
    tunes = generate(signature_model, count=20, tune_type="reel", mode="dorian", key="A", seed=3,
                     sampling=SamplingSettings(mode_prior=20.0))
    key = Key("A", "dorian")
    notes = [n.pitches[-1] for t in tunes for n in t.notes if n.pitches]
    assert all(t.key == key for t in tunes)
    assert sum(p % 12 in key.scale for p in notes) / len(notes) > 0.99
    assert all([n for n in t.notes if n.pitches][-1].pitches[-1] % 12 == key.tonic_pitch_class for t in tunes)


def test_opening_bars_come_through_in_the_key_asked_for(signature_model: ModelFile) -> None:
    tune = generate(signature_model, tune_type="reel", mode="dorian", key="A", prime="EAAB cBAG|", seed=1)[0]
    assert [n.pitches[-1] % 12 for n in tune.notes[:8]] == [4, 9, 9, 11, 0, 11, 9, 7]


def test_mode_prior_defaults_to_none_for_a_model_keyed_to_the_signature(signature_model: ModelFile) -> None:
    # Keyed to the signature, a model keeps to the modes on its own: by default no prior is added
    # (mixolydian has no degree lift either).
    def bodies(**options: object) -> list[tuple]:  # type: ignore[type-arg]
        return [t.body for t in generate(signature_model, count=8, tune_type="reel", mode="mixolydian", key="A", seed=2,
                                         **options)]

    assert bodies() == bodies(sampling=SamplingSettings(mode_prior=0.0))
    assert bodies() != bodies(sampling=SamplingSettings(mode_prior=2.0))


def test_minor_s_sixth_and_leading_tone_come_at_about_real_tunes_rate() -> None:
    # The bundled model writes them on 0.5 % of its minor notes left alone (real minor tunes: 3.1 %).
    def accidentals(**options: object) -> float:
        tunes = generate(None, count=20, tune_type="reel", mode="minor", key="E", seed=4, **options)
        notes = [(n.pitches[-1] - 4) % 12 for t in tunes for n in t.notes if n.pitches]
        return sum(step in (9, 11) for step in notes) / len(notes)

    assert accidentals(sampling=SamplingSettings(mode_prior=0.0)) * 2 < accidentals() < 0.06


def test_minor_tunes_sit_on_their_tonic_not_on_their_relative_major_s(monkeypatch: pytest.MonkeyPatch) -> None:
    def degrees() -> tuple[float, float]:
        tunes = generate(None, count=20, tune_type="reel", mode="minor", key="E", seed=4)
        notes = [(n.pitches[-1] - 4) % 12 for t in tunes for n in t.notes if n.pitches]
        return notes.count(0) / len(notes), notes.count(3) / len(notes)

    # Real minor dance tunes: 0.21-0.23 of their notes on the tonic, 0.14-0.15 on the third. Here the
    # bundled model 0.22 and 0.13; without the lifts 0.16 and 0.19, as if they were in G major.
    tonic, third = degrees()
    monkeypatch.setattr(generate_module, "DEGREE_LIFT", {})
    plain_tonic, plain_third = degrees()
    assert tonic > plain_tonic + 0.03 and third < plain_third


def test_polkas_run_in_eighths_as_real_ones_do(monkeypatch: pytest.MonkeyPatch) -> None:
    def sixteenths() -> float:
        tunes = generate(None, count=20, tune_type="polka", seed=4)
        lengths = [duration for t in tunes for pitch, duration in melody(t) if pitch is not None]
        return sum(d == Fraction(1, 4) for d in lengths) / len(lengths)

    # Real polkas: 0.33 of their notes as sixteenths; the bundled model 0.41, and 0.68 without the lift.
    lifted = sixteenths()
    monkeypatch.setattr(generate_module, "RHYTHM_LIFT", {})
    assert lifted < 0.5 < sixteenths()


def test_the_bundled_model_is_keyed_to_the_signature_and_says_so(capsys) -> None:  # type: ignore[no-untyped-def]
    from symbolic.cli.main import main

    assert main(["models", "info"]) == 0
    assert "tokens: keyed to the signature, with the bar countdown" in capsys.readouterr().out

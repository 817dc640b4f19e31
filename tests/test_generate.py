"""Generation: every tune valid (our reader, abc2midi without warnings, full bars, the parts
asked for), reproducible for a seed, controllable, and free of TensorFlow.

The validity tests use a model with random weights over the corpus vocabulary: the worst case
for the grammar, since such a model has learned nothing about bars.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from corpus import sample_folk_tunes
from random_models import random_lstm

from symbolic.abc.reader import read_abc, read_tune
from symbolic.abc.writer import write_abc, write_abc_tunebook
from symbolic.cli.main import main
from symbolic.evaluation.validity import full_bars
from symbolic.generation.generate import REGISTER_RANGE, generate
from symbolic.generation.grammar import GenerationError
from symbolic.generation.sampler import SamplingSettings, shape_distribution
from symbolic.models.modelfile import ModelFile
from symbolic.tokens import Vocabulary, tune_to_tokens
from symbolic.tune import Bar, Key, Note, Tune

ROOT = Path(__file__).parent.parent


@pytest.fixture(scope="module")
def random_model() -> ModelFile:
    tokens = {t for tune in sample_folk_tunes(3000, seed=4) for t in tune_to_tokens(tune)}
    tokens |= {"type:jig", "type:reel", "type:waltz", "type:slip-jig", "type:hornpipe", "type:polka"}
    vocab = Vocabulary.build(tokens)
    return random_lstm(vocab)


def bars_of(tune: Tune) -> list[Fraction]:
    lengths, current = [], Fraction(0)
    for element in tune.body:
        if type(element) is Note:
            current += element.duration
        elif type(element) is Bar and current:  # `:|` then `|:` close one bar, not two
            lengths.append(current)
            current = Fraction(0)
    return lengths


@pytest.mark.parametrize("tune_type, meter, parts, bars", [("jig", "6/8", 2, 8), ("reel", "4/4", 2, 8),
                                                           ("waltz", "3/4", 3, 4), ("slip-jig", "9/8", 2, 4)])
def test_every_tune_is_valid(random_model: ModelFile, tune_type: str, meter: str, parts: int, bars: int,
                             tmp_path: Path) -> None:
    tunes = generate(random_model, count=50, tune_type=tune_type, parts=parts, bars_per_part=bars, seed=1)
    assert len(tunes) == 50
    bar_length = tunes[0].meter.bar_length
    for tune in tunes:
        assert tune.meter.text == meter
        assert read_tune(write_abc(tune)) == tune  # reads back identically
        # Every bar full; a pickup opens each part (as long in all) and its last bar gives it back.
        assert full_bars(tune) == (parts * bars, parts * bars)
        lengths = bars_of(tune)
        if lengths[0] < bar_length:
            assert lengths[0] <= bar_length / 2 and lengths.count(lengths[0]) >= parts
            assert lengths.count(bar_length - lengths[0]) >= parts
        else:
            assert lengths == [bar_length] * (parts * bars)
        kinds = [b.kind for b in tune.bars]
        assert kinds.count("|:") == parts and kinds.count(":|") == parts  # the parts asked for
        assert all(REGISTER_RANGE[0] <= p <= REGISTER_RANGE[1] for n in tune.notes for p in n.pitches)
    if shutil.which("abc2midi"):
        book = tmp_path / "book.abc"
        book.write_text(write_abc_tunebook(tunes))
        result = subprocess.run(["abc2midi", str(book), "-o", str(tmp_path / "x.mid")], capture_output=True,
                                text=True, cwd=tmp_path, timeout=60)
        complaints = [line for line in (result.stdout + result.stderr).splitlines()
                      if "warning" in line.lower() or "error" in line.lower()]
        assert result.returncode == 0 and not complaints, complaints[:5]


def test_same_seed_same_tunes_and_keys_and_modes(random_model: ModelFile) -> None:
    first = generate(random_model, count=3, tune_type="reel", seed=7, key="G")
    assert first == generate(random_model, count=3, tune_type="reel", seed=7, key="G")
    assert first != generate(random_model, count=3, tune_type="reel", seed=8, key="G")
    assert all(t.key == Key("G") for t in first) and [t.reference for t in first] == [1, 2, 3]
    minor = generate(random_model, count=2, tune_type="jig", mode="minor", key="E", seed=1)
    assert all(t.key == Key("E", "minor") for t in minor)


def test_prime_opens_the_tune(random_model: ModelFile) -> None:
    (tune,) = generate(random_model, count=1, tune_type="reel", key="D", prime="|:DFAd fdAF|", seed=3)
    assert [n.pitch for n in tune.notes[:8]] == [62, 66, 69, 74, 78, 74, 69, 66]
    with pytest.raises(GenerationError, match="do not fit the form"):
        generate(random_model, count=1, tune_type="reel", key="D", prime="|:DFAd fdAF fed|", seed=3)


@pytest.mark.parametrize("options, message", [
    ({"tune_type": "tango"}, "unknown tune type"),
    ({"meter": "7/4"}, "never saw meter '7/4'"),
    ({"mode": "bluesy"}, "unknown mode"),
    ({"count": 0}, "number of tunes"),
    ({"sampling": None}, ""),
])
def test_bad_requests_are_clear(random_model: ModelFile, options: dict, message: str) -> None:  # type: ignore[type-arg]
    if options.get("sampling", 1) is None:
        with pytest.raises(GenerationError, match="temperature"):
            SamplingSettings(temperature=0)
        return
    with pytest.raises(GenerationError, match=message):
        generate(random_model, **options)


def test_top_k_top_p_and_temperature_shape_the_distribution() -> None:
    log_p = np.log(np.array([[0.5, 0.3, 0.15, 0.05]]))
    allowed = np.array([[True, True, True, True]])
    assert np.allclose(shape_distribution(log_p, allowed, SamplingSettings(top_p=1.0)), [[0.5, 0.3, 0.15, 0.05]])
    # Top-p 0.95 leaves out the tail below the last 5 %; the default (1.0) keeps it.
    assert np.allclose(shape_distribution(log_p, allowed, SamplingSettings(top_p=0.95)), [[10 / 19, 6 / 19, 3 / 19, 0]])
    assert np.allclose(shape_distribution(log_p, allowed, SamplingSettings()), [[0.5, 0.3, 0.15, 0.05]])
    assert np.allclose(shape_distribution(log_p, allowed, SamplingSettings(top_k=2)), [[0.625, 0.375, 0, 0]])
    assert np.allclose(shape_distribution(log_p, allowed, SamplingSettings(top_p=0.8)), [[0.625, 0.375, 0, 0]])
    cold = shape_distribution(log_p, allowed, SamplingSettings(temperature=0.1))
    assert cold[0, 0] > 0.99
    masked = shape_distribution(log_p, np.array([[False, True, False, True]]), SamplingSettings())
    assert masked[0, 0] == 0 and np.isclose(masked.sum(), 1)


def test_generate_command_writes_abc_mid_wav(random_model: ModelFile, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    random_model.save(tmp_path / "model")
    out = tmp_path / "out"
    assert main(["generate", "-n", "2", "--model", str(tmp_path / "model"), "--type", "jig", "--seed", "1",
                 "--out", str(out), "--formats", "abc,mid,wav"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["tune-1.mid", "tune-1.wav", "tune-2.mid", "tune-2.wav", "tune.abc"]
    book = read_abc((out / "tune.abc").read_text())
    assert [t.reference for t in book.tunes] == [1, 2] and not book.errors
    captured = capsys.readouterr()
    assert "X:1" in captured.out and "tune-2.wav" in captured.err
    assert main(["generate", "--model", str(tmp_path / "model"), "--out", "-", "--formats", "abc", "--seed", "2"]) == 0
    assert capsys.readouterr().out.startswith("X:1")
    assert main(["generate", "--model", str(tmp_path / "model"), "--out", "-"]) == 2
    assert main(["generate", "--model", str(tmp_path / "nothing")]) == 2


def test_generation_never_imports_tensorflow(random_model: ModelFile, tmp_path: Path) -> None:
    random_model.save(tmp_path / "model")
    code = ("import sys\nfrom symbolic.cli.main import main\n"
            f"main(['generate', '--model', {str(tmp_path / 'model')!r}, '--out', {str(tmp_path)!r}, '--seed', '1'])\n"
            "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'TensorFlow was imported'\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr[-1500:]


@pytest.mark.skipif(shutil.which("abc2midi") is None, reason="abc2midi (Debian package abcmidi) is not installed")
@pytest.mark.parametrize("meter", ["3/2", "C|", "4/4"])
def test_hornpipes_in_any_meter_pass_abc2midi(random_model: ModelFile, meter: str, tmp_path: Path) -> None:
    # abc2midi swings R:hornpipe and refuses it outside 2/4 and 4/4: the R: field must not trip it,
    # nor a rest its pairing of eighths in 4/4 (the grammar's swing rule).
    if f"meter:{meter}" not in random_model.vocab.tokens:
        pytest.skip(f"the sample vocabulary has no {meter}")
    tunes = generate(random_model, count=20, tune_type="hornpipe", meter=meter, seed=1)
    book = tmp_path / "h.abc"
    book.write_text(write_abc_tunebook(tunes))
    result = subprocess.run(["abc2midi", str(book), "-c"], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert "hornpipe" in tunes[0].rhythm
    assert not [line for line in result.stdout.splitlines() if "error" in line.lower() or "warning" in line.lower()]


def test_package_level_generate_uses_the_bundled_model() -> None:
    # `symbolic.generate(...)` is the notebook API: Tunes from the bundled model.
    import symbolic

    (tune,) = symbolic.generate(count=1, tune_type="jig", key="G", seed=5)
    assert isinstance(tune, Tune) and tune.key == Key("G") and tune.meter.text == "6/8"
    assert read_tune(write_abc(tune)) == tune


def test_without_a_soundfont_abc_and_midi_are_still_written(random_model: ModelFile, tmp_path: Path,
                                                             monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    # A missing soundfont is one clear line and a non-zero exit, after ABC and MIDI are on disk.
    random_model.save(tmp_path / "model")
    monkeypatch.setenv("SYMBOLIC_SOUNDFONT", str(tmp_path / "missing.sf2"))
    out = tmp_path / "out"
    assert main(["generate", "--model", str(tmp_path / "model"), "--seed", "1", "--out", str(out)]) == 2
    assert sorted(p.name for p in out.iterdir()) == ["tune-1.mid", "tune.abc"]
    err = capsys.readouterr().err
    assert "missing.sf2" in err and "Traceback" not in err

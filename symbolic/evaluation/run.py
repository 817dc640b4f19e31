"""Sample from each model and measure the samples against a corpus's held-out real tunes.

Samples are asked for with the headers of real tunes: each sample takes the tune type, meter,
mode and key of a real tune of the split drawn at random (seeded), so the generated and real sets
have the same mix of jigs, reels, meters, modes and keys: the feature comparison is not a
comparison of meters, nor the register one of keys. The form is the generator's (`symbolic
generate`'s default: two repeated 8-bar parts), as users get it; the form figures of the real
tunes show what the corpus does instead.

All models are measured in one run against the same real tunes, the same halves of them (the
real-against-real ceiling) and the same training index, so their figures compare directly.
"""

from __future__ import annotations

import dataclasses
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from symbolic.abc.writer import write_abc
from symbolic.atomic import write_text_atomically
from symbolic.corpus.build import iter_split, load_manifest, load_vocabulary
from symbolic.errors import SymbolicError
from symbolic.evaluation import EvaluationError
from symbolic.evaluation.classifier import real_baseline, two_sample_test
from symbolic.evaluation.metrics import (
    FEATURES,
    compare_distributions,
    feature_matrix,
    inter_distances,
    intra_distances,
    mode_adherence,
)
from symbolic.evaluation.musicality import musicality_figures
from symbolic.evaluation.parts import form_figures
from symbolic.evaluation.validity import validity_figures
from symbolic.models.evaluate import evaluate
from symbolic.models.modelfile import ModelFile, load_model
from symbolic.novelty.copies import TrainingIndex, novelty_figures
from symbolic.tokens import HEADER_TOKENS, TokenError, TokenizerSettings, normalize, tokens_to_tune
from symbolic.tune import Tune

if TYPE_CHECKING:
    from symbolic.generation.sampler import SamplingSettings

MAX_SAMPLES = 1000
PLOTTED_FEATURES = ("pitch_class_histogram", "interval_histogram", "note_length_histogram")


@dataclass(frozen=True)
class EvaluationSettings:
    samples: int = 100
    seed: int = 0
    split: str = "test"  # the held-out tunes compared with (and scored for likelihood)
    sample_files: int = 4  # samples written as ABC, MIDI and WAV beside the report
    audio: bool = True  # render those samples to WAV (skipped with a note when no soundfont works)
    abc2midi: bool = True

    def __post_init__(self) -> None:
        if not 1 <= self.samples <= MAX_SAMPLES:
            raise EvaluationError(f"--samples must be 1..{MAX_SAMPLES}, got {self.samples}")


Header = tuple[str, str, str, str | None]  # what a sample is asked for: type, meter, mode, key (None: any)


@dataclass
class RealSet:
    """The corpus's tunes decoded from tokens (key-normalised), with their names."""

    tunes: list[Tune]
    names: list[str]
    headers: list[Header]  # (type, meter, mode, None): the written key comes from `with_written_keys`


def load_real(corpus: str | Path, split: str) -> RealSet:
    vocab = load_vocabulary(corpus)
    settings = TokenizerSettings.from_dict(load_manifest(corpus).get("tokenizer"))
    real = RealSet([], [], [])
    for name, ids in iter_split(corpus, split):
        tokens = vocab.decode(ids.tolist())
        try:
            tune = tokens_to_tune(tokens, settings=settings)
            if settings.normalise_to != "tonic":
                tune = normalize(tune)  # every real and generated tune is compared in C
        except (TokenError, SymbolicError):
            continue  # a corpus holds only tunes that decode; a damaged shard must not stop a report
        real.tunes.append(tune)
        real.names.append(name)
        header = [t.split(":", 1)[1] for t in tokens[:HEADER_TOKENS]]
        real.headers.append((header[0], header[1], header[3], None))
    return real


def load_written(real: RealSet) -> list[Tune | None]:
    """The real tunes as their source files write them (key and octave), for register: a corpus
    keeps only key-normalised tokens, but names each tune `<file>#X:<n>`. A tune counts only when
    the file is still there and the tune read from it normalises to the corpus's tune. Returns
    one entry per real tune: the written tune, or None where it was not found."""
    from symbolic import read_abc_file

    by_file: dict[str, list[tuple[int, str, Tune]]] = {}
    for number, (name, tune) in enumerate(zip(real.names, real.tunes, strict=True)):
        path, _, reference = name.rpartition("#")
        by_file.setdefault(path, []).append((number, reference, tune))
    found: list[Tune | None] = [None] * len(real.tunes)
    for path, wanted in by_file.items():
        try:
            if Path(path).suffix.lower() in (".mid", ".midi"):
                from symbolic.midi.reader import read_midi_file

                originals = [read_midi_file(path)]
            else:
                originals = read_abc_file(path).tunes
        except (SymbolicError, OSError):
            continue
        for number, reference, tune in wanted:
            matches = (_as_in_corpus(o, tune) for o in originals if f"X:{o.reference}" == reference)
            found[number] = next((m for m in matches if m is not None), None)
    return found


def with_written_keys(real: RealSet, written: Sequence[Tune | None]) -> RealSet:
    """The real set whose headers name each tune's written key (tonic), where it was found."""
    headers = [(*h[:3], w.key.tonic if w is not None else None) for h, w in zip(real.headers, written, strict=True)]
    return dataclasses.replace(real, headers=headers)


def _unless_missing(test: Any, *args: Any) -> dict[str, Any]:
    """The classifier test, or why it was not made: scikit-learn is an extra, and a report
    without this one figure is better than none."""
    try:
        return dict(test(*args))
    except EvaluationError as error:
        return {"note": str(error)}


def _as_in_corpus(original: Tune, normalised: Tune) -> Tune | None:
    """The original with the key the corpus gave it, if it is the corpus's tune: normalised as
    written, or (a corpus built with `keys_from_finals`) in the key its final names."""
    from symbolic.corpus.finals import with_key_from_final

    try:
        return next((t for t in (original, with_key_from_final(original)) if normalize(t).body == normalised.body),
                    None)
    except SymbolicError:
        return None


def sample(model: ModelFile, headers: Sequence[Header], seed: int,
           sampling: SamplingSettings | None = None, cadence: bool = True) -> tuple[list[Tune], int]:
    """One tune per header, grouped by header; a header the model cannot write (a meter it never
    saw, free meter) falls back to the generator's defaults. `cadence` False frees the grammar's
    cadence rule (`--no-cadence`). Returns (tunes, fallbacks)."""
    from symbolic.generation.generate import generate
    from symbolic.generation.grammar import GenerationError

    options: dict[str, object] = {"cadence": cadence}
    if sampling is not None:
        options["sampling"] = sampling
    groups = Counter(headers)
    tunes: list[Tune] = []
    fallbacks = 0
    for number, ((kind, meter, mode, key), count) in enumerate(sorted(groups.items(), key=lambda g: str(g[0]))):
        try:
            found = generate(model, count=count, tune_type=kind, meter=meter, mode=mode, key=key, seed=seed + number,
                             **options)
        except GenerationError:
            found = generate(model, count=count, seed=seed + number, **options)
            fallbacks += count
        tunes += found
    return [_renumbered(t, i + 1) for i, t in enumerate(tunes)], fallbacks


def _renumbered(tune: Tune, reference: int) -> Tune:
    return dataclasses.replace(tune, reference=reference)


def _mode_figures(tunes: Sequence[Tune]) -> dict[str, float]:
    pairs = [mode_adherence(t) for t in tunes]
    inside, total = sum(p[0] for p in pairs), sum(p[1] for p in pairs)
    per_tune = [p[0] / p[1] for p in pairs if p[1]]
    return {"share_notes_in_mode": inside / total if total else 0.0,
            "mean_per_tune": float(np.mean(per_tune)) if per_tune else 0.0}


def _summary(values: np.ndarray) -> dict[str, float]:
    return {"mean": float(values.mean()) if len(values) else float("nan"),
            "std": float(values.std()) if len(values) else float("nan")}


class FeatureReference:
    """The real tunes split in two halves: `reference` (whose intra-set distances every set is
    compared with) and `control` (the real-against-real ceiling)."""

    def __init__(self, tunes: Sequence[Tune], seed: int) -> None:
        if len(tunes) < 4:
            raise EvaluationError(f"the split has {len(tunes)} real tunes; at least 4 are needed to compare with")
        order = np.random.default_rng(seed).permutation(len(tunes))
        half = len(tunes) // 2
        self.reference = [tunes[i] for i in order[:half]]
        self.control = [tunes[i] for i in order[half:]]
        self.matrices = {name: feature_matrix(self.reference, name) for name in FEATURES}
        self.intra = {name: intra_distances(matrix) for name, matrix in self.matrices.items()}
        self.ceiling = {name: self.compare(name, feature_matrix(self.control, name)) for name in FEATURES}

    def compare(self, name: str, matrix: np.ndarray) -> dict[str, Any]:
        inter = inter_distances(self.matrices[name], matrix)
        comparison = compare_distributions(self.intra[name], inter)
        return {"overlap": comparison.overlap, "kl": comparison.kl, "inter": _summary(inter),
                "intra_set": _summary(intra_distances(matrix)), "mean_value": feature_matrix_mean(matrix)}


def feature_matrix_mean(matrix: np.ndarray) -> list[float]:
    return [round(float(v), 6) for v in matrix.mean(axis=0)] if len(matrix) else []


def evaluate_models(models: Sequence[str | None], corpus: str | Path, out_dir: str | Path,
                    settings: EvaluationSettings = EvaluationSettings()) -> dict[str, Any]:
    """Measure every model (None: the bundled one) against the corpus; returns the report's
    figures and writes the sample files under out_dir/samples/<model name>/."""
    started = time.time()
    out_dir = Path(out_dir)
    manifest = load_manifest(corpus)
    real = load_real(corpus, settings.split)
    if not real.tunes:
        raise EvaluationError(f"{corpus}: the {settings.split} split has no tunes to compare with")
    train = load_real(corpus, "train")
    index = TrainingIndex(train.tunes)
    features = FeatureReference(real.tunes, settings.seed)
    written = load_written(real)
    real = with_written_keys(real, written)
    found = [w for w in written if w is not None]
    report: dict[str, Any] = {
        "corpus": str(corpus), "corpus_sources": manifest.get("sources", []), "split": settings.split,
        "samples": settings.samples, "seed": settings.seed,
        "real": {
            "tunes": len(real.tunes), "training_tunes": len(train.tunes),
            "validity": validity_figures(real.tunes, settings.abc2midi),
            "form": form_figures(real.tunes),
            "mode": _mode_figures(real.tunes),
            "novelty": novelty_figures(real.tunes, index, train.names),
            "musicality": {**musicality_figures(real.tunes, found), "written_not_found": len(real.tunes) - len(found),
                           "classifier_baseline": _unless_missing(real_baseline, real.tunes, settings.seed)},
            "features": {"ceiling": features.ceiling,
                         "mean_value": {name: feature_matrix_mean(m) for name, m in features.matrices.items()},
                         "intra_set": {name: _summary(values) for name, values in features.intra.items()}},
        },
        "models": [],
    }
    rng = np.random.default_rng(settings.seed)
    headers = [real.headers[i] for i in rng.integers(len(real.headers), size=settings.samples)]
    for name, path in zip(model_names(models), models, strict=True):
        model = load_model(path)
        entry: dict[str, Any] = {"name": name, "path": str(path) if path else "bundled", "arch": model.config.arch}
        entry["likelihood"] = dict(evaluate(model, corpus, settings.split))
        tick = time.time()
        tunes, fallbacks = sample(model, headers, settings.seed)
        entry["sampling_seconds"] = round(time.time() - tick, 2)
        entry["header_fallbacks"] = fallbacks
        normalised = [normalize(t) for t in tunes]
        entry["validity"] = validity_figures(tunes, settings.abc2midi)
        entry["form"] = form_figures(normalised)
        entry["mode"] = _mode_figures(normalised)
        entry["features"] = {feature: features.compare(feature, feature_matrix(normalised, feature))
                             for feature in FEATURES}
        entry["novelty"] = novelty_figures(normalised, index, train.names)
        entry["musicality"] = {**musicality_figures(tunes, tunes),
                               "classifier": _unless_missing(two_sample_test, tunes, real.tunes, settings.seed)}
        entry["training_history"] = model.meta.get("training", {}).get("history", [])
        entry["sample_files"] = write_samples(tunes[:settings.sample_files], out_dir / "samples" / name, settings.audio)
        report["models"].append(entry)
    report["seconds"] = round(time.time() - started, 1)
    return report


def model_names(models: Sequence[str | None]) -> list[str]:
    """Short unique names: the folder's name (`bundled` for the default), numbered when repeated."""
    names: list[str] = []
    for path in models:
        base = Path(path).resolve().name if path else "bundled"
        name, number = base, 2
        while name in names:
            name, number = f"{base}-{number}", number + 1
        names.append(name)
    return names


def write_samples(tunes: Sequence[Tune], folder: Path, audio: bool) -> list[dict[str, str | None]]:
    """Each tune as .abc and .mid (and .wav when it renders); paths relative to the report."""
    from symbolic.midi.writer import write_midi

    written: list[dict[str, str | None]] = []
    for number, tune in enumerate(tunes, 1):
        stem = folder / f"sample-{number}"
        write_text_atomically(stem.with_suffix(".abc"), write_abc(tune))
        write_midi(tune, stem.with_suffix(".mid"))
        wav: str | None = None
        note = None
        if audio:
            try:
                from symbolic.audio.render import render_tune

                render_tune(tune, stem.with_suffix(".wav"))
                wav = _relative(stem.with_suffix(".wav"), folder)
            except (SymbolicError, OSError) as error:
                note = f"no WAV: {error}"
        written.append({"abc_text": write_abc(tune), "abc": _relative(stem.with_suffix(".abc"), folder),
                        "mid": _relative(stem.with_suffix(".mid"), folder), "wav": wav, "note": note})
    return written


def _relative(path: Path, folder: Path) -> str:
    """The path as the report links it (the report lives two levels above a model's samples)."""
    return f"samples/{folder.name}/{path.name}"

"""The report folder: report.json (every figure), report.md (tables, plots, samples), PNG plots.

Every file is written atomically. Plots use matplotlib's Agg backend (no display needed).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from symbolic.atomic import write_atomically, write_text_atomically
from symbolic.evaluation.metrics import INTERVAL_LIMIT
from symbolic.evaluation.musicality import histogram_distance
from symbolic.novelty.copies import PHRASE_BARS

REPORT_JSON, REPORT_MD = "report.json", "report.md"
PITCH_CLASSES = ("1", "b2", "2", "b3", "3", "4", "#4", "5", "b6", "6", "b7", "7")  # degrees above the tonic


def write_report(report: dict[str, Any], out_dir: str | Path, command: str = "") -> list[Path]:
    """Write the plots, report.json and report.md; returns the files written."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if command:
        report["command"] = command
    report["plots"] = [p.name for p in _plots(report, out_dir)]
    written = [out_dir / name for name in report["plots"]]
    written.append(write_text_atomically(out_dir / REPORT_JSON, json.dumps(_finite(report), indent=1) + "\n"))
    written.append(write_text_atomically(out_dir / REPORT_MD, markdown(report)))
    return written


def _finite(value: Any) -> Any:
    """NaN and infinity as null: report.json stays strict JSON."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _number(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    if isinstance(value, int):
        return str(value)
    return f"{value:.{digits}f}"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header),
            *("| " + " | ".join(row) + " |" for row in rows), ""]


def markdown(report: dict[str, Any]) -> str:
    real, models = report["real"], report["models"]
    split = report["split"]
    sets = [(f"real ({split})", real)] + [(m["name"], m) for m in models]
    lines = [f"# Evaluation of {', '.join(m['name'] for m in models)}", ""]
    if report.get("command"):
        lines += ["Made by:", "", f"    {report['command']}", ""]
    lines += [f"Corpus `{report['corpus']}` ({', '.join(report['corpus_sources'])}): {real['tunes']} {split} tunes "
              f"compared with, {real['training_tunes']} training tunes searched for copies; "
              f"{report['samples']} samples per model, seed {report['seed']}. Samples take the type, meter and mode of "
              f"random {split} tunes; the form is the generator's. Features are measured key-normalised (tonic C).", ""]
    lines += ["## Likelihood", ""]
    lines += _table(["model", "arch", "bits/token", "bits/note", "tunes", "left out (unknown tokens)"],
                    [[m["name"], m["arch"], _number(m["likelihood"].get("bits_per_token")),
                      _number(m["likelihood"].get("bits_per_note")), _number(m["likelihood"].get("tunes")),
                      _number(m["likelihood"].get("skipped_unknown_tokens"))] for m in models])
    lines += ["## Validity", ""]
    lines += _table(["set", "read back identically", "abc2midi without warnings", "full bars"],
                    [[name, _number(s["validity"]["share_read_back"]), _number(s["validity"]["share_abc2midi_clean"]),
                      _number(s["validity"]["share_full_bars"])] for name, s in sets])
    lines += ["## Form", ""]
    lines += _table(["set", "mean parts", "bars per part", "AABB (2 x 8 bars, repeated)", "A/B edit similarity"],
                    [[name, _number(s["form"]["mean_parts"], 2), _number(s["form"]["mean_bars_per_part"], 2),
                      _number(s["form"]["share_aabb"]), _number(s["form"]["mean_ab_edit_similarity"])]
                     for name, s in sets])
    lines += ["## Mode adherence", "", "Share of notes in the scale of the tune's mode (key in force).", ""]
    lines += _table(["set", "notes in mode", "mean per tune"],
                    [[name, _number(s["mode"]["share_notes_in_mode"]), _number(s["mode"]["mean_per_tune"])]
                     for name, s in sets])
    lines += musicality_markdown(report)
    lines += ["## Distribution match (Yang & Lerch 2018)", "",
              "Overlap area (1 is best) and KL divergence (0 is best) between the intra-set distances of the real "
              "tunes and the inter-set distances real–generated; *ceiling* is the same for two halves of the real "
              "tunes.", ""]
    header = ["feature", "ceiling OA", "ceiling KL"]
    for m in models:
        header += [f"{m['name']} OA", f"{m['name']} KL"]
    rows = []
    for feature, ceiling in real["features"]["ceiling"].items():
        row = [feature, _number(ceiling["overlap"]), _number(ceiling["kl"])]
        for m in models:
            row += [_number(m["features"][feature]["overlap"]), _number(m["features"][feature]["kl"])]
        rows.append(row)
    lines += _table(header, rows)
    lines += ["## Novelty", "",
              "Similarity: Jaccard index of 4-event (interval, duration) shingles with the most similar training tune "
              f"(1: a copy, even transposed); copied bars: the longest run of bars found in order in one training "
              f"tune. The real {split} tunes against the training tunes are the baseline.", ""]
    lines += _table(["set", "mean similarity", f"share > {real['novelty']['threshold']}", "max similarity",
                     "mean longest copied bars", "max", f"share copying >= {PHRASE_BARS} bars"],
                    [[name, _number(s["novelty"]["mean_similarity"]), _number(s["novelty"]["share_above_threshold"]),
                      _number(s["novelty"]["max_similarity"]), _number(s["novelty"]["mean_longest_copied_bars"], 2),
                      _number(s["novelty"]["max_longest_copied_bars"]),
                      _number(s["novelty"][f"share_copying_{PHRASE_BARS}_bars"])] for name, s in sets])
    lines += ["## Plots", ""]
    lines += [f"![{name}]({name})" for name in report.get("plots", [])] + [""]
    lines += ["## Samples", ""]
    for m in models:
        for number, files in enumerate(m["sample_files"], 1):
            links = [f"[ABC]({files['abc']})", f"[MIDI]({files['mid']})"]
            if files.get("wav"):
                links.append(f"[WAV]({files['wav']})")
            lines += [f"### {m['name']}, sample {number}: " + " · ".join(links), ""]
            if files.get("note"):
                lines += [f"({files['note']})", ""]
            lines += ["```abc", files["abc_text"].rstrip("\n"), "```", ""]
    lines.append(f"Measured in {report.get('seconds', 0)} s.")
    return "\n".join(lines) + "\n"


def _cells(sets: list[dict[str, Any]], kind: str, get: Any, digits: int = 3) -> str:
    """One figure for every set (real first), joined by ` / `; – where a set lacks it."""
    values = []
    for figures in sets:
        entry = figures["by_type"].get(kind)
        try:
            values.append(_number(get(entry), digits) if entry else "–")
        except (KeyError, TypeError):
            values.append("–")
    return " / ".join(values)


def musicality_markdown(report: dict[str, Any]) -> list[str]:
    """The musicality section: real tunes and every model side by side, per type and overall."""
    real = report["real"].get("musicality")
    models = [m for m in report["models"] if m.get("musicality")]
    if not real:
        return []
    sets = [real] + [m["musicality"] for m in models]
    order = "real / " + " / ".join(m["name"] for m in models)
    kinds = ["all"] + sorted({k for s in sets for k in s["by_type"]} - {"all"})
    lines = ["## Musicality", "",
             f"Each cell is *{order}*. Tunes are grouped by the type they are (or were asked to be). Register: "
             f"generated tunes as generated (the key asked for), real tunes as their source files write them "
             f"({real['by_type']['all']['register'].get('tunes', 0)} re-read and matched to the corpus's tunes, "
             f"{real.get('written_not_found', 0)} not found); ranges: "
             + ", ".join(f"{name} {low}..{high}" for name, (low, high) in real["instrument_ranges"].items())
             + " (MIDI). Note lengths in quarter notes.", ""]
    lines += _table(["type", "tunes", "last note tonic", "parts end on tonic chord", "pickup", "1st/2nd endings",
                     "bars restated"],
                    [[k, _cells(sets, k, lambda e: e["tunes"]),
                      _cells(sets, k, lambda e: e["cadence"]["share_last_note_tonic"], 2),
                      _cells(sets, k, lambda e: e["cadence"]["share_parts_end_tonic_chord"], 2),
                      _cells(sets, k, lambda e: e["form"]["share_pickup"], 2),
                      _cells(sets, k, lambda e: e["form"]["share_endings"], 2),
                      _cells(sets, k, lambda e: e["form"]["share_bars_restated"], 2)] for k in kinds])
    lines += _table(["type", "median pitch", "median lowest", "median highest", "lowest", "highest",
                     *(f"in {name} range" for name in real["instrument_ranges"])],
                    [[k, *(_cells(sets, k, lambda e, f=f: e["register"][f], 1)
                           for f in ("median_pitch", "median_lowest", "median_highest", "lowest", "highest")),
                      *(_cells(sets, k, lambda e, n=n: e["register"]["share_in_range"][n], 2)
                        for n in real["instrument_ranges"])] for k in kinds])
    modes = sorted({mode for s in sets for mode in s["by_type"]["all"]["mode"]})
    lines += ["Share of notes in the scale of the mode (tunes of that mode):", ""]
    lines += _table(["mode", "tunes", "notes in scale"],
                    [[mode, _cells(sets, "all", lambda e, m=mode: e["mode"][m]["tunes"]),
                      _cells(sets, "all", lambda e, m=mode: e["mode"][m]["share_in_scale"])] for mode in modes])
    lines += ["Share of notes of each length; *distance*: total variation from the real tunes' histogram "
              "(0 the same, 1 disjoint):", ""]
    rows = []
    for k in kinds:
        real_histogram = real["by_type"].get(k, {}).get("rhythm", {}).get("histogram", [])
        for name, figures in [("real", real)] + [(m["name"], m["musicality"]) for m in models]:
            entry = figures["by_type"].get(k)
            if entry and entry["rhythm"]["notes"]:
                histogram = entry["rhythm"]["histogram"]
                rows.append([k, name, *(_number(v, 2) for v in histogram),
                             _number(histogram_distance(histogram, real_histogram))])
    lines += _table(["type", "set", *real["lengths"], "distance"], rows)
    baseline = real.get("classifier_baseline", {})
    lines += ["Classifier two-sample test: 5-fold accuracy of a logistic regression telling the sets apart "
              "(balanced; 0.5 = indistinguishable). *real vs real*: two halves of the real tunes.", ""]
    if "note" in baseline:
        lines += [f"(not measured: {baseline['note']})", ""]
    else:
        lines += _table(["type", "real vs real", *(f"{m['name']} vs real" for m in models), "tunes a side"],
                        [[k, _number(baseline.get(k, {}).get("accuracy")),
                          *(_number(m["musicality"].get("classifier", {}).get(k, {}).get("accuracy")) for m in models),
                          " / ".join(_number(c.get(k, {}).get("per_class"))
                                     for c in [baseline] + [m["musicality"].get("classifier", {}) for m in models])]
                         for k in kinds if k in baseline])
    return lines


def _rhythm_plot(plt: Any, real: dict[str, Any], models: list[tuple[str, dict[str, Any]]]) -> Any:
    """Note-length histograms of the commonest types (at most four, each with 5+ real tunes)."""
    kinds = sorted((k for k, e in real["by_type"].items() if k != "all" and e["tunes"] >= 5),
                   key=lambda k: -real["by_type"][k]["tunes"])[:4]
    if not kinds:
        return None
    figure, axes = plt.subplots(len(kinds), 1, figsize=(9, 2.4 * len(kinds)), squeeze=False)
    labels = real["length_names"]
    positions = np.arange(len(labels))
    series = [("real", real)] + models
    width = 0.8 / len(series)
    for axis, kind in zip(axes[:, 0], kinds, strict=True):
        for offset, (name, figures) in enumerate(series):
            entry = figures["by_type"].get(kind)
            values = entry["rhythm"]["histogram"] if entry else [0.0] * len(labels)
            axis.bar(positions + offset * width - 0.4 + width / 2, values, width, label=name)
        axis.set_xticks(positions, labels, fontsize=8)
        axis.set_ylabel("share of notes")
        axis.set_title(f"note lengths: {kind}", fontsize=10)
        axis.legend(fontsize=8)
    return figure


def _plots(report: dict[str, Any], out_dir: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    real, models = report["real"], report["models"]
    written: list[Path] = []

    def save(figure: Any, name: str) -> None:
        figure.tight_layout()
        written.append(write_atomically(out_dir / name, lambda temp: figure.savefig(temp, format="png", dpi=90)))
        plt.close(figure)

    for feature, labels, title in (
            ("pitch_class_histogram", list(PITCH_CLASSES), "pitch classes (scale degrees above the tonic)"),
            ("interval_histogram", [str(i) for i in range(-INTERVAL_LIMIT, INTERVAL_LIMIT + 1)],
             "intervals (semitones, clipped at an octave)")):
        figure, axes = plt.subplots(figsize=(9, 3.6))
        series = [("real", real["features"]["mean_value"][feature])]
        series += [(m["name"], m["features"][feature]["mean_value"]) for m in models]
        width = 0.8 / len(series)
        positions = np.arange(len(labels))
        for offset, (name, values) in enumerate(series):
            axes.bar(positions + offset * width - 0.4 + width / 2, values, width, label=name)
        axes.set_xticks(positions, labels)
        axes.set_ylabel("share of notes")
        axes.set_title(title)
        axes.legend()
        save(figure, f"{feature}.png")

    features = list(real["features"]["ceiling"])
    figure, axes = plt.subplots(figsize=(9, 3.8))
    series = [("ceiling (real vs real)", [real["features"]["ceiling"][f]["overlap"] for f in features])]
    series += [(m["name"], [m["features"][f]["overlap"] for f in features]) for m in models]
    width = 0.8 / len(series)
    positions = np.arange(len(features))
    for offset, (name, values) in enumerate(series):
        axes.bar(positions + offset * width - 0.4 + width / 2, [v if v is not None else 0 for v in values], width,
                 label=name)
    axes.set_xticks(positions, [f.replace("_", "\n") for f in features], fontsize=8)
    axes.set_ylim(0, 1)
    axes.set_ylabel("overlap area")
    axes.set_title("distribution match per feature (1 = like the real tunes)")
    axes.legend(fontsize=8)
    save(figure, "overlap.png")

    figure, axes = plt.subplots(figsize=(7, 3.6))
    bins = np.linspace(0, 1, 21)
    sets = [(f"real {report['split']}", real)] + [(m["name"], m) for m in models]
    for name, figures in sets:
        values = [t["similarity"] for t in figures["novelty"]["per_tune"]]
        axes.hist(values, bins=bins, histtype="step", linewidth=1.5, density=True, label=name)
    axes.axvline(real["novelty"]["threshold"], color="grey", linestyle="--", linewidth=1)
    axes.set_xlabel("similarity to the most similar training tune")
    axes.set_ylabel("density")
    axes.legend()
    save(figure, "novelty.png")

    if real.get("musicality"):
        figure = _rhythm_plot(plt, real["musicality"], [(m["name"], m["musicality"]) for m in models])
        if figure is not None:
            save(figure, "rhythm.png")

    for m in models:
        history = m.get("training_history") or []
        if not history:
            continue
        figure, axes = plt.subplots(figsize=(7, 3.6))
        epochs = [h.get("epoch", i + 1) for i, h in enumerate(history)]
        for key in ("train_loss", "valid_loss"):
            if all(key in h for h in history):
                axes.plot(epochs, [h[key] for h in history], marker="o", label=key.replace("_", " "))
        axes.set_xlabel("epoch")
        axes.set_ylabel("loss")
        axes.set_title(f"training of {m['name']}")
        axes.legend()
        save(figure, f"training-{m['name']}.png")
    return written

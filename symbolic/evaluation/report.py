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
from symbolic.evaluation.novelty import PHRASE_BARS

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

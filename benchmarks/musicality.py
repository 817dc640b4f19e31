"""Musicality of generated tunes beside real tunes of the same type: cadence, mode, register,
rhythm, form and the classifier two-sample test (the figures of `symbolic evaluate --report`'s
Musicality section, without the rest of the report), to measure a change before and after; and
where the tunes restate their bars by place in the form, how far their second part rises, how
many of their notes take a length real tunes of the type rarely give at that place in the bar, how
often their parts close at home, their compass, repeated pitches and how minor tunes open.

    OPENBLAS_NUM_THREADS=1 PYTHONPATH=. .venv/bin/python benchmarks/musicality.py CORPUS \\
        [--model PATH ...] [--samples 200] [--seed 0] [--split test] [--types jig,reel] [--balance-modes]
        [--mode-prior STRENGTH] [--floor-prior STRENGTH] [--echo-prior STRENGTH] [--opening-prior STRENGTH]
        [--rhythm-prior STRENGTH]
        [--no-cadence] [--json OUT]

CORPUS is a corpus folder (`symbolic corpus build music21:folk --out /tmp/corpus-folk`); without
--model the bundled model is measured. Samples take the type, meter, mode and key of random real
tunes of the split (as `symbolic evaluate` draws them), so both sides have the same mix; --types keeps
only real tunes (and so samples) of those types. Needs scikit-learn for the classifier figures.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from symbolic.evaluation.classifier import real_baseline, two_sample_test  # noqa: E402
from symbolic.evaluation.metrics import INTERVAL_LIMIT, interval_histogram, pitches  # noqa: E402
from symbolic.evaluation.musicality import ALL, first_degree, kind, musicality_figures  # noqa: E402
from symbolic.evaluation.report import musicality_markdown  # noqa: E402
from symbolic.evaluation.restatement import home_closes, restatement_profile, second_part_rise  # noqa: E402
from symbolic.evaluation.run import (  # noqa: E402
    RealSet,
    load_real,
    load_written,
    model_names,
    sample,
    with_written_keys,
)
from symbolic.generation.echo import SOURCES  # noqa: E402
from symbolic.generation.rhythm import Rhythm, placed_lengths  # noqa: E402
from symbolic.generation.sampler import SamplingSettings  # noqa: E402
from symbolic.models.modelfile import load_model  # noqa: E402


def only_types(real: RealSet, types: set[str]) -> RealSet:
    keep = [i for i, header in enumerate(real.headers) if header[0] in types]
    return RealSet([real.tunes[i] for i in keep], [real.names[i] for i in keep], [real.headers[i] for i in keep])


def draw_headers(real: RealSet, samples: int, rng: np.random.Generator, balance_modes: bool) -> list:  # type: ignore[type-arg]
    """(type, meter, mode, key) of random real tunes, as `symbolic evaluate` draws them; or, balanced,
    an equal share of the samples for each mode, from the real tunes of that mode."""
    if not balance_modes:
        return [real.headers[i] for i in rng.integers(len(real.headers), size=samples)]
    modes = sorted({h[2] for h in real.headers})
    headers = []
    for number, mode in enumerate(modes):
        pool = [h for h in real.headers if h[2] == mode]
        share = samples // len(modes) + (number < samples % len(modes))
        headers += [pool[i] for i in rng.integers(len(pool), size=share)]
    return headers


RHYTHM_TYPES = (ALL, "reel", "jig", "hornpipe")


def rare_lengths(tunes: list) -> dict[str, float | None]:  # type: ignore[type-arg]
    """By type, the share of notes in full bars whose length real tunes of the type and meter give
    fewer than 1 in 100 of their notes at that place in the bar (the rhythm prior's `rhythms.json`)."""
    counts: dict[str, list[int]] = {name: [0, 0] for name in RHYTHM_TYPES}
    for tune in tunes:
        rhythm = Rhythm.shipped(kind(tune), tune.meter)
        if rhythm is None:
            continue
        judged = [length not in rhythm.usual[place] for place, length in placed_lengths(tune) if place in rhythm.usual]
        for name in {kind(tune), ALL} & set(RHYTHM_TYPES):
            counts[name][0] += sum(judged)
            counts[name][1] += len(judged)
    return {name: rare / notes if notes else None for name, (rare, notes) in counts.items()}


def line_figures(tunes: list) -> dict[str, float | None]:  # type: ignore[type-arg]
    """Parts before the last closing at home, the compass, pitches repeated from the note before,
    and how minor tunes open: on the tonic or fifth, first note and first after a pickup."""
    home, parts = home_closes(tunes)
    compasses = [max(found) - min(found) for found in map(pitches, tunes) if found]
    minor = [t for t in tunes if t.key.mode == "minor"]

    def minor_opening(after_pickup: bool) -> float | None:
        degrees = [d for d in (first_degree(t, after_pickup) for t in minor) if d is not None]
        return sum(d in (0, 7) for d in degrees) / len(degrees) if degrees else None

    return {"home_closes": home / parts if parts else None, "compass_median": float(np.median(compasses)),
            "compass_90th": float(np.percentile(compasses, 90)),
            "repeated": float(np.mean([interval_histogram(t)[INTERVAL_LIMIT] for t in tunes])),
            "minor_first": minor_opening(False), "minor_after_pickup": minor_opening(True)}


def form_figures(tunes: list) -> dict:  # type: ignore[type-arg]
    profile = restatement_profile(tunes)
    return {"tunes_in_parts_of_8": profile["tunes"], "second_part_rise": second_part_rise(tunes),
            "rare_lengths": rare_lengths(tunes), "line": line_figures(tunes),
            **{name: profile[name].round(3).tolist() for name in ("first", "later")}}


def form_markdown(report: dict) -> list[str]:  # type: ignore[type-arg]
    """Where the tunes restate their bars, real / each model, and how far their second part rises."""
    sets = [report["real"]["form"], *(m["form"] for m in report["models"])]
    lines = ["", "Bars restated by place in the form (tunes in parts of 8 bars: "
             + " / ".join(str(f["tunes_in_parts_of_8"]) for f in sets) + "); each cell real / "
             + " / ".join(m["name"] for m in report["models"]) + ":", "",
             "| part | restates | " + " | ".join(f"bar {j + 1}" for j in range(8)) + " |", "|---" * 10 + "|"]
    for name in ("first", "later"):
        for s, source in enumerate(SOURCES):
            if name == "first" and source == "part":
                continue
            cells = [" / ".join(f"{f[name][s][j]:.2f}" for f in sets) for j in range(8)]
            lines.append(f"| {name} | {source} | " + " | ".join(cells) + " |")
    lines += ["", "Notes of a length real tunes of the type rarely give at that place in the bar (fewer than 1 in "
              "100 of the training tunes' notes there): " + ", ".join(
                  f"{name} " + " / ".join("-" if f["rare_lengths"][name] is None else f"{f['rare_lengths'][name]:.4f}"
                                          for f in sets) for name in RHYTHM_TYPES)]
    names = {"home_closes": "parts before the last closing at home", "compass_median": "compass, median",
             "compass_90th": "compass, 90th percentile", "repeated": "pitches repeated from the note before",
             "minor_first": "minor tunes' first note on the tonic or fifth",
             "minor_after_pickup": "minor tunes' first note after a pickup on the tonic or fifth"}
    for key, name in names.items():
        values = [f["line"][key] for f in sets]
        lines.append(f"- {name}: " + " / ".join("-" if v is None else f"{v:.3f}" for v in values))
    rises = [f["second_part_rise"] for f in sets]
    lines += ["", "Second part's median pitch above the first's, mean semitones (share of tunes above): "
              + " / ".join(f"{r['mean_rise']:+.1f} ({r['share_higher']:.2f})" if r["tunes"] else "-" for r in rises)]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus")
    parser.add_argument("--model", action="append", help="a model folder (repeat for several; default: bundled)")
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--split", default="test")
    parser.add_argument("--types", help="comma-separated tune types to keep (default: all)")
    parser.add_argument("--balance-modes", action="store_true",
                        help="as many samples of each mode the real tunes have (their headers drawn from tunes "
                             "of that mode), so rare modes get enough samples to measure mode adherence; the other "
                             "figures then compare another mix of modes than the real tunes'")
    parser.add_argument("--mode-prior", type=float,
                        help="the mode prior's strength (default: the generator's; 0 measures the model's own sense "
                             "of mode)")
    parser.add_argument("--floor-prior", type=float,
                        help="the floor prior's strength (default: the generator's)")
    parser.add_argument("--echo-prior", type=float,
                        help="the echo prior's strength (default: the generator's)")
    parser.add_argument("--opening-prior", type=float,
                        help="the opening prior's strength, 0..1 (default: the generator's)")
    parser.add_argument("--rhythm-prior", type=float, help="the rhythm prior's strength (default: the generator's)")
    parser.add_argument("--no-cadence", action="store_true",
                        help="free the grammar's cadence rule, as `symbolic generate --no-cadence` does, to measure "
                             "where the model ends a tune on its own")
    parser.add_argument("--json", help="also write the figures to this JSON file")
    args = parser.parse_args()

    started = time.perf_counter()
    real = load_real(args.corpus, args.split)
    if args.types:
        real = only_types(real, {t.strip() for t in args.types.split(",")})
    if not real.tunes:
        sys.exit(f"{args.corpus}: no {args.split} tunes of the types asked for")
    written = load_written(real)
    real = with_written_keys(real, written)
    found = [w for w in written if w is not None]
    report = {"split": args.split, "real": {"musicality": {
        **musicality_figures(real.tunes, found), "written_not_found": len(real.tunes) - len(found),
        "classifier_baseline": real_baseline(real.tunes, args.seed)}, "form": form_figures(real.tunes)}, "models": []}
    rng = np.random.default_rng(args.seed)
    headers = draw_headers(real, args.samples, rng, args.balance_modes)
    paths = args.model or [None]
    changed = {"mode_prior": args.mode_prior, "floor_prior": args.floor_prior, "echo_prior": args.echo_prior,
               "opening_prior": args.opening_prior, "rhythm_prior": args.rhythm_prior}
    sampling = SamplingSettings(**{k: v for k, v in changed.items() if v is not None}) if any(
        v is not None for v in changed.values()) else None
    for name, path in zip(model_names(paths), paths, strict=True):
        tunes, fallbacks = sample(load_model(path), headers, args.seed, sampling, cadence=not args.no_cadence)
        report["models"].append({"name": name, "header_fallbacks": fallbacks, "musicality": {
            **musicality_figures(tunes, tunes), "classifier": two_sample_test(tunes, real.tunes, args.seed)},
            "form": form_figures(tunes)})
    print(f"{len(real.tunes)} real {args.split} tunes of {args.corpus}"
          + (f" (types {args.types})" if args.types else "") + f", {args.samples} samples a model, seed {args.seed}; "
          + ", ".join(f"{m['name']}: {m['header_fallbacks']} header fallbacks" for m in report["models"]) + "\n")
    print("\n".join(musicality_markdown(report) + form_markdown(report)))
    print(f"measured in {time.perf_counter() - started:.1f} s")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

"""Measure the forms of real tunes' parts, which bars restate which and how often a part closes at
home, and how often a tune opens with a pickup, for the echo prior and the sampler's part closes
and pickups; the degrees their first notes fall on, by mode, for the opening prior; and the lengths
their notes take at each place in the bar, by type and meter, for the rhythm prior.

    PYTHONPATH=. .venv/bin/python scripts/measure_forms.py CORPUS [--split train]
        [--out symbolic/generation/forms.json] [--openings symbolic/generation/openings.json]
        [--rhythms symbolic/generation/rhythms.json]

CORPUS is a corpus folder (`symbolic corpus build`); the shipped forms come from the dance tunes
the bundled model learned from (its corpus-dance, train split). Parts of eight bars are counted,
in tunes whose every part has eight, for all types together and for each type with at least
MIN_FIRST_PARTS of them; see `symbolic/generation/echo.py` for how they are used.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from symbolic.atomic import write_text_atomically  # noqa: E402
from symbolic.evaluation.musicality import first_degree, has_pickup  # noqa: E402
from symbolic.evaluation.restatement import home_closes, restatement_forms  # noqa: E402
from symbolic.evaluation.run import RealSet, load_real  # noqa: E402
from symbolic.generation.echo import ALL_TYPES, FORMS_FILE, Forms  # noqa: E402
from symbolic.generation.opening import OPENINGS_FILE  # noqa: E402
from symbolic.generation.rhythm import RHYTHMS_FILE, count_rhythms  # noqa: E402
from symbolic.tune import Tune  # noqa: E402

BARS_PER_PART = 8
MIN_FIRST_PARTS = 300  # a type with fewer takes the forms of all types: 300 parts give each share ±0.03


def write_forms(real: RealSet, out: Path) -> None:
    groups: dict[str, list[Tune]] = defaultdict(list)
    for tune, header in zip(real.tunes, real.headers, strict=True):
        groups[header[0]].append(tune)
    groups[ALL_TYPES] = list(real.tunes)
    by_type = {}
    for kind, tunes in sorted(groups.items()):
        counted = restatement_forms(tunes, BARS_PER_PART)
        home, parts = home_closes(tunes)
        forms = Forms.from_counts(BARS_PER_PART, counted["first"], counted["later"], home / parts if parts else 0.0,
                                  sum(map(has_pickup, tunes)) / len(tunes))
        first = sum(forms.first[1])
        if first >= MIN_FIRST_PARTS or kind == ALL_TYPES:
            by_type[kind] = forms.to_json()
            print(f"{kind}: {first} first parts in {len(forms.first[0])} forms, the commonest "
                  f"{', '.join(f'{c / first:.2f}' for c in forms.first[1][:4])}; "
                  f"{sum(forms.later[1])} later parts in {len(forms.later[0])} forms; "
                  f"{forms.home_close:.2f} of {parts} parts before the last close at home; "
                  f"{forms.pickup:.2f} of {len(tunes)} tunes open with a pickup")
    write_text_atomically(out, json.dumps({"bars_per_part": BARS_PER_PART, "by_type": by_type}) + "\n")


def write_openings(real: RealSet, out: Path) -> None:
    openings: dict[str, dict[str, list[int]]] = defaultdict(
        lambda: {name: [0] * 12 for name in ("first", "pickup", "downbeat", "after_pickup")})
    for tune in real.tunes:
        counts = openings[tune.key.mode]
        first, after_pickup = first_degree(tune), first_degree(tune, after_pickup=True)
        if first is not None:
            counts["first"][first] += 1
            counts["pickup" if has_pickup(tune) else "downbeat"][first] += 1
        if after_pickup is not None:
            counts["after_pickup"][after_pickup] += 1
    write_text_atomically(out, json.dumps({"by_mode": dict(sorted(openings.items()))}) + "\n")
    for mode, entry in sorted(openings.items()):
        for name, counts in entry.items():
            shares = sorted(((c / max(sum(counts), 1), d) for d, c in enumerate(counts)), reverse=True)[:4]
            print(f"{mode}, {name.replace('_', ' ')}: {sum(counts)} tunes, degrees "
                  + ", ".join(f"{d} ({share:.2f})" for share, d in shares))


def write_rhythms(real: RealSet, out: Path) -> None:
    counts = count_rhythms(real.tunes, [header[0] for header in real.headers])
    write_text_atomically(out, json.dumps({"by_type": counts}) + "\n")
    for kind, meters in sorted(counts.items()):
        notes = {meter: sum(sum(lengths.values()) for lengths in places.values()) for meter, places in meters.items()}
        print(f"{kind} rhythms: " + ", ".join(f"{meter} quarters {n} notes" for meter, n in sorted(notes.items())))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus")
    parser.add_argument("--split", default="train")
    parser.add_argument("--out", type=Path, default=FORMS_FILE)
    parser.add_argument("--openings", type=Path, default=OPENINGS_FILE)
    parser.add_argument("--rhythms", type=Path, default=RHYTHMS_FILE)
    args = parser.parse_args()
    real = load_real(args.corpus, args.split)
    write_forms(real, args.out)
    write_openings(real, args.openings)
    write_rhythms(real, args.rhythms)


if __name__ == "__main__":
    main()

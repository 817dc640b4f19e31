"""Measure the forms of real tunes' parts, which bars restate which and how often a part closes at
home, for the echo prior and the sampler's part closes.

    PYTHONPATH=. .venv/bin/python scripts/measure_forms.py CORPUS [--split train] [--out symbolic/generation/forms.json]

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
from symbolic.evaluation.restatement import home_closes, restatement_forms  # noqa: E402
from symbolic.evaluation.run import load_real  # noqa: E402
from symbolic.generation.echo import ALL_TYPES, FORMS_FILE, Forms  # noqa: E402
from symbolic.tune import Tune  # noqa: E402

BARS_PER_PART = 8
MIN_FIRST_PARTS = 300  # a type with fewer takes the forms of all types: 300 parts give each share ±0.03


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus")
    parser.add_argument("--split", default="train")
    parser.add_argument("--out", type=Path, default=FORMS_FILE)
    args = parser.parse_args()
    real = load_real(args.corpus, args.split)
    groups: dict[str, list[Tune]] = defaultdict(list)
    for tune, header in zip(real.tunes, real.headers, strict=True):
        groups[header[0]].append(tune)
    groups[ALL_TYPES] = list(real.tunes)
    by_type = {}
    for kind, tunes in sorted(groups.items()):
        counted = restatement_forms(tunes, BARS_PER_PART)
        home, parts = home_closes(tunes)
        forms = Forms.from_counts(BARS_PER_PART, counted["first"], counted["later"], home / parts)
        first = sum(forms.first[1])
        if first >= MIN_FIRST_PARTS or kind == ALL_TYPES:
            by_type[kind] = forms.to_json()
            print(f"{kind}: {first} first parts in {len(forms.first[0])} forms, the commonest "
                  f"{', '.join(f'{c / first:.2f}' for c in forms.first[1][:4])}; "
                  f"{sum(forms.later[1])} later parts in {len(forms.later[0])} forms; "
                  f"{forms.home_close:.2f} of {parts} parts before the last close at home")
    text = json.dumps({"bars_per_part": BARS_PER_PART, "by_type": by_type})
    write_text_atomically(args.out, text + "\n")

if __name__ == "__main__":
    main()

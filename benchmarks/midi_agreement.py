"""How well the MIDI reader recovers tunes from abc2midi's MIDI of bundled folk tunes.

    python benchmarks/midi_agreement.py [--sample N] [--seed S]

Prints: the share of tunes whose melody (pitch and duration of each sounding note, ties merged,
repeats unfolded) equals our ABC reader's; and, with the time signature removed from each file,
how often the estimated meter is right (exactly, and up to equivalent meters: 2/4 = 4/4 = 2/2,
3/8 = 6/8) and how often the pickup is placed right. Grace notes and R:hornpipe are removed first
because abc2midi performs them (grace notes take time, hornpipes are swung).
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from fractions import Fraction
from pathlib import Path

import mido

sys.path.insert(0, str(Path(__file__).parent.parent / "tests"))
from corpus import sample_folk_tunes  # noqa: E402

from symbolic.abc.writer import write_abc  # noqa: E402
from symbolic.midi.reader import read_midi  # noqa: E402
from symbolic.performance.unfold import merge_ties, unfold  # noqa: E402
from symbolic.tune import Bar, Note, Tune  # noqa: E402

METER_CLASS = {"2/4": "duple", "4/4": "duple", "2/2": "duple", "C": "duple", "C|": "duple", "3/4": "triple",
               "6/8": "compound", "3/8": "compound", "9/8": "compound triple"}


def sounding(notes: list[Note]) -> list[tuple[int | None, Fraction]]:
    return [(n.pitch, n.duration) for n in merge_ties(notes) if n.pitch is not None]


def plain(tune: Tune, drop_repeats: bool) -> Tune:
    body = []
    for e in tune.body:
        if type(e) is Note and e.grace:
            e = dataclasses.replace(e, grace=())
        elif type(e) is Bar and drop_repeats:
            e = Bar(e.onset)
        body.append(e)
    return dataclasses.replace(tune, rhythm="", body=tuple(body))


def to_midi(tune: Tune, folder: Path, strip_meter: bool) -> Path | None:
    source, target = folder / "t.abc", folder / "t.mid"
    source.write_text(write_abc(tune))
    target.unlink(missing_ok=True)
    subprocess.run(["abc2midi", str(source), "-o", str(target)], capture_output=True, timeout=30)
    if not target.exists():
        return None
    if strip_meter:
        midi = mido.MidiFile(str(target))
        for track in midi.tracks:
            for i, message in enumerate(track):
                if message.type == "time_signature":
                    track[i] = mido.MetaMessage("text", text="", time=message.time)
        midi.save(str(target))
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sample", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if not shutil.which("abc2midi"):
        sys.exit("abc2midi is not installed (Debian package abcmidi)")
    folder = Path(tempfile.mkdtemp())
    agree = compared = 0
    meters: Counter = Counter()
    pickups: Counter = Counter()
    for tune in sample_folk_tunes(args.sample, args.seed):
        path = to_midi(plain(tune, drop_repeats=False), folder, strip_meter=False)
        if path is None:
            continue
        compared += 1
        agree += sounding(read_midi(path)[0].notes) == sounding(unfold(plain(tune, False)))
        truth = tune.meter.text
        if truth not in METER_CLASS or tune.meter.bar_length is None:
            continue
        flat = plain(tune, drop_repeats=True)
        path = to_midi(flat, folder, strip_meter=True)
        if path is None:
            continue
        read = read_midi(path)[0]
        meters["exact" if read.meter.bar_length == tune.meter.bar_length and read.meter.is_compound ==
               tune.meter.is_compound else "wrong"] += 1
        meters["class"] += METER_CLASS.get(read.meter.text) == METER_CLASS[truth]
        meters["total"] += 1
        first = next((b.onset for b in flat.bars if b.onset > 0), Fraction(0))
        true_pickup = first if first < tune.meter.bar_length else Fraction(0)
        with_meta = read_midi(to_midi(flat, folder, strip_meter=False))[0]  # type: ignore[arg-type]
        bar_length = with_meta.meter.bar_length or Fraction(1)
        found = next((b.onset for b in with_meta.bars if b.onset > 0), Fraction(0))
        pickups[(found if found < bar_length else Fraction(0)) == true_pickup] += 1
    shutil.rmtree(folder)
    print(f"melody agreement with our ABC reader: {agree}/{compared} = {agree / max(compared, 1):.1%}")
    total = meters["total"] or 1
    print(f"meter estimated without a time signature: exact {meters['exact']}/{total} = {meters['exact'] / total:.1%}, "
          f"up to equivalent meters {meters['class']}/{total} = {meters['class'] / total:.1%}")
    right = pickups[True]
    print(f"pickup placed right (time signature given): {right}/{sum(pickups.values())} = "
          f"{right / max(sum(pickups.values()), 1):.1%}")


if __name__ == "__main__":
    main()

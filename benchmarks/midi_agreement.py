"""How well the MIDI reader recovers tunes from abc2midi's MIDI of bundled folk tunes, and from
a real MIDI corpus no one here made (CRÉ, in corpora/cre: 975 MIDI files of the same tunes as the
ABC tunebook next to them).

    python benchmarks/midi_agreement.py [--sample N] [--seed S]
    python benchmarks/midi_agreement.py --cre [--sample N] [--seed S]

With --cre, each MIDI file is matched to its ABC tune by title (file names are the titles in
CamelCase; the F: file ID the MIDI carries in a text event settles titles used twice), and the
MIDI reader's melody, meter, key and pickup are compared with the ABC reader's: meter and key from
the file's meta events and estimated with those events removed. The CRÉ MIDI was made by a tool
that performs grace notes (they take time) and swings hornpipes, so the melody is compared on all
tunes and on the tunes with neither.

Prints: the share of tunes whose melody (pitch and duration of each sounding note, ties merged,
repeats unfolded) equals our ABC reader's; and, with the time signature removed from each file,
how often the estimated meter is right (exactly, and up to equivalent meters: 2/4 = 4/4 = 2/2,
3/8 = 6/8) and how often the pickup is placed right. Grace notes and R:hornpipe are removed first
because abc2midi performs them (grace notes take time, hornpipes are swung).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from fractions import Fraction
from pathlib import Path

import mido

from symbolic.abc.writer import write_abc
from symbolic.evaluation.agreement.cre_midi import METER_CLASS, cre_agreement, plain, sounding
from symbolic.evaluation.agreement.folk import sample_folk_tunes
from symbolic.midi.reader import read_midi
from symbolic.performance.unfold import unfold
from symbolic.tune import Tune

__all__ = ["cre_agreement"]  # tests/test_midi_cre.py loads it from here by path


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


def print_cre(counts: Counter) -> None:  # type: ignore[type-arg]
    n = counts["compared"] or 1
    print(f"CRÉ MIDI files matched to their ABC tune: {counts['compared']} "
          f"(unmatched {counts['unmatched']})")
    for name in ("melody", "pitches", "meter", "meter estimated", "meter class", "key", "key estimated", "pickup"):
        print(f"  {name:<16} {counts[name]:>4}/{counts['compared']} = {counts[name] / n:.1%}")
    plain_n = counts["plain"] or 1
    print(f"  {'melody, no grace notes, not a hornpipe':<16} {counts['plain melody']}/{counts['plain']} = "
          f"{counts['plain melody'] / plain_n:.1%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sample", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cre", action="store_true", help="compare CRÉ's MIDI files with its ABC (all unless --sample)")
    args = parser.parse_args()
    if args.cre:
        print_cre(cre_agreement(args.sample if "--sample" in sys.argv else None, args.seed))
        return
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

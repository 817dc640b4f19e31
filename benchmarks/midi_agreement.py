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
import dataclasses
import random
import re
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

from symbolic.abc.reader import read_abc_file  # noqa: E402
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


CRE = Path(__file__).resolve().parent.parent / "corpora" / "cre"


def title_key(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def cre_pairs(sample: int | None = None, seed: int = 0) -> tuple[list[tuple[Path, Tune]], Counter]:  # type: ignore[type-arg]
    """(MIDI file, its ABC tune) for CRÉ's MIDI files (a seeded sample of `sample` of them), and
    how many files found no tune or no single one."""
    by_title: dict[str, list[Tune]] = {}
    for tune in read_abc_file(CRE / "abc" / "CRE_vol1-4.abc").tunes:
        by_title.setdefault(title_key(tune.titles[0] if tune.titles else ""), []).append(tune)
    files = sorted((CRE / "midi").glob("*.mid"))
    if sample is not None and sample < len(files):
        files = sorted(random.Random(seed).sample(files, sample))
    pairs, misses = [], Counter()  # type: ignore[var-annotated]
    for path in files:
        found = by_title.get(title_key(path.stem), [])
        if len(found) > 1:
            ids = {m.text[2:].strip() for track in mido.MidiFile(str(path)).tracks for m in track
                   if m.type == "text" and m.text.startswith("F:")}
            found = [t for t in found if any(("F", i) in t.fields for i in ids)]
        if len(found) == 1:
            pairs.append((path, found[0]))
        else:
            misses["unmatched"] += 1
    return pairs, misses


def without_meta(path: Path, folder: Path, kinds: tuple[str, ...]) -> Path:
    """A copy of `path` with its meta events of `kinds` (time_signature, key_signature) removed."""
    midi = mido.MidiFile(str(path))
    for track in midi.tracks:
        for i, message in enumerate(track):
            if message.type in kinds:
                track[i] = mido.MetaMessage("text", text="", time=message.time)
    target = folder / f"stripped-{path.name}"
    midi.save(str(target))
    return target


def pickup_of(tune: Tune) -> Fraction:
    """The length of the pickup bar (0: none), from the first bar line."""
    bar_length = tune.meter.bar_length
    first = next((b.onset for b in tune.bars if b.onset > 0), Fraction(0))
    return first % bar_length if bar_length else Fraction(0)


def cre_agreement(sample: int | None = None, seed: int = 0) -> Counter:  # type: ignore[type-arg]
    """Counts of agreement between the MIDI reader on CRÉ's MIDI and the ABC reader on its ABC."""
    import warnings

    pairs, counts = cre_pairs(sample, seed)
    folder = Path(tempfile.mkdtemp())
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pretty_midi warns about meta events on the note track
            for path, abc in pairs:
                midi = read_midi(path)[0]
                counts["compared"] += 1
                expected = sounding(unfold(plain(abc, False)))
                counts["melody"] += sounding(midi.notes) == expected
                counts["pitches"] += [p for p, _ in sounding(midi.notes)] == [p for p, _ in expected]
                performed = abc.rhythm.lower().startswith("hornpipe") or any(n.grace for n in abc.notes)
                if not performed:
                    counts["plain"] += 1
                    counts["plain melody"] += sounding(midi.notes) == expected
                same_meter = (midi.meter.bar_length == abc.meter.bar_length
                              and midi.meter.is_compound == abc.meter.is_compound)
                counts["meter"] += same_meter
                counts["key"] += midi.key.signature == abc.key.signature
                counts["pickup"] += pickup_of(midi) == pickup_of(abc)
                guessed = read_midi(without_meta(path, folder, ("time_signature", "key_signature")))[0]
                counts["meter estimated"] += (guessed.meter.bar_length == abc.meter.bar_length
                                              and guessed.meter.is_compound == abc.meter.is_compound)
                counts["meter class"] += METER_CLASS.get(guessed.meter.text) == METER_CLASS.get(abc.meter.text)
                counts["key estimated"] += guessed.key.signature == abc.key.signature
    finally:
        shutil.rmtree(folder)
    return counts


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

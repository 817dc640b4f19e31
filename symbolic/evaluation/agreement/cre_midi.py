"""The MIDI reader against the ABC reader on the same tunes: CRÉ's MIDI files (a real MIDI corpus
no one here made, shipped in the repository's corpora/cre) against their ABC tunebook.

Each MIDI file is matched to its ABC tune by title (file names are the titles in CamelCase; the F:
file ID the MIDI carries in a text event settles titles used twice), and the MIDI reader's melody,
meter, key and pickup are compared with the ABC reader's: meter and key from the file's meta events
and estimated with those events removed. The CRÉ MIDI was made by a tool that performs grace notes
(they take time) and swings hornpipes, so the melody is compared on all tunes and on those with
neither. Needs a checkout (the wheel does not carry corpora/).
"""

from __future__ import annotations

import dataclasses
import random
import re
import shutil
import tempfile
from collections import Counter
from fractions import Fraction
from pathlib import Path

import mido

from symbolic.abc.reader import read_abc_file
from symbolic.corpus.sources import shipped_corpus_dir
from symbolic.midi.reader import read_midi
from symbolic.performance.unfold import merge_ties, unfold
from symbolic.tune import Bar, Note, Tune

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


def title_key(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def cre_pairs(sample: int | None = None, seed: int = 0) -> tuple[list[tuple[Path, Tune]], Counter]:  # type: ignore[type-arg]
    """(MIDI file, its ABC tune) for CRÉ's MIDI files (a seeded sample of `sample` of them), and
    how many files found no tune or no single one."""
    abc_folder, midi_folder = shipped_corpus_dir("cre")[0], shipped_corpus_dir("cre-midi")[0]
    by_title: dict[str, list[Tune]] = {}
    for tune in read_abc_file(abc_folder / "CRE_vol1-4.abc").tunes:
        by_title.setdefault(title_key(tune.titles[0] if tune.titles else ""), []).append(tune)
    files = sorted(midi_folder.glob("*.mid"))
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

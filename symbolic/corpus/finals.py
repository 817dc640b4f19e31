"""A tune's key named by its final: `K:G` on a tune whose every part ends on A is A dorian.

Old collections (O'Neill's 1850 and the like) write the key signature in K:, not the mode: a
quarter of the dance tunes marked major end on another degree, most often the second (dorian),
the fifth (mixolydian) or the sixth (minor). A musician names a modal tune by its final, the note it
comes home to, and so does this: a model trained on the K: as written learns that a major tune
may end anywhere, and has few dorian and mixolydian tunes to learn those modes from.

A tune is renamed only when the evidence is plain: one key throughout, no extra accidentals in
K:, two parts or more and every one ends on the same pitch class, not the written tonic (a song
of one part may well end away from home), and the notes fit a mode on that final at least as
well as the written key (so a `K:C` tune full of B flats that ends on F
becomes F major, not F lydian). Only the four modes folk musicians name tunes in are chosen: a
major tune ending on its third is more often a song ending on the mediant than a phrygian tune.
"""

from __future__ import annotations

import dataclasses

from symbolic.evaluation.metrics import pitches
from symbolic.evaluation.musicality import last_note, part_endings
from symbolic.pitch import KEY_NAMES, LETTER_SEMITONES, LETTERS
from symbolic.tune import Key, KeyChange, Tune

# The modes a final can name, most usual first (ties go to the written signature, then this order).
FINAL_MODES = ("major", "minor", "dorian", "mixolydian")


def _share_in_scale(found: list[int], key: Key) -> float:
    scale = key.scale
    return sum(p % 12 in scale for p in found) / len(found)


def _tonic_name(pitch_class: int, written: Key) -> str:
    """The final's name as the written signature spells it (F# under K:D), else the usual name."""
    for letter in LETTERS:
        alter = written.signature[letter]
        if (LETTER_SEMITONES[letter] + alter) % 12 == pitch_class and -1 <= alter <= 1:
            return letter + {-1: "b", 0: "", 1: "#"}[alter]
    return KEY_NAMES[pitch_class]


def key_from_final(tune: Tune) -> Key | None:
    """The key the tune's final names, when it differs from the written one (see the module's
    rules), or None to keep the written key."""
    written = tune.key
    if written.extra or any(type(e) is KeyChange for e in tune.body):
        return None
    final = last_note(tune)
    endings = [pitch % 12 for pitch, _ in part_endings(tune)]
    if final is None or len(endings) < 2 or set(endings) != {final[0] % 12} or endings[0] == written.tonic_pitch_class:
        return None
    found = pitches(tune)
    tonic = _tonic_name(final[0] % 12, written)
    candidates = [Key(tonic, mode) for mode in FINAL_MODES]
    best = max(candidates, key=lambda k: (_share_in_scale(found, k), k.fifths == written.fifths,
                                          -FINAL_MODES.index(k.mode)))
    return best if _share_in_scale(found, best) >= _share_in_scale(found, written) else None


def with_key_from_final(tune: Tune) -> Tune:
    """The tune with the key its final names, or the tune itself."""
    key = key_from_final(tune)
    return tune if key is None else dataclasses.replace(tune, key=key)

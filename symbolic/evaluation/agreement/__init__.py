"""How our readers agree with readers no one here wrote, on real tunes.

- `folk`: the folk tunebooks bundled with music21, as each tune's own text and as read tunes;
- `against_music21`: our ABC reader against music21's, written-order melody, with the causes of
  each disagreement found by ablation;
- `against_abc2midi`: our reading (repeats unfolded, ties merged) against the MIDI that `abc2midi`
  plays, with each disagreement classified;
- `cre_midi`: our MIDI reader on CRÉ's MIDI files against our ABC reader on their ABC (checkout only).

The tests assert the measured rates on small samples; `benchmarks/` runs them at scale and writes
the reports. Both import from here, so neither imports the other.
"""

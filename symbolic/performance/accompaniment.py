"""Accompaniment for a performed tune: chord names parsed, chords chosen from the melody, and
the simple patterns a session player would use (bass-chord "oom-pa-pa" and the like), plus a
drone and a bodhrán rhythm. Everything here works on a `Performance` (the tune as heard, with
its bar lines in performance order), which `symbolic.performance.perform.perform` builds.

Choices:
- Chord symbols of the tune are used when it has any (names that do not parse, such as `N.C.`
  or `(G)`, are ignored: the chord before them goes on). Otherwise a chord is chosen for each
  bar, or each half bar in 4/4, 2/2 and 6/8 when both halves have at least MIN_HALF_NOTES notes
  and they clearly want different chords, among the major and minor triads of the key (its
  mode, its extra accidentals included), scored by the melody notes they hold, weighted by
  duration and metric position; the tonic is preferred a little everywhere and strongly in the
  last bar.
- Patterns come from the tune's `R:` field and its meter: compound meters (jigs, slides, slip
  jigs) play bass-chord-chord in eighths on each dotted quarter; reels, hornpipes, marches and
  barndances alternate bass (root, then fifth) and chord on quarter notes; polkas alternate them
  on eighths; waltzes play bass then chords on the beats; anything else plays a block chord with
  its bass on each beat. The bass lies in C2-B2, the chord in D3-C#4.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from fractions import Fraction

from symbolic.chords import Chord, parse_chord
from symbolic.pitch import LETTER_SEMITONES, LETTERS, pitch_class_name
from symbolic.tune import Key, Meter
from symbolic.tune_types import type_of

BASS_LOW = 36  # C2: the bass note is placed in C2..B2
CHORD_LOW = 50  # D3: chord tones are placed in D3..C#4, close to C3-C4
DRONE_LOW = 36  # C2: the drone's tonic lies in C2..B2, its fifth above
MIN_HALF_NOTES = 2  # melody notes each half bar needs before it may get a chord of its own
SPLIT_GAIN = 0.15  # how much better (share of melody weight) two half-bar chords must fit
TONIC_PRIOR = 0.06  # bonus (share of melody weight) for the tonic triad
PRIMARY_PRIOR = 0.03  # bonus for IV, V (and the flat VII of dorian, mixolydian and minor)
END_TONIC_PRIOR = 0.5  # bonus for the tonic in the last bar: tunes end at home
METRIC_WEIGHTS = (3, 2, 1)  # melody weight of a note on the first beat, another beat, off the beat
HALF_METERS = frozenset({"4/4", "C", "2/2", "C|", "6/8"})

@dataclass(frozen=True, slots=True)
class PlayedNote:
    """A melody note (or rest: no pitches) as performed, with the downbeat of its bar."""

    onset: Fraction
    duration: Fraction
    pitches: tuple[int, ...]
    downbeat: Fraction  # performance time of its bar's first beat (before 0 for an opening pickup)
    meter: Meter
    key: Key

    @property
    def end(self) -> Fraction:
        return self.onset + self.duration

    @property
    def offset(self) -> Fraction:
        return self.onset - self.downbeat


@dataclass(frozen=True, slots=True)
class PerformedBar:
    """A bar as performed: it sounds from `start` to `end`; its beats count from `downbeat`
    (earlier than `start` for a pickup bar)."""

    start: Fraction
    end: Fraction
    downbeat: Fraction
    meter: Meter
    key: Key
    notes: tuple[PlayedNote, ...]


@dataclass(frozen=True, slots=True)
class Performance:
    notes: tuple[PlayedNote, ...]  # ties joined, rests kept
    bars: tuple[PerformedBar, ...]
    chord_names: tuple[tuple[Fraction, str], ...]  # the tune's chord symbols in performance time
    sections: tuple[tuple[Fraction, Key], ...]  # where a drone restarts, and the key from there
    end: Fraction
    rhythm: str


@dataclass(frozen=True, slots=True)
class Hit:
    """One note to write: times in quarter notes; `downbeat` and `meter` let swing find its beat."""

    onset: Fraction
    end: Fraction
    pitch: int
    velocity: int
    downbeat: Fraction
    meter: Meter


def beat_offsets(meter: Meter, bar_length: Fraction) -> list[Fraction]:
    """Where the beats of a bar fall, from its downbeat; additive meters (2+2+3/8) by group."""
    numerator = meter.text.split("/")[0] if meter.text.count("/") == 1 else ""
    if "+" in numerator:
        unit, offsets, position = Fraction(4, meter.denominator), [], Fraction(0)
        for group in numerator.split("+"):
            offsets.append(position)
            position += int(group) * unit
        return offsets
    step = meter.beat
    return [step * i for i in range(max(1, -(-bar_length // step)))]


def metric_level(offset: Fraction, meter: Meter, bar_length: Fraction) -> int:
    """0 on the first beat of the bar, 1 on another beat, 2 off the beat."""
    offset = offset % bar_length if bar_length > 0 else offset
    if offset == 0:
        return 0
    return 1 if offset in beat_offsets(meter, bar_length) else 2


def nominal_length(meter: Meter, fallback: Fraction) -> Fraction:
    return meter.bar_length or fallback


# --- chords -------------------------------------------------------------------------------

def diatonic_triads(key: Key) -> list[tuple[int, Chord]]:
    """(scale degree 0-6, triad) for the major and minor triads on the degrees of the key;
    diminished and augmented triads are left out (folk backing rarely uses them)."""
    start = LETTERS.index(key.tonic[0])
    scale = [(LETTER_SEMITONES[LETTERS[(start + d) % 7]] + key.signature[LETTERS[(start + d) % 7]]) % 12
             for d in range(7)]
    triads = []
    for degree in range(7):
        root, third, fifth = scale[degree], scale[(degree + 2) % 7], scale[(degree + 4) % 7]
        intervals = ((third - root) % 12, (fifth - root) % 12)
        quality = {(4, 7): "", (3, 7): "m"}.get(intervals)
        if quality is not None:
            triads.append((degree, Chord(pitch_class_name(root, key.fifths < 0) + quality, root, (0, *intervals), root)))
    return triads


def choose_chords(performance: Performance) -> list[tuple[Fraction, Chord]]:
    """A chord for each bar (or half bar) of the performance, from its melody, within its key."""
    chosen: list[tuple[Fraction, Chord]] = []
    last_bar = len(performance.bars) - 1
    for index, bar in enumerate(performance.bars):
        for start, chord in _chords_for_bar(bar, at_end=index == last_bar):
            if chord is None:
                chord = chosen[-1][1] if chosen else diatonic_triads(bar.key)[0][1]
            if not chosen or chosen[-1][1] != chord:
                chosen.append((start, chord))
    return chosen


def _chords_for_bar(bar: PerformedBar, at_end: bool) -> list[tuple[Fraction, Chord | None]]:
    length = nominal_length(bar.meter, bar.end - bar.downbeat)
    candidates = diatonic_triads(bar.key)
    whole = _weights(bar, bar.start, bar.end, length)
    best_whole, fit_whole = _best(candidates, whole, bar.key, at_end)
    middle = bar.downbeat + length / 2
    if bar.meter.text in HALF_METERS and bar.start < middle < bar.end:
        first, second = _weights(bar, bar.start, middle, length), _weights(bar, middle, bar.end, length)
        if len(first) >= MIN_HALF_NOTES and len(second) >= MIN_HALF_NOTES:
            best_first, fit_first = _best(candidates, first, bar.key, False)
            best_second, fit_second = _best(candidates, second, bar.key, at_end)
            if best_first != best_second and (fit_first + fit_second) / 2 - fit_whole >= SPLIT_GAIN:
                return [(bar.start, best_first), (middle, best_second)]
    return [(bar.start, best_whole)]


def _weights(bar: PerformedBar, start: Fraction, end: Fraction, length: Fraction) -> list[tuple[int, float]]:
    """(pitch class, weight) of each melody note sounding in [start, end): the time it sounds
    there times the weight of the metric position where it starts."""
    found = []
    for note in bar.notes:
        overlap = min(note.end, end) - max(note.onset, start)
        if note.pitches and overlap > 0:
            level = metric_level(note.offset, bar.meter, length)
            found.append((note.pitches[-1] % 12, float(overlap) * METRIC_WEIGHTS[level]))
    return found


def _best(candidates: list[tuple[int, Chord]], weights: list[tuple[int, float]], key: Key,
          at_end: bool) -> tuple[Chord | None, float]:
    """The best-fitting triad and the share of melody weight it holds (None for silence)."""
    total = sum(w for _, w in weights)
    if total == 0:
        return None, 0.0
    minorish = key.mode in ("dorian", "mixolydian", "minor")
    scored = []
    for degree, chord in candidates:
        fit = sum(w for pc, w in weights if pc in chord.pitch_classes) / total
        root_bonus = 0.1 * sum(w for pc, w in weights if pc == chord.root) / total
        prior = TONIC_PRIOR if degree == 0 else PRIMARY_PRIOR if degree in (3, 4) or (minorish and degree == 6) else 0
        if at_end and degree == 0:
            prior += END_TONIC_PRIOR
        scored.append((fit + root_bonus + prior, -degree, chord, fit))
    _, _, chord, fit = max(scored, key=lambda s: (s[0], s[1]))
    return chord, fit


def symbol_chords(performance: Performance) -> list[tuple[Fraction, Chord]]:
    """The tune's own chord symbols that parse, in performance time."""
    found = []
    for onset, name in performance.chord_names:
        chord = parse_chord(name)
        if chord is not None:
            found.append((onset, chord))
    return found


# --- patterns -----------------------------------------------------------------------------

def pattern(rhythm: str, meter: Meter, bar_length: Fraction) -> list[tuple[Fraction, Fraction, str]]:
    """(offset from the downbeat, length, role) of each stroke in a bar. Roles: `bass` (root),
    `fifth` (alternate bass), `chord`, `block` (chord with its bass)."""
    kind = type_of(rhythm).accompaniment
    eighth = Fraction(1, 2)
    if meter.is_compound and meter.denominator == 8:
        strokes = []
        for index, beat in enumerate(beat_offsets(meter, bar_length)):
            strokes += [(beat, eighth, "fifth" if index % 2 else "bass"),
                        (beat + eighth, eighth, "chord"), (beat + 2 * eighth, eighth, "chord")]
        return strokes
    if kind == "polka" and not meter.is_compound:
        return [(eighth * i, eighth, ("fifth" if i % 4 == 2 else "bass") if i % 2 == 0 else "chord")
                for i in range(int(bar_length / eighth))]
    if kind == "waltz":
        beats = beat_offsets(meter, bar_length)
        step = meter.beat
        return [(b, step, "bass" if i == 0 else "chord") for i, b in enumerate(beats)]
    if kind == "reel" and not meter.is_compound:
        quarter = Fraction(1)
        return [(quarter * i, quarter, ("fifth" if i % 4 == 2 else "bass") if i % 2 == 0 else "chord")
                for i in range(int(bar_length))]
    step = meter.beat
    return [(b, step, "block") for b in beat_offsets(meter, bar_length)]


def accompaniment_hits(performance: Performance, velocity: int) -> list[Hit]:
    """Bass and chord strokes: from the tune's chord symbols if any parse, else chosen chords.
    `velocity` is the melody's downbeat velocity; the backing plays softer."""
    chords = symbol_chords(performance) or choose_chords(performance)
    if not chords:
        return []
    starts = [onset for onset, _ in chords]
    # The backing comes in on the first downbeat: an opening pickup is the melody's alone.
    first_downbeat = next((bar.start for bar in performance.bars if bar.start == bar.downbeat), Fraction(0))
    bass_velocity, chord_velocity = max(1, round(velocity * 0.72)), max(1, round(velocity * 0.6))
    hits: list[Hit] = []
    for bar in performance.bars:
        length = nominal_length(bar.meter, bar.end - bar.downbeat)
        for offset, duration, role in pattern(performance.rhythm, bar.meter, length):
            onset = bar.downbeat + offset
            if not max(bar.start, first_downbeat) <= onset < bar.end:
                continue  # strokes before the music or the first downbeat, or past a short bar
            index = bisect_right(starts, onset) - 1
            if index < 0:
                continue  # no chord yet (a pickup before the first chord symbol)
            chord, end = chords[index][1], min(onset + duration, bar.end)
            for pitch in _voicing(chord, role):
                loud = bass_velocity if pitch < CHORD_LOW else chord_velocity
                hits.append(Hit(onset, end, pitch, loud, bar.downbeat, bar.meter))
    return hits


def _voicing(chord: Chord, role: str) -> list[int]:
    bass = BASS_LOW + (chord.fifth if role == "fifth" else chord.bass) % 12
    upper = sorted({CHORD_LOW + (pc - CHORD_LOW) % 12 for pc in chord.pitch_classes})
    if role in ("bass", "fifth"):
        return [bass]
    return upper if role == "chord" else [bass, *upper]


def drone_hits(performance: Performance, velocity: int) -> list[Hit]:
    """The tonic and its fifth held through each section, low and soft."""
    hits = []
    bounds = [*performance.sections, (performance.end, None)]
    for (start, key), (end, _) in zip(bounds, bounds[1:], strict=False):
        if key is None or end <= start:
            continue
        tonic = DRONE_LOW + key.tonic_pitch_class
        for pitch in (tonic, tonic + 7):
            hits.append(Hit(start, end, pitch, max(1, round(velocity * 0.45)), start, Meter("none")))
    return hits


def bodhran_hits(performance: Performance, drum_notes: dict[str, int], velocity: int) -> list[Hit]:
    """A bodhrán on every eighth note: `strong` on the first beat, `accent` on the other beats,
    `weak` in between (drum note numbers from the instrument map)."""
    levels = (("strong", 0.9), ("accent", 0.75), ("weak", 0.55))
    eighth = Fraction(1, 2)
    hits = []
    for bar in performance.bars:
        length = nominal_length(bar.meter, bar.end - bar.downbeat)
        for step in range(int(-(-length // eighth))):
            onset = bar.downbeat + step * eighth
            if bar.start <= onset < bar.end:
                name, share = levels[metric_level(onset - bar.downbeat, bar.meter, length)]
                end = min(onset + eighth, bar.end)
                hits.append(Hit(onset, end, drum_notes[name], max(1, round(velocity * share)),
                                bar.downbeat, bar.meter))
    return hits

"""Tune -> standard MIDI file (pretty_midi), ready for a DAW: named tracks, tempo, time and key
signatures, a General MIDI program per track, velocities that follow the meter, and optional
humanisation, swing, accompaniment, drone and bodhrán tracks (`MidiOptions`).

Choices a reader of the file may want to know:
- Repeats, endings and part orders are unfolded as abc2midi plays them (`symbolic.performance.perform`).
  With `repeats=False` each part is played once in written order: of a group of n-th endings
  only the last is played (it is the one that leads on), and a header `P:` order is ignored.
  Tied notes of the same pitches sound as one note (`symbolic.performance.unfold.merge_ties`); every pitch of a chord
  sounds; grace notes are not written (they take no time in a `Tune`).
- Bar positions come from the tune's bar lines, followed through the repeats: a short bar at
  the start of the tune or of a section (after `|:`, `||`, `::`...) is a pickup and ends on the
  downbeat; any other short bar starts on one.
- Velocities: `velocity` on the first beat of a bar, ACCENT_STEP less on its other beats
  (dotted quarters in 6/8, 9/8, 12/8; half notes in 2/2) and twice that off the beat.
- Swing (`swing`, the share of a quarter note the first eighth of a pair takes: 2/3 is 2:1)
  applies to simple meters only: compound meters already lilt. It bends time within each
  quarter note counted from the downbeat, so sixteenths move with their eighth.
- Humanisation moves each onset (a chord's notes together) by up to `humanize_ms` and each
  velocity by up to `humanize_velocity`, from a generator seeded by `seed` and the track, so
  adding a track does not change the others. No note starts before 0 or runs into the next
  note of its pitch. The drone is not humanised.
- `instrument` names the melody's instrument from symbolic/instruments.json. A drum name
  (bodhran) cannot play a melody: the melody stays on the fiddle and a bodhrán track is added
  (as `percussion=True` does).
- Tempo: `tempo_qpm` if given, else the tune's `Q:`, else DEFAULT_QPM quarter notes a minute.
- Time signatures at the start and at each meter change, in performance time (meters MIDI
  cannot hold, such as 3/6, are left out). Free meter
  (`M:none`) is written as 4/4 at the start (MIDI has no "no meter", and pretty_midi would add
  4/4 anyway); a change to free meter mid-tune writes no event.
- Key signatures: MIDI knows only major and minor, so a modal key is written as the major
  (lydian, mixolydian) or minor (dorian, phrygian, locrian) key with the same signature:
  D dorian is written as A minor, G mixolydian as C major. Extra accidentals (`K:D ^g`) are lost.
- Tracks are named (in Latin-1, as MIDI text usually is): the melody after the tune's title
  (or its instrument when untitled), then "Accompaniment (piano)", "Drone (accordion)",
  "Bodhrán". The melody comes first and stays the most melody-like track for MIDI readers.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

from symbolic.atomic import write_atomically
from symbolic.errors import MidiWriteError
from symbolic.instruments import Instrument, instrument
from symbolic.performance.accompaniment import (
    Hit,
    Performance,
    accompaniment_hits,
    bodhran_hits,
    drone_hits,
    metric_level,
)
from symbolic.performance.perform import perform
from symbolic.tune import Key, KeyChange, Meter, MeterChange, Tune

if TYPE_CHECKING:
    import pretty_midi

DEFAULT_QPM = 120.0
DEFAULT_INSTRUMENT = "fiddle"
DEFAULT_PROGRAM = 40  # General MIDI violin, the folk fiddle
DEFAULT_VELOCITY = 100  # the first beat of a bar
ACCENT_STEP = 12  # velocity less on the other beats; twice this off the beat
RESOLUTION = 480  # ticks per quarter note: tuplets of 3, 5 and 15 land on whole ticks
# MIDI stores a tempo as microseconds per quarter note in 24 bits.
MIN_QPM = 60_000_000 / 0xFFFFFF
MAX_QPM = 1_000.0
MAX_HUMANIZE_MS = 100.0  # more than this is no longer "human": a sloppy player
MAX_HUMANIZE_VELOCITY = 40
HUMANIZE_VELOCITY = 8  # velocity jitter that `--humanize` brings with it
MIN_SWING, MAX_SWING = Fraction(1, 2), Fraction(4, 5)  # straight .. 4:1
_MINOR_MODES = frozenset({"minor", "dorian", "phrygian", "locrian"})


@dataclass(frozen=True, kw_only=True)
class MidiOptions:
    """How a tune becomes MIDI; the defaults give one fiddle track with repeats played out."""

    tempo_qpm: float | None = None  # quarter notes a minute; None: the tune's Q:, else 120
    instrument: str = DEFAULT_INSTRUMENT  # melody instrument (a drum name adds a bodhrán instead)
    velocity: int = DEFAULT_VELOCITY  # on the first beat of a bar
    accents: bool = True  # False: every melody note at `velocity`
    humanize_ms: float = 0.0  # largest timing jitter
    humanize_velocity: int = 0  # largest velocity jitter
    seed: int = 0  # humanisation is the same for the same seed
    swing: Fraction | float | None = None  # share of a quarter for the first eighth (2/3 is 2:1)
    repeats: bool = True  # False: each part once
    accompaniment: bool = False
    accompaniment_instrument: str = "piano"
    drone: bool = False
    drone_instrument: str = "accordion"
    percussion: bool = False  # a bodhrán track
    melody: Instrument = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _check_range("velocity", self.velocity, 1, 127)
        _check_range("velocity jitter", self.humanize_velocity, 0, MAX_HUMANIZE_VELOCITY)
        if not 0 <= self.humanize_ms <= MAX_HUMANIZE_MS:
            raise MidiWriteError(f"humanize {self.humanize_ms:g} ms is outside 0..{MAX_HUMANIZE_MS:g}")
        if self.tempo_qpm is not None:
            _check_tempo(float(self.tempo_qpm))
        if self.swing is not None and not MIN_SWING <= Fraction(self.swing) <= MAX_SWING:
            raise MidiWriteError(f"swing {float(self.swing):g} is outside {float(MIN_SWING):g}..{float(MAX_SWING):g} "
                                 "(the first eighth's share of a quarter: 0.5 is straight, 0.67 is 2:1)")
        melody = instrument(self.instrument)
        if melody.is_drum:
            melody = instrument(DEFAULT_INSTRUMENT)
            object.__setattr__(self, "percussion", True)
        object.__setattr__(self, "melody", melody)
        for role, name in (("accompaniment", self.accompaniment_instrument), ("drone", self.drone_instrument)):
            if instrument(name).is_drum:
                raise MidiWriteError(f"{role} instrument {name!r} is a drum; it cannot play chords")


def tune_to_midi(tune: Tune, options: MidiOptions | None = None) -> pretty_midi.PrettyMIDI:
    """The tune as a PrettyMIDI object; raises MidiWriteError for settings MIDI cannot hold."""
    import pretty_midi

    options = options or MidiOptions()
    qpm = _tempo(tune, options.tempo_qpm)
    midi = pretty_midi.PrettyMIDI(resolution=RESOLUTION, initial_tempo=qpm)
    seconds_per_tick = 60.0 / (qpm * RESOLUTION)
    jitter_ticks = round(options.humanize_ms / 1000 * qpm / 60 * RESOLUTION)
    performance, events = perform(tune, repeats=options.repeats)
    tracks = _tracks(tune, performance, options)
    for number, (name, choice, hits, humanize) in enumerate(tracks):
        timed = _to_ticks(hits, options.swing)
        if humanize and (jitter_ticks or options.humanize_velocity):
            timed = _humanize(timed, random.Random(f"{options.seed}:{number}"), jitter_ticks,
                              options.humanize_velocity)
        track = pretty_midi.Instrument(program=choice.program, is_drum=choice.is_drum, name=_latin1(name))
        track.notes = [pretty_midi.Note(velocity=v, pitch=p, start=s * seconds_per_tick, end=e * seconds_per_tick)
                       for s, e, p, v in timed]
        midi.instruments.append(track)
    midi.time_signature_changes = _time_signatures(tune.meter, events, seconds_per_tick)
    midi.key_signature_changes = _key_signatures(tune.key, events, seconds_per_tick)
    return midi


def write_midi(tune: Tune, path: str | os.PathLike[str], options: MidiOptions | None = None) -> Path:
    """Write the tune as a MIDI file atomically: a reader never sees a half-written file."""
    target = Path(path)
    midi = tune_to_midi(tune, options)
    try:
        return write_atomically(target, midi.write)
    except (OSError, ValueError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else error
        raise MidiWriteError(f"cannot write MIDI file {target}: {reason}") from None


# --- tracks -------------------------------------------------------------------------------

def _tracks(tune: Tune, performance: Performance,
            options: MidiOptions) -> list[tuple[str, Instrument, list[Hit], bool]]:
    """(name, instrument, notes, humanise?) of each track, the melody first."""
    melody = options.melody
    tracks = [(tune.title or melody.name.title(), melody, _melody_hits(performance, options), True)]
    if options.accompaniment:
        backing = instrument(options.accompaniment_instrument)
        tracks.append((f"Accompaniment ({backing.name})", backing,
                       accompaniment_hits(performance, options.velocity), True))
    if options.drone:
        drone = instrument(options.drone_instrument)
        tracks.append((f"Drone ({drone.name})", drone, drone_hits(performance, options.velocity), False))
    if options.percussion:
        drum = instrument("bodhran")
        tracks.append(("Bodhr\u00e1n", drum, bodhran_hits(performance, drum.drum_notes, options.velocity), True))
    return tracks


def _melody_hits(performance: Performance, options: MidiOptions) -> list[Hit]:
    hits = []
    for note in performance.notes:
        velocity = options.velocity
        if options.accents:
            length = note.meter.bar_length or note.offset + note.duration  # free meter: no bar to wrap
            velocity = max(1, velocity - ACCENT_STEP * metric_level(note.offset, note.meter, length))
        for pitch in note.pitches:
            hits.append(Hit(note.onset, note.end, pitch, velocity, note.downbeat, note.meter))
    return hits


def _to_ticks(hits: list[Hit], swing: Fraction | float | None) -> list[tuple[int, int, int, int]]:
    """(start, end, pitch, velocity) in ticks, swung if asked; every note at least a tick long."""
    ratio = None if swing is None else Fraction(swing).limit_denominator(1000)
    timed = []
    for hit in hits:
        onset, end = hit.onset, hit.end
        if ratio is not None and not hit.meter.is_compound and hit.meter.text != "none":
            onset, end = swing_time(onset, hit.downbeat, ratio), swing_time(end, hit.downbeat, ratio)
        start = _ticks(onset)
        timed.append((start, max(_ticks(end), start + 1), hit.pitch, hit.velocity))
    return timed


def swing_time(time: Fraction, downbeat: Fraction, ratio: Fraction) -> Fraction:
    """`time` moved so that, in each quarter note from the downbeat, the first half lasts
    `ratio` of it and the second half the rest (piecewise linear: order is kept)."""
    position = time - downbeat
    beat = position.__floor__()
    within = position - beat
    half = Fraction(1, 2)
    bent = within * 2 * ratio if within <= half else ratio + (within - half) * 2 * (1 - ratio)
    return downbeat + beat + bent


def _humanize(timed: list[tuple[int, int, int, int]], rng: random.Random, jitter: int,
              velocity_jitter: int) -> list[tuple[int, int, int, int]]:
    """Move onsets (notes starting together by the same amount) and velocities at random, then
    keep every note after 0 and clear of the next note of its pitch."""
    shifts: dict[int, int] = {}
    moved = []
    for start, end, pitch, velocity in sorted(timed):
        if start not in shifts:
            shifts[start] = rng.randint(-jitter, jitter) if jitter else 0
        shift = max(shifts[start], -start)
        loud = min(127, max(1, velocity + (rng.randint(-velocity_jitter, velocity_jitter) if velocity_jitter else 0)))
        moved.append([start + shift, end + shift, pitch, loud])
    by_pitch: dict[int, list[list[int]]] = {}
    for note in moved:
        by_pitch.setdefault(note[2], []).append(note)
    for notes in by_pitch.values():
        notes.sort()
        for before, after in zip(notes, notes[1:], strict=False):
            before[1] = min(before[1], after[0])
            if before[1] <= before[0]:  # two notes of one pitch a tick apart: keep both audible
                after[0] = before[0] + 1
                before[1] = after[0]
                after[1] = max(after[1], after[0] + 1)
    return [(s, e, p, v) for s, e, p, v in moved]


def key_number(key: Key) -> int:
    """pretty_midi's key number (0-11 major, 12-23 minor) of the major or minor key that has
    the same signature as `key` (its mode's relative major or minor)."""
    major_tonic = (7 * key.fifths) % 12  # each fifth up is 7 semitones
    if key.mode in _MINOR_MODES:
        return 12 + (major_tonic + 9) % 12  # the relative minor lies a minor third below
    return major_tonic


def _tempo(tune: Tune, tempo_qpm: float | None) -> float:
    if tempo_qpm is not None:
        qpm = float(tempo_qpm)
    elif tune.tempo is not None:
        qpm = float(tune.tempo.quarters_per_minute)
    else:
        qpm = DEFAULT_QPM
    _check_tempo(qpm)
    return qpm


def _check_tempo(qpm: float) -> None:
    if not MIN_QPM <= qpm <= MAX_QPM:
        raise MidiWriteError(f"tempo {qpm:g} quarter notes a minute is outside {MIN_QPM:.1f}..{MAX_QPM:g}")


def _check_range(name: str, value: int, low: int, high: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise MidiWriteError(f"MIDI {name} {value!r} is outside {low}..{high}")


def _ticks(quarters: Fraction) -> int:
    return round(quarters * RESOLUTION)


def _latin1(text: str) -> str:
    return text.encode("latin-1", errors="replace").decode("latin-1")


def _time_signatures(meter: Meter, events: list, seconds_per_tick: float) -> list:
    import pretty_midi

    changes = [(Fraction(0), meter)] + [(e.onset, e.meter) for e in events if type(e) is MeterChange]
    result: list[pretty_midi.TimeSignature] = []
    last: tuple[int, int] | None = None
    for onset, current in changes:
        if current.text == "none":
            if onset != 0:
                continue  # free meter mid-tune: no MIDI event says so
            current = Meter("4/4")
        signature = (current.numerator, current.denominator)
        if not _midi_can_hold(signature) or signature == last:
            continue
        time = _ticks(onset) * seconds_per_tick
        if result and result[-1].time == time:
            result.pop()  # a change at the same instant replaces the one before
        result.append(pretty_midi.TimeSignature(*signature, time))
        last = signature
    return result


def _midi_can_hold(signature: tuple[int, int]) -> bool:
    """MIDI stores the denominator as a power of two and the numerator in a byte; a meter
    such as 3/6 has no MIDI form and is left out."""
    numerator, denominator = signature
    return 1 <= numerator <= 255 and denominator >= 1 and denominator & (denominator - 1) == 0


def _key_signatures(key: Key, events: list, seconds_per_tick: float) -> list:
    import pretty_midi

    changes = [(Fraction(0), key)] + [(e.onset, e.key) for e in events if type(e) is KeyChange]
    result: list[pretty_midi.KeySignature] = []
    last: int | None = None
    for onset, current in changes:
        number = key_number(current)
        if number == last:
            continue
        time = _ticks(onset) * seconds_per_tick
        if result and result[-1].time == time:
            result.pop()
        result.append(pretty_midi.KeySignature(number, time))
        last = number
    return result

"""Tune -> standard MIDI file (pretty_midi): one instrument, repeats played out, ties joined.

Choices a reader of the file may want to know:
- Repeats, endings and part orders are unfolded as abc2midi plays them (`form.unfold_events`);
  tied notes of the same pitches sound as one note (`form.merge_ties`); every pitch of a chord
  sounds; grace notes are not written (they take no time in a `Tune`).
- Tempo: `tempo_qpm` if given, else the tune's `Q:`, else DEFAULT_QPM quarter notes a minute.
- Time signatures at the start and at each meter change, in performance time (meters MIDI
  cannot hold, such as 3/6, are left out). Free meter
  (`M:none`) is written as 4/4 at the start (MIDI has no "no meter", and pretty_midi would add
  4/4 anyway); a change to free meter mid-tune writes no event.
- Key signatures: MIDI knows only major and minor, so a modal key is written as the major
  (lydian, mixolydian) or minor (dorian, phrygian, locrian) key with the same signature:
  D dorian is written as A minor, G mixolydian as C major. Extra accidentals (`K:D ^g`) are lost.
- The instrument (track) is named after the tune's title, in Latin-1 as MIDI text usually is.
"""

from __future__ import annotations

import os
import tempfile
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from symbolic.errors import MidiWriteError
from symbolic.form import merge_ties, unfold_events
from symbolic.tune import Key, KeyChange, Meter, MeterChange, Note, Tune

if TYPE_CHECKING:
    import pretty_midi

DEFAULT_QPM = 120.0
DEFAULT_PROGRAM = 40  # General MIDI violin, the folk fiddle
DEFAULT_VELOCITY = 90
RESOLUTION = 480  # ticks per quarter note: tuplets of 3, 5 and 15 land on whole ticks
# MIDI stores a tempo as microseconds per quarter note in 24 bits.
MIN_QPM = 60_000_000 / 0xFFFFFF
MAX_QPM = 1_000.0
_MINOR_MODES = frozenset({"minor", "dorian", "phrygian", "locrian"})


def tune_to_midi(tune: Tune, *, tempo_qpm: float | None = None, program: int = DEFAULT_PROGRAM,
                 velocity: int = DEFAULT_VELOCITY) -> pretty_midi.PrettyMIDI:
    """The tune as a PrettyMIDI object; raises MidiWriteError for settings MIDI cannot hold."""
    import pretty_midi

    qpm = _tempo(tune, tempo_qpm)
    _check_range("program", program, 0, 127)
    _check_range("velocity", velocity, 1, 127)
    midi = pretty_midi.PrettyMIDI(resolution=RESOLUTION, initial_tempo=qpm)
    seconds_per_tick = 60.0 / (qpm * RESOLUTION)
    events = unfold_events(tune)
    notes = merge_ties([e for e in events if type(e) is Note])
    instrument = pretty_midi.Instrument(program=program, name=_latin1(tune.title))
    for note in notes:
        start, end = _ticks(note.onset), _ticks(note.end)
        end = max(end, start + 1)  # a note shorter than a tick must still sound
        for pitch in note.pitches:
            instrument.notes.append(pretty_midi.Note(velocity=velocity, pitch=pitch,
                                                     start=start * seconds_per_tick,
                                                     end=end * seconds_per_tick))
    midi.instruments.append(instrument)
    midi.time_signature_changes = _time_signatures(tune.meter, events, seconds_per_tick)
    midi.key_signature_changes = _key_signatures(tune.key, events, seconds_per_tick)
    return midi


def write_midi(tune: Tune, path: str | os.PathLike[str], **options: Any) -> Path:
    """Write the tune as a MIDI file atomically: a reader never sees a half-written file."""
    target = Path(path)
    midi = tune_to_midi(tune, **options)
    folder = target.parent if str(target.parent) else Path(".")
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as error:
        raise MidiWriteError(f"cannot write MIDI file {target}: {error.strerror or error}") from None
    os.close(handle)
    try:
        midi.write(temporary)
        os.replace(temporary, target)
    except (OSError, ValueError) as error:
        Path(temporary).unlink(missing_ok=True)
        raise MidiWriteError(f"cannot write MIDI file {target}: {error}") from None
    return target


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
    if not MIN_QPM <= qpm <= MAX_QPM:
        raise MidiWriteError(f"tempo {qpm:g} quarter notes a minute is outside {MIN_QPM:.1f}..{MAX_QPM:g}")
    return qpm


def _check_range(name: str, value: int, low: int, high: int) -> None:
    if not isinstance(value, int) or not low <= value <= high:
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

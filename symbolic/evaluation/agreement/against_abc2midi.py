"""Our reading of a folk tune against the MIDI that abc2midi plays for it.

Each tune (its text and its file's header block) is written alone to a temporary .abc file,
converted with `abc2midi`, and its melody compared with ours (`read_tune`, then `unfold` and
`merge_ties` of symbolic.performance.unfold). A melody is the list of sounding notes in performance
order: (top pitch of a chord, onset, duration), rests skipped, times in quarter notes. Onsets and durations must agree within MIDI tick rounding (TOLERANCE).

abc2midi's performance habits that are not part of the written music are switched off, so that
the comparison is about reading, not interpretation: `-NGRA` (grace notes would steal time from
the next note; ours take none), `-NFER` (fermatas lengthen notes), `-NGUI` (no accompaniment
track), `%%MIDI chordattack 0` (chord notes would be staggered), and `R:` lines are dropped
(`R:hornpipe` swings pairs of eighths). Staccato and ornaments (rolls, trills) have no switch;
they show up as classified disagreements.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from symbolic.evaluation.agreement.folk import CorpusTune, sample_tunes

DEFAULT_SAMPLE = 500
DEFAULT_SEED = 0
TICKS = 480  # abc2midi's ticks per quarter note
# abc2midi starts each note one tick late and rounds tuplets to whole ticks.
TOLERANCE = Fraction(4, TICKS)
ABC2MIDI_FLAGS = ("-NGRA", "-NFER", "-NGUI", "-quiet")

Melody = list[tuple[int, Fraction, Fraction]]  # (pitch, onset, duration) in quarter notes


@dataclass
class Comparison:
    tune: CorpusTune
    title: str
    status: str  # "agree", "disagree", "reader-error", "abc2midi-error"
    cause: str = ""
    detail: str = ""


def for_abc2midi(text: str) -> str:
    """Drop `R:` (hornpipes would swing) and switch off staggered chord attacks."""
    out = []
    for line in text.splitlines():
        if line.startswith("R:"):
            continue
        out.append(line)
        if line.startswith("X:"):
            out.append("%%MIDI chordattack 0")
    return "\n".join(out) + "\n"


def abc2midi_melody(text: str, workdir: Path) -> Melody:
    """Run abc2midi on one tune; the melody of its first track that has notes."""
    return run_abc2midi(text, workdir)[0]


def run_abc2midi(text: str, workdir: Path) -> tuple[Melody, str]:
    """The melody abc2midi plays for one tune, and the messages it printed."""
    import mido

    source, target = workdir / "tune.abc", workdir / "tune.mid"
    target.unlink(missing_ok=True)
    source.write_text(text, encoding="utf-8")
    done = subprocess.run(["abc2midi", str(source), "-o", str(target), *ABC2MIDI_FLAGS],
                          capture_output=True, timeout=20, check=False, text=True, errors="replace")
    log = done.stdout + done.stderr
    if not target.exists():
        raise RuntimeError(f"abc2midi wrote no MIDI file: {log.strip()[-200:]}")
    midi = mido.MidiFile(str(target))
    for track in midi.tracks:
        notes = _track_notes(track)
        if notes:
            return _top_line(notes, midi.ticks_per_beat), log
    return [], log


def _track_notes(track) -> list[tuple[int, int, int]]:
    """(start tick, end tick, pitch) of the track's notes, drums left out."""
    notes, sounding, tick = [], {}, 0
    for message in track:
        tick += message.time
        if message.type not in ("note_on", "note_off") or message.channel == 9:
            continue
        key = (message.channel, message.note)
        if message.type == "note_on" and message.velocity > 0:
            sounding[key] = tick
        elif key in sounding:
            notes.append((sounding.pop(key), tick, message.note))
    return sorted(notes)


def _top_line(notes: list[tuple[int, int, int]], ticks_per_beat: int) -> Melody:
    """Chords (notes starting within a tick or two) -> their top note."""
    melody: list[tuple[int, int, int]] = []
    for start, end, pitch in notes:
        if melody and start - melody[-1][1] <= 2:
            if pitch > melody[-1][0]:
                melody[-1] = (pitch, melody[-1][1], end - start)
            continue
        melody.append((pitch, start, end - start))
    return [(p, Fraction(s, ticks_per_beat), Fraction(d, ticks_per_beat)) for p, s, d in melody]


def our_melody(text: str) -> tuple[str, Melody]:
    from symbolic.abc.reader import read_tune
    from symbolic.performance.unfold import merge_ties, unfold

    tune = read_tune(text)
    notes = merge_ties(unfold(tune))
    return tune.title, [(n.pitch, n.onset, n.duration) for n in notes if n.pitch is not None]


def first_difference(ours: Melody, theirs: Melody) -> int | None:
    """Index of the first note that differs, or None when the melodies agree."""
    for i, (a, b) in enumerate(zip(ours, theirs, strict=False)):
        if a[0] != b[0] or abs(a[1] - b[1]) > TOLERANCE or abs(a[2] - b[2]) > TOLERANCE:
            return i
    if len(ours) != len(theirs):
        return min(len(ours), len(theirs))
    return None


# ----- classifying a disagreement -----
# Causes, in the order they are tried. Those marked (reader) are differences in how our ABC
# reader spells or times notes; (abc2midi) ones are its performance habits; (form) would be ours.
ORNAMENT = "abc2midi ornament expansion: rolls/trills (~ T R !trill!) played as several notes"
ARTICULATION = "abc2midi articulation: staccato or !breath! notes sound shorter"
DECORATION = "abc2midi decoration handling (other)"
BROKEN_DECORATED = "abc2midi ignores a broken rhythm (>) when a decoration follows it (E>.A)"
TUPLET = "reader: (5 (7 (9 tuplet ratio reversed for simple vs compound meter"
TIE_ACCIDENTAL = "reader: accidental not carried over a tie into the next bar"
OCTAVE_ACCIDENTAL = "reader: accidental applied to one octave only (abc2midi: every octave of the letter)"
BROKEN_RHYTHM = "abc2midi ignores a broken rhythm (>) between notes of unequal length"
ABC2MIDI_ERROR = "abc2midi could not read part of the tune (its own error message)"
MULTIVOICE = "several voices: abc2midi skips its repeat repairs (fixreps) for them"
CUT_TIME = "reader: M:C| read as a bar of 2 quarter notes, so the default unit is 1/16"
PITCH_ONLY = "pitches differ, rhythm agrees (unexplained)"
RHYTHM_ONLY = "rhythm differs, pitches agree (unexplained)"
UNCLASSIFIED = "unclassified"

# Why each cause happens, with the smallest ABC that shows it (printed in the report).
CAUSE_NOTES = {
    ORNAMENT: "abc2midi expands `~G2` and `TG2` into turns/trills; we keep decorations out of the melody.",
    ARTICULATION: "abc2midi plays `.G` at half length; onsets agree.",
    OCTAVE_ACCIDENTAL: "`K:G` `=F f|`: abc2midi plays f natural (accidental for every octave of F in the bar); "
                       "our reader plays f sharp.",
    TIE_ACCIDENTAL: "`K:C` `^F2-|F2`: abc2midi sounds one F# of 2 beats; our reader gives F# tied to F natural.",
    CUT_TIME: "`M:C|` with no `L:`: tune.Meter('C|').bar_length is 2 quarters (should be 4), so the default "
              "unit becomes 1/16 instead of 1/8.",
    TUPLET: "`M:4/4` `(5CDEFG`: ABC 2.1 and abc2midi put 5 notes in the time of 2 (3 in compound meter); "
            "our reader does the reverse.",
    BROKEN_DECORATED: "`E>.A`: abc2midi plays E and A straight (A staccato); ABC 2.1 makes it E3/2 A/2.",
    BROKEN_RHYTHM: "`G2>A`: abc2midi refuses `>` between unequal notes and plays them straight.",
    ABC2MIDI_ERROR: "abc2midi reported an error (e.g. `[|]:|`, `=20` e-mail debris) and skipped or misread music.",
    MULTIVOICE: "abc2midi does not repair unmatched repeats in tunes with several V: voices; a Tune cannot "
                "tell (known gap of form.unfold).",
}

_DECORATION_CHARS = "~.HIJKLMNOPQRSTUVWhijklmnopqrstuvwy"
_ORNAMENT = re.compile(r"[~TR]|!(trill|roll|turn|mordent|lowermordent|uppermordent|pralltriller)!")
_STACCATO = re.compile(r"\.|!(staccato|breath)!")
_DECORATED_BROKEN = re.compile(r"[<>]\s*(?:[.~H-Wh-wy]|![^!]*!)")
_ODD_TUPLET = re.compile(r"\([579](?![\d:])")
_PROTECTED = re.compile(r'("[^"]*"|\[[A-Za-z]:[^\]]*\]|![^!]*!|\+[^+]*\+)')


def music_lines(text: str) -> list[str]:
    """The tune's music lines (after K:, not fields or comments)."""
    lines, in_body = [], False
    for line in text.splitlines():
        if re.match(r"^[A-Za-z+]:|^%", line):
            in_body = in_body or line.startswith("K:")
            continue
        if in_body:
            lines.append(line)
    return lines


def _bare_music(text: str) -> str:
    """Music with strings and inline fields removed, decorations kept."""
    return "\n".join(_PROTECTED.sub(lambda m: m.group() if m.group()[0] in "!+" else " ", line)
                     for line in music_lines(text))


def strip_decorations(text: str) -> str:
    """The tune with decorations removed from its music lines (strings and fields kept)."""
    out, in_body = [], False
    for line in text.splitlines():
        if not in_body or re.match(r"^[A-Za-z+]:|^%", line):
            out.append(line)
            in_body = in_body or line.startswith("K:")
            continue
        out.append(_strip_line(line))
    return "\n".join(out) + "\n"


def _strip_line(line: str) -> str:
    kept = []
    for piece in _PROTECTED.split(line):
        if piece[:1] in ("!", "+") and len(piece) > 1:
            continue  # a !decoration! or +decoration+
        if piece[:1] in ('"', "[") and len(piece) > 1:
            kept.append(piece)
            continue
        kept.append("".join(c for c in piece if c not in _DECORATION_CHARS))
    return "".join(kept)


def classify(text: str, ours: Melody, theirs: Melody, at: int, workdir: Path, log: str = "") -> str:
    """The likeliest cause of the first difference; checks go from the most specific."""
    music = _bare_music(text)
    same_pitches = [n[0] for n in ours] == [n[0] for n in theirs]
    same_rhythm = len(ours) == len(theirs) and all(
        abs(a[1] - b[1]) <= TOLERANCE and abs(a[2] - b[2]) <= TOLERANCE for a, b in zip(ours, theirs, strict=False))
    same_onsets = same_pitches and all(abs(a[1] - b[1]) <= TOLERANCE for a, b in zip(ours, theirs, strict=False))
    if re.search(r"^M:\s*C\|", text, re.MULTILINE) and not re.search(r"^L:", text, re.MULTILINE):
        return CUT_TIME
    if _tie_over_accidental(ours, theirs, at):
        return TIE_ACCIDENTAL
    if same_rhythm or _pitch_only_at(ours, theirs, at):
        return OCTAVE_ACCIDENTAL if re.search(r"[\^_=]", music) else PITCH_ONLY
    if same_onsets and all(b[2] <= a[2] + TOLERANCE for a, b in zip(ours, theirs, strict=False)) and _STACCATO.search(music):
        return ARTICULATION
    probe = _decoration_probe(text, workdir, same_onsets)
    if probe:
        return probe
    if "Cannot apply broken rhythm" in log:
        return BROKEN_RHYTHM
    if re.search(r"^Error", log, re.MULTILINE):
        return ABC2MIDI_ERROR
    if _ODD_TUPLET.search(music):
        return TUPLET
    if len(set(re.findall(r"^V:\s*(\S+)|\[V:\s*([^\]\s]+)", text, re.MULTILINE))) > 1:
        return MULTIVOICE
    return RHYTHM_ONLY if same_pitches else UNCLASSIFIED


def _decoration_probe(text: str, workdir: Path, same_onsets: bool) -> str:
    """Strip decorations from the tune for both sides: if they then agree, a decoration was
    the cause, and abc2midi's performance of it (we keep decorations out of the melody)."""
    stripped = strip_decorations(text)
    if stripped == text:
        return ""
    try:
        ours = our_melody(stripped)[1]
        theirs = abc2midi_melody(for_abc2midi(stripped), workdir)
    except Exception:  # noqa: BLE001 - a failed probe only leaves the cause open
        return ""
    if first_difference(ours, theirs) is not None:
        return ""
    music = _bare_music(text)
    if not same_onsets and _DECORATED_BROKEN.search(music):
        return BROKEN_DECORATED
    if _ORNAMENT.search(music):
        return ORNAMENT
    return ARTICULATION if _STACCATO.search(music) else DECORATION


def _pitch_only_at(ours: Melody, theirs: Melody, at: int) -> bool:
    """The first difference is a pitch a tone or less apart, with the same timing."""
    if at >= min(len(ours), len(theirs)):
        return False
    a, b = ours[at], theirs[at]
    return 0 < abs(a[0] - b[0]) <= 2 and abs(a[1] - b[1]) <= TOLERANCE and abs(a[2] - b[2]) <= TOLERANCE


def _tie_over_accidental(ours: Melody, theirs: Melody, at: int) -> bool:
    """abc2midi joined a tied note with the next one that our reader gave another pitch."""
    if at + 1 >= len(ours) or at >= len(theirs):
        return False
    a, b, following = ours[at], theirs[at], ours[at + 1]
    return (a[0] == b[0] and abs(a[1] - b[1]) <= TOLERANCE and b[2] > a[2] + TOLERANCE
            and 0 < abs(following[0] - a[0]) <= 2 and following[1] == a[1] + a[2]
            and abs(a[2] + following[2] - b[2]) <= TOLERANCE)


# ----- running -----
def compare_tune(tune: CorpusTune, workdir: Path) -> Comparison:
    text = tune.text_with_header  # abc2midi applies a file's header to each tune; so does ours here
    try:
        title, ours = our_melody(text)
    except Exception as error:  # noqa: BLE001 - any reader failure is counted, not fatal
        return Comparison(tune, "", "reader-error", detail=str(error)[:200])
    try:
        theirs, log = run_abc2midi(for_abc2midi(text), workdir)
    except (RuntimeError, subprocess.TimeoutExpired, OSError, ValueError) as error:
        return Comparison(tune, title, "abc2midi-error", detail=str(error)[:200])
    if not theirs:
        return Comparison(tune, title, "abc2midi-error", detail="abc2midi played no notes")
    at = first_difference(ours, theirs)
    if at is None:
        return Comparison(tune, title, "agree")
    cause = classify(text, ours, theirs, at, workdir, log)
    return Comparison(tune, title, "disagree", cause, _describe(ours, theirs, at))


def _describe(ours: Melody, theirs: Melody, at: int) -> str:
    def show(melody: Melody) -> str:
        return " ".join(f"{p}@{float(o):g}/{float(d):g}" for p, o, d in melody[max(0, at - 2): at + 3])

    return f"{len(ours)} vs {len(theirs)} notes; first difference at note {at}: ours {show(ours)} | abc2midi {show(theirs)}"


def run(size: int | None = DEFAULT_SAMPLE, seed: int = DEFAULT_SEED) -> list[Comparison]:
    """Compare a seeded sample of the folk tunes (all of them when size is None), in the order drawn."""
    if shutil.which("abc2midi") is None:
        raise RuntimeError("abc2midi is not installed (Debian: apt-get install abcmidi)")
    with tempfile.TemporaryDirectory() as folder:
        return [compare_tune(tune, Path(folder)) for tune in sample_tunes(size, seed, ordered=False)]


def agreement_rate(results: list[Comparison]) -> tuple[int, float]:
    compared = [r for r in results if r.status in ("agree", "disagree")]
    agreed = sum(r.status == "agree" for r in compared)
    return len(compared), (agreed / len(compared) if compared else 0.0)

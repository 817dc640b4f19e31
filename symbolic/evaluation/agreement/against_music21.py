"""Our ABC reader against music21's, on the written-order melody of a tune.

A melody is one (MIDI pitch of the top note or None for a rest, duration in quarter notes) pair per
note, ties not merged, grace notes left out, repeats not unfolded. music21 is run up to three ways on
the same text, because its accidental rule depends on the ABC version a file declares: as shipped
(no `%abc-2.x` line, so ABC 1.3 rules: an accidental applies to its own note only), as ABC 2.1
(`%abc-2.1` prepended: an accidental carries to the end of the bar in every octave, the standard's
default `%%propagate-accidentals pitch`), and as ABC 2.1 with `%%propagate-accidentals octave` (the
rule our reader implements). A disagreement's causes are found by ablation (`explain`).
"""

from __future__ import annotations

import re
import sys
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from fractions import Fraction

from symbolic.abc.fields import parse_meter
from symbolic.abc.reader import read_tune
from symbolic.evaluation.agreement.folk import CorpusTune
from symbolic.tune import Bar, Note

# Text put before a tune to set music21's accidental rule (it reads the version from the first 100
# characters, and directives from `%%` lines).
MODES: dict[str, str] = {
    "shipped": "",
    "abc21": "%abc-2.1\n",
    "abc21_octave": "%abc-2.1\n%%propagate-accidentals octave\n",
}

Event = tuple[int | None, Fraction]
Melody = list[Event]


# ----- the two readers -----
def our_melody(text: str) -> tuple[Melody, list[int]]:
    """The melody, and for each note the number of the bar it is in (1 = before the first bar
    line), which the report uses to point at the place of a disagreement."""
    tune = read_tune(text)
    melody: Melody = []
    bar_numbers: list[int] = []
    bars = 1
    for element in tune.body:
        if type(element) is Bar:
            bars += 1
        elif type(element) is Note:
            melody.append((element.pitch, element.duration))
            bar_numbers.append(bars)
    return melody, bar_numbers


def music21_melody(text: str, mode: str = "shipped") -> Melody:
    """The first part's melody as music21 reads it. Parsing a string never touches music21's
    on-disk parse cache (only `parseFile` does), so repeated runs time real work."""
    from music21 import converter, harmony, stream

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # music21 warns about every odd bar; the melody is what counts
        score = converter.parse(MODES[mode] + text, format="abc")
    if isinstance(score, stream.Opus):  # a text with an X: line reads as an opus of one score
        score = score.scores[0]
    # Voices declared in the header come out as empty parts: the melody is the first part with notes.
    part = next((p for p in score.parts if p.recurse().notesAndRests), score.parts[0])
    melody: Melody = []
    for element in part.recurse().notesAndRests:
        # Chord symbols are Chord subclasses in music21; they are not melody.
        if isinstance(element, harmony.Harmony) or element.duration.isGrace:
            continue
        pitch = None if element.isRest else max(p.midi for p in element.pitches)
        # Tuplet durations are float-ish quarterLengths (0.333...); recover the exact fraction.
        melody.append((pitch, Fraction(element.quarterLength).limit_denominator(1000)))
    return melody


# ----- comparing -----
@dataclass
class Comparison:
    tune: CorpusTune
    ours: Melody | None = None
    bar_numbers: list[int] = field(default_factory=list)
    theirs: dict[str, Melody] = field(default_factory=dict)
    our_error: str = ""
    their_error: str = ""
    causes: list[str] = field(default_factory=list)

    @property
    def compared(self) -> bool:
        return self.ours is not None and "shipped" in self.theirs

    def agrees(self, mode: str = "shipped", what: str = "both") -> bool:
        if not self.compared or mode not in self.theirs:
            return False
        assert self.ours is not None
        theirs = self.theirs[mode]
        if what == "both":
            return self.ours == theirs
        index = 0 if what == "pitch" else 1
        return [e[index] for e in self.ours] == [e[index] for e in theirs]


def compare_tune(tune: CorpusTune, modes: Sequence[str] = tuple(MODES), explain_causes: bool = True) -> Comparison:
    result = Comparison(tune)
    try:
        result.ours, result.bar_numbers = our_melody(tune.text)
    except Exception as error:  # noqa: BLE001 - any failure of ours is a finding to report
        result.our_error = f"{type(error).__name__}: {error}"
    for mode in modes:
        try:
            result.theirs[mode] = music21_melody(tune.text, mode)
        except Exception as error:  # noqa: BLE001 - music21 raises many kinds on odd input
            result.their_error = f"{type(error).__name__}: {error}"
            break
    if explain_causes:
        result.causes = explain(result)
    return result


def first_difference(a: Melody, b: Melody) -> int:
    return next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))


def merge_split_notes(melody: Melody, target: Melody) -> Melody:
    """Join runs of same-pitch events of `melody` wherever together they make one event of
    `target`: music21 re-bars an overfull bar and splits the note that crosses its new bar line,
    which is not a difference in reading."""
    merged: Melody = []
    i = 0
    for pitch, duration in target:
        if i >= len(melody):
            break
        run_pitch, total, j = melody[i][0], melody[i][1], i + 1
        while total < duration and j < len(melody) and melody[j][0] == run_pitch:
            total += melody[j][1]
            j += 1
        if (run_pitch, total) == (pitch, duration):
            merged.append((pitch, duration))
            i = j
        else:
            merged.append(melody[i])
            i += 1
    return merged + melody[i:]


def mismatch(a: Melody, b: Melody) -> int:
    """Events of either melody outside the longest matching blocks (0 when they are equal)."""
    matched = sum(block.size for block in SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks())
    return len(a) + len(b) - 2 * matched


# ----- explaining disagreements -----
# Each cause is checked by an ablation: the tune text is rewritten so that the feature can no longer
# differ (the same rewrite for both readers), and the cause counts when that brings the readings
# closer. The verdicts come from reading a handful of each class by hand against ABC 2.1.
_FIELD_LINE = re.compile(r"^[A-Za-z+]:")
# Quoted strings, !decorations! and inline fields, which a rewrite of the music must leave alone.
_PROTECTED = re.compile(r'("[^"]*"|![^!]*!|\[[A-Za-z]:[^\]]*\])')
_INLINE_FIELD = re.compile(r"(\[[A-Za-z]:[^\]]*\])")
# Slurs, spaces, ties, decorations and fingering strings on either side of a broken-rhythm sign
# (not a tuplet's opening, nor a `">"` annotation).
_BROKEN_NEIGHBOURS = re.compile(r'(?:[)\s-])*(?<!")([<>]+)(?:[)\s]|\((?!\d)|"[^"]*"|[-.~uvHTJLMPRS])*')
_BANGS_AND_FIELDS = re.compile(r"(\[[A-Za-z]:[^\]]*\]|![^!]*!)")
_OLD_CHORD = re.compile(r"\+((?:[\^_=]*[A-Ga-g][,']*\d*/?\d*\s*)+)\+")


def _on_music(text: str, rewrite: Callable[[str], str], protect: re.Pattern[str] = _PROTECTED) -> str:
    """Apply `rewrite` to the music of the tune body: not to header or field lines, comments,
    or what `protect` matches (by default quoted strings, decorations in bangs and inline fields)."""
    out, in_body = [], False
    for line in text.split("\n"):
        if in_body and line and not line.startswith("%") and not _FIELD_LINE.match(line):
            parts = protect.split(line)
            line = "".join(part if i % 2 else rewrite(part) for i, part in enumerate(parts))
        elif line.startswith("K:"):
            in_body = True
        out.append(line)
    return "\n".join(out)


def _header_value(text: str, letter: str) -> str | None:
    match = re.search(rf"^{letter}:(.*)$", text.split("\nK:")[0], re.MULTILINE)
    return match.group(1).strip() if match else None


def _explicit_tuplets(text: str) -> str:
    """(5, (7 and (9 with ABC 2.1's q written out: 3 in simple meter, 2 in compound meter."""
    try:
        compound = parse_meter(_header_value(text, "M") or "none").is_compound
    except ValueError:
        compound = False
    q = 2 if compound else 3

    def one(match: re.Match) -> str:
        return f"({match.group(1)}:{q}" if match.group(1) in ("5", "7", "9") else match.group(0)

    return _on_music(text, lambda s: re.sub(r"\((\d+)(?![\d:])", one, s))


def _unit_for_cut_time(text: str) -> str:
    """Write L:1/8, the ABC 2.1 default for M:C| (2/2), into a header that has no L:."""
    if (_header_value(text, "M") or "").replace(" ", "") != "C|" or _header_value(text, "L") is not None:
        return text
    head, _, body = text.partition("\nK:")
    return f"{head}\nL:1/8\nK:{body}"


@dataclass(frozen=True)
class Cause:
    name: str
    verdict: str
    rewrite: Callable[[str], str] | None = None


ACCIDENTAL_MODE = Cause(
    "accidental carried to the end of the bar",
    "ours (ABC 2.1 §11.3: an accidental holds to the end of the bar). music21 applies that only to "
    "files that declare `%abc-2.x`; without it, as in every bundled book, it reads ABC 1.3 rules and "
    "applies an accidental to its own note only.",
)
OTHER_OCTAVE = Cause(
    "accidental met again in another octave of the same bar",
    "music21 as ABC 2.1 (§11.3: the default `%%propagate-accidentals pitch` carries an accidental to the "
    "same letter in every octave); ours carries it in the note's own octave only (`octave`). Shown only "
    "where it adds to another difference, as music21 as shipped carries nothing.",
)
MULTI_VOICE = Cause(
    "multi-voice tune (V:)",
    "ours (ABC 2.1 §7: a voice continues across V: blocks; we keep the first voice). music21 makes a new "
    "part for every V: block and puts notes after an inline [V:] at a line start into the same part.",
)
OVERFULL_BAR = Cause(
    "music21 re-bars an overfull bar and splits the note crossing its new bar line",
    "ours: ABC has no re-barring; the written note is one note (only a notation choice in music21).",
)
REWRITES: tuple[Cause, ...] = (
    Cause("H (fermata) shorthand before a note", "ours: music21 drops the note after `H`.",
          lambda t: _on_music(t, lambda s: s.replace("H", ""))),
    Cause("T (trill) shorthand before an accidental", "ours: after `T`, music21 plays the accidental but does "
          "not carry it through the bar.", lambda t: _on_music(t, lambda s: s.replace("T", ""))),
    Cause("slur, space, tie or decoration next to > or <", "ours (ABC 2.1 §4.4, §4.20: slurs and decorations "
          "attach to notes, so `d>.c`, `(AB)>c`, `B>(cd)` and `B> c` are still broken rhythm, as abc2midi "
          "plays them); music21 drops the broken rhythm.",
          lambda t: _on_music(t, lambda s: _BROKEN_NEIGHBOURS.sub(r"\1", s), _BANGS_AND_FIELDS)),
    Cause('quoted ">" before a note', 'ours (ABC 2.1 §4.19: `">"A` is an annotation placed right of the note); '
          "music21 drops the note after it.",
          lambda t: _on_music(t, lambda s: re.sub(r'"[^"]*"', "", s), _INLINE_FIELD)),
    Cause("note right before a :: bar", "ours (ABC 2.1 §4.8: `::` is `:|` then `|:`); music21 drops the note "
          "written against it (`G::`), and more when music follows at once.",
          lambda t: _on_music(t, lambda s: s.replace("::", ":|:"))),
    Cause("grace notes inside a tuplet", "ours (ABC 2.1 §4.12-4.13: grace notes take no time and are not "
          "counted by a tuplet); music21 counts `{a}` as one of the tuplet's notes.",
          lambda t: _on_music(t, lambda s: re.sub(r"\{[^}]*\}", "", s))),
    Cause("x (invisible rest)", "ours (ABC 2.1 §4.5: x is a rest that takes its time); music21 drops it.",
          lambda t: _on_music(t, lambda s: s.replace("x", "z"))),
    Cause("tuplet (5, (7 or (9 without q", "ours (ABC 2.1 §4.13: q is 3 in simple meter, 2 in compound); "
          "music21 uses 2 in simple meter.", _explicit_tuplets),
    Cause("legacy +...+ chord (ABC 1.x)", "neither: ABC 2.1 reads `+...+` as a decoration, so we drop the "
          "notes (as the standard says); music21 reads them as consecutive notes, not a chord. abc2midi and "
          "abc2abc take +CEG+ as a chord only with -OCC.",
          lambda t: _on_music(t, lambda s: _OLD_CHORD.sub(r"[\1]", s))),
    Cause("M:C| with no L:", "music21 (ABC 2.1 §3.1.7: C| is 2/2, so the default unit is 1/8); ours takes "
          "1/16 because `Meter('C|').bar_length` is 2 quarter notes instead of 4: a bug in symbolic/tune.py.",
          _unit_for_cut_time),
)
UNEXPLAINED = Cause("unexplained", "to be read by hand")
OUR_FAILURE = Cause("ours fails to read", "ours gives a typed error; in the full corpus nearly all are damaged or "
                    "non-standard text: `=` quoted-printable residue at line ends (15), a repeat sign split over a "
                    "line break (`||` then `:`, 8), Essen's M:FREI4/4, K:H and K:Es (German names), line breaks "
                    "inside chords (americanfife originals). music21 reads on, guessing.")
THEIR_FAILURE = Cause("music21 fails to read", "see each")
CAUSES: dict[str, Cause] = {
    c.name: c for c in (ACCIDENTAL_MODE, OTHER_OCTAVE, MULTI_VOICE, *REWRITES, OVERFULL_BAR, UNEXPLAINED, OUR_FAILURE,
                        THEIR_FAILURE)
}


def explain(c: Comparison) -> list[str]:
    """The causes of a disagreement, found by ablation (see `REWRITES`); [] when the readings agree."""
    if c.our_error or c.their_error:
        return [OUR_FAILURE.name] if c.our_error else [THEIR_FAILURE.name]
    assert c.ours is not None
    if c.ours == c.theirs["shipped"]:
        return []
    mode = "abc21_octave" if "abc21_octave" in c.theirs else "shipped"
    causes = []
    if mismatch(c.ours, c.theirs[mode]) < mismatch(c.ours, c.theirs["shipped"]):
        causes.append(ACCIDENTAL_MODE.name)
    if "abc21" in c.theirs and c.theirs["abc21"] != c.theirs[mode]:
        causes.append(OTHER_OCTAVE.name)
    if re.search(r"^\[?V:", c.tune.text, re.MULTILINE):
        return [*causes, MULTI_VOICE.name]
    return causes + _ablate(c.tune.text, mode)


def _readings(text: str, mode: str) -> tuple[Melody, Melody] | None:
    try:
        return our_melody(text)[0], music21_melody(text, mode)
    except Exception:  # noqa: BLE001 - a rewrite that breaks either reader explains nothing
        return None


def _settled(readings: tuple[Melody, Melody] | None) -> bool:
    return readings is not None and readings[0] in (readings[1], merge_split_notes(readings[1], readings[0]))


def _cost(readings: tuple[Melody, Melody] | None) -> float:
    return float("inf") if readings is None else mismatch(readings[0], merge_split_notes(readings[1], readings[0]))


def _ablate(original: str, mode: str) -> list[str]:
    """Apply every rewrite that changes the text; a rewrite is a cause when leaving it out (and
    applying all the others) makes the readings differ more. Rewrites can need each other (`Hx`
    needs both the H and the x rewrite), so they are judged together, not one at a time."""
    applied = [cause for cause in REWRITES if cause.rewrite is not None and cause.rewrite(original) != original]

    def rewrite_all(causes: Sequence[Cause]) -> str:
        text = original
        for cause in causes:
            assert cause.rewrite is not None
            text = cause.rewrite(text)
        return text

    final = _readings(rewrite_all(applied), mode)
    best = _cost(final)
    causes = [cause.name for cause in applied
              if _cost(_readings(rewrite_all([other for other in applied if other is not cause]), mode)) > best]
    if final is not None and final[0] != final[1] and _settled(final):
        causes.append(OVERFULL_BAR.name)
    elif not _settled(final):
        causes.append(UNEXPLAINED.name)
    return causes


# ----- rates -----
def rates(comparisons: Sequence[Comparison], mode: str = "shipped") -> dict[str, float]:
    compared = [c for c in comparisons if c.compared and mode in c.theirs]
    n = len(compared) or 1
    return {what: sum(c.agrees(mode, what) for c in compared) / n for what in ("pitch", "duration", "both")}


def run(tunes: Iterable[CorpusTune], modes: Sequence[str] = tuple(MODES), explain_causes: bool = True,
        progress: bool = False) -> list[Comparison]:
    results = []
    for n, tune in enumerate(tunes, 1):
        results.append(compare_tune(tune, modes, explain_causes))
        if progress and n % 500 == 0:
            print(f"  {n} tunes", file=sys.stderr, flush=True)
    return results

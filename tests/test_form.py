"""Unfolding repeats, endings and part orders (symbolic.performance.unfold), checked against abc2midi's play.

Each fixture's expected order was measured with abc2midi 4.84; where abc2midi is installed the
test also runs it, so a change in either side shows up here.
"""

from __future__ import annotations

import shutil
import subprocess
from fractions import Fraction
from pathlib import Path

import pytest

from symbolic.abc.reader import read_tune
from symbolic.errors import SymbolicError, TuneValueError
from symbolic.performance import unfold as form
from symbolic.performance.unfold import merge_ties, parse_part_order, unfold, unfold_events, unfold_events_with_sources
from symbolic.tune import KeyChange, MeterChange, Note

HEADER = "X:1\nT:t\nM:4/4\nL:1/8\n"
NAMES = {60: "C", 62: "D", 64: "E", 65: "F", 67: "G", 69: "A", 71: "B", 72: "c", 74: "d", 76: "e",
         77: "f", 79: "g"}


def tune(body: str, header: str = "", key: str = "C"):
    return read_tune(HEADER + header + f"K:{key}\n" + body + "\n")


def played(body: str, header: str = "") -> str:
    """Sounding pitches in performance order, as note letters."""
    return "".join(NAMES[n.pitch] for n in unfold(tune(body, header)) if n.pitch is not None)


# (body, extra header, abc2midi's order)
REPEATS = [
    # plain |: :| and a tune with no repeats at all
    ("|:CD|EF:|GA|]", "", "CDEFCDEFGA"),
    ("CD|EF|GA|]", "", "CDEFGA"),
    # :| with no |: repeats from the start, even past || and |] (abc2midi inserts |: there)
    ("CD||EF|GA:|Bc|]", "", "CDEFGACDEFGABc"),
    ("CD|]EF:|GA|]", "", "CDEFCDEFGA"),
    # a second :| with no |: repeats from the last :| (which abc2midi turns into ::)
    ("CD|:EF:|GA:|Bc|", "", "CDEFEFGAGABc"),
    ("|:CD:|EF|GA:|Bc|]", "", "CDCDEFGAEFGABc"),
    # ... or from the last || after that :|
    ("|:CD:|EF||GA:|Bc|]", "", "CDCDEFGAGABc"),
    # :: ends one repeat and opens the next
    ("|:CD|EF::GA:|Bc|]", "", "CDEFCDEFGAGABc"),
    ("CD|EF::GA:|", "", "CDEFCDEFGAGA"),
    # first and second endings
    ("|:CD|1EF:|2GA|]", "", "CDEFCDGA"),
    ("|:CD|[1EF:|[2GA|]", "", "CDEFCDGA"),
    # endings with no |: at all repeat from the start
    ("CD|1EF:|2GA|]", "", "CDEFCDGA"),
    # three endings
    ("|:CD|1EF:|2GA:|3Bc|]", "", "CDEFCDGACDBc"),
    # an ending for passes 1 and 3, then 2, then 4
    ("|:CD|[1,3EF:|[2GA:|[4Bc|]", "", "CDEFCDGACDEFCDBc"),
    # a section after the second ending that ends in :| goes back once more (abc2midi quirk)
    ("|:CD|1EF:|2GA||Bc:|]", "", "CDEFCDGABcCDBc"),
    # two sections with endings
    ("|:CD|1EF:|2GA|]|:Bc|1de:|2fg|]", "", "CDEFCDGABcdeBcfg"),
    # a second |: before any :| reads as ::
    ("|:CD|EF|:GA:|", "", "CDEFCDEFGAGA"),
]

PARTS = [
    # header part order, parts marked on their own lines
    ("P:A\nCD|EF|\nP:B\nGA|Bc|\nP:C\nde|fg|]", "P:ABAC\n", "CDEFGABcCDEFdefg"),
    # repeat counts and brackets in the order
    ("P:A\nCD|EF|\nP:B\nGA|Bc|\nP:C\nde|fg|]", "P:A2(BC)2\n", "CDEFCDEFGABcdefgGABcdefg"),
    # inline part marks; a part's :| repeats from the part's start
    ("[P:A]|:CD|1EF:|2GA|][P:B]Bc:|", "P:AB\n", "CDEFCDGABcBc"),
    # music before the first part is played once, first; missing parts are skipped
    ("CD|[P:A]EF|[P:B]GA|]", "P:BDA\n", "CDGAEF"),
    # dots between parts are ignored
    ("[P:A]CD|[P:B]GA|]", "P:A.B.A\n", "CDGACD"),
    # without a header P:, body part marks are labels only
    ("CD|[P:A]EF|[P:B]GA|]", "", "CDEFGA"),
]


@pytest.mark.parametrize(("body", "header", "expected"), REPEATS + PARTS)
def test_unfold_plays_like_abc2midi(body: str, header: str, expected: str) -> None:
    assert played(body, header) == expected


@pytest.mark.skipif(shutil.which("abc2midi") is None, reason="abc2midi (Debian package abcmidi) is not installed")
@pytest.mark.parametrize(("body", "header", "expected"), REPEATS + PARTS)
def test_fixtures_still_match_abc2midi(body: str, header: str, expected: str, tmp_path: Path) -> None:
    import mido

    source = tmp_path / "t.abc"
    source.write_text(HEADER + header + "K:C\n" + body + "\n")
    subprocess.run(["abc2midi", str(source), "-o", str(tmp_path / "t.mid"), "-quiet"],
                   capture_output=True, check=True)
    midi = mido.MidiFile(str(tmp_path / "t.mid"))
    pitches = [m.note for track in midi.tracks for m in track if m.type == "note_on" and m.velocity > 0]
    assert "".join(NAMES[p] for p in pitches) == expected


def test_onsets_count_from_zero_and_follow_each_other() -> None:
    # repeats: the second pass gets new onsets after the first
    notes = unfold(tune("|:C2 D:|E4|]"))
    assert [n.onset for n in notes] == [0, 1, Fraction(3, 2), Fraction(5, 2), 3]
    assert all(a.end == b.onset for a, b in zip(notes, notes[1:], strict=False))


def test_rests_tuplets_and_chords_keep_their_durations() -> None:
    # tuplets: (3 three eighths in the time of two; chords: all pitches, one duration; rests kept
    notes = unfold(tune("(3CDE [CEG]2 z2|"))
    assert [n.duration for n in notes] == [Fraction(1, 3)] * 3 + [1, 1]
    assert notes[3].pitches == (60, 64, 67)
    assert notes[4].is_rest


def test_ties_are_kept_as_written_then_merged() -> None:
    # ties across a bar line and a chord tie
    notes = unfold(tune("C2-|C2 D2-D2 [CE]-[CE] F|"))
    assert [n.tie for n in notes] == [True, False, True, False, True, False, False]
    merged = merge_ties(notes)
    assert [(n.pitches, n.duration) for n in merged] == [
        ((60,), 2), ((62,), 2), ((60, 64), 1), ((65,), Fraction(1, 2))]
    assert not any(n.tie for n in merged)


def test_tie_across_a_repeat_joins_in_performance_order() -> None:
    # ties into a repeat: the tied note at the end of pass one joins the first note of pass two
    merged = merge_ties(unfold(tune("|:C2 C2-:|")))
    assert [(n.onset, n.duration) for n in merged] == [(0, 1), (1, 2), (3, 1)]


def test_a_tie_to_another_pitch_sounds_as_two_notes() -> None:
    merged = merge_ties(unfold(tune("C2-D2|")))
    assert [(n.pitch, n.tie) for n in merged] == [(60, False), (62, False)]


def test_grace_notes_take_no_time() -> None:
    # grace notes: kept on the note, no duration of their own
    notes = unfold(tune("{ag}C2 D2|"))
    assert notes[0].grace == (81, 79) and notes[0].duration == 1 and notes[1].onset == 1


def test_part_order_parsing() -> None:
    assert parse_part_order("A2(BC)2") == list("AABCBC")
    assert parse_part_order("((AB)2C)2") == list("ABABCABABC")
    assert parse_part_order("a.b  A") == list("ABA")
    assert len(parse_part_order("A999999999")) == form.MAX_PART_ORDER


def test_key_and_meter_in_force_return_after_a_jump_back() -> None:
    # inline key and meter changes inside a repeat: going back restores the ones at |:
    events = unfold_events(tune("|:C2 D2|[K:D][M:3/4]E2F2G2:|"))
    changes = [(type(e).__name__, e.onset) for e in events if type(e) is not Note]
    assert changes == [("KeyChange", 2), ("MeterChange", 2), ("KeyChange", 5), ("MeterChange", 5),
                       ("KeyChange", 7), ("MeterChange", 7)]
    keys = [e.key.tonic for e in events if type(e) is KeyChange]
    meters = [e.meter.text for e in events if type(e) is MeterChange]
    assert keys == ["D", "C", "D"] and meters == ["3/4", "4/4", "3/4"]


def test_a_hostile_part_order_hits_the_named_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(form, "MAX_UNFOLDED_NOTES", 50)
    with pytest.raises(TuneValueError, match="more than 50 notes") as caught:
        unfold(tune("[P:A]|:CDEF:|", "P:(A9)9\n"))
    assert isinstance(caught.value, SymbolicError)


def test_limit_is_generous_for_real_tunes() -> None:
    assert form.MAX_UNFOLDED_NOTES >= 20_000
    assert len(unfold(tune("[P:A]|:CDEF:|", "P:(A9)9\n"))) == 81 * 8


def test_unfolded_events_name_their_written_element() -> None:
    # Each played note points back at its element in the body, across repeats and endings.
    tune = read_tune("X:1\nM:2/4\nL:1/4\nK:C\n|: C D |1 E F :|2 G A |]\n")
    events, sources = unfold_events_with_sources(tune)
    assert len(events) == len(sources)
    for event, source in zip(events, sources, strict=True):
        assert tune.body[source].pitches == event.pitches
    assert [tune.body[s].pitch for s in sources] == [60, 62, 64, 65, 60, 62, 67, 69]

"""Accompaniment (symbolic.performance.accompaniment): chord names, chords chosen from a melody, the
pattern of each tune type, registers and loudness, and the drone."""

from __future__ import annotations

from collections import defaultdict
from fractions import Fraction

import pytest

from symbolic.abc.reader import read_tune
from symbolic.chords import parse_chord
from symbolic.midi.writer import DEFAULT_VELOCITY, MidiOptions, tune_to_midi
from symbolic.performance.accompaniment import (
    CHORD_LOW,
    Hit,
    accompaniment_hits,
    choose_chords,
    diatonic_triads,
    drone_hits,
)
from symbolic.performance.perform import perform
from symbolic.tune import Key


@pytest.mark.parametrize(("name", "root", "pitch_classes", "bass"), [
    ("G", 7, {7, 11, 2}, 7), ("Am", 9, {9, 0, 4}, 9), ("D7", 2, {2, 6, 9, 0}, 2), ("Em/B", 4, {4, 7, 11}, 11),
    ("F#m", 6, {6, 9, 1}, 6), ("Bb", 10, {10, 2, 5}, 10), ("Cmaj7", 0, {0, 4, 7, 11}, 0), ("Gsus4", 7, {7, 0, 2}, 7),
])
def test_chord_names_parse(name: str, root: int, pitch_classes: set[int], bass: int) -> None:
    chord = parse_chord(name)
    assert chord is not None
    assert (chord.root, set(chord.pitch_classes), chord.bass) == (root, pitch_classes, bass)


@pytest.mark.parametrize("name", ["N.C.", "(G)", "H", "", "G/", "Gxyz", "^above"])
def test_unreadable_chord_names_are_none(name: str) -> None:
    assert parse_chord(name) is None


def test_diatonic_triads_follow_the_mode_and_leave_out_diminished() -> None:
    assert [c.name for _, c in diatonic_triads(Key("G"))] == ["G", "Am", "Bm", "C", "D", "Em"]
    assert [c.name for _, c in diatonic_triads(Key("A", "dorian"))] == ["Am", "Bm", "C", "D", "Em", "G"]
    assert [c.name for _, c in diatonic_triads(Key("F"))] == ["F", "Gm", "Am", "Bb", "C", "Dm"]


def sounding(hits: list[Hit]) -> dict[Fraction, set[int]]:
    at: dict[Fraction, set[int]] = defaultdict(set)
    for hit in hits:
        at[hit.onset].add(hit.pitch)
    return at


# A plain G-major melody outlining G, C, D and G again, one chord to a bar.
G_TUNE = "X:1\nT:G\nM:4/4\nL:1/8\nK:G\nGBdB GBdB|cegc ecge|dfad fdaf|gdBd G4|]\n"


def test_chords_chosen_from_a_g_major_melody() -> None:
    performance, _ = perform(read_tune(G_TUNE))
    assert [(onset, chord.name) for onset, chord in choose_chords(performance)] == [
        (0, "G"), (4, "C"), (8, "D"), (12, "G")]
    hits = accompaniment_hits(performance, DEFAULT_VELOCITY)
    assert {h.pitch % 12 for h in hits} <= {7, 11, 2, 0, 4, 6, 9}  # G, C and D triads only


def test_the_last_bar_prefers_the_tonic() -> None:
    # an ambiguous last bar (B and D fit G and Em and Bm) ends on G
    performance, _ = perform(read_tune("X:2\nM:4/4\nL:1/4\nK:G\nGABc|dBdB|]\n"))
    assert choose_chords(performance)[-1][1].name == "G"


def test_half_bar_chords_when_the_halves_want_different_ones() -> None:
    performance, _ = perform(read_tune("X:3\nM:4/4\nL:1/8\nK:G\nGBdB cegc|dfaf g4|]\n"))
    assert [(onset, chord.name) for onset, chord in choose_chords(performance)][:2] == [(0, "G"), (2, "C")]


def test_chord_symbols_are_used_where_they_stand() -> None:
    text = 'X:4\nM:4/4\nL:1/4\nR:reel\nK:C\n"Am"ABcA|"N.C."cBAG|"C"c4|"G7/B"B4|]\n'
    performance, _ = perform(read_tune(text))
    at = sounding(accompaniment_hits(performance, DEFAULT_VELOCITY))
    assert {p % 12 for p in at[Fraction(0)]} == {9}  # the bass on 1: A
    assert {p % 12 for p in at[Fraction(1)]} == {9, 0, 4}  # A-C-E on 2
    assert {p % 12 for p in at[Fraction(5)]} == {9, 0, 4}  # N.C. is skipped: Am goes on
    assert {p % 12 for p in at[Fraction(8)]} == {0}
    assert {p % 12 for p in at[Fraction(12)]} == {11}  # G7 over B


def test_chord_symbols_come_back_with_the_repeat() -> None:
    text = 'X:5\nM:2/4\nL:1/4\nK:C\n|:"C"CE|"G"DB,:|\n'
    performance, _ = perform(read_tune(text))
    assert performance.chord_names == ((0, "C"), (2, "G"), (4, "C"), (6, "G"))


def strokes(text: str) -> list[tuple[Fraction, str]]:
    """(onset, 'bass' or 'chord') of the first bar's strokes."""
    performance, _ = perform(read_tune(text))
    at = sounding(accompaniment_hits(performance, DEFAULT_VELOCITY))
    bar = performance.bars[0]
    return [(onset, "chord" if min(pitches) >= CHORD_LOW else "bass" if len(pitches) == 1 else "block")
            for onset, pitches in sorted(at.items()) if onset < bar.end]


def test_patterns_per_tune_type() -> None:
    half, one = Fraction(1, 2), Fraction(1)
    jig = strokes("X:6\nM:6/8\nL:1/8\nR:jig\nK:G\nGAB cBA|G6|]\n")
    assert jig == [(0, "bass"), (half, "chord"), (one, "chord"), (3 * half, "bass"), (2, "chord"), (5 * half, "chord")]
    reel = strokes("X:7\nM:4/4\nL:1/8\nR:reel\nK:G\nGABc dBGB|G8|]\n")
    assert reel == [(0, "bass"), (1, "chord"), (2, "bass"), (3, "chord")]
    assert strokes("X:8\nM:4/4\nL:1/8\nR:hornpipe\nK:G\nGABc dBGB|G8|]\n") == reel
    assert strokes("X:9\nM:2/4\nL:1/8\nR:march\nK:G\nGABc|G4|]\n") == [(0, "bass"), (1, "chord")]
    polka = strokes("X:10\nM:2/4\nL:1/8\nR:polka\nK:G\nGABc|G4|]\n")
    assert polka == [(0, "bass"), (half, "chord"), (one, "bass"), (3 * half, "chord")]
    assert strokes("X:11\nM:3/4\nL:1/4\nR:waltz\nK:G\nGAB|G3|]\n") == [(0, "bass"), (1, "chord"), (2, "chord")]
    assert strokes("X:12\nM:3/4\nL:1/4\nR:air\nK:G\nGAB|G3|]\n") == [(0, "block"), (1, "block"), (2, "block")]


def test_reel_bass_alternates_root_and_fifth() -> None:
    performance, _ = perform(read_tune("X:13\nM:4/4\nL:1/8\nR:reel\nK:G\nGBdB GBdB|]\n"))
    at = sounding(accompaniment_hits(performance, DEFAULT_VELOCITY))
    assert at[Fraction(0)] == {43} and at[Fraction(2)] == {38}  # G2 then D2


def test_backing_is_low_and_softer_than_the_melody() -> None:
    midi = tune_to_midi(read_tune(G_TUNE), MidiOptions(accompaniment=True))
    melody, backing = midi.instruments
    assert max(n.velocity for n in backing.notes) < min(n.velocity for n in melody.notes)
    assert all(36 <= n.pitch < 48 or CHORD_LOW <= n.pitch < CHORD_LOW + 12 for n in backing.notes)
    assert max(n.pitch for n in backing.notes) < min(n.pitch for n in melody.notes)


def test_an_opening_pickup_is_the_melody_alone() -> None:
    performance, _ = perform(read_tune("X:14\nM:4/4\nL:1/8\nR:reel\nK:G\nD|GABc dBGB|G8|]\n"))
    hits = accompaniment_hits(performance, DEFAULT_VELOCITY)
    assert min(h.onset for h in hits) == Fraction(1, 2)


def test_drone_holds_tonic_and_fifth_through_each_section() -> None:
    text = "X:15\nM:2/4\nL:1/4\nK:A dorian\nA|:AB|cd:|[K:D]|:de|fg:|\n"
    performance, _ = perform(read_tune(text))
    hits = drone_hits(performance, DEFAULT_VELOCITY)
    spans = sorted({(h.onset, h.end) for h in hits})
    # sections start on the downbeat after the pickup, at each repeat and at the key change
    assert spans == [(1, 5), (5, 9), (9, 13), (13, 17)]
    assert {h.pitch for h in hits if h.onset < 9} == {45, 52}  # A2 and E3 in A dorian
    assert {h.pitch for h in hits if h.onset >= 9} == {38, 45}  # D2 and A2 after [K:D]
    assert all(h.velocity < DEFAULT_VELOCITY // 2 for h in hits)

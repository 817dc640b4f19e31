"""Constrained decoding: which tokens may come next, so every sampled tune is valid.

The form is fixed by the request: `parts` repeated parts (AABB...), each `bars_per_part` full
bars closed by `:|` (a pickup and endings, below, reshape the bars but not their count). Later
parts open with `|:`; the first opens with it or, for a model with the bar countdown, bare, as
96 % of the dance tunes it learned from write it (the model chooses; abc2midi repeats a bare
first part from the start, but warns at a bare later part). At each step the grammar allows
only tokens that keep the tune well formed: a note or rest, then a duration that still lets the
bar be filled exactly, an optional tie (the next note is then the same pitch), and the right bar
line exactly when the bar is full; <end> only after the last part. Pitches stay within a
playable range. Everything is counted on an integer grid so the checks are exact and vectorised
over the vocabulary.

For a model trained with the bar countdown, every bar opens with the `left:<n>` token of its
place in the part, forced, so the model always knows how far the cadence is.

A part may end in first and second endings (`...|1 b8 :|2 b8' ||`), when the model opens its
last bar with `ending:1`: that bar leads back to the repeat (the cadence rule leaves it free),
and the second ending, as long, closes the part (`|]` the tune).

The cadence rule (on unless asked off): the last note of a part is a tone of the tonic chord,
and the tune's last note is the tonic, at least a beat or a quarter note long, whichever is
shorter (real reels in cut time end on a quarter, jigs on a quarter or a dotted quarter); so is
the last note of each part in the state's `homes` (the sampler draws them). In the
last bar of a part a note that would fill the bar must be such a tone, a rest or another note
never fills it, and no note is tied there; in the tune's last bar every other note leaves room
for such a final.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from fractions import Fraction
from math import lcm

import numpy as np

from symbolic.errors import SymbolicError
from symbolic.tokens import (
    COUNTDOWN,
    COUNTDOWN_CAP,
    END,
    ENDING,
    REST,
    TIE,
    Vocabulary,
    bar_token,
    duration_of,
    pitch_of,
)
from symbolic.tune import Key, Meter

LOWEST_PITCH = 55  # G3, the fiddle's lowest string, in the key-normalised register
HIGHEST_PITCH = 88  # E6
SHORTEST_NOTE = Fraction(1, 4)  # quarter notes: a sixteenth
# The tune's final note is at least a beat or this long, whichever is shorter (quarter notes). Of the
# dance tunes the bundled model learned from that end on the tonic, 72 % of reels in cut time end
# on a quarter note (a half note: 0 %) and 73 % of jigs (a dotted quarter: 12 %).
SHORTEST_FINAL = Fraction(1)


class GenerationError(SymbolicError):
    """A request the model cannot satisfy (a meter or type it never saw, a bad prime...)."""


def _odd_part(number: int) -> int:
    while number % 2 == 0:
        number //= 2
    return number


class TokenTable:
    """What each vocabulary id means, as arrays over the vocabulary."""

    def __init__(self, vocab: Vocabulary) -> None:
        self.vocab = vocab
        size = len(vocab)
        self.pitch = np.full(size, -1)
        self.duration = np.zeros(size, dtype=np.int64)  # grid steps; 0 for other tokens
        durations = {}
        for i, token in enumerate(vocab.tokens):
            pitch, duration = pitch_of(token), duration_of(token)
            if pitch is not None:
                self.pitch[i] = pitch
            elif duration is not None:
                durations[i] = duration
        self.grid = lcm(*(d.denominator for d in durations.values())) if durations else 1
        for i, value in durations.items():
            self.duration[i] = int(value * self.grid)
        # Plain lengths are a power-of-two share of a quarter; triplet lengths come three in a row
        # (so `(3abc` groups of equal notes, which abc2midi reads without warnings); others, such
        # as quintuplets, are never sampled.
        odd = np.array([_odd_part(durations[i].denominator) if i in durations else 0 for i in range(size)])
        # Plain notes come in whole sixteenths: 32nds and dotted sixteenths (rare in real tunes) left
        # to themselves filled odd corners of bars with unplayable flurries (`f/4g/8a/8`).
        whole = np.array([i in durations and durations[i] % SHORTEST_NOTE == 0 for i in range(size)])
        self.is_plain = (odd == 1) & whole
        self.is_triplet = odd == 3
        self.is_pitch = self.pitch >= 0
        self.playable = self.is_pitch & (self.pitch >= LOWEST_PITCH) & (self.pitch <= HIGHEST_PITCH)
        self.is_duration = self.duration > 0
        self.countdown = {int(t[len(COUNTDOWN):]): i for i, t in enumerate(vocab.tokens) if t.startswith(COUNTDOWN)}
        self.rest = self.id_of(REST)
        self.tie = self.id_of(TIE)
        self.end = self.id_of(END)

    def id_of(self, token: str) -> int:
        try:
            return self.vocab.tokens.index(token)
        except ValueError:
            raise GenerationError(f"this model's vocabulary has no {token!r} token") from None

    def steps(self, quarters: Fraction) -> int:
        value = quarters * self.grid
        if value.denominator != 1:
            raise GenerationError(f"a bar of {quarters} quarter notes does not fit the model's duration grid")
        return int(value)


@dataclass
class FormState:
    """Where one tune is in its form."""

    bar_steps: int
    bars_per_part: int
    parts: int
    part: int = 0  # parts finished
    bar: int = 0  # bars finished in this part
    position: int = 0  # grid steps into the bar
    expect: str = "open"  # open | count | note | duration | after | tied | second | end | done
    last_pitch: int | None = None
    tied_pitch: int | None = None
    ending: int = 0  # in the part's first (1) or second (2) ending
    triplet_left: int = 0  # notes still owed to a triplet group
    triplet_steps: int = 0
    pickup: int = 0  # grid steps of this part's pickup (its last bar is that much short)
    first_pickup: int = 0  # the tune's pickup, which every later part repeats
    opening: bool = False  # in a part's pickup, or in the tune's first stretch, which may become one
    given: bool = False  # the user's opening bars are being read: they keep their own cadences
    homes: frozenset[int] = frozenset()  # parts before the last that close at home, as the tune ends
    pickup_wanted: bool | None = None  # the tune opens with a pickup (True), without (False), or as the model likes
    tokens: list[int] = field(default_factory=list)

    @property
    def role(self) -> str:
        """What the bar being written closes: `final` (the tune, or a part that closes as it
        does), `part`, or nothing."""
        if self.bar != self.bars_per_part - 1 or self.ending == 1:
            return ""
        return "final" if self.part == self.parts - 1 or self.part in self.homes else "part"


@dataclass(frozen=True)
class Cadence:
    """Pitch classes (of the key as tokens have it: tonic C, or `token_tonic`) that may close a
    part and the tune, and the shortest final note, in grid steps."""

    part: frozenset[int]
    final: frozenset[int]
    final_steps: int

    @classmethod
    def for_mode(cls, mode: str, meter: Meter, table: TokenTable, tonic: str = "C") -> Cadence:
        key = Key(tonic, mode)
        shortest = min(meter.beat, SHORTEST_FINAL)
        return cls(key.tonic_chord, frozenset({key.tonic_pitch_class}), table.steps(shortest))


class FormGrammar:
    def __init__(self, table: TokenTable, meter: Meter, bars_per_part: int, parts: int,
                 cadence: Cadence | None = None, countdown: bool = False, pickups: bool = True,
                 endings: bool = True, swing: Fraction | None = None) -> None:
        if bars_per_part < 1 or parts < 1:
            raise GenerationError("a tune needs at least one part of at least one bar")
        bar_length = meter.bar_length
        if bar_length is None:
            raise GenerationError("generation needs a meter with bars (not M:none)")
        self.table = table
        self.bar_steps = table.steps(bar_length)
        self.bars_per_part, self.parts = bars_per_part, parts
        # abc2midi swings an R:hornpipe (2/4 and 4/4) by pairing each note of the swing unit that
        # falls on an odd unit with the note of that length before it, and fails ("Cannot apply
        # broken rhythm") when a rest of another length came between: so such a rest may not end
        # on an odd unit inside the bar.
        self.swing_steps = table.steps(swing) if swing else 0
        self.open_bar = table.id_of(bar_token("|:"))
        self.plain_bar = table.id_of(bar_token("|"))
        self.close_bar = table.id_of(bar_token(":|"))
        # Endings are offered to models with the bar countdown (the model chooses one where it opens
        # the part's last bar, `left:1`) and the tokens to write them.
        names = [bar_token("||"), bar_token("|]"), f"{ENDING}1", f"{ENDING}2"]
        self.endings = endings and countdown and bars_per_part > 1 and all(n in table.vocab.tokens for n in names)
        if self.endings:
            self.double_bar, self.final_bar, self.first_ending, self.second_ending = map(table.id_of, names)
        missing = [n for n in range(1, min(bars_per_part, COUNTDOWN_CAP) + 1) if n not in table.countdown]
        if countdown and missing:
            raise GenerationError(f"this model never saw a part with {missing[0]} bars to go; "
                                  "ask for fewer bars per part")
        self.countdown = countdown
        # The tune may open with a pickup of up to half a bar (`|:A|d2e fed|...|cAF D2:|`): the bar
        # line after it comes early, and the part's last bar is short by as much, so the repeat
        # plays whole bars. The model chooses, as it learned from real tunes. Every later part
        # then opens with a pickup as long (abc2midi, like a player, hears a part's short last bar
        # and the next part's pickup as one bar).
        self.max_pickup = self.bar_steps // 2 if pickups and bars_per_part > 1 else 0
        plain = sorted({int(d) for d in table.duration[table.is_plain]})
        # fillable[r]: r grid steps can be filled exactly with the model's durations.
        self.fillable = self._fillable(plain, 0)
        if not self.fillable[self.bar_steps]:
            raise GenerationError("the model's note lengths cannot fill a bar of this meter")
        self.cadence = cadence
        if cadence is not None:
            # final_fill[r]: r steps can end the tune, every note leaving 0 or >= a final's length.
            self.final_fill = self._fillable(plain, cadence.final_steps)
            if not self.final_fill[self.bar_steps] or 2 * cadence.final_steps > self.bar_steps:
                self.final_fill = self.fillable  # a bar of one beat: no room for a rule on length
        # Many tunes (and steps) share a state: masks are cached by what they depend on.
        self._masks: dict[tuple, np.ndarray] = {}  # type: ignore[type-arg]

    def _fillable(self, steps: list[int], last_at_least: int) -> np.ndarray:
        """Which remainders can be filled by notes of `steps`, the last at least `last_at_least`
        long and every other leaving 0 or at least that much."""
        fillable = np.zeros(self.bar_steps + 1, dtype=bool)
        fillable[0] = True
        for r in range(1, self.bar_steps + 1):
            fillable[r] = any(d == r and d >= last_at_least or d < r and r - d >= last_at_least and fillable[r - d]
                              for d in steps)
        return fillable

    def new_state(self) -> FormState:
        return FormState(self.bar_steps, self.bars_per_part, self.parts)

    def target(self, state: FormState) -> int:
        """Grid steps the bar being written must fill: a later part's pickup that of the tune, a
        part's last bar what its pickup leaves."""
        if state.opening and state.part > 0:
            return state.first_pickup
        if state.opening and state.pickup_wanted:
            return self.max_pickup  # the tune's first stretch closes as a pickup by then
        return self.bar_steps - state.pickup if state.bar == self.bars_per_part - 1 else self.bar_steps

    def _may_close_pickup(self, state: FormState) -> bool:
        """Whether the tune's first stretch may end here as a pickup."""
        return (state.opening and state.part == 0 and 0 < state.position <= self.max_pickup and not state.triplet_left
                and state.pickup_wanted is not False and bool(self.fillable[self.bar_steps - state.position]))

    def tones(self, state: FormState) -> frozenset[int] | None:
        """The pitch classes that may close the bar being written, or None (any)."""
        if self.cadence is None or not state.role or state.given:
            return None
        return self.cadence.final if state.role == "final" else self.cadence.part

    def allowed(self, state: FormState) -> np.ndarray:
        """The tokens that may come next (a shared array: do not modify it)."""
        tones = self.tones(state)
        closing = None if tones is None or state.last_pitch is None else state.last_pitch % 12 in tones
        key = (state.expect, state.position, state.role, state.tied_pitch, state.triplet_left, state.triplet_steps,
               state.last_pitch is None, closing, state.given, state.bar if state.expect == "count" else -1,
               self.target(state), state.opening, state.part == 0, state.bar == self.bars_per_part - 2, state.ending,
               state.pickup_wanted if state.part == 0 and (state.opening or state.expect == "open") else None)
        mask = self._masks.get(key)
        if mask is None:
            mask = self._masks[key] = self._allowed(state)
        return mask

    def _allowed(self, state: FormState) -> np.ndarray:
        table = self.table
        mask = np.zeros(len(table.vocab), dtype=bool)
        expect = state.expect
        if expect == "open":
            bare = self.countdown and state.part == 0  # the tune may open bare, as most dance tunes do (`A|d2e fed|...:|`)
            # Real tunes write a pickup before the `|:`: after it the model hardly saw one.
            mask[self.open_bar] = not (bare and state.pickup_wanted)
            if bare:
                mask[table.countdown[min(self.bars_per_part, COUNTDOWN_CAP)]] = True
        elif expect == "count":
            mask[table.countdown[min(self.bars_per_part - state.bar, COUNTDOWN_CAP)]] = True
            if self.endings and state.bar == self.bars_per_part - 1 and not state.ending and not state.given:
                mask[self.first_ending] = True  # the model may open the last bar as a first ending
        elif expect == "second":
            mask[self.second_ending] = True
        elif expect == "note":
            self._allow_note(mask, state)
        elif expect == "duration":
            mask[self._durations(state, closing=self._closes(state))] = True
        elif expect in ("after", "tied"):
            full = state.position == self.target(state)
            if not full and self._may_close_pickup(state):
                mask[self.plain_bar] = True
            last_of_part = state.bar == state.bars_per_part - 1
            # No tie out of a part, nor into or inside a cadence bar (its closing note must be free:
            # a part's last bar may be as short as one note when a pickup is given back).
            into_cadence = full and self.cadence is not None and not state.given and state.bar == self.bars_per_part - 2
            if expect == "after" and state.last_pitch is not None and self.tones(state) is None \
                    and not (full and last_of_part) and not into_cadence:
                mask[table.tie] = True
            if full and last_of_part and state.ending == 2:
                mask[self.final_bar if state.part == self.parts - 1 else self.double_bar] = True
            elif full:
                mask[self.close_bar if last_of_part else self.plain_bar] = True
            else:
                self._allow_note(mask, state)
        elif expect == "end":
            mask[table.end] = True
        return mask

    def _closes(self, state: FormState) -> bool:
        """Whether the note just chosen may fill the bar."""
        tones = self.tones(state)
        return tones is None or (state.last_pitch is not None and state.last_pitch % 12 in tones)

    def _durations(self, state: FormState, closing: bool) -> np.ndarray:
        """The duration tokens the current note may take; `closing`: it may fill the bar."""
        table = self.table
        durations = table.duration
        left = self.target(state) - state.position
        if state.triplet_left:
            fits = table.is_triplet & (durations == state.triplet_steps)
            return fits & (closing | (left - durations > 0)) if state.triplet_left == 1 else fits
        span = np.where(table.is_triplet, 3 * durations, durations)  # a triplet takes three notes
        fits = (table.is_plain | table.is_triplet) & (span <= left)
        if self.swing_steps and state.last_pitch is None:
            unit, end = self.swing_steps, state.position + span
            fits &= (durations == unit) | (end % (2 * unit) != unit) | (end >= self.target(state))
        remainder = np.clip(left - span, 0, None)
        tones = self.tones(state)
        final = tones is not None and state.role == "final" and self.final_fill[self.target(state)]
        fits &= (self.final_fill if final else self.fillable)[remainder]
        if tones is not None:
            fits &= (remainder > 0) | (closing & table.is_plain)  # a triplet's short last note ends no part
        return fits

    def _allow_note(self, mask: np.ndarray, state: FormState) -> None:
        """A note or rest starts: after a tie only the tied pitch, else any playable pitch or a
        rest; a note that must fill the part's last bar only a cadence tone."""
        table = self.table
        if state.tied_pitch is not None:
            mask[table.is_pitch & (table.pitch == state.tied_pitch)] = True
            return
        tones = self.tones(state)
        if tones is not None and not self._durations(state, closing=False).any():
            mask[table.playable & np.isin(table.pitch % 12, list(tones))] = True
            return
        mask[table.playable] = True
        # A rest only where some length of rest fits (the swing rule above may leave none).
        rest = dataclasses.replace(state, last_pitch=None)
        mask[table.rest] = self._durations(rest, closing=self._closes(rest)).any()

    def advance(self, state: FormState, token: int) -> None:
        """Move `state` past `token`, which must be allowed."""
        table = self.table
        state.tokens.append(token)
        if state.expect == "open":  # `|:`, or a bare part's first count
            state.expect = "count" if self.countdown and token == self.open_bar else "note"
            state.pickup, state.opening = 0, state.part == 0 or state.first_pickup > 0
        elif self.endings and token == self.first_ending:
            state.ending = 1
        elif self.endings and token == self.second_ending:
            state.ending = 2
            state.expect = "count" if self.countdown else "note"
        elif self.countdown and state.expect == "count":
            state.expect = "note"
        elif table.is_pitch[token] or token == table.rest:
            state.last_pitch = int(table.pitch[token]) if table.is_pitch[token] else None
            state.tied_pitch = None
            state.expect = "duration"
        elif table.is_duration[token]:
            steps = int(table.duration[token])
            state.position += steps
            if state.triplet_left:
                state.triplet_left -= 1
            elif table.is_triplet[token]:
                state.triplet_left, state.triplet_steps = 2, steps
            state.expect = "after"
        elif token == table.tie:
            state.tied_pitch = state.last_pitch
            state.expect = "tied"
        elif token == self.plain_bar and state.opening and state.position < self.bar_steps:
            state.pickup, state.position, state.opening = state.position, 0, False  # the bar to come counts
            state.first_pickup = state.first_pickup or state.pickup
            state.expect = "count" if self.countdown else "note"
        elif token == self.close_bar and state.ending == 1:  # back to the repeat; the second ending follows
            state.position = 0
            state.expect = "second"
        elif token in (self.plain_bar, self.close_bar) or self.endings and token in (self.double_bar, self.final_bar):
            state.position = 0
            state.opening = False
            state.bar += 1
            if token != self.plain_bar:
                state.part += 1
                state.bar, state.ending = 0, 0
                state.expect = "end" if state.part == state.parts else "open"
            else:
                state.expect = "count" if self.countdown else "note"
        elif token == table.end:
            state.expect = "done"
        else:
            raise GenerationError(f"token {table.vocab.tokens[token]!r} is not allowed here")

    def max_tokens(self) -> int:
        """A hard bound: every bar of the smallest notes, each with a tie, plus bar lines and counts."""
        smallest = int(self.table.duration[self.table.is_plain | self.table.is_triplet].min())
        per_bar = 3 * (self.bar_steps // smallest) + 2
        # A pickup and a second ending are two bars more at most.
        return self.parts * ((self.bars_per_part + 2) * per_bar + 4) + 2

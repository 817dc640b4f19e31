"""The opening prior: a tune's first note falls on the degrees real tunes of its mode open on.

Keyed to the key signature, the bundled model opened its minor tunes as their relative majors
open: on the third and the seventh (0.32 and 0.40 of 100 minor tunes), seldom the tonic (0.05),
where the 700 minor dance tunes it learned from open on the tonic and the fifth (0.29 each), the
third and the seventh (0.16 each); so a minor tune's first bars said major. The prior moves the degree of the
first note, and of the first note after a pickup, towards real tunes' shares for the mode
(`openings.json`, written by `scripts/measure_forms.py`), reweighing the model's own choice at
those steps: at strength 1 the degree is drawn as real tunes' are, and the model still picks the
octave, the length and everything after. A tune drawn to open with a pickup takes the shares of
real tunes' pickups, one drawn to open on the downbeat those of their downbeats: in major, 0.51 of
pickups start on the fifth and 0.52 of bare openings on the tonic.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

OPENINGS_FILE = Path(__file__).with_name("openings.json")
MIN_TUNES = 100  # a mode with fewer tunes measured has no opening prior (lydian, phrygian)


@dataclass(frozen=True)
class Opening:
    """Real dance tunes' shares of each pitch class (of the tokens, the tonic where the model's
    tokens put it) for the first note: of every tune, of tunes that open with a pickup, of tunes
    that open on the downbeat; and for the first note after a pickup."""

    first: np.ndarray  # (12,)
    pickup: np.ndarray  # (12,)
    downbeat: np.ndarray  # (12,)
    after_pickup: np.ndarray  # (12,)

    @classmethod
    def for_mode(cls, mode: str, token_tonic: int) -> Opening | None:
        """The opening of `mode`'s tunes, or None for a mode with too few tunes measured; where
        too few of them open with a pickup, or on the downbeat, those take every tune's shares."""
        first, after_pickup = opening_shares(mode, "first"), opening_shares(mode, "after_pickup")
        if first is None or after_pickup is None:
            return None
        pickup, downbeat = (opening_shares(mode, which) for which in ("pickup", "downbeat"))
        return cls(*(np.roll(shares if shares is not None else first, token_tonic)
                     for shares in (first, pickup, downbeat, after_pickup)))

    def first_note(self, pickup_wanted: bool | None) -> np.ndarray:
        """The shares for the first note of a tune drawn to open with a pickup (True), on the
        downbeat (False), or as the model likes (None)."""
        return self.first if pickup_wanted is None else self.pickup if pickup_wanted else self.downbeat


@cache
def opening_shares(mode: str, which: str) -> np.ndarray | None:
    """(12,): the share of real dance tunes of `mode` whose first note (`first`; `pickup` of those
    that open with one, `downbeat` of the others), or first note after a pickup (`after_pickup`),
    is each degree (semitones above the tonic), smoothed so that
    no degree is ruled out; None for a mode with too few tunes measured."""
    counts = json.loads(OPENINGS_FILE.read_text())["by_mode"].get(mode, {}).get(which)
    if counts is None or sum(counts) < MIN_TUNES:
        return None
    smoothed = np.array(counts, dtype=np.float64) + 0.5
    return smoothed / smoothed.sum()


def reweigh_opening(log_probabilities: np.ndarray, allowed: np.ndarray, pitch_of: np.ndarray,
                    shares: np.ndarray, strength: float) -> np.ndarray:
    """The (rows, vocab) log-probabilities of rows choosing their first note, with the mass the
    model puts on each pitch class (among allowed pitches) moved towards `shares` (12, by pitch
    class of the tokens) by `strength` (0: as it was; 1: exactly `shares`); within a pitch class
    and between pitches and a rest, the model's own proportions stay."""
    is_pitch = pitch_of >= 0
    classes = np.where(is_pitch, pitch_of % 12, 0)
    mass = np.where(allowed & is_pitch[None, :], np.exp(log_probabilities - log_probabilities.max(axis=1, keepdims=True)), 0.0)
    by_class = mass @ (classes[:, None] == np.arange(12))  # (rows, 12); non-pitch tokens carry no mass
    offered = by_class > 0
    target = np.where(offered, shares[None, :], 0.0)
    target *= by_class.sum(axis=1, keepdims=True) / np.maximum(target.sum(axis=1, keepdims=True), 1e-300)
    with np.errstate(divide="ignore"):
        shift = np.where(offered, np.log(target) - np.log(np.where(offered, by_class, 1.0)), 0.0)
    return log_probabilities + strength * np.where(is_pitch[None, :], shift[:, classes], 0.0)

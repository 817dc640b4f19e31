"""Batched sampling in NumPy: N tunes at once, one model step per token, grammar-masked.

Temperature, top-k and top-p shape each step's distribution after the grammar has removed
every token that would break the tune; the grammar's own bound caps the number of steps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from symbolic.generation.echo import Echo, Forms, Where
from symbolic.generation.grammar import FormGrammar, FormState, GenerationError
from symbolic.generation.opening import Opening, reweigh_opening
from symbolic.models.modelfile import ModelFile
from symbolic.models.numpy_lstm import log_softmax
from symbolic.tokens import HEADER_TOKENS, TokenizerSettings
from symbolic.tune_types import OTHER

# Log-probability taken from a note outside the requested mode's scale, by how the model's tokens
# are keyed. Keyed to the tonic, the bundled model left alone put 0.83-0.90 of its notes in scale for
# minor, dorian or mixolydian (real tunes: 0.97-0.995); 2.0 brings that to real tunes' rate while
# keeping accidentals possible. Keyed to the signature, it keeps 0.988-0.995 in every mode on its
# own, and a prior only takes away the accidentals real tunes have (benchmarks/musicality.py).
DEFAULT_MODE_PRIOR = {"tonic": 2.0, "signature": 0.0}
# Log-probability taken from a note on the same pitch as the note before it. Sampled freely, the
# models repeated a pitch more often than real tunes do (0.13-0.16 of steps against 0.096 in real
# dance tunes), the habit a classifier told generated tunes by best. The bundled model, keyed to the
# signature, repeats on 0.115 of its steps left alone, 0.098 at 0.2 and 0.080 at 0.4 (the
# previous model's setting), against 0.096 in the 261 real test tunes (300 samples, seed 0). By
# type it repeats more where real tunes repeat less: at 0.2, 0.084 of a hornpipe's steps against
# real hornpipes' 0.050, and 0.091 of a reel's against 0.076 (200 train tunes' headers each,
# seed 1), so those two take more: 0.059 and 0.081.
DEFAULT_REPEAT_PRIOR = 0.2
REPEAT_PRIOR_BY_TYPE = {"hornpipe": 0.6, "reel": 0.4}
# Log-probability taken for each semitone a note would stretch the tune's compass (its highest
# note less its lowest) beyond the median compass of real tunes of its type (`TuneType.compass`;
# COMPASS when none is given). Sampled freely, tunes wander: their compass ran 3-4 semitones wider
# than real tunes' at every percentile. One compass for every type squeezed reels: 17 semitones
# where real reels span 19, the feature a classifier told generated reels by best.
DEFAULT_COMPASS_PRIOR = 0.5
COMPASS = OTHER.compass
# Log-probability taken for each semitone a note would sound below FLOOR (D4: the lowest note of
# the flute and of the whistle as written) once the tune is in its key and octave. Most real dance
# tunes keep above it, for those instruments: 0.88 of the 261 real test tunes, against 0.67 of the
# bundled model's left alone, whose median pitch matched real tunes'; 0.83 at 2, 0.85 at 3
# (300 samples, seed 0, benchmarks/musicality.py), 0.82 to 0.86 at 3 with today's other priors.
# Where a tune's octave is still open (its median between two placements), notes may pass below.
DEFAULT_FLOOR_PRIOR = 3.0
FLOOR = 62
# Log-probability added to the token that carries on restating the bar its part's form names
# (symbolic/generation/echo.py). The model follows a strong hint or hardly any: on 200 training
# reels with the forms of all types, where 0.73 of the forms restate bar 1 in bar 5, 0.22 did at 4,
# 0.61 at 8, 0.66 at 12; with the reels' own forms, the reels restated 0.23, 0.25 and 0.25 of their
# bars at 8, 12 and 16 (real reels 0.28).
DEFAULT_ECHO_PRIOR = 12.0
DEFAULT_RHYTHM_PRIOR = 2.0  # taken from a length real tunes of the type rarely give a note at that place in the bar
DEFAULT_OPENING_PRIOR = 1.0  # the first note's degree drawn as real tunes' of the mode (generation/opening.py)
# The nucleus cut (top-p below 1) drops the rare events real tunes have: triplets, accidentals,
# dotted sixteenths. At 0.95 a classifier told the bundled model's tunes from real ones 0.73 of the
# time, at 1.0 (the whole distribution) 0.69 (benchmarks/musicality.py).
DEFAULT_TOP_P = 1.0
MAX_MODE_PRIOR = 20.0


@dataclass(frozen=True)
class SamplingSettings:
    temperature: float = 1.0
    top_k: int = 0  # 0: no limit
    top_p: float = DEFAULT_TOP_P
    mode_prior: float | None = None  # 0: the model's own choice of accidentals; None: `default_mode_prior`
    repeat_prior: float | None = None  # taken from the pitch just played; None: `repeat_prior_for` the type
    compass_prior: float = DEFAULT_COMPASS_PRIOR  # taken per semitone of compass beyond the type's
    floor_prior: float = DEFAULT_FLOOR_PRIOR  # taken per semitone a note would sound below FLOOR
    echo_prior: float = DEFAULT_ECHO_PRIOR  # added to the token that restates an earlier bar
    home_close: float | None = None  # share of parts before the last closing as the tune; None: real tunes'
    pickup_share: float | None = None  # share of tunes opening with a pickup; None: real tunes' of the type
    opening_prior: float = DEFAULT_OPENING_PRIOR  # 0..1: how far the first note's degree moves to real tunes'
    rhythm_prior: float = DEFAULT_RHYTHM_PRIOR  # taken from a length rare at its place in the bar (generation/rhythm.py)

    def __post_init__(self) -> None:
        if self.repeat_prior is not None and not 0 <= self.repeat_prior <= MAX_MODE_PRIOR:
            raise GenerationError(f"the repeat prior must be 0..{MAX_MODE_PRIOR:g}, got {self.repeat_prior}")
        if not 0 <= self.compass_prior <= MAX_MODE_PRIOR:
            raise GenerationError(f"the compass prior must be 0..{MAX_MODE_PRIOR:g}, got {self.compass_prior}")
        if not 0 <= self.floor_prior <= MAX_MODE_PRIOR:
            raise GenerationError(f"the floor prior must be 0..{MAX_MODE_PRIOR:g}, got {self.floor_prior}")
        if not 0 <= self.opening_prior <= 1:
            raise GenerationError(f"the opening prior must be 0..1, got {self.opening_prior}")
        if not 0 <= self.rhythm_prior <= MAX_MODE_PRIOR:
            raise GenerationError(f"the rhythm prior must be 0..{MAX_MODE_PRIOR:g}, got {self.rhythm_prior}")
        if not 0 <= self.echo_prior <= MAX_MODE_PRIOR:
            raise GenerationError(f"the echo prior must be 0..{MAX_MODE_PRIOR:g}, got {self.echo_prior}")
        if self.home_close is not None and not 0 <= self.home_close <= 1:
            raise GenerationError(f"the share of parts closing at home must be 0..1, got {self.home_close}")
        if self.pickup_share is not None and not 0 <= self.pickup_share <= 1:
            raise GenerationError(f"the share of tunes opening with a pickup must be 0..1, got {self.pickup_share}")
        if self.mode_prior is not None and not 0 <= self.mode_prior <= MAX_MODE_PRIOR:
            raise GenerationError(f"the mode prior must be 0..{MAX_MODE_PRIOR:g}, got {self.mode_prior}")
        if not 0.05 <= self.temperature <= 5:
            raise GenerationError(f"temperature must be between 0.05 and 5, got {self.temperature}")
        if self.top_k < 0:
            raise GenerationError("top-k must be 0 (off) or positive")
        if not 0 < self.top_p <= 1:
            raise GenerationError(f"top-p must be in (0, 1], got {self.top_p}")


def repeat_prior_for(kind: str) -> float:
    """The repeat prior for tunes of type `kind` when none is set."""
    return REPEAT_PRIOR_BY_TYPE.get(kind, DEFAULT_REPEAT_PRIOR)


def default_mode_prior(tokenizer: TokenizerSettings) -> float:
    """The mode prior for a model whose tokens were made with `tokenizer`."""
    return DEFAULT_MODE_PRIOR[tokenizer.normalise_to]


def shape_distribution(log_probabilities: np.ndarray, allowed: np.ndarray, settings: SamplingSettings) -> np.ndarray:
    """Probabilities (batch, vocab) after masking, temperature, top-k and top-p."""
    scores = np.where(allowed, log_probabilities / settings.temperature, -np.inf)
    if settings.top_k:
        kth = -np.sort(-scores, axis=1)[:, min(settings.top_k, scores.shape[1]) - 1][:, None]
        scores = np.where(scores >= kth, scores, -np.inf)
    scores = scores - scores.max(axis=1, keepdims=True)
    probabilities = np.exp(scores)
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    if settings.top_p < 1:
        order = np.argsort(-probabilities, axis=1)
        sorted_p = np.take_along_axis(probabilities, order, axis=1)
        # Keep the smallest set whose mass reaches top_p (always at least the best token).
        keep_sorted = np.cumsum(sorted_p, axis=1) - sorted_p < settings.top_p - 1e-9
        keep = np.zeros_like(keep_sorted)
        np.put_along_axis(keep, order, keep_sorted, axis=1)
        probabilities = np.where(keep, probabilities, 0.0)
        probabilities /= probabilities.sum(axis=1, keepdims=True)
    return probabilities


@dataclass(frozen=True)
class Placement:
    """Where each row's tune will sound: `shifts`, the semitones from its tokens to the key asked
    for; `targets`, the median pitch its octave is chosen to come nearest (`in_register`)."""

    shifts: np.ndarray  # (rows,) int
    targets: np.ndarray  # (rows,) int


def sample_tokens(model: ModelFile, grammar: FormGrammar, prompts: list[list[int]], settings: SamplingSettings,
                  rng: np.random.Generator, bias: np.ndarray | None = None,
                  placement: Placement | None = None, compass: int = COMPASS,
                  forms: Forms | None = None, opening: Opening | None = None,
                  rhythm: np.ndarray | None = None) -> list[list[int]]:
    """Continue each prompt (<start> + header + prime ids) until <end>; returns each tune's body
    ids (prime included, <end> last). The prime must already satisfy the grammar; the grammar's
    forced tokens (the bar countdown) are put into it. `bias` is added to every step's
    log-probabilities (the mode prior); the floor prior needs `placement`; the compass prior
    counts from `compass` semitones. From `forms` (those of every type the bundled model learned,
    when None) the echo prior draws each part's form, and the grammar which parts before the last
    close at home, as the tune does (`SamplingSettings.home_close` of them, or the forms' share),
    and which tunes open with a pickup (`pickup_share`, or the forms'). The opening prior moves the
    pitch class of the first note, and of the first after a pickup, towards `opening`'s shares.
    The rhythm prior takes log-probability from the lengths `rhythm` (bar grid steps, vocab) marks
    rare at each place in a bar (`Rhythm.penalties`), but in a pickup, whose place in the bar is
    not known until its bar line."""
    states: list[FormState] = []
    prompts = [list(p) for p in prompts]
    for row, prompt in enumerate(prompts):
        state = grammar.new_state()
        state.given = True
        for token in prompt[1 + HEADER_TOKENS:]:
            while state.expect == "count":
                grammar.advance(state, int(np.argmax(grammar.allowed(state))))
            if not grammar.allowed(state)[token]:
                raise GenerationError(f"the opening bars do not fit the form: {model.vocab.tokens[token]!r} "
                                      "cannot come there (whole bars in the meter, a pickup of at most half a bar, "
                                      "no endings)")
            grammar.advance(state, token)
        state.given = False
        prompts[row] = prompt[: 1 + HEADER_TOKENS] + state.tokens
        states.append(state)
    forms = forms or Forms.shipped()
    home_close = forms.home_close if settings.home_close is None else settings.home_close
    form_rng = rng.spawn(1)[0]  # its draws leave the sampling's own stream as it was
    pickup_share = forms.pickup if settings.pickup_share is None else settings.pickup_share
    plans = [forms.plan(grammar.parts, form_rng) for _ in states]
    for state, plan in zip(states, plans, strict=True):
        state.homes = forms.homes(plan, home_close, form_rng)
        if grammar.max_pickup and state.expect == "open":  # the opening bars given leave it to them
            state.pickup_wanted = bool(form_rng.random() < pickup_share)
    repeat_prior = DEFAULT_REPEAT_PRIOR if settings.repeat_prior is None else settings.repeat_prior
    step = _stepper(model, prompts)
    pitch_of = grammar.table.pitch
    lowest = np.array([min((pitch_of[t] for t in s.tokens if pitch_of[t] >= 0), default=np.inf) for s in states])
    highest = np.array([max((pitch_of[t] for t in s.tokens if pitch_of[t] >= 0), default=-np.inf) for s in states])
    floor = Floor(placement, [s.tokens for s in states], pitch_of) if settings.floor_prior and placement else None
    echo = (Echo(model.vocab.tokens, grammar.bars_per_part, [_with_places(grammar, s.tokens) for s in states],
                 plans, forms.bars_per_part)
            if settings.echo_prior else None)
    for _ in range(grammar.max_tokens()):
        active = [i for i, s in enumerate(states) if s.expect != "done"]
        if not active:
            break
        places = [(states[i].part, states[i].bar) for i in active]  # where each token now goes
        log_probabilities = step.log_probabilities()
        if bias is not None:
            log_probabilities = log_probabilities + bias
        allowed = np.stack([grammar.allowed(s) for s in states])
        if repeat_prior:
            rows = [i for i, s in enumerate(states)
                    if s.expect in ("after", "note") and s.last_pitch is not None and s.tied_pitch is None]
            last = np.array([states[i].last_pitch for i in rows])[:, None]
            log_probabilities[rows] -= repeat_prior * (grammar.table.pitch[None, :] == last)
        if settings.compass_prior:
            log_probabilities -= settings.compass_prior * compass_stretch(lowest, highest, grammar.table.pitch, compass)
        if floor is not None:
            log_probabilities -= settings.floor_prior * floor.depth()
        if rhythm is not None and settings.rhythm_prior:
            rows = [i for i in active if states[i].expect == "duration" and not states[i].triplet_left
                    and (not states[i].opening or states[i].part == 0 and states[i].pickup_wanted is False)]
            log_probabilities[rows] -= settings.rhythm_prior * rhythm[[states[i].position for i in rows]]
        if echo is not None:
            log_probabilities[echo.suggestions(active, places)] += settings.echo_prior
        if opening is not None and settings.opening_prior:
            first = [i for i in active if states[i].expect == "note" and not np.isfinite(lowest[i])]
            groups = [(opening.first_note(wanted), [i for i in first if states[i].pickup_wanted is wanted])
                      for wanted in (None, True, False)]
            groups.append((opening.after_pickup, [i for i in active if _after_pickup(states[i])]))
            for shares, rows in groups:
                if rows:
                    log_probabilities[rows] = reweigh_opening(log_probabilities[rows], allowed[rows], pitch_of,
                                                              shares, settings.opening_prior)
        for i, s in enumerate(states):
            if s.expect == "done":
                allowed[i] = False
                allowed[i, 0] = True  # padding keeps finished tunes' rows well defined
        probabilities = shape_distribution(log_probabilities, allowed, settings)
        # Inverse-CDF draws for every row at once (rng.choice takes one row a call).
        cumulative = np.cumsum(probabilities, axis=1)
        draws = rng.random((len(states), 1)) * cumulative[:, -1:]
        chosen = np.minimum((cumulative <= draws).sum(axis=1), probabilities.shape[1] - 1)
        for i in active:
            grammar.advance(states[i], int(chosen[i]))
        played = pitch_of[chosen]
        notes = played >= 0
        lowest[notes] = np.minimum(lowest[notes], played[notes])
        highest[notes] = np.maximum(highest[notes], played[notes])
        if floor is not None:
            floor.play(played)
        if echo is not None:
            echo.play(chosen, active, places)
        step.feed(chosen)  # finished tunes were only allowed padding, which keeps their state
    unfinished = [i for i, s in enumerate(states) if s.expect != "done"]
    if unfinished:
        raise GenerationError(f"{len(unfinished)} tunes did not finish within {grammar.max_tokens()} tokens")
    return [s.tokens for s in states]


def _after_pickup(state: FormState) -> bool:
    """Whether the state's next token is the note that opens the tune's first full bar after a pickup."""
    return state.expect == "note" and state.part == 0 and state.bar == 0 and state.position == 0 and state.pickup > 0


def _with_places(grammar: FormGrammar, tokens: list[int]) -> list[tuple[int, Where]]:
    """Each token with the place (part, bar) of the bar it is written in."""
    state, found = grammar.new_state(), []
    state.given = True
    for token in tokens:
        found.append((token, (state.part, state.bar)))
        grammar.advance(state, token)
    return found


def compass_stretch(lowest: np.ndarray, highest: np.ndarray, pitch_of: np.ndarray,
                    limit: int = COMPASS) -> np.ndarray:
    """(rows, vocab): semitones each pitch token would take a row's compass beyond `limit`; 0 for
    other tokens and for rows with no note yet (lowest inf)."""
    pitch = pitch_of[None, :]
    compass = np.maximum(highest[:, None], pitch) - np.minimum(lowest[:, None], pitch)
    stretch = np.clip(compass - limit, 0, None)
    return np.where((pitch >= 0) & np.isfinite(lowest)[:, None], stretch, 0.0)


class Floor:
    """Each row's notes so far, counted by pitch, from which the octave `in_register` will put the
    tune in follows (its median nearest the target), and so where FLOOR falls among the tokens."""

    def __init__(self, placement: Placement, bodies: list[list[int]], pitch_of: np.ndarray) -> None:
        self.placement, self.pitch_of = placement, pitch_of
        self.counts = np.zeros((len(bodies), 128), dtype=np.int64)
        for row, body in enumerate(bodies):
            for pitch in pitch_of[body]:
                if pitch >= 0:
                    self.counts[row, pitch] += 1

    def play(self, played: np.ndarray) -> None:
        rows = np.flatnonzero(played >= 0)
        self.counts[rows, played[rows]] += 1

    def depth(self) -> np.ndarray:
        """(rows, vocab): semitones each pitch token would sound below FLOOR; 0 for other tokens
        and for rows with no note yet."""
        notes = self.counts.sum(axis=1)
        # in_register's median: the sorted pitches' element len // 2.
        median = (np.cumsum(self.counts, axis=1) <= (notes // 2)[:, None]).sum(axis=1)
        octaves = np.round((self.placement.targets - self.placement.shifts - median) / 12)
        floor = FLOOR - self.placement.shifts - 12 * octaves
        depth = np.clip(floor[:, None] - self.pitch_of[None, :], 0, None)
        return np.where((self.pitch_of >= 0)[None, :] & (notes > 0)[:, None], depth, 0.0)


class _LstmStepper:
    def __init__(self, model: ModelFile, prompts: list[list[int]]) -> None:
        self.network = model.lstm()
        width = max(len(p) for p in prompts)
        if model.config.arch == "lstm-lm":
            block = np.zeros((len(prompts), width), dtype=np.int64)
            for row, prompt in enumerate(prompts):
                block[row, : len(prompt)] = prompt
        else:
            # The encoder reads the conditioning without <start>; the decoder begins at <start>.
            block = np.zeros((len(prompts), width - 1), dtype=np.int64)
            for row, prompt in enumerate(prompts):
                block[row, : len(prompt) - 1] = prompt[1:]
        self.logits, self.state = self.network.start(block)

    def log_probabilities(self) -> np.ndarray:
        return log_softmax(self.logits.astype(np.float64))

    def feed(self, ids: np.ndarray) -> None:
        self.logits, self.state = self.network.step(ids.astype(np.int64), self.state)


class _NgramStepper:
    def __init__(self, model: ModelFile, prompts: list[list[int]]) -> None:
        self.ngram = model.ngram()
        self.histories = [list(p) for p in prompts]

    def log_probabilities(self) -> np.ndarray:
        return np.log(np.stack([np.maximum(self.ngram.distribution(h), 1e-300) for h in self.histories]))

    def feed(self, ids: np.ndarray) -> None:
        for history, token in zip(self.histories, ids, strict=True):
            if token:
                history.append(int(token))


def _stepper(model: ModelFile, prompts: list[list[int]]) -> _LstmStepper | _NgramStepper:
    return _NgramStepper(model, prompts) if model.config.arch == "ngram" else _LstmStepper(model, prompts)

"""`symbolic.generate(...)`: new tunes from a model, as `Tune`s, without TensorFlow.

A request names what it wants (type, meter, mode, key, opening bars, form); the header tokens
and the prime go to the model as its prompt (LM) or conditioning (seq2seq), the grammar keeps
every tune valid, and the result is moved from the normalised key (as the model's tokens have it:
tonic C, or no sharps or flats) to the key asked for.
When the model carries a novelty index, a tune too similar to a training tune is sampled again
(a few times at most), and each tune notes its closest training tune in an `N:` field.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from symbolic.abc.fields import default_unit
from symbolic.abc.reader import read_tune
from symbolic.errors import SymbolicError
from symbolic.generation.echo import Forms
from symbolic.generation.grammar import Cadence, FormGrammar, GenerationError, TokenTable
from symbolic.generation.opening import Opening
from symbolic.generation.rhythm import Rhythm
from symbolic.generation.sampler import (
    Placement,
    SamplingSettings,
    default_mode_prior,
    repeat_prior_for,
    sample_tokens,
)
from symbolic.generation.titles import make_title
from symbolic.models.modelfile import ModelFile, load_model
from symbolic.novelty.index import Match, NoveltyIndex
from symbolic.pitch import MODES, mode_named
from symbolic.tokens import (
    BAR,
    HEADER_TOKENS,
    START,
    bar_token,
    header,
    header_values,
    token_tonic,
    tokens_to_tune,
    tune_to_tokens,
    without_controls,
)
from symbolic.transpose import semitones_between, target_key, transpose, transpose_to
from symbolic.tune import Key, Meter, Note, Tempo, Tune
from symbolic.tune_types import BY_NAME, tune_type

MAX_TUNES = 1000
MAX_BATCH = 64
MAX_PRIME_CHARACTERS = 2000
# Resampling rounds for tunes above --max-similarity: a model that keeps copying after this many
# tries is most likely forced to (a prime holding a whole training tune); the least similar is kept.
MAX_RESAMPLES = 4
NOVELTY_NOTE = "closest training tune: "
OPEN = bar_token("|:")  # opening bars given with --prime open a repeated part
# Where real dance tunes sit: the median of their median pitches (MIDI) for each tonic (pitch
# class), over the 4,756 dance tunes of the bundled model's training split as their files write
# them (tunes in E sit lowest, at B4; in D and B highest, at D5); REGISTER_MEDIAN for other
# tonics. A fiddle's range is G3-E7.
REGISTER_MEDIAN = 73
REGISTER_MEDIANS = {0: 72, 2: 74, 4: 71, 5: 72, 7: 72, 9: 73, 10: 72, 11: 74}
REGISTER_RANGE = (55, 100)
# Accidentals the mode prior leaves to the model, semitones above the tonic: in major the raised
# fourth (the dominant's leading tone) and the flat seventh (a mixolydian turn), 0.34 % and 0.31 %
# of the notes of the dance tunes the bundled model trained on, which under the prior it never
# wrote; in minor the raised seventh (the leading tone, 1.2 %). Minor's major sixth (1.9 %) and
# the major seventh of dorian and mixolydian (0.4 %) stay under the prior: left free, they took
# minor tunes to 0.925 of their notes in scale and dorian to 0.941 (real 0.963 and 0.985).
USUAL_ACCIDENTALS = {"major": (6, 10), "minor": (11,)}
# The default mode prior of a model keyed to the signature adds this log-probability to the notes
# of each degree (semitones above the tonic) of a mode. Keyed to the signature, a minor tune's notes
# are those of its relative major, and the bundled model leaned that way: its minor tunes sat on
# the third (0.17-0.18 of their notes against real 0.14-0.15) and the minor sixth (0.07 against
# 0.03), seldom on the tonic (0.15 against 0.21-0.23), and a classifier told them from real minor
# tunes 0.80 of the time; its major tunes leaned to the relative minor's tonic (the sixth, 0.12
# against 0.10), its dorian ones to the sixth over the fifth. With these lifts every degree is
# within 0.02 of real tunes' share, and the classifier fell to 0.69-0.73 for minor (two seeds),
# 0.65 from 0.68 for major, 0.64-0.67 from 0.67-0.68 for dorian (150 to 300 train tunes' headers
# of the mode; mixolydian, within 0.035 already, was no better for it, so it has none). Minor's
# major sixth and raised seventh, 1.9 % and 1.2 % of the 700 real minor dance tunes' notes, which
# the model wrote on 0.35 % and 0.16 %, take the largest lifts. A set --mode-prior leaves every
# degree to the model.
DEGREE_LIFT = {"major": {0: 0.12, 5: 0.15, 9: -0.25},
               "minor": {0: 0.4, 2: 0.3, 3: -0.2, 7: 0.15, 8: -0.9, 9: 1.4, 10: -0.2, 11: 2.0},
               "dorian": {0: 0.15, 5: -0.12, 7: 0.25, 9: -0.3}}
# A model keyed to the signature also has this log-probability added to note lengths (quarter
# notes) of a type whose rhythm the bundled model misses: it wrote polkas in sixteenths, 0.67 of
# their notes against 0.33 in the 55 polkas it learned from (eighths 0.28 against 0.55; distance
# from real 0.35, a classifier 0.82; `benchmarks/musicality.py build/finals/corpus-dance --split
# train --types polka --samples 60`). The lift is 0.6 times the log of real over generated shares
# (the whole log overshot, sixteenths following each other): distance 0.04, classifier 0.69.
# Reels and hornpipes get their triplets (`(3BAG`) so: the model wrote 0.032 of a reel's notes and
# 0.025 of a hornpipe's in triplets, where real ones have 0.052 and 0.055 (200 train tunes' headers
# each, seed 1): now 0.053 and 0.049 (the whole log overshot to 0.094 in hornpipes).
RHYTHM_LIFT = {"polka": {Fraction(1, 4): -0.43, Fraction(1, 2): 0.41, Fraction(3, 4): 0.66, Fraction(1): 0.51},
               "reel": {Fraction(1, 3): 0.3}, "hornpipe": {Fraction(1, 3): 0.45}}
# The mode prior is this many times stronger for a mode the bundled model hardly saw: 5 of its 4,756
# training tunes are phrygian, and at the usual strength 11-12 % of its notes in phrygian left the
# scale (real phrygian tunes: 0.7 %; benchmarks/musicality.py --balance-modes on the training split).
MODE_PRIOR_SCALE = {"phrygian": 2.0}
# Keys folk players use for each mode.
FOLK_KEYS = {"major": ("D", "G", "A", "C", "F"), "minor": ("E", "A", "D", "B"), "dorian": ("A", "E", "D", "G"),
             "mixolydian": ("A", "D", "G"), "lydian": ("F", "C"), "phrygian": ("E", "A"), "locrian": ("B",)}

@dataclass(frozen=True)
class Request:
    count: int = 1
    tune_type: str | None = None
    meter: str | None = None
    mode: str | None = None
    key: str | None = None
    prime: str | None = None
    bars_per_part: int = 8
    parts: int = 2
    sampling: SamplingSettings = field(default_factory=SamplingSettings)
    seed: int | None = None
    tempo: int | None = None  # quarter notes a minute
    max_similarity: float = 0.95  # resample tunes more similar than this to a training tune (1: never)
    cadence: bool = True  # parts end on a tonic-chord tone, the tune on the tonic (the grammar's rule)
    pickups: bool = True  # a part may open with a pickup, when the model writes one
    endings: bool = True  # a part may end in first and second endings, when the model writes them

    def __post_init__(self) -> None:
        if not 1 <= self.count <= MAX_TUNES:
            raise GenerationError(f"number of tunes must be 1..{MAX_TUNES}, got {self.count}")
        if not 1 <= self.bars_per_part <= 64 or not 1 <= self.parts <= 8:
            raise GenerationError("bars per part must be 1..64 and parts 1..8")
        if self.prime is not None and len(self.prime) > MAX_PRIME_CHARACTERS:
            raise GenerationError(f"the opening bars are longer than {MAX_PRIME_CHARACTERS} characters")
        if self.tempo is not None and not 20 <= self.tempo <= 400:
            raise GenerationError(f"tempo must be 20..400 quarter notes a minute, got {self.tempo}")
        if not 0 < self.max_similarity <= 1:
            raise GenerationError(f"the largest similarity to a training tune must be in (0, 1], got {self.max_similarity}")


def generate(model: ModelFile | str | None = None, **options: object) -> list[Tune]:
    """New tunes. `model`: a ModelFile, a model folder, or None for the bundled model; options
    are the fields of `Request` (count, tune_type, meter, mode, key, prime, bars_per_part, parts,
    sampling, seed, tempo, max_similarity)."""
    request = options.pop("request", None) or Request(**options)  # type: ignore[arg-type]
    model_file = model if isinstance(model, ModelFile) else load_model(model)
    return _Generator(model_file, request).run()  # type: ignore[arg-type]


def check_request(model: ModelFile, request: Request) -> None:
    """Raise GenerationError for what `generate` would refuse (a type, meter or mode the model
    never saw, unreadable opening bars), without sampling anything."""
    generator = _Generator(model, request)
    if request.prime:
        generator.prime_tokens(request.key or FOLK_KEYS[generator.mode][0])


class _Generator:
    def __init__(self, model: ModelFile, request: Request) -> None:
        self.model, self.request = model, request
        self.vocab = model.vocab
        self.rng = np.random.default_rng(request.seed)
        self.kind = tune_type(request.tune_type) if request.tune_type else "other"
        if request.tune_type and self.kind == "other" and request.tune_type.lower() != "other":
            raise GenerationError(f"unknown tune type {request.tune_type!r}; known: "
                                  + ", ".join(self._known("type")))
        self.meter = _meter_text(request.meter or BY_NAME[self.kind].meter)
        self.mode = _mode(request.mode or "major")
        # The unit is a token the model conditions on: asked in 1/16, polkas ran in sixteenths.
        self.unit = BY_NAME[self.kind].unit or default_unit(Meter(self.meter))
        self.header = header(self.kind, self.meter, self.unit, self.mode)
        for token in self.header:
            if token not in self.vocab.tokens:
                name = token.split(":")[0]
                raise GenerationError(f"the model never saw {name} {token.split(':', 1)[1]!r}; it knows "
                                      + ", ".join(self._known(name)))
        table = TokenTable(self.vocab)
        meter = Meter(self.meter)
        key = Key(token_tonic(self.mode, model.tokenizer), self.mode)  # the key as the model's tokens have it
        self.token_tonic = key.tonic_pitch_class
        cadence = Cadence.for_mode(self.mode, meter, table, key.tonic) if request.cadence else None
        self.grammar = FormGrammar(table, meter, request.bars_per_part, request.parts, cadence,
                                   countdown=model.tokenizer.bar_countdown, pickups=request.pickups,
                                   endings=request.endings, swing=_swing_unit(self.kind, self.meter))
        # The mode prior: notes outside the mode's scale cost log-probability, but for the mode's
        # usual accidentals, where the model keeps its own choice.
        usual = [(key.tonic_pitch_class + step) % 12 for step in USUAL_ACCIDENTALS.get(self.mode, ())]
        scale = list(key.scale) + usual
        outside = table.is_pitch & ~np.isin(table.pitch % 12, scale)
        prior = request.sampling.mode_prior
        strength = default_mode_prior(model.tokenizer) if prior is None else prior
        bias = np.where(outside, -strength * MODE_PRIOR_SCALE.get(self.mode, 1.0), 0.0)
        if prior is None and model.tokenizer.normalise_to == "signature":
            for step, lift in DEGREE_LIFT.get(self.mode, {}).items():
                bias[table.is_pitch & (table.pitch % 12 == (key.tonic_pitch_class + step) % 12)] += lift
        if model.tokenizer.normalise_to == "signature":
            for length, lift in RHYTHM_LIFT.get(self.kind, {}).items():
                bias[table.is_duration & (table.duration == table.steps(length))] += lift
        self.bias = bias if bias.any() else None
        self.opening = Opening.for_mode(self.mode, self.token_tonic)
        sampling = request.sampling
        self.sampling = sampling if sampling.repeat_prior is not None else \
            dataclasses.replace(sampling, repeat_prior=repeat_prior_for(self.kind))
        rhythm = Rhythm.shipped(self.kind, meter)
        self.rhythm = rhythm.penalties(table.duration, table.grid, self.grammar.bar_steps) if rhythm else None
        self.index = NoveltyIndex.from_arrays(model.novelty) if model.novelty is not None else None

    def _known(self, name: str) -> list[str]:
        return header_values(self.vocab.tokens, name)

    def prime_tokens(self, key: str) -> list[str]:
        if not self.request.prime:
            return []  # the grammar opens the part, `|:` or bare, as the model chooses
        text = f"X:1\nM:{self.meter}\nL:1/{self.unit.denominator}\nK:{key}{_mode_suffix(self.mode)}\n{self.request.prime}\n"
        try:
            tune = read_tune(text, source="--prime")
        except SymbolicError as error:
            raise GenerationError(f"the opening bars are not readable ABC: {error}") from None
        # Without the countdown: the sampler puts it in as it replays the prime through the grammar.
        plain = dataclasses.replace(self.model.tokenizer, bar_countdown=False)
        body = tune_to_tokens(tune, plain)[HEADER_TOKENS:]
        if not body or not body[0].startswith(BAR):
            body = [OPEN, *body]
        elif body[0] != OPEN:
            body = [OPEN, *body[1:]]
        return body

    def run(self) -> list[Tune]:
        request = self.request
        # Opening bars are read in --key, or in the mode's most usual key when none is given.
        fallback = FOLK_KEYS[self.mode][0] if request.prime else None
        keys = [request.key or fallback or str(self.rng.choice(FOLK_KEYS[self.mode])) for _ in range(request.count)]
        tunes: list[Tune] = []
        for start in range(0, request.count, MAX_BATCH):
            batch_keys = keys[start:start + MAX_BATCH]
            prompts = [self.vocab.encode(self.header + self.prime_tokens(k), add_start_end=False) for k in batch_keys]
            prompts = [[self.vocab.tokens.index(START), *p] for p in prompts]
            placement = self.placement(batch_keys)
            candidates = self.sample(prompts, placement)
            matches = self.resample_copies(prompts, candidates, placement)
            for offset, (tokens, key) in enumerate(zip(candidates, batch_keys, strict=True)):
                normalised = tokens_to_tune(tokens, settings=self.model.tokenizer)
                tunes.append(self.finish(normalised, key, start + offset + 1, matches[offset]))
        return tunes

    def placement(self, keys: list[str]) -> Placement:
        """Where tunes in these keys will sound (`finish` moves them there), for the floor prior."""
        tonics = [target_key(k).tonic_pitch_class for k in keys]
        return Placement(np.array([semitones_between(self.token_tonic, t) for t in tonics]),
                         np.array([register_median(t) for t in tonics]))

    def sample(self, prompts: list[list[int]], placement: Placement) -> list[list[str]]:
        """Each prompt's tune as key-normalised tokens (header included, <end> dropped)."""
        bodies = sample_tokens(self.model, self.grammar, prompts, self.sampling, self.rng, self.bias,
                               placement, BY_NAME[self.kind].compass, Forms.shipped(self.kind), self.opening,
                               self.rhythm)
        return [self.header + without_controls(self.vocab.decode(body[:-1])) for body in bodies]

    def resample_copies(self, prompts: list[list[int]], candidates: list[list[str]],
                        placement: Placement) -> list[Match | None]:
        """Replace, in place, tunes above the similarity limit by new samples; after
        MAX_RESAMPLES rounds keep each tune's least similar version. Returns each tune's closest
        training tune (None without an index)."""
        if self.index is None:
            return [None] * len(candidates)
        limit = self.request.max_similarity
        best = [self.index.closest(tokens) for tokens in candidates]
        for _ in range(MAX_RESAMPLES):
            again = [i for i, match in enumerate(best) if match.similarity > limit]
            if not again:
                break
            rows = Placement(placement.shifts[again], placement.targets[again])
            for i, tokens in zip(again, self.sample([prompts[i] for i in again], rows), strict=True):
                match = self.index.closest(tokens)
                if match.similarity < best[i].similarity:
                    candidates[i], best[i] = tokens, match
        return list(best)

    def finish(self, normalised: Tune, key: str, number: int, match: Match | None) -> Tune:
        tune = in_register(transpose_to(normalised, key))
        usual = BY_NAME[self.kind].tempo
        tempo = Tempo(self.request.tempo) if self.request.tempo else (Tempo(usual[1], usual[0]) if usual else None)
        fields: tuple[tuple[str, str], ...] = (("Z", f"symbolic, {self.model.config.arch}"),)
        if match is not None:
            note = f"{NOVELTY_NOTE}{match.name} (similarity {match.similarity:.2f})"
            if match.similarity > self.request.max_similarity:
                note += (f"; still above the {self.request.max_similarity:g} limit after {MAX_RESAMPLES} "
                         "resamplings, the least similar was kept")
            fields += (("N", note),)
        title = (make_title(self.kind, self.rng, self.index.title_words, self.index.title_counts)
                 if self.index is not None and self.index.title_words else make_title(self.kind, self.rng))
        return dataclasses.replace(
            tune, reference=number, titles=(title,), tempo=tempo,
            rhythm=_rhythm(self.kind, self.meter), fields=fields)


def register_median(tonic_pitch_class: int) -> int:
    """The median pitch real dance tunes with this tonic sit at."""
    return REGISTER_MEDIANS.get(tonic_pitch_class, REGISTER_MEDIAN)


def in_register(tune: Tune) -> Tune:
    """The tune moved by whole octaves to where a fiddle, flute or whistle player reads it: its
    median pitch nearest where real tunes in its key sit (`register_median`), every note within
    REGISTER_RANGE where an octave allows."""
    pitches = sorted(p for e in tune.body if type(e) is Note for p in e.pitches)
    if not pitches:
        return tune
    median, low, high = pitches[len(pitches) // 2], pitches[0], pitches[-1]
    lowest, highest = REGISTER_RANGE
    target = register_median(tune.key.tonic_pitch_class)

    def badness(octaves: int) -> tuple[bool, int]:
        shift = 12 * octaves
        return (low + shift < lowest or high + shift > highest, abs(median + shift - target))

    best = min(range(-3, 4), key=badness)
    return transpose(tune, 12 * best, 7 * best) if best else tune


def novelty_note(tune: Tune) -> str | None:
    """The `N:` note naming a generated tune's closest training tune, if it has one."""
    return next((value for letter, value in tune.fields if letter == "N" and value.startswith(NOVELTY_NOTE)), None)


def _rhythm(kind: str, meter: str) -> str:
    """The R: field. abc2midi refuses an R: starting with "hornpipe" outside 2/4 and 4/4 (it swings
    hornpipes), so a triple-time or cut-time hornpipe says so first."""
    if kind == "other":
        return ""
    if kind == "hornpipe" and meter not in ("2/4", "4/4"):
        numerator = Meter(meter).numerator
        return f"{'triple' if numerator % 3 == 0 else 'cut-time' if meter in ('C|', '2/2') else meter} hornpipe"
    return kind.replace("-", " ")


def _swing_unit(kind: str, meter: str) -> Fraction | None:
    """The note (in quarter notes) abc2midi swings in pairs in this tune: in a hornpipe in 2/4 or
    4/4 (which `_rhythm` marks R:hornpipe), a 32nd of a whole note times the meter's numerator."""
    if kind != "hornpipe" or meter not in ("2/4", "4/4"):
        return None
    return Fraction(int(meter[0]), 8)


def _meter_text(text: str) -> str:
    try:
        meter = Meter(text.replace(" ", ""))
    except SymbolicError:
        raise GenerationError(f"unreadable meter {text!r}") from None
    if meter.bar_length is None:
        raise GenerationError("generation needs a meter with bars (not M:none)")
    return meter.text


def _mode(text: str) -> str:
    found = mode_named(text)
    if not found:
        raise GenerationError(f"unknown mode {text!r}; known: {', '.join(MODES)}")
    return found


def _mode_suffix(mode: str) -> str:
    return {"major": "", "minor": "m"}.get(mode, " " + mode)

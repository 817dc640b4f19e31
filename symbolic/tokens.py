"""Note-event tokens: a key-normalised Tune as a sequence of strings, and back, without loss.

A tune is first *normalised* (`normalize`): transposed so its tonic is C, in the octave that
centres its pitches near B4, keeping its mode (or, with `TokenizerSettings.normalise_to`
"signature", so its key signature has no sharps or flats: A dorian becomes D dorian, E minor
A minor, and the notes of every mode's scale are the same white-key tokens); chords reduced to
their melody (top) note; grace notes, chord symbols, part labels, titles and other header text
dropped. `tokens_to_tune(tune_to_tokens(t))` gives back exactly `normalize(t)`: every note, rest,
duration, tie, bar line, repeat and ending.

Token forms (durations are in quarter notes, so `L:` does not change them):

    type:<jig|reel|...|other>  meter:<6/8>  unit:<1/8>  mode:<dorian>   header, in this order
    p:<midi pitch>  rest                                                 a note or rest ...
    d:<quarters>    tie                                                  ... its duration, a tie
    bar:<| || |] [| |: :| ::>  ending:<1 or 1,2>                        bar lines, endings
    key:<tonic>:<mode>  meter:<n/d>                                      inline key or meter change
    left:<n>                                                             bars left in the part

`left:<n>` (with `TokenizerSettings.bar_countdown`) opens every bar: how many bars the part has
still to go, this one included (`left:1` is the part's last bar, where a cadence belongs), capped
at `COUNTDOWN_CAP`. A part ends at any bar line but `|`. It is derived from the bars, so it is a
control token: the model reads it (and learns where the form is going), generation forces it, and
`tokens_to_tune` drops it.

`Vocabulary` gives each token an id: 0 `<pad>`, 1 `<start>`, 2 `<end>`, then every other token
in sorted (code point) order, so the same token set always gets the same ids.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction

from symbolic.errors import SymbolicError
from symbolic.pitch import LETTERS
from symbolic.transpose import transpose
from symbolic.tune import Bar, Key, KeyChange, Meter, MeterChange, Note, Tune
from symbolic.tune_types import tune_type

PAD, START, END = "<pad>", "<start>", "<end>"
SPECIAL_TOKENS = (PAD, START, END)
PAD_ID, START_ID, END_ID = 0, 1, 2  # the vocabulary's first three ids, in every vocabulary
HEADER_TOKENS = 4  # type, meter, unit, mode
HEADER_NAMES = ("type", "meter", "unit", "mode")
PITCH, DURATION, BAR = "p:", "d:", "bar:"
REST, TIE = "rest", "tie"
COMMON_TONIC = "C"
CENTRE_PITCH = 71  # B4: the middle of a fiddle or whistle tune's usual range
COUNTDOWN = "left:"
ENDING = "ending:"  # after a bar line: the ending (or endings, `1,2`) the bar opens
COUNTDOWN_CAP = 16  # `left:16` stands for 16 bars or more
# The tonic of each mode whose signature has no sharps or flats (normalising to the signature).
SIGNATURE_TONICS = {"major": "C", "minor": "A", "dorian": "D", "phrygian": "E", "lydian": "F",
                    "mixolydian": "G", "locrian": "B"}
NORMALISATIONS = ("tonic", "signature")


class TokenError(SymbolicError):
    """Tokens that do not make a tune, or a token the vocabulary does not have."""


def header(kind: str, meter: str, unit: Fraction, mode: str) -> list[str]:
    """The four header tokens of a tune, in their order."""
    return [f"type:{kind}", f"meter:{meter}", f"unit:{_fraction_text(unit)}", f"mode:{mode}"]


def header_values(tokens: Sequence[str], name: str) -> list[str]:
    """The values of one header field among `tokens` (a vocabulary's: which meters it knows)."""
    return [t[len(name) + 1:] for t in tokens if t.startswith(f"{name}:")]


def bar_token(kind: str) -> str:
    return f"{BAR}{kind}"


def pitch_of(token: str) -> int | None:
    """`p:62` -> 62; None for any other token."""
    return int(token[len(PITCH):]) if token.startswith(PITCH) else None


def duration_of(token: str) -> Fraction | None:
    """`d:3/2` -> 3/2 quarter notes; None for any other token."""
    return Fraction(token[len(DURATION):]) if token.startswith(DURATION) else None


def is_note(token: str) -> bool:
    """A note event: a pitch or a rest (what bits per note count)."""
    return token == REST or token.startswith(PITCH)


@dataclass(frozen=True)
class TokenizerSettings:
    """How tunes became tokens: written into a corpus's manifest and every model trained on it,
    so a model is only ever fed (and scored on) tokens made the same way."""

    common_tonic: str = COMMON_TONIC
    header_tokens: int = HEADER_TOKENS
    duration_unit: str = "quarter"
    bar_countdown: bool = True
    normalise_to: str = "tonic"  # "tonic": every tune in C; "signature": every tune with no sharps or flats

    @classmethod
    def from_dict(cls, data: dict | None) -> TokenizerSettings:  # type: ignore[type-arg]
        """Settings as saved; corpora and models made before the countdown existed have none."""
        data = dict(data or {})
        data.setdefault("bar_countdown", False)
        data.setdefault("normalise_to", "tonic")
        unknown = set(data) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise TokenError(f"unknown tokenizer settings {sorted(unknown)}; made by a newer symbolic?")
        settings = cls(**data)
        if ((settings.common_tonic, settings.header_tokens, settings.duration_unit) != (COMMON_TONIC, HEADER_TOKENS, "quarter")
                or settings.normalise_to not in NORMALISATIONS):
            raise TokenError(f"tokenizer settings {data} are not ones this symbolic makes")
        return settings

    def to_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)


PLAIN = TokenizerSettings(bar_countdown=False)


def token_tonic(mode: str, settings: TokenizerSettings = PLAIN) -> str:
    """The tonic a tune in `mode` has in tokens made with `settings`."""
    return SIGNATURE_TONICS[mode] if settings.normalise_to == "signature" else COMMON_TONIC


def countdown_token(bars_left: int) -> str:
    return f"{COUNTDOWN}{min(bars_left, COUNTDOWN_CAP)}"


def is_control(token: str) -> bool:
    """A token derived from the others (the bar countdown): read by a model, never scored."""
    return token.startswith(COUNTDOWN)


def without_controls(tokens: Iterable[str]) -> list[str]:
    return [t for t in tokens if not t.startswith(COUNTDOWN)]


def normalize(tune: Tune, settings: TokenizerSettings = PLAIN) -> Tune:
    """The tune as its tokens keep it: tonic C (or `token_tonic`), melody only, no titles or chord
    symbols. Of the octaves that put the tonic there, the one whose mean pitch lands nearest
    `CENTRE_PITCH` is taken, so the same melody in any key or octave gives the same tokens."""
    tonic = Key(token_tonic(tune.key.mode, settings), tune.key.mode)
    shift = (tonic.tonic_pitch_class - tune.key.tonic_pitch_class) % 12
    pitches = [e.pitches[-1] for e in tune.body if type(e) is Note and e.pitches]
    if pitches:
        mean = sum(pitches) / len(pitches)
        shift = min((shift + 12 * k for k in range(-11, 11)), key=lambda s: (abs(mean + s - CENTRE_PITCH), s))
    elif shift > 6:
        shift -= 12
    steps = (LETTERS.index(tonic.tonic) - LETTERS.index(tune.key.tonic[0])) % 7
    moved = transpose(tune, shift, steps)
    body = []
    for element in moved.body:
        if type(element) is Note:
            pitches = element.pitches[-1:]
            if pitches != element.pitches or element.grace:
                element = dataclasses.replace(element, pitches=pitches, grace=())
        elif type(element) is KeyChange:
            element = KeyChange(element.onset, Key(element.key.tonic, element.key.mode))
        elif type(element) is not Bar and type(element) is not MeterChange:
            continue  # part labels are not kept
        body.append(element)
    return Tune(reference=tune.reference, meter=tune.meter, unit=tune.unit, key=tonic,
                rhythm=tune_type(tune.rhythm), body=tuple(body))


def _fraction_text(value: Fraction) -> str:
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


def tune_to_tokens(tune: Tune, settings: TokenizerSettings = PLAIN) -> list[str]:
    """The normalised tune's tokens, without <start>/<end>."""
    norm = normalize(tune, settings)
    tokens = header(norm.rhythm, norm.meter.text, norm.unit, norm.key.mode)
    countdown = iter(bars_left(norm) if settings.bar_countdown else ())
    bar_open = True  # a bar has begun that has had no note yet
    for element in norm.body:
        if type(element) is Note:
            if bar_open and settings.bar_countdown:
                tokens.append(countdown_token(next(countdown, 1)))
            bar_open = False
            tokens.append("rest" if element.is_rest else f"p:{element.pitches[-1]}")
            tokens.append(f"d:{_fraction_text(element.duration)}")
            if element.tie:
                tokens.append("tie")
        elif type(element) is Bar:
            tokens.append(f"bar:{element.kind}")
            if element.ending:
                tokens.append(ENDING + ",".join(str(n) for n in element.ending))
            bar_open = True
        elif type(element) is KeyChange:
            tokens.append(f"key:{element.key.tonic}:{element.key.mode}")
        elif type(element) is MeterChange:
            tokens.append(f"meter:{element.meter.text}")
    return tokens


def bars_left(tune: Tune) -> list[int]:
    """For each bar that holds a note, in order: the bars its part has still to go, this one
    included. A part ends at any bar line but `|`; a pickup (a short first bar of a part) gets
    the count of the full bar after it, so the countdown follows the part's full bars."""
    bars: list[tuple[Fraction, bool]] = []  # (length, ends a part) of each bar with notes
    length, has_notes = Fraction(0), False
    for element in tune.body:
        if type(element) is Note:
            length += element.duration
            has_notes = True
        elif type(element) is Bar:
            if has_notes:
                bars.append((length, element.kind != "|"))
            elif element.kind != "|" and bars:
                bars[-1] = (bars[-1][0], True)  # `|]` after `|`-less text, `:|` after an empty bar
            length, has_notes = Fraction(0), False
    if has_notes:
        bars.append((length, True))
    elif bars:
        bars[-1] = (bars[-1][0], True)  # the tune's end closes its last part, whatever its bar line
    full = tune.meter.bar_length
    counts: list[int] = []
    part: list[Fraction] = []
    for length, ends in bars:
        part.append(length)
        lone_pickup = not counts and len(part) == 1 and full is not None and length < full
        if ends and not lone_pickup:  # `A|:d2e...`: the pickup opens the first part
            pickup = full is not None and len(part) > 1 and part[0] < full
            left = len(part) - (1 if pickup else 0)
            counts += ([left] if pickup else []) + list(range(left, 0, -1))
            part = []
    return counts


def tokens_to_tune(tokens: Sequence[str], reference: int = 1, settings: TokenizerSettings = PLAIN) -> Tune:
    """Rebuild the normalised Tune (`settings`: how the tokens were made); raises TokenError for a
    sequence that is not a tune."""
    body_tokens = [t for t in tokens if t not in SPECIAL_TOKENS and not t.startswith(COUNTDOWN)]
    if len(body_tokens) < HEADER_TOKENS:
        raise TokenError("too few tokens for a tune header")
    header = dict(t.split(":", 1) for t in body_tokens[:HEADER_TOKENS] if ":" in t)
    if set(header) != {"type", "meter", "unit", "mode"}:
        raise TokenError(f"bad tune header tokens {body_tokens[:HEADER_TOKENS]}")
    try:
        meter = Meter(header["meter"])
        unit = Fraction(header["unit"])
        key = Key(token_tonic(header["mode"], settings), header["mode"])
        body = _body(body_tokens[HEADER_TOKENS:])
        return Tune(reference=reference, meter=meter, unit=unit, key=key, rhythm=header["type"], body=tuple(body))
    except (ValueError, ZeroDivisionError, KeyError) as error:
        raise TokenError(f"tokens do not make a tune: {error}") from None


def _body(tokens: Sequence[str]) -> list:  # type: ignore[type-arg]
    body: list = []  # type: ignore[type-arg]
    time = Fraction(0)
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token == "rest" or token.startswith("p:"):
            if i + 1 >= len(tokens) or not tokens[i + 1].startswith("d:"):
                raise TokenError(f"{token} at position {i} has no duration after it")
            duration = Fraction(tokens[i + 1][2:])
            pitches = () if token == "rest" else (int(token[2:]),)
            tie = i + 2 < len(tokens) and tokens[i + 2] == "tie"
            body.append(Note(time, duration, pitches, tie))
            time += duration
            i += 3 if tie else 2
            continue
        if token.startswith("bar:"):
            ending: tuple[int, ...] = ()
            if i + 1 < len(tokens) and tokens[i + 1].startswith(ENDING):
                ending = tuple(int(n) for n in tokens[i + 1][len(ENDING):].split(","))
                i += 1
            body.append(Bar(time, token[4:], ending))
        elif token.startswith("key:"):
            _, tonic, mode = token.split(":")
            body.append(KeyChange(time, Key(tonic, mode)))
        elif token.startswith("meter:"):
            body.append(MeterChange(time, Meter(token[6:])))
        else:
            raise TokenError(f"unexpected token {token!r} at position {i}")
        i += 1
    return body


def split_at_bar(tokens: Sequence[str], bar: int) -> tuple[list[str], list[str]]:
    """Split a tune's tokens after its `bar`-th bar line (0: the prompt is the header alone).
    The prompt keeps the header, so it conditions a model on type, meter and mode."""
    if bar < 0:
        raise TokenError("bar index must be >= 0")
    seen = 0
    cut = HEADER_TOKENS
    i = HEADER_TOKENS
    while seen < bar:
        if i >= len(tokens):
            raise TokenError(f"the tune has only {seen} bar lines, cannot split after bar {bar}")
        if tokens[i].startswith("bar:"):
            seen += 1
            cut = i + 1
            if cut < len(tokens) and tokens[cut].startswith(ENDING):
                cut += 1
        i += 1
    return list(tokens[:cut]), list(tokens[cut:])


@dataclass(frozen=True)
class Vocabulary:
    """Token <-> id. Ids: 0 <pad>, 1 <start>, 2 <end>, then the other tokens sorted."""

    tokens: tuple[str, ...]

    def __post_init__(self) -> None:
        if self.tokens[:3] != SPECIAL_TOKENS or list(self.tokens[3:]) != sorted(set(self.tokens[3:])):
            raise TokenError("a vocabulary starts with <pad>, <start>, <end>, then unique tokens in sorted order")
        if any(t in SPECIAL_TOKENS for t in self.tokens[3:]):
            raise TokenError("special tokens appear only once, first")
        object.__setattr__(self, "_ids", {t: i for i, t in enumerate(self.tokens)})

    @classmethod
    def build(cls, tokens: Iterable[str]) -> Vocabulary:
        return cls(SPECIAL_TOKENS + tuple(sorted(set(tokens) - set(SPECIAL_TOKENS))))

    def __len__(self) -> int:
        return len(self.tokens)

    def encode(self, tokens: Sequence[str], add_start_end: bool = True) -> list[int]:
        ids: dict[str, int] = self._ids  # type: ignore[attr-defined]
        unknown = [t for t in tokens if t not in ids]
        if unknown:
            raise TokenError(f"token {unknown[0]!r} is not in this vocabulary ({len(self)} tokens); "
                             "the tune uses something the corpus or model never saw")
        encoded = [ids[t] for t in tokens]
        return [START_ID, *encoded, END_ID] if add_start_end else encoded

    def decode(self, ids: Iterable[int]) -> list[str]:
        try:
            return [self.tokens[i] for i in ids]
        except IndexError:
            raise TokenError(f"id out of range for a vocabulary of {len(self)} tokens") from None

    def to_json(self) -> str:
        return json.dumps({"tokens": list(self.tokens)}, indent=0, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Vocabulary:
        return cls(tuple(json.loads(text)["tokens"]))

    @property
    def sha256(self) -> str:
        return hashlib.sha256("\n".join(self.tokens).encode("utf-8")).hexdigest()

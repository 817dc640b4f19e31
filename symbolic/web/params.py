"""Strict validation of what the page sends: every field typed, ranged and known, or a 4xx.

A body is a JSON object; unknown fields are refused rather than ignored (a typo such as
`temprature` should not silently fall back to the default). The limits are named here and sent to
the page by /api/options, so the form and the server agree on them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from symbolic.generation.sampler import DEFAULT_TOP_P, MAX_MODE_PRIOR
from symbolic.instruments import known_instruments
from symbolic.models.modelfile import ModelFile
from symbolic.tokens import header_values

# Named limits: bounded work per request (see the "Safe by default").
MAX_BODY_BYTES = 64 * 1024
MAX_TUNES_PER_JOB = 8
MAX_PRIME_CHARACTERS = 400
MAX_ABC_CHARACTERS = 20_000
MIN_TEMPERATURE, MAX_TEMPERATURE = 0.05, 5.0
MIN_TEMPO, MAX_TEMPO = 20, 400  # quarter notes a minute, the range Request accepts
MAX_SEED = 2**32 - 1
# No field takes more digits than a seed; Python refuses to convert integers of over 4,300 digits
# with a ValueError that is not a JSONDecodeError, which once made such a body a 500.
MAX_INTEGER_DIGITS = 20
DEFAULT_INSTRUMENT = "fiddle"
# A tonic as `transpose_to` reads it: letter and at most one accidental.
KEY_PATTERN = re.compile(r"[A-G][#b]?")
# Printable text, tabs and line ends (\r too: pasted Windows text); other control characters never
# belong in ABC.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class BadRequest(Exception):
    """A request the app refuses; `status` is the HTTP status, `extra` goes into the JSON answer."""

    def __init__(self, message: str, status: int = 400, **extra: Any) -> None:
        super().__init__(message)
        self.message, self.status, self.extra = message, status, extra


@dataclass(frozen=True)
class Choices:
    """What this model and this install can do; the page's drop-downs are filled from it."""

    tune_types: tuple[str, ...]
    meters: tuple[str, ...]
    modes: tuple[str, ...]
    instruments: tuple[str, ...]

    @classmethod
    def of(cls, model: ModelFile) -> Choices:
        def known(name: str) -> tuple[str, ...]:
            return tuple(sorted(header_values(model.vocab.tokens, name)))

        # M:none has no bars, so generation refuses it; keep it out of the form.
        meters = tuple(m for m in known("meter") if m != "none")
        return cls(known("type"), meters, known("mode"), tuple(known_instruments()))


@dataclass(frozen=True)
class GenerateParams:
    count: int = 1
    tune_type: str | None = None
    meter: str | None = None
    mode: str | None = None
    key: str | None = None
    prime: str | None = None
    temperature: float = 1.0
    top_p: float = DEFAULT_TOP_P
    seed: int | None = None
    instrument: str = DEFAULT_INSTRUMENT
    tempo: int | None = None
    mode_prior: float | None = None  # the model's default
    cadence: bool = True
    pickups: bool = True
    endings: bool = True


@dataclass(frozen=True)
class RenderParams:
    abc: str
    instrument: str = DEFAULT_INSTRUMENT
    tempo: int | None = None


def parse_generate(body: object, choices: Choices) -> GenerateParams:
    fields = _object(body, {"count", "tune_type", "meter", "mode", "key", "prime", "temperature", "top_p", "seed",
                            "instrument", "tempo", "mode_prior", "cadence", "pickups", "endings"})
    return GenerateParams(
        count=_int(fields, "count", 1, 1, MAX_TUNES_PER_JOB),
        tune_type=_choice(fields, "tune_type", choices.tune_types),
        meter=_choice(fields, "meter", choices.meters),
        mode=_choice(fields, "mode", choices.modes),
        key=_key(fields),
        prime=_text(fields, "prime", MAX_PRIME_CHARACTERS) or None,
        temperature=_number(fields, "temperature", 1.0, MIN_TEMPERATURE, MAX_TEMPERATURE),
        top_p=_top_p(fields),
        seed=_int(fields, "seed", None, 0, MAX_SEED),
        instrument=_choice(fields, "instrument", choices.instruments) or DEFAULT_INSTRUMENT,
        tempo=_int(fields, "tempo", None, MIN_TEMPO, MAX_TEMPO),
        mode_prior=_number(fields, "mode_prior", 0.0, 0.0, MAX_MODE_PRIOR) if "mode_prior" in fields else None,
        cadence=_bool(fields, "cadence", True),
        pickups=_bool(fields, "pickups", True),
        endings=_bool(fields, "endings", True),
    )


def parse_render(body: object, choices: Choices) -> RenderParams:
    fields = _object(body, {"abc", "instrument", "tempo"})
    abc = _text(fields, "abc", MAX_ABC_CHARACTERS)
    if not abc or not abc.strip():
        raise BadRequest("abc: the ABC text is empty")
    return RenderParams(abc=abc, instrument=_choice(fields, "instrument", choices.instruments) or DEFAULT_INSTRUMENT,
                        tempo=_int(fields, "tempo", None, MIN_TEMPO, MAX_TEMPO))


def limits() -> dict[str, Any]:
    return {"max_tunes": MAX_TUNES_PER_JOB, "max_prime_characters": MAX_PRIME_CHARACTERS,
            "max_abc_characters": MAX_ABC_CHARACTERS, "temperature": [MIN_TEMPERATURE, MAX_TEMPERATURE],
            "top_p": [0.0, 1.0], "tempo": [MIN_TEMPO, MAX_TEMPO], "seed": [0, MAX_SEED],
            "mode_prior": [0.0, MAX_MODE_PRIOR],
            "max_body_bytes": MAX_BODY_BYTES}


def decode_json(body: bytes) -> object:
    """The request body as JSON, or a BadRequest (400) for anything that is not small, valid JSON."""

    def integer(text: str) -> int:
        if len(text.lstrip("-")) > MAX_INTEGER_DIGITS:
            raise BadRequest(f"a number of {len(text.lstrip('-')):,} digits; no field takes more than "
                             f"{MAX_INTEGER_DIGITS}")
        return int(text)

    try:
        return json.loads(body.decode("utf-8"), parse_int=integer)
    except (UnicodeDecodeError, ValueError, RecursionError):  # JSONDecodeError is a ValueError
        raise BadRequest("the request body is not valid JSON") from None


# ---------------------------------------------------------------- field readers


def _object(body: object, allowed: set[str]) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object")
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise BadRequest(f"unknown field {unknown[0]!r}; known: {', '.join(sorted(allowed))}")
    # null and "" mean "not given", as an empty form field does.
    return {k: v for k, v in body.items() if v is not None and v != ""}


def _int(fields: dict[str, Any], name: str, default: int | None, low: int, high: int) -> int | None:
    if name not in fields:
        return default
    value = fields[name]
    # bool is an int in Python, but `true` is no count; floats such as 2.5 are refused, not rounded.
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRequest(f"{name}: expected a whole number, got {_show(value)}")
    if not low <= value <= high:
        raise BadRequest(f"{name}: {value} is outside {low}..{high}")
    return value


def _number(fields: dict[str, Any], name: str, default: float, low: float, high: float) -> float:
    if name not in fields:
        return default
    value = fields[name]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadRequest(f"{name}: expected a number, got {_show(value)}")
    if not low <= value <= high:  # also refuses NaN, which compares false
        raise BadRequest(f"{name}: {value} is outside {low:g}..{high:g}")
    return float(value)


def _bool(fields: dict[str, Any], name: str, default: bool) -> bool:
    value = fields.get(name, default)
    if not isinstance(value, bool):
        raise BadRequest(f"{name}: expected true or false, got {_show(value)}")
    return value


def _top_p(fields: dict[str, Any]) -> float:
    value = _number(fields, "top_p", DEFAULT_TOP_P, 0.0, 1.0)
    if value == 0.0:
        raise BadRequest("top_p: must be above 0 (it keeps the likeliest tokens holding that share)")
    return value


def _text(fields: dict[str, Any], name: str, limit: int) -> str | None:
    if name not in fields:
        return None
    value = fields[name]
    if not isinstance(value, str):
        raise BadRequest(f"{name}: expected text, got {_show(value)}")
    if len(value) > limit:
        raise BadRequest(f"{name}: {len(value)} characters is more than the limit of {limit}")
    if _CONTROL.search(value):
        raise BadRequest(f"{name}: contains a control character")
    return value


def _choice(fields: dict[str, Any], name: str, known: tuple[str, ...]) -> str | None:
    value = _text(fields, name, 64)
    if value is None:
        return None
    if value not in known:
        raise BadRequest(f"{name}: unknown value {value[:64]!r}; known: {', '.join(known)}")
    return value


def _key(fields: dict[str, Any]) -> str | None:
    value = _text(fields, "key", 8)
    if value is not None and not KEY_PATTERN.fullmatch(value):
        raise BadRequest(f"key: {value!r} is not a tonic such as D, Bb or F#")
    return value


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."

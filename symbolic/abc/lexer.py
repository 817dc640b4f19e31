"""The ABC body's tokens: the token regex, note lengths, bar lines, endings and comments.

Shared by the tune parser (`symbolic.abc.parser`); no state of its own but a bounded cache of
note lengths.
"""

from __future__ import annotations

import re
from fractions import Fraction
from functools import lru_cache

from symbolic.tune import MAX_ENDING

# Named limits against hostile input.
MAX_TUNE_LINES = 5_000
MAX_NOTES = 20_000
MAX_LENGTH_FACTOR = 512  # longest note, in units (a 512-unit note is already absurd)
LENGTH_CACHE_SIZE = 4_096  # distinct (unit, length text) pairs kept; real tunebooks use a few dozen

FIELD_LINE = re.compile(r"^([A-Za-z+]):(.*)$")
# Fields allowed in a tune body; other letters at a body line's start are music (A: could be a note).
BODY_FIELDS = frozenset("IKLMmNPQRrsTUVWw+")
DROPPED_HEADER_FIELDS = frozenset("IUVWwsm")
# A line of only `=` signs: a section divider some tunebooks (CRÉ) put between parts.
DIVIDER_LINE = re.compile(r"^[ \t]*=+[ \t]*$")

ALTER = {"^^": 2, "^": 1, "=": 0, "_": -1, "__": -2}
NOTE = r"(\^\^|\^|__|_|=)?([A-Ga-g])([,']*)(\d*/*\d*)"
# A note whose length follows an annotation put between them (`B"13"2`, a bar number written
# in the wrong place in CRÉ): group 4 is the misplaced string, group 5 the length.
_MISPLACED_NOTE = r"(\^\^|\^|__|_|=)?([A-Ga-g])([,']*)\"([^\"]*)\"(\d+/*\d*|/+\d*)"
# Every alternative is one outer named group, so `match.lastgroup` names the token kind.
TOKEN = re.compile(
    r"(?P<space>[ \t]+)"
    r"|(?P<misplaced>" + _MISPLACED_NOTE + r")"
    r"|(?P<note>" + NOTE + r")"
    r"|(?P<bar>(?::*(?:\[\|\]|\[\||\|+\]|\|\||\|):*|:{2,})(?:\[?(?P<bar_ending>\d+(?:[,-]\d+)*))?)"
    r"|(?P<ending>\[(?P<ending_numbers>\d+(?:[,-]\d+)*))"
    r"|(?P<field>\[(?P<field_letter>[A-Za-z]):(?P<field_value>[^\]]*)\])"
    r"|(?P<chord>\[(?P<chord_inner>[^\]\[|]*)\](?P<chord_len>\d*/*\d*))"
    r"|(?P<rest>[zx](?P<rest_len>\d*/*\d*))"
    r"|(?P<measure_rest>[ZX](?P<measures>\d*))"
    r"|(?P<tuplet>\((?P<tuplet_p>\d+)(?::(?P<tuplet_q>\d*))?(?::(?P<tuplet_r>\d*))?)"
    r"|(?P<tie>-)"
    r"|(?P<broken>>{1,3}|<{1,3})"
    r'|(?P<string>"(?P<string_text>[^"]*)")'
    r"|(?P<grace>\{(?P<grace_inner>[^}]*)\})"
    r"|(?P<decoration>![^!]*!|\+[^+]*\+)"
    r"|(?P<ignored>[()~.H-Wh-wy`$*\\!;?#@&])"
)
INNER_NOTE = re.compile(r"[ \t]*(?:![^!]*!|\+[^+]*\+|[~.H-Wh-w]|\"[^\"]*\")*[ \t]*" + NOTE + r"(-?)")
BROKEN = {">": (Fraction(3, 2), Fraction(1, 2)), ">>": (Fraction(7, 4), Fraction(1, 4)),
          ">>>": (Fraction(15, 8), Fraction(1, 8))}
BROKEN.update({"<" * len(k): (b, a) for k, (a, b) in BROKEN.items()})


@lru_cache(maxsize=LENGTH_CACHE_SIZE)
def note_length(unit_denominator: int, text: str) -> Fraction:
    """A note length suffix (`2`, `/2`, `/`, `//`, `3/2`) in quarter notes, for the unit length
    1/unit_denominator. Few distinct ones occur and Fraction arithmetic is slow, so results are
    cached, in a bounded cache: the reader also reads text from the web."""
    unit4 = Fraction(4, unit_denominator)
    if not text:
        return unit4
    slash = text.find("/")
    if slash < 0:
        multiplier = Fraction(int(text))
    else:
        numerator = int(text[:slash]) if slash else 1
        rest = text[slash:]
        slashes = len(rest) - len(rest.lstrip("/"))
        digits = rest[slashes:]
        if digits and slashes == 1:
            denominator = int(digits)
        elif not digits:
            denominator = 2**slashes
        else:
            raise ValueError(f"unreadable note length {text!r}")
        multiplier = Fraction(numerator, denominator)
    if multiplier <= 0 or multiplier > MAX_LENGTH_FACTOR:
        raise ValueError(f"note length {text!r} out of range")
    return unit4 * multiplier


def strip_comment(line: str) -> str:
    """Drop a `%` comment; an escaped `\\%` is a literal percent sign."""
    index = line.find("%")
    if index < 0:
        return line
    while index > 0 and line[index - 1] == "\\":
        index = line.find("%", index + 1)
    return (line if index < 0 else line[:index]).replace("\\%", "%")


def bar_kind(text: str) -> str:
    left, right = text.startswith(":"), text.endswith(":")
    core = text.strip(":")
    if left and right:
        return "::"
    if left:
        return ":|"
    if right:
        return "|:"
    if core in ("|", "||", "|]", "[|"):
        return core
    if core == "[|]":
        return "|"
    return "|]" if core.endswith("]") else "||"


def endings(text: str) -> tuple[int, ...]:
    numbers: set[int] = set()
    for part in text.split(","):
        if "-" in part:
            low, high = (int(x) for x in part.split("-", 1))
            numbers.update(range(low, high + 1))
        else:
            numbers.add(int(part))
    if not numbers or min(numbers) < 1 or max(numbers) > MAX_ENDING:
        raise ValueError(f"ending numbers [{text}] out of 1..{MAX_ENDING}")
    return tuple(sorted(numbers))

"""One tune's header: the X: T: C: O: R: M: L: Q: K: V: fields, other fields kept as text.

A `+:` line continues the field before it (ABC 2.1); so does a line of free text after a text
field such as N: or B:, as when CRÉ's notes run on over lines of their own.
"""

from __future__ import annotations

import re
from fractions import Fraction

from symbolic.abc.fields import parse_key, parse_meter, parse_unit
from symbolic.abc.lexer import DROPPED_HEADER_FIELDS, FIELD_LINE, strip_comment
from symbolic.tune import Key, Meter

# Fields a `+:` line may continue; free text continues only the kept text fields (N: B: S: ...).
_CONTINUED = frozenset("TCOR")


class TuneHeader:
    """The header fields of one tune, filled line by line."""

    def __init__(self) -> None:
        self.reference = 0
        self.titles: list[str] = []
        self.composer = self.origin = self.rhythm = ""
        self.fields: list[tuple[str, str]] = []
        self.meter: Meter | None = None
        self.unit: Fraction | None = None
        self.tempo_text: str | None = None
        self.key = Key()
        self.voice: str | None = None  # the first V: named, the melody
        self.last_letter: str | None = None  # the field a continuation line continues

    def take(self, line: str) -> bool:
        """Take one header line; True when it was the K: that ends the header. Raises
        `ValueError` for a structured field that cannot be read."""
        match = FIELD_LINE.match(line)
        if not match or match.group(1) == "+":
            self.continue_field(strip_comment(match.group(2) if match else line).strip(), explicit=bool(match))
            return False
        letter, value = match.group(1), strip_comment(match.group(2)).strip()
        self.last_letter = letter
        if letter == "X":
            digits = re.match(r"\d+", value)
            self.reference = int(digits.group()) if digits else 0
        elif letter == "T":
            self.titles.append(value)
        elif letter == "C":
            self.composer = value if not self.composer else f"{self.composer}; {value}"
        elif letter == "O":
            self.origin = value
        elif letter == "R":
            self.rhythm = value
        elif letter == "M":
            self.meter = parse_meter(value)
        elif letter == "L":
            self.unit = parse_unit(value)
        elif letter == "Q":
            self.tempo_text = value
        elif letter == "K":
            self.key = parse_key(value)
            return True
        elif letter == "V":
            if self.voice is None and value:
                self.voice = value.split()[0]
        elif letter not in DROPPED_HEADER_FIELDS:
            self.fields.append((letter, value))
        else:
            self.last_letter = None
        return False

    def continue_field(self, text: str, explicit: bool) -> None:
        """Append a continuation line (`+:` when explicit, else free text) to the last field."""
        letter = self.last_letter
        if not text or letter is None:
            return
        if explicit and letter in _CONTINUED:
            if letter == "T" and self.titles:
                self.titles[-1] = f"{self.titles[-1]} {text}"
            elif letter == "C":
                self.composer = f"{self.composer} {text}"
            elif letter == "O":
                self.origin = f"{self.origin} {text}"
            elif letter == "R":
                self.rhythm = f"{self.rhythm} {text}"
        elif self.fields and self.fields[-1][0] == letter:
            self.fields[-1] = (letter, f"{self.fields[-1][1]} {text}")

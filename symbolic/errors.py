"""One exception family for everything a user's input can get wrong."""

from __future__ import annotations


class SymbolicError(Exception):
    """Base of every error `symbolic` raises on purpose; the CLI prints it as one line."""


class TuneValueError(SymbolicError, ValueError):
    """A value type (note, meter, key, tune) was built with an impossible value."""


class AbcSyntaxError(SymbolicError):
    """An ABC tune that cannot be read; names where and why."""

    def __init__(self, reason: str, source: str = "<string>", line: int = 0, column: int = 0) -> None:
        self.reason = reason
        self.source = source
        self.line = line
        self.column = column
        super().__init__(f"{source}:{line}:{column}: {reason}")


class MidiReadError(SymbolicError):
    """A MIDI file that cannot be read; names the file and why."""


class MidiWriteError(SymbolicError):
    """A Tune that cannot be written as MIDI."""

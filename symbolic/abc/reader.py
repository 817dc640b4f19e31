"""ABC 2.1 reader: tunebooks in, `Tune`s out; one bad tune never stops the rest.

The public entry points, gathered from the modules that do the work:
- `symbolic.abc.tunebook`: tunebooks split into tunes and read one at a time (`read_abc`,
  `read_abc_file`, `read_tune`, `iter_abc`, `iter_abc_file`, `TunebookResult`), with the repairs of
  real tunebooks' slips (double-encoded text, an X: glued to a music line);
- `symbolic.abc.header`: one tune's header fields;
- `symbolic.abc.parser`: one tune's body, notes, bars and chords, into a `Tune`;
- `symbolic.abc.lexer`: the body's tokens, note lengths and the named limits;
- `symbolic.abc.fields`: the K: M: L: Q: field parsers.
"""

from __future__ import annotations

from symbolic.abc.lexer import LENGTH_CACHE_SIZE, MAX_LENGTH_FACTOR, MAX_NOTES, MAX_TUNE_LINES, note_length
from symbolic.abc.tunebook import (
    TunebookResult,
    iter_abc,
    iter_abc_file,
    iter_abc_lines,
    read_abc,
    read_abc_file,
    read_text,
    read_tune,
    repair_mojibake,
)

__all__ = [
    "LENGTH_CACHE_SIZE", "MAX_LENGTH_FACTOR", "MAX_NOTES", "MAX_TUNE_LINES", "TunebookResult", "iter_abc",
    "iter_abc_file", "iter_abc_lines", "note_length", "read_abc", "read_abc_file", "read_text", "read_tune",
    "repair_mojibake",
]

"""ABC tunebooks: a text or file split into tunes, read one tune at a time.

A tunebook is read as a stream of lines: only the tune being read is held, so a tunebook of any
size reads in bounded memory (`iter_abc_file`). One bad tune never stops the rest: it is
yielded as an `AbcSyntaxError` naming the line and the reason, in file order with the tunes.

Repairs of real tunebooks' slips, made before a tune is read (CRÉ has all three):
- text encoded as UTF-8 and then read as Latin-1 (or cp1252), maybe several times over
  (`SeÃ¡n` for `Seán`), is decoded back;
- an `X:` field glued to the end of a music line (`...d4|]X:197`) starts a new tune there;
- `%%%` and other comment lines between tunes are skipped as comments.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from symbolic.abc.lexer import FIELD_LINE, MAX_TUNE_LINES
from symbolic.abc.parser import Line, TuneParser
from symbolic.errors import AbcSyntaxError
from symbolic.tune import Tune

# Every line break `str.splitlines` knows, so line numbers agree with it.
_LINE_BREAKS = "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"
_LINE = re.compile(f"([^{_LINE_BREAKS}]*)(\r\n|[{_LINE_BREAKS}])?")
_GLUED_X = re.compile(r"^(?!X:)(.*[|\]:])[ \t]*(X:[ \t]*\d+[ \t]*)$")
_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+")
_MOJIBAKE_ROUNDS = 8


@dataclass
class TunebookResult:
    """The tunes read from one source, and one error per tune that could not be read."""

    tunes: list[Tune] = field(default_factory=list)
    errors: list[AbcSyntaxError] = field(default_factory=list)


def read_abc_file(path: str | Path) -> TunebookResult:
    """Read every tune of an ABC file (UTF-8, falling back to Latin-1 as old tunebooks use)."""
    return _collect(iter_abc_file(path))


def read_abc(text: str, source: str = "<string>") -> TunebookResult:
    return _collect(iter_abc(text, source))


def read_tune(text: str, source: str = "<string>") -> Tune:
    """Read exactly one tune; raises `AbcSyntaxError` if it cannot be read or there is none."""
    first = next(iter_abc(text, source), None)
    if first is None:
        raise AbcSyntaxError("no tune found (no K: field)", source, 1, 1)
    if isinstance(first, AbcSyntaxError):
        raise first
    return first


def read_text(path: Path) -> str:
    """A tunebook's text: UTF-8, or Latin-1 as old tunebooks often are."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def iter_abc(text: str, source: str = "<string>") -> Iterator[Tune | AbcSyntaxError]:
    """Yield each tune of a tunebook, or the error that stopped it, in file order."""
    return iter_abc_lines(_split_lines(text), source)


def iter_abc_file(path: str | Path) -> Iterator[Tune | AbcSyntaxError]:
    """`iter_abc` on a file read line by line: UTF-8, a line that is not falling back to Latin-1."""
    path = Path(path)
    return iter_abc_lines(_file_lines(path), str(path))


def iter_abc_lines(lines: Iterable[str], source: str = "<string>") -> Iterator[Tune | AbcSyntaxError]:
    """The tunes of a tunebook given as lines (without line breaks), one tune held at a time."""
    preamble: list[Line] = []  # lines before the first X:, for the file header (or an X:-less tune)
    preamble_has_key = False
    file_header: list[Line] | None = None
    chunk: list[Line] | None = None
    seen_key = closed = False
    for number, text in _numbered(lines):
        if text.startswith("X:"):
            if chunk is not None:
                yield _parse(chunk, file_header or [], source)
            elif file_header is None:
                file_header, preamble = _file_header(preamble), []
            chunk, seen_key, closed = [(number, text)], False, False
        elif chunk is None:
            preamble_has_key = preamble_has_key or text.startswith("K:")
            if len(preamble) <= MAX_TUNE_LINES:
                preamble.append((number, text))
        elif not closed and len(chunk) <= MAX_TUNE_LINES:
            # A tune ends at the first blank line after K:; what follows up to the next X: is free text.
            chunk.append((number, text))
            if seen_key and not text.strip():
                closed = True
            seen_key = seen_key or text.startswith("K:")
    if chunk is not None:
        yield _parse(chunk, file_header or [], source)
    elif preamble_has_key:
        yield _parse(preamble, [], source)


def repair_mojibake(text: str) -> str:
    """Undo UTF-8 text decoded as Latin-1 or cp1252, however many times over (`SeÃÂ¡n` -> `Seán`).
    Runs of non-ASCII characters that do not decode as UTF-8 are left as they are."""
    if text.isascii():
        return text
    return _NON_ASCII_RUN.sub(lambda match: _undo_run(match.group()), text)


def _undo_run(run: str) -> str:
    for _ in range(_MOJIBAKE_ROUNDS):
        try:
            decoded = bytes(_byte_of(char) for char in run).decode("utf-8")
        except (UnicodeError, ValueError):
            break
        if decoded == run:
            break
        run = decoded
    return run


def _byte_of(char: str) -> int:
    """The byte a Latin-1 or cp1252 reading turned into `char` (ValueError when none did)."""
    code = ord(char)
    return code if code < 256 else char.encode("cp1252")[0]


def _collect(items: Iterable[Tune | AbcSyntaxError]) -> TunebookResult:
    result = TunebookResult()
    for item in items:
        (result.errors if isinstance(item, AbcSyntaxError) else result.tunes).append(item)
    return result


def _parse(lines: list[Line], file_header: list[Line], source: str) -> Tune | AbcSyntaxError:
    try:
        return TuneParser(lines, file_header, source).parse()
    except AbcSyntaxError as error:
        return error


def _split_lines(text: str) -> Iterator[str]:
    """`text.splitlines()`, lazily."""
    end = len(text)
    for match in _LINE.finditer(text):
        if match.start() == end:
            return
        yield match.group(1)


def _file_lines(path: Path) -> Iterator[str]:
    with path.open("rb") as handle:
        for raw in handle:
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                text = raw.decode("latin-1")
            yield from text.splitlines() or [""]


def _numbered(lines: Iterable[str]) -> Iterator[Line]:
    """(line number, repaired text): mojibake undone, a glued X: field split onto a line of its own
    (both halves keep the line's number)."""
    for number, text in enumerate(lines, start=1):
        text = repair_mojibake(text)
        glued = _GLUED_X.match(text) if "X:" in text else None
        if glued:
            yield number, glued.group(1)
            yield number, glued.group(2).strip()
        else:
            yield number, text


def _file_header(lines: list[Line]) -> list[Line]:
    """Field lines of the file's first block (before the first blank line and the first X:),
    which every tune inherits; later blocks before X: are free text."""
    header: list[Line] = []
    for number, line in lines:
        if not line.strip():
            if header:
                break
            continue
        if FIELD_LINE.match(line):
            header.append((number, line))
    return header

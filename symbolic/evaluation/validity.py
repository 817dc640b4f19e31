"""Is a tune valid: does it read back, does abc2midi take it without a warning, are its bars full?

abc2midi runs once on a tunebook of all the tunes (in checking mode, `-c`, so it writes no MIDI);
each warning or error names the line of the book it was found on, and the line ranges of the
tunes say whose it is. A message without a line number is counted against every tune, since we
cannot tell whose it is.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

from symbolic.abc.reader import read_tune
from symbolic.abc.writer import write_abc
from symbolic.errors import SymbolicError
from symbolic.tune import Bar, MeterChange, Note, Tune

ABC2MIDI_TIMEOUT = 120  # seconds; thousands of tunes take well under one
_LINE = re.compile(r"(?:warning|error)\s+in\s+line(?:-char)?\s+(\d+)", re.IGNORECASE)


def reads_back(tune: Tune) -> bool:
    """Written as ABC and read again by our reader, the tune is the same."""
    try:
        return read_tune(write_abc(tune)) == tune
    except SymbolicError:
        return False


def abc2midi_clean(tunes: Sequence[Tune]) -> list[bool] | None:
    """Per tune: abc2midi read it without a warning or error. None when abc2midi is not installed."""
    program = shutil.which("abc2midi")
    if program is None:
        return None
    texts = [write_abc(dataclasses.replace(t, reference=i + 1)) for i, t in enumerate(tunes)]
    starts: list[int] = []  # 1-based first line of each tune in the book
    line = 1
    for text in texts:
        starts.append(line)
        line += text.count("\n") + 1  # the tune and the blank line after it
    clean = [True] * len(tunes)
    with tempfile.TemporaryDirectory(prefix="symbolic-abc2midi-") as folder:
        book = Path(folder) / "book.abc"
        book.write_text("\n".join(texts), encoding="utf-8")
        result = subprocess.run([program, str(book), "-c"], capture_output=True, text=True, cwd=folder,
                                timeout=ABC2MIDI_TIMEOUT, check=False)
    for message in (result.stdout + result.stderr).splitlines():
        lowered = message.lower()
        if "warning" not in lowered and "error" not in lowered:
            continue
        found = _LINE.search(message)
        if found is None:
            clean = [False] * len(tunes)
            continue
        number = int(found.group(1))
        index = max((i for i, start in enumerate(starts) if start <= number), default=0)
        clean[index] = False
    return clean


def full_bars(tune: Tune) -> tuple[int, int]:
    """(bars as long as the meter in force says, bars) — every stretch between bar lines counts.
    A part's pickup and the short last bar that gives it back (`|:A|d2e ...|cAF D2:|`) make one
    bar when played, so together they count as one full bar; other short bars count against
    generated and real tunes alike. A `:|` directly followed by `|:` closes one bar, not two.
    First and second endings each give the pickup back (`|1 cAF D2 :|2 cAF D2 ||`)."""
    meter = tune.meter
    # (length, meter's, opens a part, closes one, leads into another ending)
    bars: list[tuple[Fraction, Fraction | None, bool, bool, bool]] = []
    length, bar_meter, opens = Fraction(0), meter, True
    for element in [*tune.body, Bar(tune.duration, "|]")]:
        if type(element) is MeterChange:
            meter = element.meter
        elif type(element) is Note:
            if not length:
                bar_meter = meter  # a bar is measured against the meter in force where it starts
            length += element.duration
        elif type(element) is Bar:
            if length:
                bars.append((length, bar_meter.bar_length, opens, element.kind != "|", bool(element.ending)))
                length, opens = Fraction(0), False
            if element.kind in ("|:", "::", "||", "|]", "[|") or element.ending:
                opens = opens or element.kind in ("|:", "::")
    full = total = 0
    pickup: Fraction | None = None
    for length, bar_length, opens_part, closes_part, another_ending in bars:
        if bar_length is None:
            total += 1
            continue
        if opens_part and length < bar_length and not closes_part:
            pickup = length  # waits for the bar that completes it
            continue
        total += 1
        if closes_part and pickup is not None and length + pickup == bar_length:
            full += 1
        else:
            total += pickup is not None and closes_part  # a pickup nothing gave back: a short bar
            full += length == bar_length
        pickup = None if closes_part and not another_ending else pickup
    return full, total + (pickup is not None)


def validity_figures(tunes: Sequence[Tune], check_abc2midi: bool = True) -> dict[str, object]:
    read = sum(reads_back(t) for t in tunes)
    full = total = 0
    for tune in tunes:
        f, t = full_bars(tune)
        full, total = full + f, total + t
    clean = abc2midi_clean(tunes) if check_abc2midi and tunes else None
    return {
        "tunes": len(tunes),
        "share_read_back": read / len(tunes) if tunes else 0.0,
        "share_abc2midi_clean": (sum(clean) / len(clean)) if clean else None,
        "share_full_bars": full / total if total else 0.0,
        "bars": total,
    }

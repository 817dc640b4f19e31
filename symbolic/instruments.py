"""The folk instrument map shared by the MIDI writer and the WAV renderer.

It lives in `symbolic/instruments.json`, inside the package (see soundfonts/README.md): each name a user may give,
with its General MIDI program (0-based) or, for percussion, its drum notes, and per-soundfont
(bank, preset) overrides.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path

from symbolic.errors import SymbolicError

MAP_FILE = resources.files("symbolic") / "instruments.json"


class UnknownInstrumentError(SymbolicError):
    """An instrument name that is not in the map; the message lists the known ones."""


@dataclass(frozen=True)
class Instrument:
    name: str
    program: int = 0
    is_drum: bool = False
    drum_notes: dict[str, int] = field(default_factory=dict, compare=False)


@cache
def _load() -> dict:  # type: ignore[type-arg]
    return json.loads(MAP_FILE.read_text(encoding="utf-8"))


def known_instruments() -> list[str]:
    return sorted(_load()["instruments"])


@cache
def _by_name() -> dict[str, Instrument]:
    found: dict[str, Instrument] = {}
    for name, entry in _load()["instruments"].items():
        instrument = Instrument(name, entry.get("program", 0), bool(entry.get("drum", False)),
                                dict(entry.get("notes", {})))
        for key in [name, *entry.get("aliases", [])]:
            found[_fold(key)] = instrument
    return found


def _fold(name: str) -> str:
    return " ".join(name.lower().replace("-", " ").replace("_", " ").split())


def instrument(name: str) -> Instrument:
    """The instrument for a user's name or alias (case, hyphens and spacing do not matter)."""
    found = _by_name().get(_fold(name))
    if found is None:
        raise UnknownInstrumentError(f"unknown instrument {name!r}; known: {', '.join(known_instruments())}")
    return found


def preset_for(choice: Instrument, soundfont: str | Path) -> tuple[int, int]:
    """(bank, preset) to select in `soundfont`: its override if the map has one, else GM
    (bank 128 preset 0 for drums, as General MIDI soundfonts lay them out)."""
    overrides = _load().get("soundfont_presets", {}).get(Path(soundfont).name, {})
    if choice.name in overrides:
        bank, preset = overrides[choice.name]
        return int(bank), int(preset)
    return (128, 0) if choice.is_drum else (0, choice.program)

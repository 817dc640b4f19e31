"""Where soundfonts are found, and which folk instruments each one can play.

Search order (the first that applies wins):
1. the `--soundfont` path a user gives;
2. `$SYMBOLIC_SOUNDFONT`;
3. system General MIDI soundfonts: Debian's fluid-soundfont-gm (FluidR3_GM), timgm6mb-soundfont,
   MuseScore's General soundfont, and the same files where other distributions put them;
4. the TimGM6mb.sf2 that the pretty_midi wheel ships, so a WAV can always be made.

A path given by the user (1 or 2) that is missing or not a soundfont is an error, never silently
replaced by another: the user asked for that sound.

Presets are read from the file's `phdr` chunk (a SoundFont 2 file is RIFF): seeking past the
sample data, so even the 141 MB FluidR3_GM is listed in a millisecond, without FluidSynth.
"""

from __future__ import annotations

import importlib.util
import os
import struct
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from symbolic.errors import SymbolicError
from symbolic.instruments import instrument, known_instruments, preset_for

ENV_VAR = "SYMBOLIC_SOUNDFONT"
SYSTEM_SOUNDFONTS: tuple[Path, ...] = (
    Path("/usr/share/sounds/sf2/FluidR3_GM.sf2"),  # Debian/Ubuntu fluid-soundfont-gm
    Path("/usr/share/soundfonts/FluidR3_GM.sf2"),  # Arch, Fedora
    Path("/usr/share/sounds/sf2/TimGM6mb.sf2"),  # Debian timgm6mb-soundfont
    Path("/usr/share/sounds/sf2/MuseScore_General.sf2"),  # Debian musescore-general-soundfont
    Path("/usr/share/sounds/sf3/MuseScore_General.sf3"),
    Path("/usr/share/mscore3/sound/MuseScore_General.sf3"),  # bundled with MuseScore 3
)
_PHDR_RECORD = 38  # bytes per preset header: name[20], preset, bank, bag index, library, genre, morphology
MAX_PRESETS = 65_536  # named limit: a phdr chunk claiming more is corrupt


class SoundfontError(SymbolicError):
    """A soundfont that is missing, unreadable or not a SoundFont 2/3 file, or none found at all."""


@dataclass(frozen=True)
class SoundfontInfo:
    """One soundfont the search found: where, why it was considered, and what it can play."""

    path: Path
    origin: str  # "--soundfont", "$SYMBOLIC_SOUNDFONT", "system" or "pretty_midi"
    presets: dict[tuple[int, int], str] = field(default_factory=dict, compare=False)
    error: str = ""

    def covers(self, name: str) -> bool:
        """Whether the preset this instrument would use (override or GM) exists in the file."""
        return preset_for(instrument(name), self.path) in self.presets

    @property
    def covered(self) -> list[str]:
        return [name for name in known_instruments() if self.covers(name)] if not self.error else []


def pretty_midi_soundfont() -> Path | None:
    """The TimGM6mb.sf2 inside the installed pretty_midi package (found without importing it)."""
    spec = importlib.util.find_spec("pretty_midi")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "TimGM6mb.sf2"
    return path if path.is_file() else None


def candidates(explicit: str | os.PathLike[str] | None = None) -> list[tuple[Path, str]]:
    """Every place searched, in order, with its origin; user-given paths whether or not they exist."""
    found: list[tuple[Path, str]] = []
    if explicit:
        found.append((Path(explicit).expanduser(), "--soundfont"))
    if os.environ.get(ENV_VAR):
        found.append((Path(os.environ[ENV_VAR]).expanduser(), f"${ENV_VAR}"))
    found += [(path, "system") for path in SYSTEM_SOUNDFONTS if path.is_file()]
    bundled = pretty_midi_soundfont()
    if bundled is not None:
        found.append((bundled, "pretty_midi"))
    return found


def find_soundfont(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The soundfont to render with, by the search order; raises SoundfontError."""
    found = candidates(explicit)
    if not found:
        raise SoundfontError(f"no soundfont found: give --soundfont, set ${ENV_VAR}, or "
                             "`apt-get install fluid-soundfont-gm`")
    path, origin = found[0]
    check_soundfont(path, origin)
    return path


def check_soundfont(path: Path, origin: str = "--soundfont") -> None:
    """Raise SoundfontError unless `path` is a readable SoundFont file."""
    if not path.is_file():
        raise SoundfontError(f"soundfont {path} (from {origin}) does not exist")
    read_presets(path)


def read_presets(path: str | os.PathLike[str]) -> dict[tuple[int, int], str]:
    """{(bank, preset): name} from the file's phdr chunk; raises SoundfontError."""
    return dict(_read_presets(Path(path).resolve(), os.stat(path).st_mtime_ns))


@cache
def _read_presets(path: Path, _mtime: int) -> tuple[tuple[tuple[int, int], str], ...]:
    try:
        with path.open("rb") as handle:
            data = _phdr_bytes(handle, path)
    except OSError as error:
        raise SoundfontError(f"cannot read soundfont {path}: {error.strerror or error}") from None
    presets: list[tuple[tuple[int, int], str]] = []
    # The last record is the terminal "EOP" record, not a preset.
    for start in range(0, len(data) - _PHDR_RECORD, _PHDR_RECORD):
        name, number, bank = struct.unpack_from("<20sHH", data, start)
        presets.append(((bank, number), name.split(b"\0")[0].decode("latin-1").strip()))
    if not presets:
        raise SoundfontError(f"soundfont {path} has no presets")
    return tuple(presets)


def _phdr_bytes(handle, path: Path) -> bytes:  # type: ignore[no-untyped-def]
    header = handle.read(12)
    if len(header) < 12 or header[:4] != b"RIFF" or header[8:12] != b"sfbk":
        raise SoundfontError(f"{path} is not a SoundFont file (no RIFF sfbk header)")
    end = _walk(handle, path, b"pdta", 8 + struct.unpack_from("<I", header, 4)[0])
    size = _walk(handle, path, b"phdr", end)
    if size % _PHDR_RECORD or size // _PHDR_RECORD > MAX_PRESETS:
        raise SoundfontError(f"soundfont {path}: corrupt preset table ({size} bytes)")
    data = handle.read(size)
    if len(data) < size:
        raise SoundfontError(f"soundfont {path} is truncated")
    return data


def _walk(handle, path: Path, wanted: bytes, end: int) -> int:  # type: ignore[no-untyped-def]
    """Seek chunk by chunk (skipping the sample data) to the `wanted` chunk or LIST, before `end`.
    Leaves the file at its content and returns where a LIST ends, or a chunk's size."""
    while handle.tell() + 8 <= end:
        head = handle.read(8)
        if len(head) < 8:
            break
        kind, size = head[:4], struct.unpack_from("<I", head, 4)[0]
        if kind == b"LIST":
            if handle.read(4) == wanted:
                return handle.tell() + size - 4
            handle.seek(size - 4 + (size & 1), os.SEEK_CUR)
        elif kind == wanted:
            return size
        else:
            handle.seek(size + (size & 1), os.SEEK_CUR)  # RIFF chunks are padded to even sizes
    raise SoundfontError(f"soundfont {path} has no {wanted.decode()} chunk")


def list_soundfonts(explicit: str | os.PathLike[str] | None = None) -> list[SoundfontInfo]:
    """Every soundfont the search finds, in search order, each with its presets or its error."""
    infos: list[SoundfontInfo] = []
    seen: set[Path] = set()
    for path, origin in candidates(explicit):
        if path.resolve() in seen:
            continue
        seen.add(path.resolve())
        try:
            check_soundfont(path, origin)
            infos.append(SoundfontInfo(path, origin, read_presets(path)))
        except SoundfontError as error:
            infos.append(SoundfontInfo(path, origin, error=str(error)))
    return infos

"""Atomic file writes: a crash never leaves a half file where a good one was.

The temporary file is created with mode 0666 through os.open, so the kernel applies the process
umask as a plain open() would; the umask is never read by flipping it (os.umask(0) changes it for
every thread of the process for a moment, and files other threads create meanwhile come out
world-writable). Replacing an existing file keeps its permission bits (a read-only 0444 output
stays 0444). An OSError names the target, never the temporary file.
"""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Callable
from pathlib import Path

_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)


def _create_temp(path: Path) -> str:
    """A new empty file beside `path`, created with the mode (umask applied) a plain open() gives."""
    for _ in range(100):
        temp = str(path.parent / f".{path.name}.{secrets.token_hex(4)}.part")
        try:
            os.close(os.open(temp, _CREATE, 0o666))
        except FileExistsError:
            continue
        return temp
    raise FileExistsError(f"no free temporary name beside {path}")


def write_atomically(path: str | Path, write: Callable[[str], None]) -> Path:
    """Call `write(temp_path)` to fill a temporary file beside `path`, then rename it into place.
    The temporary file is removed if `write` fails."""
    path = Path(path)
    temp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = _create_temp(path)
        write(temp)
        try:
            mode = stat.S_IMODE(os.stat(path).st_mode)
        except FileNotFoundError:
            mode = None
        if mode is not None:  # keep what the user set on the file being replaced
            os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException as error:
        if temp is not None and os.path.exists(temp):
            os.unlink(temp)
        if isinstance(error, OSError) and error.filename in (None, temp):
            # Name the file the user asked for: a full disk reports no file, a rename the temp one.
            raise OSError(error.errno, error.strerror or str(error), str(path)) from error
        raise
    return path


def write_text_atomically(path: str | Path, text: str) -> Path:
    return write_atomically(path, lambda temp: Path(temp).write_text(text, encoding="utf-8"))


def write_bytes_atomically(path: str | Path, data: bytes) -> Path:
    return write_atomically(path, lambda temp: Path(temp).write_bytes(data))

"""The app's output store: generated files kept in a private folder under random ids.

A request can only name an id, and an id is looked up in this dictionary: the path a file is
served from comes from the dictionary's entry, never from the request. Files are on disk so
that downloads stream from the file (a slow reader holds a 64 KiB chunk, not the whole WAV).
The store is bounded in bytes, and in bytes per owner (the client address): one client's big
files push out that client's own oldest files first, not everyone's.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import tempfile
import threading
import time
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

# 16 random bytes, URL-safe base64: 22 characters, unguessable, and easy to check before lookup.
ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{22}")


@dataclass(frozen=True)
class StoredFile:
    path: Path
    size: int
    content_type: str
    filename: str  # offered to the browser for downloads; never used as a path
    owner: str
    created: float

    @property
    def data(self) -> bytes:
        return self.path.read_bytes()


class OutputStore:
    def __init__(self, max_bytes: int, max_bytes_per_owner: int | None = None) -> None:
        if max_bytes <= 0 or (max_bytes_per_owner is not None and max_bytes_per_owner <= 0):
            raise ValueError("the output store needs a positive size")
        self.max_bytes = max_bytes
        self.max_bytes_per_owner = min(max_bytes, max_bytes_per_owner or max_bytes)
        self.folder = Path(tempfile.mkdtemp(prefix="symbolic-web-store-"))  # 0700: this user only
        # Removed by close() (the app's shutdown), or at exit for a store whose app never started.
        self._remove = weakref.finalize(self, shutil.rmtree, self.folder, ignore_errors=True)
        self._files: OrderedDict[str, StoredFile] = OrderedDict()
        self._bytes = 0
        self._owned: dict[str, int] = {}
        self._lock = threading.Lock()  # workers put while request handlers get

    def put(self, data: bytes, content_type: str, filename: str, owner: str = "") -> str:
        """Store `data`; returns its id."""
        self._check_size(len(data))
        file_id = secrets.token_urlsafe(16)
        path = self.folder / file_id
        path.write_bytes(data)
        return self._add(file_id, path, len(data), content_type, filename, owner)

    def put_file(self, source: Path, content_type: str, filename: str, owner: str = "") -> str:
        """Move the file at `source` into the store (no copy in memory); returns its id."""
        size = source.stat().st_size
        self._check_size(size)
        file_id = secrets.token_urlsafe(16)
        path = self.folder / file_id
        shutil.move(source, path)
        return self._add(file_id, path, size, content_type, filename, owner)

    def get(self, file_id: str) -> StoredFile | None:
        if not ID_PATTERN.fullmatch(file_id):
            return None
        with self._lock:
            return self._files.get(file_id)

    @property
    def size(self) -> int:
        with self._lock:
            return self._bytes

    def owned(self, owner: str) -> int:
        with self._lock:
            return self._owned.get(owner, 0)

    def close(self) -> None:
        with self._lock:
            self._files.clear()
            self._bytes = 0
            self._owned.clear()
        self._remove()

    def _check_size(self, size: int) -> None:
        if size > self.max_bytes_per_owner:
            raise ValueError(f"a {size}-byte file does not fit a {self.max_bytes_per_owner}-byte share of the store")

    def _add(self, file_id: str, path: Path, size: int, content_type: str, filename: str, owner: str) -> str:
        with self._lock:
            # The owner's own oldest files go first, then everyone's oldest if the store is full.
            while self._owned.get(owner, 0) + size > self.max_bytes_per_owner:
                self._evict(next(k for k, f in self._files.items() if f.owner == owner))
            while self._bytes + size > self.max_bytes:
                self._evict(next(iter(self._files)))
            self._files[file_id] = StoredFile(path, size, content_type, filename, owner, time.time())
            self._bytes += size
            self._owned[owner] = self._owned.get(owner, 0) + size
        return file_id

    def _evict(self, file_id: str) -> None:
        old = self._files.pop(file_id)
        self._bytes -= old.size
        left = self._owned[old.owner] - old.size
        if left:
            self._owned[old.owner] = left
        else:
            del self._owned[old.owner]
        # A download already streaming keeps its open file: unlinking frees the name, not the data.
        with contextlib.suppress(FileNotFoundError):
            os.unlink(old.path)

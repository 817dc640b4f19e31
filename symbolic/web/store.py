"""The app's output store: generated files kept in memory under random ids.

Files never live on disk between requests, so no request path can name a file on the file
system: a request can only name an id, and an id is looked up in this dictionary. The store
is bounded in bytes; the oldest files go first when it is full.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

# 16 random bytes, URL-safe base64: 22 characters, unguessable, and easy to check before lookup.
ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{22}")


@dataclass(frozen=True)
class StoredFile:
    data: bytes
    content_type: str
    filename: str  # offered to the browser for downloads; never used as a path
    created: float


class OutputStore:
    def __init__(self, max_bytes: int) -> None:
        if max_bytes <= 0:
            raise ValueError("the output store needs a positive size")
        self.max_bytes = max_bytes
        self._files: OrderedDict[str, StoredFile] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()  # workers put while request handlers get

    def put(self, data: bytes, content_type: str, filename: str) -> str:
        if len(data) > self.max_bytes:
            raise ValueError(f"a {len(data)}-byte file does not fit a {self.max_bytes}-byte store")
        file_id = secrets.token_urlsafe(16)
        with self._lock:
            while self._bytes + len(data) > self.max_bytes:
                _, old = self._files.popitem(last=False)
                self._bytes -= len(old.data)
            self._files[file_id] = StoredFile(data, content_type, filename, time.time())
            self._bytes += len(data)
        return file_id

    def get(self, file_id: str) -> StoredFile | None:
        if not ID_PATTERN.fullmatch(file_id):
            return None
        with self._lock:
            return self._files.get(file_id)

    @property
    def size(self) -> int:
        with self._lock:
            return self._bytes

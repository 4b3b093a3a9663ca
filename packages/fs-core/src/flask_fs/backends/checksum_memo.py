"""The SHA-256 of object versions this process has already looked up or computed.

An object store keeps a file's checksum in its metadata when the file is written in one request;
a file uploaded in parts (or by another tool) gets it afterwards, as tags or computed from the
content, which costs ``metadata()`` a second request, or a read of the whole file. An ETag names
one version of an object's content, so the checksum found for it once stays true for as long as
the store answers with that ETag: remembered here, ``metadata()`` of such a file is one HEAD from
the second call on.
"""

from __future__ import annotations

import threading
from collections import OrderedDict


class ChecksumMemo:
    """A bounded, thread-safe map of ``(name, version)`` to SHA-256, least recently used out."""

    def __init__(self, capacity: int = 4096) -> None:
        self.capacity = capacity
        self._digests: OrderedDict[tuple[str, str], str] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, name: str, version: str) -> str | None:
        """The checksum remembered for that version of ``name``, if any."""
        if not version:
            return None
        with self._lock:
            digest = self._digests.get((name, version))
            if digest is not None:
                self._digests.move_to_end((name, version))
            return digest

    def put(self, name: str, version: str, digest: str) -> None:
        """Remember ``digest`` for that version of ``name`` (a version without ETag is not)."""
        if not version:
            return
        with self._lock:
            self._digests[(name, version)] = digest
            self._digests.move_to_end((name, version))
            while len(self._digests) > self.capacity:
                self._digests.popitem(last=False)

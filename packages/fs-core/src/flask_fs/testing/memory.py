"""A backend that keeps files in this process's memory: the reference backend of the
conformance suite, and a quick backend for an application's own tests.

It implements the contract (:class:`~flask_fs.backends.BaseBackend`'s required methods) and
nothing more, so it also exercises every default of the base class. Files are shared by every
instance of the process, per storage name, and it is thread-safe: a create-only publish checks
and stores under one lock, so of racing creators exactly one wins. It is not registered: a test
suite declares it (see :doc:`backends`) or a package subclasses it.
"""

from __future__ import annotations

import hashlib
import io
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import IO, Any, ClassVar, cast

from flask_fs.backends import BaseBackend, Metadata
from flask_fs.errors import FileExists, FileNotFound
from flask_fs.serving import guess_mime
from flask_fs.streams import memory_writer


@dataclass(frozen=True)
class StoredFile:
    """One file of a :class:`MemoryBackend`."""

    content: bytes
    checksum: str  #: ``sha256:...``
    modified: datetime


class MemoryBackend(BaseBackend):
    """Files kept in memory, shared by the process per storage name."""

    settings: ClassVar[dict[str, Any]] = {}

    #: Every storage's files, by storage name, then file name.
    _files: ClassVar[dict[str, dict[str, StoredFile]]] = {}
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, name: str, config: dict[str, Any]) -> None:
        super().__init__(name, config)
        with self._lock:
            self.files = self._files.setdefault(name, {})

    def _get(self, filename: str) -> StoredFile:
        with self._lock:
            stored = self.files.get(filename)
        if stored is None:
            raise FileNotFound.of(filename, self.name)
        return stored

    def exists(self, filename: str) -> bool:
        with self._lock:
            return filename in self.files

    def open_read(self, filename: str) -> IO[bytes]:
        return io.BytesIO(self._get(filename).content)

    def open_write(self, filename: str, overwrite: bool = False) -> IO[bytes]:
        self.refuse_existing(filename, overwrite)

        def commit(content: bytes) -> None:
            stored = StoredFile(
                content,
                "sha256:" + hashlib.sha256(content).hexdigest(),
                datetime.now(timezone.utc),
            )
            with self._lock:
                if not overwrite and filename in self.files:
                    raise FileExists.of(filename, self.name)
                self.files[filename] = stored

        return cast("IO[bytes]", memory_writer(commit, name=filename))

    def delete(self, filename: str) -> None:
        with self._lock:
            if self.files.pop(filename, None) is None:
                raise FileNotFound.of(filename, self.name)

    def list_files(self, prefix: str = "") -> Iterator[str]:
        with self._lock:
            names = sorted(name for name in self.files if name.startswith(prefix))
        yield from names

    def metadata(self, filename: str) -> Metadata:
        stored = self._get(filename)
        return Metadata(
            checksum=stored.checksum,
            size=len(stored.content),
            mime=guess_mime(filename),
            modified=stored.modified,
        )

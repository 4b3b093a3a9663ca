"""A flask-fs backend that keeps files in a process-wide dict: the smallest complete backend."""

from __future__ import annotations

import hashlib
import io
import threading
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import IO, Any, ClassVar

from flask_fs.backends import BaseBackend, Metadata
from flask_fs.errors import FileExists, FileNotFound
from flask_fs.serving import guess_mime
from flask_fs.streams import CommittingWriter

_FILES: dict[tuple[str, str], tuple[bytes, datetime]] = {}
_LOCK = threading.Lock()


class DictBackend(BaseBackend):
    settings: ClassVar[dict[str, Any]] = {}

    def _key(self, filename: str) -> tuple[str, str]:
        return (self.name, filename)

    def exists(self, filename: str) -> bool:
        return self._key(filename) in _FILES

    def open_read(self, filename: str) -> IO[bytes]:
        try:
            return io.BytesIO(_FILES[self._key(filename)][0])
        except KeyError:
            raise FileNotFound(filename) from None

    def open_write(self, filename: str, overwrite: bool = False) -> IO[bytes]:
        buffer = io.BytesIO()
        content = buffer.getvalue

        def commit() -> None:
            with _LOCK:
                if not overwrite and self._key(filename) in _FILES:
                    raise FileExists(filename)
                _FILES[self._key(filename)] = (content(), datetime.now(timezone.utc))

        raw = _KeepOpen(buffer)
        return CommittingWriter(raw, commit, lambda: None, filename)  # type: ignore[return-value]

    def delete(self, filename: str) -> None:
        with _LOCK:
            if _FILES.pop(self._key(filename), None) is None:
                raise FileNotFound(filename)

    def list_files(self, prefix: str = "") -> Iterator[str]:
        names = sorted(name for storage, name in list(_FILES) if storage == self.name)
        yield from (name for name in names if name.startswith(prefix))

    def metadata(self, filename: str) -> Metadata:
        try:
            content, modified = _FILES[self._key(filename)]
        except KeyError:
            raise FileNotFound(filename) from None
        return Metadata(
            checksum="sha256:" + hashlib.sha256(content).hexdigest(),
            size=len(content),
            mime=guess_mime(filename),
            modified=modified,
        )


class _KeepOpen(io.RawIOBase):
    """A BytesIO whose content stays readable after the writer closes it."""

    def __init__(self, buffer: io.BytesIO) -> None:
        super().__init__()
        self.buffer = buffer

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        return self.buffer.write(data)

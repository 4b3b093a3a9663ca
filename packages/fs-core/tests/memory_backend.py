"""A third-party-style backend kept in a dict: it implements only what BaseBackend requires.

The tests install it through a real ``fs.backend`` entry point (a ``.dist-info`` folder on
``sys.path``), so it exercises the registry and every default of the base class.
"""

from __future__ import annotations

import hashlib
import io
import threading
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import IO, ClassVar

from flask_fs.backends import BaseBackend, Metadata
from flask_fs.errors import FileExists, FileNotFound
from flask_fs.serving import guess_mime
from flask_fs.streams import CommittingWriter

_FILES: dict[str, dict[str, tuple[bytes, datetime]]] = {}
_LOCK = threading.Lock()


class MemoryBackend(BaseBackend):
    settings: ClassVar[dict[str, object]] = {"url": None}

    def __init__(self, name: str, config: dict[str, object]) -> None:
        super().__init__(name, config)
        self.files = _FILES.setdefault(name, {})

    def exists(self, filename: str) -> bool:
        return filename in self.files

    def open_read(self, filename: str) -> IO[bytes]:
        try:
            return io.BytesIO(self.files[filename][0])
        except KeyError:
            raise FileNotFound(filename) from None

    def open_write(self, filename: str, overwrite: bool = False) -> IO[bytes]:
        buffer = io.BytesIO()
        buffer.close = lambda: None  # type: ignore[method-assign]  # keep the bytes for commit

        def commit() -> None:
            with _LOCK:
                if not overwrite and filename in self.files:
                    raise FileExists(filename)
                self.files[filename] = (buffer.getvalue(), datetime.now(timezone.utc))

        return CommittingWriter(buffer, commit, lambda: None, name=filename)

    def delete(self, filename: str) -> None:
        with _LOCK:
            if self.files.pop(filename, None) is None:
                raise FileNotFound(filename)

    def list_files(self, prefix: str = "") -> Iterator[str]:
        for name in sorted(self.files):
            if name.startswith(prefix):
                yield name

    def metadata(self, filename: str) -> Metadata:
        try:
            content, modified = self.files[filename]
        except KeyError:
            raise FileNotFound(filename) from None
        return Metadata(
            checksum="md5:" + hashlib.md5(content, usedforsecurity=False).hexdigest(),
            size=len(content),
            mime=guess_mime(filename),
            modified=modified,
        )

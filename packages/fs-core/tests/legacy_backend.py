"""A backend written to the 0.4.0 manual's ``BaseBackend``, as an application of that time had it.

It implements ``exists``, ``open`` (a context manager, as the original backends' was), ``read``,
``write``, ``delete``, ``save``, ``serve`` and ``list_files()``, with 0.4.0's signatures, and
declares no settings. The tests install it through a real ``fs.backend`` entry point.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import abort, send_file
from werkzeug.wrappers import Response

from flask_fs.backends import BaseBackend

FILES: dict[str, dict[str, bytes]] = {}
#: The config each storage's backend received, by storage name.
CONFIGS: dict[str, dict[str, Any]] = {}


class LegacyBackend(BaseBackend):
    """Keeps files in a dict."""

    def __init__(self, name: str, config: Any) -> None:
        super().__init__(name, config)
        self.files = FILES.setdefault(name, {})
        CONFIGS[name] = dict(config)

    def exists(self, filename: str) -> bool:
        return filename in self.files

    @contextmanager
    def open(self, filename: str, mode: str = "r", encoding: str = "utf8") -> Iterator[Any]:  # type: ignore[override]
        if "r" in mode:
            content = self.files[filename]
            yield io.BytesIO(content) if "b" in mode else io.StringIO(content.decode(encoding))
        else:
            f: Any = io.BytesIO() if "b" in mode else io.StringIO()
            yield f
            value = f.getvalue()
            self.files[filename] = value if "b" in mode else value.encode(encoding)

    def read(self, filename: str) -> bytes:
        return self.files[filename]

    def write(self, filename: str, content: Any) -> None:  # type: ignore[override]
        self.files[filename] = self.as_binary(content)

    def delete(self, filename: str) -> None:
        del self.files[filename]

    def save(self, file_or_wfs: Any, filename: str, overwrite: bool = False) -> str:
        self.write(filename, file_or_wfs.read())
        return filename

    def list_files(self) -> Iterator[str]:  # type: ignore[override]
        yield from sorted(self.files)

    def serve(self, filename: str) -> Response:
        if filename not in self.files:
            abort(404)
        return send_file(io.BytesIO(self.files[filename]), download_name=filename)

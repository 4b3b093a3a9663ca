"""Backends written to the 0.4.0 manual's ``BaseBackend`` keep working.

Such a backend implements ``exists``, ``open``, ``read``, ``write``, ``delete``, ``save`` and
``serve`` (and maybe ``list_files()``, without a prefix), with the 0.4.0 signatures. When a
subclass of :class:`~flask_fs.backends.BaseBackend` implements neither ``open_read`` nor
``open_write`` but some of those, :func:`adapt_legacy_backend` derives the newer contract from
them and lets its methods take the arguments fs-core passes (``overwrite``, ``x`` modes...).

Reads and deletes of a missing file raise :class:`~flask_fs.errors.FileNotFound` (checked with
``exists`` first, as 0.4.0's ``Storage`` did). What cannot be derived faithfully:
``overwrite=False`` is checked with ``exists`` before the write (a 0.4.0 backend has no atomic
create), writes are buffered in a spooled temporary file until the stream is closed, and
``metadata`` reads the whole file (its ``modified`` is the time of the call).
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import io
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import datetime, timezone
from typing import IO, TYPE_CHECKING, Any, cast

from .errors import FileNotFound, OperationNotSupported
from .modes import check_mode, replaces
from .serving import guess_mime
from .streams import CHUNK_SIZE, CommittingWriter, copy_stream

if TYPE_CHECKING:
    from .backends import BaseBackend, Metadata

#: What a 0.4.0 backend may implement.
LEGACY_METHODS = ("open", "read", "write", "save", "delete", "list_files")
#: Writes are kept in memory up to this size, then in a temporary file.
SPOOL_SIZE = 8 * CHUNK_SIZE
#: Marks the methods this module installs.
DERIVED = "__fs_derived__"


def _base(cls: type) -> type:
    """The contract ``cls`` derives from (``BaseBackend``): the furthest ancestor declaring
    ``open_read``. Found without importing it, which would make an import cycle."""
    return next(base for base in reversed(cls.__mro__) if "open_read" in vars(base))


def _own(cls: type, method: str) -> Callable[..., Any] | None:
    """``cls``'s own implementation of ``method``: None when it is BaseBackend's or one this
    module derived (for a wrapped legacy method, the legacy method itself)."""
    found = getattr(cls, method, None)
    if found is getattr(_base(cls), method):
        return None
    if getattr(found, DERIVED, False):
        return getattr(found, "__wrapped__", None)
    return found


def _derived(function: Callable[..., Any]) -> Callable[..., Any]:
    setattr(function, DERIVED, True)
    return function


def is_legacy_backend(cls: type[BaseBackend]) -> bool:
    """Whether ``cls`` is written to the 0.4.0 contract: no ``open_read``/``open_write``, but
    some of ``open``, ``read``, ``write``, ``save``."""
    if _own(cls, "open_read") or _own(cls, "open_write"):
        return False
    return any(_own(cls, m) for m in ("open", "read", "write", "save"))


def _accepts(function: Callable[..., Any], parameter: str) -> bool:
    params = inspect.signature(function).parameters
    return parameter in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def _require_existing(backend: BaseBackend, filename: str) -> None:
    if not backend.exists(filename):
        raise FileNotFound.of(filename, backend.name)


class _Spool(tempfile.SpooledTemporaryFile):  # type: ignore[type-arg]
    """A spooled buffer that outlives the writer's ``close`` until it is published."""

    def close(self) -> None:
        pass

    def release(self) -> None:
        super().close()


class _EnteredStream(io.RawIOBase):
    """A stream from a legacy ``open`` that returned a context manager: closing exits it."""

    def __init__(self, manager: AbstractContextManager[Any]) -> None:
        super().__init__()
        self._manager = manager
        self._stream = manager.__enter__()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._stream.read(len(buffer))
        if isinstance(data, str):
            raise OperationNotSupported("the backend's open(..., 'rb') gave text")
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            try:
                self._manager.__exit__(None, None, None)
            finally:
                super().close()


def _as_stream(opened: Any) -> IO[bytes]:
    if hasattr(opened, "read"):
        return cast("IO[bytes]", opened)
    return cast("IO[bytes]", io.BufferedReader(_EnteredStream(opened), CHUNK_SIZE))


def adapt_legacy_backend(cls: type[BaseBackend]) -> None:
    """Give a 0.4.0-style backend class the newer contract, derived from what it implements."""
    legacy = {name: _own(cls, name) for name in LEGACY_METHODS}

    def open_read(self: BaseBackend, filename: str) -> IO[bytes]:
        _require_existing(self, filename)
        if legacy["open"]:
            return _as_stream(legacy["open"](self, filename, "rb"))
        if legacy["read"]:
            return io.BytesIO(legacy["read"](self, filename))
        raise OperationNotSupported(f"{cls.__name__} implements neither open nor read")

    def open_write(self: BaseBackend, filename: str, overwrite: bool = False) -> IO[bytes]:
        spool = _Spool(max_size=SPOOL_SIZE)

        def publish() -> None:
            try:
                if not overwrite:
                    self.refuse_existing(filename)
                spool.seek(0)
                _publish(self, filename, spool)
            finally:
                spool.release()

        return cast("IO[bytes]", CommittingWriter(spool, publish, spool.release, name=filename))

    def _publish(self: BaseBackend, filename: str, spool: IO[bytes]) -> None:
        if legacy["save"]:
            legacy["save"](self, spool, filename)
        elif legacy["write"]:
            legacy["write"](self, filename, spool.read())
        elif legacy["open"]:
            with legacy["open"](self, filename, "wb") as target:
                copy_stream(spool, target)
        else:
            raise OperationNotSupported(f"{cls.__name__} implements neither write nor save")

    def metadata(self: BaseBackend, filename: str) -> Metadata:
        digest, size = hashlib.sha256(), 0
        with self.open_read(filename) as f:
            while chunk := f.read(CHUNK_SIZE):
                digest.update(chunk)
                size += len(chunk)
        return {
            "checksum": "sha256:" + digest.hexdigest(),
            "size": size,
            "mime": guess_mime(filename),
            "modified": datetime.now(timezone.utc),
        }

    derived: dict[str, Callable[..., Any]] = {
        "open_read": open_read,
        "open_write": open_write,
        "list_files": _list_files(cls, legacy["list_files"]),
    }
    if _own(cls, "metadata") is None:
        derived["metadata"] = metadata
    wrappers = {"open": _open, "write": _write, "save": _save, "read": _read, "delete": _delete}
    for name, wrap in wrappers.items():
        original = legacy[name]
        if original is not None:
            derived[name] = wrap(original)
    for name, method in derived.items():
        setattr(cls, name, _derived(method))


def _list_files(
    cls: type, original: Callable[..., Iterator[str]] | None
) -> Callable[..., Iterator[str]]:
    def list_files(self: BaseBackend, prefix: str = "") -> Iterator[str]:
        if original is None:
            raise OperationNotSupported(f"{cls.__name__} cannot list its files")
        if _accepts(original, "prefix"):
            yield from original(self, prefix=prefix)
            return
        for name in original(self):
            if name.startswith(prefix):
                yield name

    return list_files


def _open(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def open(
        self: BaseBackend,
        filename: str,
        mode: str = "r",
        overwrite: bool | None = None,
        **kwargs: Any,
    ) -> Any:
        check_mode(mode)
        if mode.startswith("r"):
            _require_existing(self, filename)
            return original(self, filename, mode.replace("t", ""), **kwargs)
        if not replaces(mode, overwrite):
            self.refuse_existing(filename)
        return original(self, filename, "w" + mode[1:].replace("t", ""), **kwargs)

    return open


def _write(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def write(self: BaseBackend, filename: str, content: Any, overwrite: bool = True) -> Any:
        if not overwrite:
            self.refuse_existing(filename)
        return original(self, filename, content)

    return write


def _save(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def save(self: BaseBackend, file_or_wfs: Any, filename: str, overwrite: bool = False) -> str:
        if not overwrite:
            self.refuse_existing(filename)
        original(self, file_or_wfs, filename)
        return filename

    return save


def _read(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def read(self: BaseBackend, filename: str) -> bytes:
        _require_existing(self, filename)
        return cast(bytes, original(self, filename))

    return read


def _delete(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def delete(self: BaseBackend, filename: str) -> None:
        _require_existing(self, filename)
        original(self, filename)

    return delete

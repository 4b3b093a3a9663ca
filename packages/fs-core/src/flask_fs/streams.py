"""File objects that backends return from ``open``.

A write stream is *committed* when it is closed normally and *discarded* when the ``with`` block
that holds it raises (or when it is garbage-collected unclosed): a half-written file is never
published. Backends supply the two callbacks; this module holds the shared state machine.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import IO, Any, cast

from werkzeug.datastructures import FileStorage

CHUNK_SIZE = 1024 * 1024


class CommittingWriter(io.BufferedIOBase):
    """A write stream over ``raw``: ``commit`` is called on close, ``discard`` on error."""

    def __init__(
        self,
        raw: IO[bytes],
        commit: Callable[[], None],
        discard: Callable[[], None],
        name: str = "",
    ) -> None:
        super().__init__()
        self._raw = raw
        self._commit = commit
        self._discard = discard
        self.name = name
        self._done = False

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        if self.closed:
            raise ValueError("write to closed file")
        return self._raw.write(data)

    def flush(self) -> None:
        if not self._done:
            self._raw.flush()

    def tell(self) -> int:
        return self._raw.tell()

    def discard(self) -> None:
        """Abandon what was written: nothing is published."""
        if self._done:
            return
        self._done = True
        try:
            self._raw.close()
        finally:
            self._discard()
            super().close()

    def close(self) -> None:
        """Publish what was written."""
        if self._done:
            super().close()
            return
        self._done = True
        try:
            self._raw.close()
            self._commit()
        except BaseException:
            self._discard()
            raise
        finally:
            super().close()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is not None:
            self.discard()
        else:
            self.close()

    def __del__(self) -> None:
        # An unclosed writer that is collected was abandoned half-way: drop it.
        if not self._done:
            self.discard()


class _MemorySink(io.RawIOBase):
    """Where an in-memory writer's bytes go; they stay readable once it is closed."""

    def __init__(self) -> None:
        super().__init__()
        self.chunks: list[bytes] = []
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self.chunks.append(chunk)
        self.size += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self.size


def memory_writer(commit: Callable[[bytes], None], name: str = "") -> CommittingWriter:
    """A write stream kept in memory: closed normally, it gives ``commit`` the whole content;
    discarded, it gives nothing. For backends that publish a file in one call."""
    sink = _MemorySink()
    raw = cast("IO[bytes]", sink)
    return CommittingWriter(raw, lambda: commit(b"".join(sink.chunks)), lambda: None, name=name)


class TextWriter(io.TextIOWrapper):
    """Text mode over a :class:`CommittingWriter`: an exception in ``with`` discards the file."""

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is not None and isinstance(self.buffer, CommittingWriter):
            self.buffer.discard()
        super().__exit__(exc_type, exc, tb)


class BackgroundDigest:
    """A checksum computed on another thread while the data goes on its way.

    hashlib releases the GIL for large updates, so hashing one chunk overlaps sending the next.
    At most one chunk waits to be hashed: memory stays bounded. Chunks shorter than
    ``inline_below`` bytes are hashed at once on the caller's thread, where handing them over
    would cost more than hashing them; the thread is started by the first chunk it gets.
    """

    def __init__(self, algorithm: str = "sha256", inline_below: int = 0) -> None:
        self._digest = hashlib.new(algorithm)
        self._inline_below = inline_below
        self._executor: ThreadPoolExecutor | None = None
        self._pending: Future[None] | None = None

    def update(self, data: bytes) -> None:
        if self._pending is not None:
            self._pending.result()
            self._pending = None
        if len(data) < self._inline_below:
            self._digest.update(data)
            return
        if not isinstance(data, bytes):  # the caller may reuse its buffer meanwhile
            data = bytes(data)
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="flask-fs-digest")
        self._pending = self._executor.submit(self._digest.update, data)

    def hexdigest(self) -> str:
        """The digest of everything given to ``update`` (waits for the last chunk)."""
        self.close()
        return self._digest.hexdigest()

    def close(self) -> None:
        """Wait for the last chunk and stop the thread (for a digest that is abandoned too)."""
        if self._executor is not None:
            self._executor.shutdown(wait=True)
        if self._pending is not None:
            self._pending.result()
            self._pending = None


def upload_stream(file_or_wfs: FileStorage | IO[bytes]) -> IO[bytes]:
    """The binary stream of an upload: a werkzeug ``FileStorage``'s, or the file object itself."""
    if isinstance(file_or_wfs, FileStorage):
        return file_or_wfs.stream
    return file_or_wfs


def copy_stream(source: IO[bytes], target: IO[bytes], chunk_size: int = CHUNK_SIZE) -> int:
    """Copy ``source`` into ``target`` chunk by chunk; return the number of bytes copied."""
    total = 0
    read = getattr(source, "read1", source.read)
    while chunk := read(chunk_size):
        target.write(chunk)
        total += len(chunk)
    return total


def sha256_hex(stream: IO[bytes]) -> str:
    """The SHA-256 (hex) of what is left in ``stream``, read a chunk at a time."""
    digest = hashlib.sha256()
    while chunk := stream.read(CHUNK_SIZE):
        digest.update(chunk)
    return digest.hexdigest()

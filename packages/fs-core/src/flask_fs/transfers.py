"""Streams to and from object stores, shared by the S3 and Swift backends (and third parties').

- :class:`RangedReader`: a remote object as a seekable read stream (seeking = a ranged GET),
  bound to one version of the object (:class:`ReplacedWhileRead` when it changes).
- :class:`PipeUpload`: ``open(name, "wb")`` for clients that upload from a readable stream.
- :class:`HashingReader`: an upload source that computes the content's SHA-256 on the way.
- :func:`claim_name`: create-only writes of one name, one at a time in this process.
- :func:`read_ahead`: tell a small upload (one request) from a large one (a streamed upload).
"""

from __future__ import annotations

import collections
import contextlib
import io
import queue
import threading
from collections.abc import Callable, Hashable, Iterator
from typing import IO, Any, cast

from .errors import FileExists, FileNotFound
from .streams import CHUNK_SIZE, BackgroundDigest, CommittingWriter


class ReplacedWhileRead(FileNotFound):
    """The object was replaced or deleted while a stream of it was being read: the stream stops
    rather than go on with another version's bytes."""


#: A forward seek of at most this many bytes reads through the open body rather than
#: starting another GET.
SKIP_LIMIT = 256 * 1024


class RangedReader(io.RawIOBase):
    """A remote object as a seekable stream: seeking re-opens it with a ranged GET (a seek to
    where it is does nothing, one a short way forward reads through the open body).

    Object-store backends subclass it: :meth:`open_body` starts a GET at ``start`` and sets
    ``body`` (anything with ``read(n)`` and ``close()``) and, if unknown, ``size`` and ``etag``;
    :meth:`attach` hands it the body of a GET already made (serving's, maybe ranged). Reads go
    straight to the body (no extra buffer), so ``serve`` answers a Range request by reading
    only that range.

    ``etag`` is the version being read: given (from a HEAD or serving's GET) or set by the first
    GET, every later GET requires it (``If-Match``), and one that fails its precondition raises
    :meth:`replaced`: a stream never mixes two versions of an object.
    """

    def __init__(self, size: int | None = None, etag: str | None = None) -> None:
        super().__init__()
        self.size = size
        self.etag = etag
        self.position = 0
        self.body: Any = None
        #: Where ``body`` ends when it is a range of the object (``None``: at the end).
        self.body_end: int | None = None

    def replaced(self, filename: str, storage: str) -> ReplacedWhileRead:
        """The error of a GET whose ``If-Match`` failed: another version is there now."""
        return ReplacedWhileRead(f"{filename!r} in storage {storage!r} was replaced while read")

    def open_body(self, start: int) -> None:
        """Start reading the object at byte ``start``."""
        raise NotImplementedError

    def attach(self, body: Any, start: int, length: int) -> None:
        """Read from ``body``, the ``length`` bytes from ``start`` that a GET already opened
        (e.g. a ranged one): reads past them, and seeks elsewhere, open the object again."""
        self._close_body()
        self.body, self.position, self.body_end = body, start, start + length

    def read_body(self, size: int | None) -> bytes:
        """Read from ``body`` (override to translate the client's errors)."""
        return bytes(self.body.read(size))

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        if self.size is not None and self.position >= self.size:
            return b""
        if self.body_end is not None and self.position >= self.body_end:
            self._close_body()  # the end of an attached range: the rest is another GET
        if self.body is None:
            self.open_body(self.position)
        data = self.read_body(None if size is None or size < 0 else size)
        self.position += len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_CUR:
            offset += self.position
        elif whence == io.SEEK_END:
            if self.size is None:
                self.open_body(0)
            offset += self.size or 0
        if 0 < offset - self.position <= SKIP_LIMIT and self.body is not None:
            self._skip(offset - self.position)  # cheaper than another request
        if offset != self.position:
            self._close_body()
            self.position = max(offset, 0)
        return self.position

    def _skip(self, count: int) -> None:
        """Read ``count`` bytes of the open body and drop them (fewer at its end)."""
        end = self.position + count
        if self.body_end is not None:
            end = min(end, self.body_end)
        while self.position < end:
            data = self.read_body(min(end - self.position, CHUNK_SIZE))
            if not data:
                return
            self.position += len(data)

    def tell(self) -> int:
        return self.position

    def _close_body(self) -> None:
        if self.body is not None:
            self.body.close()
            self.body = None
        self.body_end = None

    def close(self) -> None:
        self._close_body()
        super().close()


class UploadAborted(Exception):
    """Raised, in the uploading thread, out of the stream of a discarded :class:`PipeUpload`."""


_END = object()


class _QueueReader(io.RawIOBase):
    """The reading end of an in-process pipe."""

    def __init__(self, chunks: queue.Queue[Any]) -> None:
        super().__init__()
        self.chunks = chunks
        self.pending = b""
        self.finished = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self.pending and not self.finished:
            item = self.chunks.get()
            if item is _END:
                self.finished = True
            elif isinstance(item, BaseException):
                raise item
            else:
                self.pending = item
        count = min(len(buffer), len(self.pending))
        buffer[:count] = self.pending[:count]
        self.pending = self.pending[count:]
        return count


class PipeUpload:
    """``open(name, "wb")`` for clients that upload *from* a readable stream (boto3's transfer
    manager, swiftclient's ``SwiftService``): the writes go through a bounded queue to
    ``upload(reader)``, which runs on its own thread meanwhile.

    On commit, ``finish(sha256_hex)`` runs once the upload succeeded; on discard, the reader
    raises :class:`UploadAborted` into the upload (which must then abort) and ``cleanup()`` runs.
    """

    def __init__(
        self,
        upload: Callable[[IO[bytes]], None],
        finish: Callable[[str], None],
        cleanup: Callable[[], None] | None = None,
        name: str = "",
        queue_size: int = 4,
    ) -> None:
        self.finish = finish
        self.cleanup = cleanup
        self.name = name
        self.chunks: queue.Queue[Any] = queue.Queue(maxsize=queue_size)
        self.digest = BackgroundDigest()
        self.error: BaseException | None = None
        reader = io.BufferedReader(_QueueReader(self.chunks), CHUNK_SIZE)
        self.thread = threading.Thread(target=self._run, args=(upload, reader), daemon=True)
        self.thread.start()

    def _run(self, upload: Callable[[IO[bytes]], None], reader: IO[bytes]) -> None:
        try:
            upload(reader)
        except BaseException as exc:  # handed to the writing thread
            self.error = exc
            with contextlib.suppress(queue.Empty):  # unblock a writer waiting on a full queue
                while True:
                    self.chunks.get_nowait()

    def _put(self, item: Any) -> None:
        while self.error is None:
            try:
                self.chunks.put(item, timeout=0.1)
                return
            except queue.Full:
                if not self.thread.is_alive():
                    break
        if self.error is not None and not isinstance(self.error, UploadAborted):
            raise self.error

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        if chunk:
            self.digest.update(chunk)
            self._put(chunk)
        return len(chunk)

    def writer(self) -> CommittingWriter:
        """The write stream to hand to the user."""
        return CommittingWriter(cast("IO[bytes]", self), self._commit, self._discard, self.name)

    # CommittingWriter's raw-stream protocol: nothing to flush or close before commit.
    def flush(self) -> None:
        """Chunks are queued as they are written."""

    def close(self) -> None:
        """The commit callback finishes the upload."""

    def tell(self) -> int:
        return 0

    def _commit(self) -> None:
        self._put(_END)
        self.thread.join()
        if self.error is not None:
            raise self.error
        self.finish(self.digest.hexdigest())

    def _discard(self) -> None:
        with contextlib.suppress(BaseException):
            self._put(UploadAborted("upload discarded"))
        self.thread.join()
        if self.cleanup is not None:
            self.cleanup()


class HashingReader(io.RawIOBase):
    """Passes an upload's source through, computing its SHA-256 while the client reads it.

    The hash is computed on another thread (:class:`~flask_fs.streams.BackgroundDigest`). It is
    only valid when the client read the whole source in order: after a seek backwards (a retry)
    :meth:`hexdigest` gives ``None``, and the backend computes the checksum later instead.
    """

    def __init__(self, stream: IO[bytes]) -> None:
        super().__init__()
        self.stream = stream
        self.digest: BackgroundDigest | None = BackgroundDigest()
        self.hashed = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return bool(getattr(self.stream, "seekable", lambda: False)())

    def read(self, size: int | None = -1) -> bytes:
        data = self.stream.read(-1 if size is None else size)
        position = self.stream.tell() - len(data) if self.seekable() else self.hashed
        if self.digest is not None:
            if position == self.hashed:
                self.digest.update(data)
                self.hashed += len(data)
            elif position + len(data) > self.hashed:
                self.digest = None  # read out of order: the checksum will be computed later
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self.stream.seek(offset, whence)

    def tell(self) -> int:
        return self.stream.tell()

    def hexdigest(self) -> str | None:
        """The SHA-256 of the whole source, or ``None`` if it was not read whole and in order."""
        at_end = not self.seekable() or self.hashed == self.stream.seek(0, io.SEEK_END)
        return self.digest.hexdigest() if self.digest is not None and at_end else None


_claims_lock = threading.Lock()
_claimed: set[Hashable] = set()


@contextlib.contextmanager
def claim_name(
    key: Hashable, filename: str, storage: str, overwrite: bool = False
) -> Iterator[None]:
    """Hold ``key`` (e.g. ``(endpoint, bucket, object key)``) for one create-only write of
    ``filename`` in ``storage``; an overwriting write (``overwrite=True``) claims nothing.

    Some servers check ``If-None-Match: *`` when an upload *starts* (Swift), or do not commit a
    conditional multipart upload atomically, so two racing creators can both succeed. Within one
    process this closes the race: while a create-only write of ``key`` runs, another one fails at
    once with :class:`~flask_fs.errors.FileExists`, as if the first had already won. Failing
    fast, rather than waiting, cannot deadlock a thread that opened both writers.
    """
    if overwrite:
        yield
        return
    with _claims_lock:
        if key in _claimed:
            raise FileExists.of(filename, storage)
        _claimed.add(key)
    try:
        yield
    finally:
        with _claims_lock:
            _claimed.discard(key)


class _Prefixed(io.RawIOBase):
    """``chunks``, then the rest of ``stream``; each chunk is let go once it has been read
    (a large one once at most :data:`~flask_fs.streams.CHUNK_SIZE` of it is left)."""

    def __init__(self, chunks: list[bytes], stream: IO[bytes]) -> None:
        super().__init__()
        self.chunks = collections.deque(memoryview(chunk) for chunk in chunks)
        self.stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if not self.chunks:
            readinto = getattr(self.stream, "readinto", None)
            if readinto is not None:  # straight into the reader's buffer: no copy held meanwhile
                return cast("int", readinto(buffer))
            data = self.stream.read(len(buffer))
            buffer[: len(data)] = data
            return len(data)
        chunk = self.chunks[0]
        count = min(len(buffer), len(chunk))
        buffer[:count] = chunk[:count]
        if count == len(chunk):
            self.chunks.popleft()
            return count
        rest = chunk[count:]
        if len(rest) <= CHUNK_SIZE < memoryview(rest.obj).nbytes:
            rest = memoryview(bytes(rest))  # little is left of a large read: let it go
        self.chunks[0] = rest
        return count


def read_ahead(stream: IO[bytes], limit: int) -> tuple[bytes, IO[bytes] | None]:
    """Read at most ``limit`` bytes of ``stream`` to learn whether that is all of it.

    Returns ``(content, None)`` for a stream of ``limit`` bytes or fewer, which a backend can
    send in one request, and otherwise ``(b"", stream)``: a stream of the whole content, what
    was read ahead included, for a streamed upload. Holds at most ``limit + 1`` bytes, and lets
    them go as the upload reads them.

    They are read at once, not a chunk at a time: a single large buffer goes back to the system
    when it is freed, where chunks freed on the upload's threads would stay in this thread's
    malloc heap (S3, 1 GB save: 75 MB peak RSS growth with 1 MiB chunks, 60 MB so).
    """
    chunks: list[bytes] = []
    size = 0
    while size <= limit:
        chunk = stream.read(limit + 1 - size)
        if not chunk:
            return b"".join(chunks), None
        chunks.append(chunk)
        size += len(chunk)
    return b"", cast("IO[bytes]", io.BufferedReader(_Prefixed(chunks, stream), CHUNK_SIZE))

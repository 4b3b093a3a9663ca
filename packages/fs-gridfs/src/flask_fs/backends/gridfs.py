"""The MongoDB GridFS backend (fs-gridfs), through pymongo's ``GridFSBucket``.

A storage is a GridFS bucket (``<bucket>.files`` and ``<bucket>.chunks``, readable by any GridFS
tool) plus one small collection, ``<bucket>.names``, that maps each name to its current file::

    {"_id": "avatars/42.png", "file": {<the GridFS files document>}}

That map is what makes names exact and writes safe:

- ``overwrite=False``: the new name is inserted with ``_id`` unique, so among racing writers the
  database lets exactly one win; the losers delete the file they uploaded (no orphan chunks).
- ``overwrite=True``: the new file is uploaded beside the old one, then the name is switched to
  it in one ``find_one_and_replace``; readers see the old content or the new, never a mix; the
  old file's chunks are deleted afterwards.
- Lookups, deletes and listings are by ``_id`` (ranges for prefixes, never regexes).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import threading
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta, timezone
from typing import IO, Any, ClassVar, cast

from bson import ObjectId
from gridfs import GridFSBucket
from gridfs.errors import NoFile
from pymongo import MongoClient
from pymongo.errors import ConfigurationError as MongoConfigurationError
from pymongo.errors import DuplicateKeyError, InvalidURI, PyMongoError
from werkzeug.datastructures import FileStorage

from flask_fs.backends import BaseBackend, Metadata
from flask_fs.errors import BackendError, ConfigurationError, FileExists, FileNotFound
from flask_fs.serving import guess_mime
from flask_fs.settings import STORAGE_NAME, Setting
from flask_fs.streams import CHUNK_SIZE, CommittingWriter, copy_stream

__version__ = "1.0.0"

#: pymongo options flask-fs sets unless the ``CLIENT_OPTIONS`` setting says otherwise.
CLIENT_DEFAULTS = {"serverSelectionTimeoutMS": 5000, "connectTimeoutMS": 5000}
#: Bytes of chunks an upload holds before inserting them, and a read asks for at once.
UPLOAD_BATCH = 8 * 1024 * 1024
READ_BATCH = 8 * 1024 * 1024

_clients: dict[tuple[str, tuple[tuple[str, Any], ...]], MongoClient[Any]] = {}
_clients_lock = threading.Lock()


def _shared_client(url: str, options: Mapping[str, Any]) -> MongoClient[Any]:
    """One client (and connection pool) per URL and options, shared by storages."""
    key = (url, tuple(sorted((k, repr(v)) for k, v in options.items())))
    with _clients_lock:
        if key not in _clients:
            _clients[key] = MongoClient(url, tz_aware=True, **options)
        return _clients[key]


class GridFsBackend(BaseBackend):
    """A Mongo GridFS backend.

    Expect the following settings:

    - ``mongo_url``: The Mongo access URL (default ``mongodb://localhost:27017``)
    - ``mongo_db``: The database to store the file in

    and optionally ``bucket`` (the GridFS bucket name, default: the storage name),
    ``chunk_size`` (bytes per chunk, default 255 KiB) and ``client_options`` (``MongoClient``
    options, e.g. ``{"serverSelectionTimeoutMS": 2000}``).
    """

    settings: ClassVar[dict[str, Setting]] = {
        "mongo_url": Setting(str, "mongodb://localhost:27017"),
        "mongo_db": Setting(str, required=True),
        "bucket": Setting(str, STORAGE_NAME),
        "chunk_size": Setting(int, 255 * 1024),
        "client_options": Setting(dict, {}),
    }

    def __init__(self, name: str, config: Mapping[str, Any]) -> None:
        super().__init__(name, config)
        config = self.config  # every setting present, of its declared type
        self.url: str = config["mongo_url"]
        self.bucket_name: str = config["bucket"]
        self.chunk_size: int = config["chunk_size"]
        options = {**CLIENT_DEFAULTS, **config["client_options"]}
        try:
            client = _shared_client(self.url, options)
        except (InvalidURI, MongoConfigurationError, TypeError, ValueError) as exc:
            raise ConfigurationError(f"storage {name!r}: bad MONGO_URL or options: {exc}") from exc
        self.db = client[config["mongo_db"]]
        self.bucket = GridFSBucket(self.db, self.bucket_name, chunk_size_bytes=self.chunk_size)
        self.root = self.db[self.bucket_name]
        self.names = self.db[f"{self.bucket_name}.names"]
        self._indexed = False

    def backend_error(self, exc: Exception) -> BackendError:
        """A flask-fs error naming the storage, the bucket and the cause."""
        cause = str(exc).splitlines()[0] if str(exc) else ""
        return BackendError(
            f"storage {self.name!r} (GridFS bucket {self.bucket_name!r} in database "
            f"{self.db.name!r}): {type(exc).__name__}: {cause}"
        )

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except PyMongoError as exc:
            raise self.backend_error(exc) from exc

    def _entry(self, filename: str) -> dict[str, Any]:
        with self._errors():
            entry = self.names.find_one({"_id": filename})
        if entry is None:
            raise FileNotFound(f"{filename!r} not found in storage {self.name!r}")
        return cast("dict[str, Any]", entry)

    # -- required operations -------------------------------------------------------------------

    def exists(self, filename: str) -> bool:
        with self._errors():
            return self.names.find_one({"_id": filename}, {"_id": 1}) is not None

    def open_read(self, filename: str) -> IO[bytes]:
        document = self._entry(filename)["file"]
        raw = _GridReader(self, filename, document)
        return cast("IO[bytes]", io.BufferedReader(raw, CHUNK_SIZE))

    def read(self, filename: str) -> bytes:
        for _attempt in range(3):  # the file may be replaced, and its chunks deleted, meanwhile
            with contextlib.suppress(_Replaced), self.open_read(filename) as f:
                return f.read()
        raise BackendError(f"{filename!r} in storage {self.name!r} kept changing while read")

    def open_write(self, filename: str, overwrite: bool = False) -> IO[bytes]:
        if not overwrite and self.exists(filename):  # early answer; the unique _id enforces it
            raise FileExists(f"{filename!r} already exists in storage {self.name!r}")
        self._ensure_indexes()
        upload = _Upload(self, filename)

        def commit() -> None:
            self._publish(filename, upload.finish(), overwrite)

        return cast(
            "IO[bytes]", CommittingWriter(cast("IO[bytes]", upload), commit, upload.abort, filename)
        )

    def _ensure_indexes(self) -> None:
        """The indexes of the GridFS spec, made once (pymongo's GridIn would make them too)."""
        if self._indexed:
            return
        with self._errors():
            self.root.files.create_index([("filename", 1), ("uploadDate", 1)])
            self.root.chunks.create_index([("files_id", 1), ("n", 1)], unique=True)
        self._indexed = True

    def _publish(self, filename: str, document: Mapping[str, Any], overwrite: bool) -> None:
        """Point ``filename`` at the uploaded file ``document``: the step that makes it visible."""
        entry = {"_id": filename, "file": dict(document)}
        with self._errors():
            if not overwrite:
                try:
                    self.names.insert_one(entry)
                except DuplicateKeyError:
                    self._delete_file(document["_id"])
                    raise FileExists(
                        f"{filename!r} already exists in storage {self.name!r}"
                    ) from None
                return
            previous = self.names.find_one_and_replace({"_id": filename}, entry, upsert=True)
            if previous is not None:
                self._delete_file(previous["file"]["_id"])

    def _delete_file(self, file_id: Any) -> None:
        with contextlib.suppress(NoFile), self._errors():
            self.bucket.delete(file_id)

    def save(
        self, file_or_wfs: IO[bytes] | FileStorage, filename: str, overwrite: bool = False
    ) -> str:
        stream = file_or_wfs.stream if isinstance(file_or_wfs, FileStorage) else file_or_wfs
        with self.open_write(filename, overwrite=overwrite) as f:
            copy_stream(stream, f, self.chunk_size * 4)
        return filename

    def delete(self, filename: str) -> None:
        with self._errors():
            entry = self.names.find_one_and_delete({"_id": filename})
        if entry is None:
            raise FileNotFound(f"{filename!r} not found in storage {self.name!r}")
        self._delete_file(entry["file"]["_id"])

    def sweep(self, older_than: float, remove: bool = True) -> Iterator[str]:
        """Delete GridFS files that no name points to (an upload that died between its last
        chunk and its publication) and chunks without a file (an upload that died sooner)."""
        cutoff = datetime.now(timezone.utc) - timedelta(seconds=older_than)
        with self._errors():
            published = {entry["file"]["_id"] for entry in self.names.find({}, {"file._id": 1})}
            files = set(self.root.files.distinct("_id"))
            old = self.root.files.find(
                {"uploadDate": {"$lte": cutoff}}, {"filename": 1, "length": 1}
            )
            for document in old:
                if document["_id"] in published:
                    continue
                if remove:
                    self._delete_file(document["_id"])
                yield (
                    f"unpublished file {document['_id']} ({document.get('filename')!r}, "
                    f"{document.get('length')} bytes)"
                )
            for file_id in self.root.chunks.distinct("files_id"):
                if file_id in files or not isinstance(file_id, ObjectId):
                    continue
                if file_id.generation_time > cutoff:
                    continue  # an upload may still be sending them
                if remove:
                    self.root.chunks.delete_many({"files_id": file_id})
                yield f"chunks of an unfinished upload {file_id}, started {file_id.generation_time}"

    def list_files(self, prefix: str = "") -> Iterator[str]:
        query: dict[str, Any] = {}
        if prefix:  # a range on the unique _id index: exact, fast, and no regex
            query = {"_id": {"$gte": prefix, "$lt": prefix[:-1] + chr(ord(prefix[-1]) + 1)}}
        with self._errors():
            for entry in self.names.find(query, {"_id": 1}).sort("_id", 1):
                yield entry["_id"]

    def metadata(self, filename: str) -> Metadata:
        document = self._entry(filename)["file"]
        meta = document.get("metadata") or {}
        checksum = meta.get("sha256") or self.content_sha256(filename)
        modified = document["uploadDate"]
        if modified.tzinfo is None:
            modified = modified.replace(tzinfo=timezone.utc)
        return Metadata(
            checksum=f"sha256:{checksum}",
            size=int(document["length"]),
            mime=meta.get("contentType") or guess_mime(filename),
            modified=modified,
        )


class _Replaced(FileNotFound):
    """The file was replaced or deleted while it was being read."""


class _GridReader(io.RawIOBase):
    """Reads a GridFS file chunk by chunk, seekably, with ``READ_BATCH`` bytes of chunks per
    round trip (pymongo's ``GridOut`` lets the server send 16 MB batches, which it then decodes).
    """

    def __init__(self, backend: GridFsBackend, filename: str, document: Mapping[str, Any]):
        super().__init__()
        self.backend = backend
        self.filename = filename
        self.file_id = document["_id"]
        self.length = int(document["length"])
        self.chunk_size = int(document["chunkSize"])
        self.position = 0
        self.cursor: Any = None
        self.next_chunk = 0
        self.current = b""
        self.current_start = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def _replaced(self) -> _Replaced:
        return _Replaced(
            f"{self.filename!r} in storage {self.backend.name!r} was replaced while read"
        )

    def _load_chunk(self) -> None:
        """Make ``current`` the chunk holding ``position``."""
        wanted = self.position // self.chunk_size
        if self.cursor is None or wanted != self.next_chunk:
            if self.cursor is not None:
                self.cursor.close()
            batch = max(1, READ_BATCH // self.chunk_size)
            query = {"files_id": self.file_id, "n": {"$gte": wanted}}
            self.cursor = (
                self.backend.root.chunks.find(query, {"data": 1, "n": 1})
                .sort("n", 1)
                .batch_size(batch)
            )
            self.next_chunk = wanted
        try:
            document = next(self.cursor, None)
        except PyMongoError as exc:
            raise self.backend.backend_error(exc) from exc
        if document is None or document["n"] != self.next_chunk:
            raise self._replaced()
        self.current = bytes(document["data"])
        self.current_start = self.next_chunk * self.chunk_size
        self.next_chunk += 1
        expected = min(self.chunk_size, self.length - self.current_start)
        if len(self.current) != expected:
            raise self._replaced()

    def readinto(self, buffer: Any) -> int:
        if self.position >= self.length:
            return 0
        offset = self.position - self.current_start
        if not 0 <= offset < len(self.current):
            self._load_chunk()
            offset = self.position - self.current_start
        count = min(len(buffer), len(self.current) - offset)
        buffer[:count] = memoryview(self.current)[offset : offset + count]
        self.position += count
        return count

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_CUR:
            offset += self.position
        elif whence == io.SEEK_END:
            offset += self.length
        self.position = max(0, offset)
        return self.position

    def tell(self) -> int:
        return self.position

    def close(self) -> None:
        if self.cursor is not None:
            self.cursor.close()
            self.cursor = None
        super().close()


class _Upload:
    """Writes a GridFS file: full chunks, inserted in batches of ``UPLOAD_BATCH`` bytes.

    pymongo's ``GridIn`` holds up to 32 MB of chunks in memory before it inserts them (plus
    their encoding); this keeps an upload to one batch, and computes the SHA-256 on the way.
    """

    def __init__(self, backend: GridFsBackend, filename: str) -> None:
        self.backend = backend
        self.filename = filename
        self.file_id = ObjectId()
        self.chunk_size = backend.chunk_size
        self.buffer = bytearray()
        self.batch: list[dict[str, Any]] = []
        self.batch_bytes = 0
        self.chunks = 0
        self.length = 0
        self.digest = hashlib.sha256()

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self.digest.update(chunk)
        self.length += len(chunk)
        self.buffer += chunk
        size = self.chunk_size
        while len(self.buffer) >= size:
            self._add_chunk(bytes(self.buffer[:size]))
            del self.buffer[:size]
        return len(chunk)

    def _add_chunk(self, data: bytes) -> None:
        self.batch.append({"files_id": self.file_id, "n": self.chunks, "data": data})
        self.chunks += 1
        self.batch_bytes += len(data)
        if self.batch_bytes >= UPLOAD_BATCH:
            self._insert_batch()

    def _insert_batch(self) -> None:
        if self.batch:
            with self.backend._errors():
                self.backend.root.chunks.insert_many(self.batch, ordered=True)
            self.batch = []
            self.batch_bytes = 0

    def finish(self) -> dict[str, Any]:
        """Insert the last chunk and the files document; return that document."""
        if self.buffer:
            self._add_chunk(bytes(self.buffer))
            self.buffer.clear()
        self._insert_batch()
        document = {
            "_id": self.file_id,
            "length": self.length,
            "chunkSize": self.chunk_size,
            "uploadDate": datetime.now(timezone.utc),
            "filename": self.filename,
            "metadata": {
                "contentType": guess_mime(self.filename),
                "sha256": self.digest.hexdigest(),
            },
        }
        with self.backend._errors():
            self.backend.root.files.insert_one(document)
        return document

    def abort(self) -> None:
        """Remove the chunks sent so far."""
        self.batch = []
        with contextlib.suppress(PyMongoError):
            self.backend.root.chunks.delete_many({"files_id": self.file_id})

    def flush(self) -> None:
        """Chunks are sent as batches fill; the rest goes at commit."""

    def tell(self) -> int:
        return self.length

    def close(self) -> None:
        """Closing is the commit callback's work (:meth:`finish`)."""

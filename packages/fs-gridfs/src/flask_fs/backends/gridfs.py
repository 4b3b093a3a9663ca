"""The MongoDB GridFS backend (fs-gridfs), on the standard GridFS format alone.

A storage is a GridFS bucket, ``<bucket>.files`` and ``<bucket>.chunks``, exactly as Flask-FS
0.4.0, mongofiles and pymongo's ``GridFS``/``GridFSBucket`` write it: a file is a files document
whose ``filename`` is its name. When a name has several revisions, the newest (``uploadDate``,
then ``_id``) is the file, as every GridFS tool reads it. Nothing else is needed to see a file,
so a database written by another tool or by 0.4.0 is used as it is.

How the guarantees hold on that format:

- A write uploads its chunks first and *publishes* by inserting its files document: readers see
  the old revision or the new one, never a mix. A replacement then deletes the older revisions.
- ``overwrite=False``: the files document of a create-only write carries
  ``metadata.exclusiveName``, under a unique sparse index, so among racing create-only writers the
  database lets exactly one publish; a writer that loses, or that finds an older revision of the
  name once published, withdraws its file (no orphan chunks) and raises ``FileExists``.
- Every chunk flask-fs writes carries ``uploadedBy: "flask-fs"``. Chunks with that mark and no
  files document are what an interrupted upload of flask-fs left: the only thing ``sweep`` removes.
- When the reply to a publishing insert is lost, the backend reads the files document back by its
  ``_id`` before it cleans up anything, and never deletes chunks that a files document refers to.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import itertools
import operator
import re
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timedelta, timezone
from importlib.metadata import version
from typing import IO, TYPE_CHECKING, Any, ClassVar, cast

from bson import ObjectId
from pymongo import MongoClient
from pymongo.collection import Collection
from pymongo.errors import ConfigurationError as MongoConfigurationError
from pymongo.errors import DuplicateKeyError, InvalidURI, PyMongoError
from werkzeug.datastructures import FileStorage

from flask_fs.backends import BaseBackend, FileInfo, Metadata
from flask_fs.backends.direct import STAGING_FOLDER
from flask_fs.errors import BackendError, ConfigurationError, FileExists, FileNotFound, FSError
from flask_fs.names import validate_name
from flask_fs.serving import guess_mime
from flask_fs.settings import STORAGE_NAME, Setting
from flask_fs.streams import CHUNK_SIZE, CommittingWriter, copy_stream, sha256_hex, upload_stream

if TYPE_CHECKING:
    from werkzeug.wrappers import Response

__version__ = version("fs-gridfs")

#: pymongo options flask-fs sets unless the ``CLIENT_OPTIONS`` setting says otherwise.
CLIENT_DEFAULTS = {"serverSelectionTimeoutMS": 5000, "connectTimeoutMS": 5000}
#: Bytes of chunks an upload holds before inserting them, and a read asks for at once.
UPLOAD_BATCH = 8 * 1024 * 1024
READ_BATCH = 8 * 1024 * 1024
#: The order of a name's revisions, newest first: what ``get_last_version`` reads.
NEWEST_FIRST = [("uploadDate", -1), ("_id", -1)]
#: The mark on every chunk flask-fs writes (what ``sweep`` may remove when no file owns it).
UPLOAD_MARK = ("uploadedBy", "flask-fs")
#: The field, unique among files documents, held by the file of a create-only write.
EXCLUSIVE_FIELD = "metadata.exclusiveName"
#: What :meth:`GridFsBackend.list_details` reads of each revision.
LISTED_FIELDS = {
    "_id": 0,
    "filename": 1,
    "length": 1,
    "uploadDate": 1,
    "contentType": 1,
    "metadata.contentType": 1,
    "metadata.sha256": 1,
}
#: The most revisions a listing sorts itself; a longer one is sorted by the server.
SORTED_HERE = 50_000
#: How many times the outcome of a publication whose reply was lost is read back.
READ_BACK_ATTEMPTS = 3

_clients: dict[tuple[str, tuple[tuple[str, Any], ...]], MongoClient[Any]] = {}
_clients_lock = threading.Lock()


def _shared_client(url: str, options: Mapping[str, Any]) -> MongoClient[Any]:
    """One client (and connection pool) per URL and options, shared by storages."""
    key = (url, tuple(sorted((k, repr(v)) for k, v in options.items())))
    with _clients_lock:
        if key not in _clients:
            _clients[key] = MongoClient(url, tz_aware=True, **options)
        return _clients[key]


def _revision_key(document: Mapping[str, Any]) -> tuple[datetime, str]:
    """Sort key of a revision: its upload date, then its ``_id`` (as GridFS tools order them)."""
    return (_upload_date(document), str(document["_id"]))


def _upload_date(document: Mapping[str, Any]) -> datetime:
    """A files document's ``uploadDate``, timezone-aware; its ``_id``'s time if it has none."""
    date = document.get("uploadDate")
    if not isinstance(date, datetime):
        file_id = document.get("_id")
        if isinstance(file_id, ObjectId):
            return file_id.generation_time
        return datetime.fromtimestamp(0, timezone.utc)
    return date if date.tzinfo else date.replace(tzinfo=timezone.utc)


def _content_type(document: Mapping[str, Any], filename: str) -> str:
    """The stored content type (``GridFS.put``'s top-level field or ``GridFSBucket``'s
    ``metadata.contentType``), else one guessed from the name."""
    metadata = document.get("metadata") or {}
    stored = document.get("contentType") or metadata.get("contentType")
    return stored if isinstance(stored, str) and stored else guess_mime(filename)


def _stored_sha256(document: Mapping[str, Any]) -> str | None:
    stored = (document.get("metadata") or {}).get("sha256")
    return stored if isinstance(stored, str) else None


def _names_under(prefix: str) -> dict[str, Any]:
    """A query on ``filename`` for every name starting with ``prefix``: an anchored regex of
    the escaped prefix, which MongoDB answers from the ``filename`` index as it does a range
    (a "prefix expression"), and which the MongoDB-wire test server answers faster."""
    if not prefix:
        return {"$type": "string"}
    return {"$regex": "^" + re.escape(prefix)}


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
        self.files: Collection[Any] = self.db[f"{self.bucket_name}.files"]
        self.chunks: Collection[Any] = self.db[f"{self.bucket_name}.chunks"]
        #: The files collection decoding dates as UTC without a zone, which listings then set:
        #: a listing of 10,000 files decodes in 70% of the time.
        self._listed_files = self.files.with_options(
            codec_options=self.files.codec_options.with_options(tz_aware=False, tzinfo=None)
        )
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

    def _not_found(self, filename: str) -> FileNotFound:
        return FileNotFound.of(filename, self.name)

    def _exists_error(self, filename: str) -> FileExists:
        return FileExists.of(filename, self.name)

    def _newest(self, filename: str) -> dict[str, Any]:
        """The files document of the file: the newest revision of ``filename``."""
        with self._errors():
            found = list(self.files.find({"filename": filename}).sort(NEWEST_FIRST).limit(1))
        if not found:
            raise self._not_found(filename)
        return cast("dict[str, Any]", found[0])

    def _revisions(self, filename: str) -> list[dict[str, Any]]:
        """``_id`` and ``uploadDate`` of every revision of ``filename``."""
        with self._errors():
            return list(self.files.find({"filename": filename}, {"_id": 1, "uploadDate": 1}))

    # -- required operations -------------------------------------------------------------------

    def exists(self, filename: str) -> bool:
        with self._errors():
            return self.files.find_one({"filename": filename}, {"_id": 1}) is not None

    def open_read(self, filename: str) -> IO[bytes]:
        return self._open_document(filename, self._newest(filename))

    def _open_document(self, filename: str, document: Mapping[str, Any]) -> IO[bytes]:
        raw = _GridReader(self, filename, document)
        return cast("IO[bytes]", io.BufferedReader(raw, CHUNK_SIZE))

    def read(self, filename: str) -> bytes:
        for _attempt in range(3):  # the file may be replaced, and its chunks deleted, meanwhile
            with contextlib.suppress(_Replaced), self.open_read(filename) as f:
                return f.read()
        raise BackendError(f"{filename!r} in storage {self.name!r} kept changing while read")

    def open_write(self, filename: str, overwrite: bool = False) -> IO[bytes]:
        self.refuse_existing(filename, overwrite)
        self._ensure_indexes()
        upload = _Upload(self, filename)

        def commit() -> None:
            self._publish(upload, overwrite)

        return cast(
            "IO[bytes]", CommittingWriter(cast("IO[bytes]", upload), commit, upload.abort, filename)
        )

    def _ensure_indexes(self) -> None:
        """The indexes of the GridFS spec, and the one that makes create-only writes exclusive."""
        if self._indexed:
            return
        with self._errors():
            self.files.create_index([("filename", 1), ("uploadDate", 1)])
            self.chunks.create_index([("files_id", 1), ("n", 1)], unique=True)
            self.files.create_index(
                [(EXCLUSIVE_FIELD, 1)], unique=True, sparse=True, name="flask_fs_exclusive_name"
            )
        self._indexed = True

    # -- publishing ----------------------------------------------------------------------------

    def _publish(self, upload: _Upload, overwrite: bool) -> None:
        """Insert the upload's files document: the step that makes the new content visible."""
        filename = upload.filename
        document = upload.finish(exclusive=not overwrite)
        for attempt in range(2):
            try:
                self._insert_files_document(upload, document)
                break
            except DuplicateKeyError:  # another create-only file holds the name
                if attempt or not self._free_exclusive_name(filename):
                    raise self._exists_error(filename) from None
        with contextlib.suppress(BackendError):  # published: what follows only tidies up
            self._settle(document, overwrite)

    def _settle(self, document: Mapping[str, Any], overwrite: bool) -> None:
        """After publishing: delete the revisions a replacement supersedes, or withdraw a
        create-only file if an older revision of its name turns up (written by another tool or
        by a replacing write meanwhile)."""
        filename = document["filename"]
        mine = _revision_key(document)
        older = [
            r["_id"]
            for r in self._revisions(filename)
            if r["_id"] != document["_id"] and _revision_key(r) < mine
        ]
        if overwrite:
            self._delete_revisions(older)
        elif older:
            self._delete_revisions([document["_id"]])
            raise self._exists_error(filename)

    def _insert_files_document(self, upload: _Upload, document: dict[str, Any]) -> None:
        """Insert ``document``; when the reply is lost, find out whether the server did."""
        try:
            self.files.insert_one(document)
        except DuplicateKeyError:
            if self._read_back(document["_id"]):  # a retried insert whose first one landed
                upload.published = True
                return
            raise
        except PyMongoError as exc:
            published = self._read_back(document["_id"])
            if published is None:
                upload.published = None  # unknown: keep the chunks; sweep decides later
                raise BackendError(
                    f"storage {self.name!r}: the outcome of writing {upload.filename!r} is "
                    f"unknown (the database did not answer: {type(exc).__name__}); read it back"
                ) from exc
            if not published:
                raise self.backend_error(exc) from exc
        upload.published = True

    def _read_back(self, file_id: Any) -> bool | None:
        """Whether the files document ``file_id`` exists; None when the server cannot tell."""
        for attempt in range(READ_BACK_ATTEMPTS):
            try:
                return self.files.find_one({"_id": file_id}, {"_id": 1}) is not None
            except PyMongoError:
                time.sleep(0.2 * (attempt + 1))
        return None

    def _free_exclusive_name(self, filename: str) -> bool:
        """Whether the create-only file holding ``filename`` was renamed since (by another tool),
        so that the name is free: then its claim is dropped."""
        with self._errors():
            holder = self.files.find_one({EXCLUSIVE_FIELD: filename}, {"filename": 1})
            if holder is None or holder.get("filename") == filename:
                return False
            self.files.update_one(
                {"_id": holder["_id"], "filename": {"$ne": filename}},
                {"$unset": {EXCLUSIVE_FIELD: ""}},
            )
        return True

    def _delete_revisions(self, file_ids: list[Any]) -> None:
        """Delete files documents, then their chunks (readers of them get ``_Replaced``)."""
        if not file_ids:
            return
        with self._errors():
            self.files.delete_many({"_id": {"$in": file_ids}})
            self.chunks.delete_many({"files_id": {"$in": file_ids}})

    # -- the other operations ------------------------------------------------------------------

    def save(
        self, file_or_wfs: IO[bytes] | FileStorage, filename: str, overwrite: bool = False
    ) -> str:
        with self.open_write(filename, overwrite=overwrite) as f:
            copy_stream(upload_stream(file_or_wfs), f, self.chunk_size * 4)
        return filename

    def delete(self, filename: str) -> None:
        """Delete every revision of ``filename``."""
        revisions = self._revisions(filename)
        if not revisions:
            raise self._not_found(filename)
        self._delete_revisions([r["_id"] for r in revisions])

    def list_files(self, prefix: str = "") -> Iterator[str]:
        """Every name once, sorted, read from the ``filename`` index; names that flask-fs could
        not address (absolute paths, ``..``: ``flask fs check`` reports them) are left out."""
        for name, _ in self._by_name(prefix, {"filename": 1, "_id": 0}):
            yield name

    def list_details(self, prefix: str = "") -> Iterator[FileInfo]:
        """The query of :meth:`list_files`, with each revision's length, date, type and stored
        SHA-256: the newest revision of each name is described, as :meth:`metadata` does.

        The query leaves out ``_id`` (a sixth of its time on the test server): the newest
        revision is the one with the latest ``uploadDate``, and only a name whose revisions
        tie on it (or lack it) asks the server which one :meth:`metadata` would read. The
        fields are read here rather than through ``_content_type`` and its kin: a tenth of
        a 10,000-file listing's time went to those calls."""
        for name, revisions in self._by_name(prefix, LISTED_FIELDS):
            document = revisions[0]
            date = document.get("uploadDate")
            if len(revisions) > 1 or type(date) is not datetime:
                newest = self._newest_listed(name, revisions)
                if newest is None:
                    continue  # deleted since it was listed
                document, date = newest, _upload_date(newest)
            elif date.tzinfo is None:  # as the listing's query decodes it
                date = date.replace(tzinfo=timezone.utc)
            metadata = document.get("metadata") or {}
            stored = metadata.get("sha256")
            mime = document.get("contentType") or metadata.get("contentType")
            yield FileInfo(
                name,
                int(document["length"]),
                date,
                f"sha256:{stored}" if type(stored) is str and stored else None,
                mime if type(mime) is str and mime else guess_mime(name),
            )

    def _newest_listed(self, name: str, revisions: list[dict[str, Any]]) -> dict[str, Any] | None:
        """The newest of a listed name's ``revisions`` (documents without ``_id``): the one
        with the latest date, else (a tie, a revision without a date) the server's answer."""
        dates = [revision.get("uploadDate") for revision in revisions]
        if all(type(date) is datetime for date in dates):
            latest = max(cast("list[datetime]", dates))
            if dates.count(latest) == 1:
                return revisions[dates.index(latest)]
        with self._errors():
            found = list(
                self.files.find({"filename": name}, {**LISTED_FIELDS, "_id": 1})
                .sort(NEWEST_FIRST)
                .limit(1)
            )
        return found[0] if found else None

    def _by_name(
        self, prefix: str, fields: Mapping[str, Any]
    ) -> Iterator[tuple[str, list[dict[str, Any]]]]:
        """``(name, revisions)`` of each usable name under ``prefix``, sorted: one query on the
        ``filename`` index, each revision's document holding ``fields``. Under
        ``STAGING_FOLDER`` (asked only by flask-fs's direct uploads) every name is usable.

        Up to :data:`SORTED_HERE` revisions are sorted here (a server without an index-backed
        sort, such as the MongoDB-wire test server, takes longer than the query to sort them);
        beyond that the query is sent again, sorted by the server, and streamed: memory stays
        bounded."""
        query = {"filename": _names_under(prefix)}
        usable = _staged if prefix.startswith(STAGING_FOLDER + "/") else _usable
        with self._errors():
            cursor = self._listed_files.find(query, dict(fields))
            first = list(itertools.islice(cursor, SORTED_HERE + 1))
            documents: Iterable[dict[str, Any]]
            if len(first) > SORTED_HERE:
                cursor.close()
                documents = self._listed_files.find(query, dict(fields)).sort("filename", 1)
            else:
                documents = sorted(first, key=operator.itemgetter("filename"))
            for name, group in itertools.groupby(documents, operator.itemgetter("filename")):
                if usable(name):
                    yield name, list(group)

    def metadata(self, filename: str) -> Metadata:
        document = self._newest(filename)
        checksum = _stored_sha256(document) or self._remember_sha256(filename, document)
        return Metadata(
            checksum=f"sha256:{checksum}",
            size=int(document["length"]),
            mime=_content_type(document, filename),
            modified=_upload_date(document),
        )

    def _remember_sha256(self, filename: str, document: Mapping[str, Any]) -> str:
        """Hash a file written without a SHA-256 (by another tool) once, and store it."""
        with self._open_document(filename, document) as f:
            checksum = sha256_hex(f)
        metadata = {**(document.get("metadata") or {}), "sha256": checksum}
        with contextlib.suppress(PyMongoError):  # a read-only user still gets the checksum
            self.files.update_one({"_id": document["_id"]}, {"$set": {"metadata": metadata}})
        return checksum

    def serve(self, filename: str) -> Response:
        """Headers and body from one files document: the same revision, whatever happens next.
        The ETag is the stored SHA-256, or the revision's ``_id``: serving never hashes."""
        from flask_fs.serving import send_stream

        document = self._newest(filename)
        return send_stream(
            self._open_document(filename, document),
            name=filename,
            size=int(document["length"]),
            mime=_content_type(document, filename),
            etag=_stored_sha256(document) or f"gridfs-{document['_id']}",
            modified=_upload_date(document),
        )

    # -- maintenance ---------------------------------------------------------------------------

    def sweep(self, older_than: float, remove: bool = True) -> Iterator[str]:
        """Delete the chunks of flask-fs uploads that were never published (their writer died
        before its files document was inserted), started more than ``older_than`` seconds ago.

        Only chunks marked by flask-fs and owned by no files document are touched: a file with a
        name, whoever wrote it, is never swept, nor the chunks another tool is uploading.
        """
        cutoff = datetime.now(timezone.utc) - timedelta(seconds=older_than)
        for file_id, ours in self._orphan_chunks(cutoff):
            if not ours:
                continue
            if remove:
                with self._errors():
                    self.chunks.delete_many({"files_id": file_id})
            yield (f"chunks of an unfinished upload {file_id}, started {file_id.generation_time}")

    def _orphan_chunks(self, cutoff: datetime) -> Iterator[tuple[ObjectId, bool]]:
        """``(files_id, written by flask-fs)`` of chunks without a files document whose
        ``files_id`` dates from before ``cutoff``, streamed from the chunks index in batches."""
        # ObjectIds count whole seconds: everything started during the cutoff's second counts.
        query = {"files_id": {"$lt": ObjectId.from_datetime(cutoff + timedelta(seconds=1))}}
        with self._errors():
            cursor = self.chunks.find(query, {"files_id": 1, "_id": 0}).sort("files_id", 1)
            for batch in _batches(_distinct_sorted(d["files_id"] for d in cursor), 500):
                found = {d["_id"] for d in self.files.find({"_id": {"$in": batch}}, {"_id": 1})}
                for file_id in batch:
                    if file_id not in found:
                        yield file_id, self._marked(file_id)

    def _marked(self, file_id: Any) -> bool:
        key, value = UPLOAD_MARK
        with self._errors():
            return self.chunks.find_one({"files_id": file_id, key: value}, {"_id": 1}) is not None

    def diagnose(self) -> Iterator[str]:
        """What the bucket holds: files, names with several revisions, names flask-fs cannot
        address, and chunks that no file owns (flask-fs's, which ``sweep`` removes, or not)."""
        names = revisions = 0
        several: list[str] = []
        unusable: list[str] = []
        with self._errors():
            cursor = self.files.find({}, {"filename": 1, "_id": 0}).sort("filename", 1)
            previous: Any = object()
            for document in cursor:
                name = document.get("filename")
                revisions += 1
                if name == previous:
                    if not several or several[-1] != name:
                        several.append(name)
                    continue
                previous = name
                names += 1
                if not _usable(name):
                    unusable.append(repr(name))
        yield f"{names} name(s), {revisions} GridFS file(s) in bucket {self.bucket_name!r}"
        if several:
            yield (
                f"{len(several)} name(s) with several revisions (the newest is the file): "
                + ", ".join(repr(n) for n in several[:10])
                + (" ..." if len(several) > 10 else "")
            )
        if unusable:
            yield (
                f"{len(unusable)} file name(s) that flask-fs cannot address: "
                + ", ".join(unusable[:10])
                + (" ..." if len(unusable) > 10 else "")
            )
        ours = others = 0
        for _file_id, marked in self._orphan_chunks(datetime.now(timezone.utc)):
            ours += marked
            others += not marked
        if ours:
            yield f"{ours} unfinished flask-fs upload(s) whose chunks sweep removes once old"
        if others:
            yield f"{others} set(s) of chunks without a file, not written by flask-fs (left alone)"


def _usable(name: object) -> bool:
    """Whether a stored ``filename`` is a name flask-fs can address."""
    try:
        validate_name(name)
    except FSError:
        return False
    return True


def _staged(name: object) -> bool:
    """Whether a stored ``filename`` is a direct upload's (under ``STAGING_FOLDER``)."""
    return isinstance(name, str) and name.startswith(STAGING_FOLDER + "/")


def _distinct_sorted(values: Iterable[Any]) -> Iterator[Any]:
    previous: Any = object()
    for value in values:
        if value != previous:
            yield value
        previous = value


def _batches(values: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for value in values:
        batch.append(value)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


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
                self.backend.chunks.find(query, {"data": 1, "n": 1}).sort("n", 1).batch_size(batch)
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
        #: Whether a files document refers to the chunks: False (no), True (yes), None (unknown:
        #: the reply was lost). Chunks are deleted on abort only when it is False.
        self.published: bool | None = False

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        count = len(view)
        self.digest.update(view)
        self.length += count
        size, start = self.chunk_size, 0
        if self.buffer:  # complete the chunk begun by an earlier write
            start = min(size - len(self.buffer), count)
            self.buffer += view[:start]
            if len(self.buffer) < size:
                return count
            self._add_chunk(bytes(self.buffer))
            self.buffer.clear()
        while count - start >= size:  # whole chunks: copied once, straight from the data
            self._add_chunk(bytes(view[start : start + size]))
            start += size
        self.buffer += view[start:]
        return count

    def _add_chunk(self, data: bytes) -> None:
        key, value = UPLOAD_MARK
        self.batch.append({"files_id": self.file_id, "n": self.chunks, "data": data, key: value})
        self.chunks += 1
        self.batch_bytes += len(data)
        if self.batch_bytes >= UPLOAD_BATCH:
            self._insert_batch()

    def _insert_batch(self) -> None:
        if self.batch:
            with self.backend._errors():
                self.backend.chunks.insert_many(self.batch, ordered=True)
            self.batch = []
            self.batch_bytes = 0

    def finish(self, exclusive: bool) -> dict[str, Any]:
        """Insert the last chunks; return the files document that will publish them."""
        if self.buffer:
            self._add_chunk(bytes(self.buffer))
            self.buffer.clear()
        self._insert_batch()
        content_type = guess_mime(self.filename)
        metadata: dict[str, Any] = {"contentType": content_type, "sha256": self.digest.hexdigest()}
        if exclusive:
            metadata[EXCLUSIVE_FIELD.partition(".")[2]] = self.filename
        return {
            "_id": self.file_id,
            "length": self.length,
            "chunkSize": self.chunk_size,
            # BSON dates hold milliseconds: truncated here, the document compares as stored.
            "uploadDate": _milliseconds(datetime.now(timezone.utc)),
            "filename": self.filename,
            "contentType": content_type,  # read by GridFS.get_last_version() and older tools
            "metadata": metadata,
        }

    def abort(self) -> None:
        """Remove the chunks sent so far, unless a files document may refer to them."""
        self.batch = []
        if self.published is False:
            with contextlib.suppress(PyMongoError):
                self.backend.chunks.delete_many({"files_id": self.file_id})

    def flush(self) -> None:
        """Chunks are sent as batches fill; the rest goes at commit."""

    def tell(self) -> int:
        return self.length

    def close(self) -> None:
        """Closing is the commit callback's work (:meth:`finish`)."""


def _milliseconds(moment: datetime) -> datetime:
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)

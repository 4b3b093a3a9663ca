"""The OpenStack Swift backend (fs-swift), through python-swiftclient.

- One ``Connection`` per thread (they are not thread-safe); streamed uploads go through
  ``SwiftService``, which turns anything larger than ``segment_size`` into a Static Large
  Object (segments in ``<container>_segments``), one segment in memory at a time.
- ``overwrite=False`` sends ``If-None-Match: *``. Swift checks it when a PUT starts, before the
  data arrives: a sequential create is refused, but racing creators can all succeed. Within a
  process, create-only writes of one name therefore run one at a time
  (:func:`~flask_fs.transfers.claim_name`); across processes the last writer wins, whole.
- A SHA-256 of the content is stored as ``X-Object-Meta-Sha256`` (an SLO's ETag is not a
  checksum of the content).
- Read streams can seek (a ranged GET), which is how ``serve`` answers Range requests.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import re
import threading
import time
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import IO, Any, ClassVar, cast
from urllib.parse import quote, urlsplit

from flask import redirect
from swiftclient.client import ClientException, Connection
from swiftclient.service import SwiftError, SwiftService, SwiftUploadObject
from swiftclient.utils import generate_temp_url
from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Response

from flask_fs.backends import BaseBackend, Metadata
from flask_fs.errors import BackendError, FileExists, FileNotFound
from flask_fs.serving import guess_mime, send_stream
from flask_fs.settings import STORAGE_NAME, Setting
from flask_fs.streams import CHUNK_SIZE, sha256_hex
from flask_fs.transfers import (
    HashingReader,
    PipeUpload,
    RangedReader,
    UploadAborted,
    claim_name,
    read_ahead,
)

__version__ = "1.0.0"

MiB = 1024 * 1024
CHECKSUM_HEADER = "x-object-meta-sha256"
#: The ETag of the version a checksum computed after the fact belongs to.
CHECKSUM_ETAG_HEADER = "x-object-meta-sha256-etag"
LISTING_PAGE = 10_000
#: Whole reads of an object replaced meanwhile are tried this many times.
READ_ATTEMPTS = 3
#: How swiftclient names a segment: ``<object>/slo/<mtime>[/<size>]/<segment size>/<index>``
#: (the size is missing when a stream is uploaded).
_SEGMENT = re.compile(r"^(?P<object>.+)/slo/[^/]+(?:/\d+){2,3}$")


#: What a status means to a user. A proxy whose object servers answer 507 (device full) has
#: nowhere to put the data and answers 503 itself.
_REASONS = {
    401: "authentication failed",
    503: "the service is unavailable (overloaded, or its devices are full)",
    507: "the server is out of space",
}


class SwiftBackend(BaseBackend):
    """An OpenStack Swift backend.

    Expect the following settings:

    - ``authurl``: The Swift Auth URL
    - ``user``: The Swift user in
    - ``key``: The user API Key

    and optionally ``auth_version`` (``"1"``, ``"2.0"`` or ``"3"``), ``os_options`` (tenant or
    project, domains, region...: what v3 providers need), ``container`` (default: the storage
    name), ``create_container``, ``segment_size``, ``tempurl_key`` and ``tempurl_expiry``
    (``url()`` then gives temporary URLs), ``serve_redirect``, ``retries`` and ``timeout``.
    """

    settings: ClassVar[dict[str, Setting]] = {
        "authurl": Setting(str, required=True),
        "user": Setting(str),
        "key": Setting(str),
        "auth_version": Setting(str, "1"),
        "os_options": Setting(dict, {}),
        "container": Setting(str, STORAGE_NAME),
        "create_container": Setting(bool, True),
        "segment_size": Setting(int, 16 * MiB),
        "tempurl_key": Setting(str),
        "tempurl_expiry": Setting(int, 3600),
        "serve_redirect": Setting(bool, False),
        "retries": Setting(int, 3),
        "timeout": Setting(float, 30.0),
    }

    def __init__(self, name: str, config: Mapping[str, Any]) -> None:
        super().__init__(name, config)
        config = self.config  # every setting present, of its declared type
        self.container: str = config["container"]
        self.segment_size: int = config["segment_size"]
        self._local = threading.local()
        self._container_ready = not config["create_container"]
        self._lock = threading.Lock()
        self.service = SwiftService(
            options={
                "auth": config["authurl"],
                "user": config["user"],
                "key": config["key"],
                "auth_version": config["auth_version"],
                "os_options": config["os_options"],
                "retries": config["retries"],
                "object_uu_threads": 2,
                "segment_threads": 2,
            }
        )

    @property
    def conn(self) -> Connection:
        """This thread's connection (swiftclient's ``Connection`` is not thread-safe)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = Connection(
                authurl=self.config["authurl"],
                user=self.config["user"],
                key=self.config["key"],
                auth_version=self.config["auth_version"],
                os_options=dict(self.config["os_options"]),
                retries=self.config["retries"],
                timeout=self.config["timeout"],
                starting_backoff=0.5,
                max_backoff=4,
            )
            self._local.conn = conn
        self._ensure_container(conn)
        return conn

    def _ensure_container(self, conn: Connection) -> None:
        if self._container_ready:
            return
        with self._lock, self._errors():
            if not self._container_ready:
                conn.put_container(self.container)
                self._container_ready = True

    @contextlib.contextmanager
    def _errors(self, filename: str | None = None) -> Iterator[None]:
        """Turn swiftclient's errors into flask-fs errors naming the storage and the cause."""
        where = f"storage {self.name!r} (container {self.container!r} at {self.config['authurl']})"
        try:
            yield
        except ClientException as exc:
            status = exc.http_status
            if status == 404 and filename is not None:
                raise FileNotFound.of(filename, self.name) from None
            if status == 412 and filename is not None:
                raise FileExists.of(filename, self.name) from None
            reason = _REASONS.get(status or 0, "")
            raise BackendError(f"{where}: {reason or exc.msg} ({status or exc})") from exc
        except (SwiftError, OSError) as exc:
            raise BackendError(f"{where}: {exc}") from exc

    def _claim(self, filename: str, overwrite: bool) -> contextlib.AbstractContextManager[None]:
        """Create-only writes of one name, one at a time in this process (see module doc)."""
        key = ("swift", self.config["authurl"], self.config["user"], self.container, filename)
        return claim_name(key, filename, self.name, overwrite)

    def _head(self, filename: str) -> dict[str, str]:
        with self._errors(filename):
            return cast("dict[str, str]", self.conn.head_object(self.container, filename))

    # -- required operations -------------------------------------------------------------------

    def exists(self, filename: str) -> bool:
        try:
            self._head(filename)
        except FileNotFound:
            return False
        return True

    def open_read(self, filename: str) -> IO[bytes]:
        """A stream of the object. A Static Large Object being replaced loses its old segments,
        and the proxy answers 409 to a GET of it: that GET is tried again (no byte was read)."""
        reader = _ObjectReader(self, filename)
        attempt = 1
        while True:
            try:
                reader.open_body(0)  # FileNotFound now, not at the first read
            except BackendError as exc:
                if attempt == READ_ATTEMPTS or _status(exc) != 409:
                    raise
                attempt += 1
                time.sleep(0.05 * attempt)
                continue
            return cast("IO[bytes]", reader)  # reads go straight to the response: no copy

    def read(self, filename: str) -> bytes:
        """The whole content, read again if the object was replaced while it was read (its old
        segments deleted under the GET)."""
        attempt = 1
        while True:
            with self.open_read(filename) as f:
                try:
                    return f.read()
                except BackendError:
                    if attempt == READ_ATTEMPTS:
                        raise
            attempt += 1

    def open_write(self, filename: str, overwrite: bool = False) -> IO[bytes]:
        if not overwrite and self.exists(filename):  # early answer; the server enforces it
            raise FileExists.of(filename, self.name)
        upload = PipeUpload(
            lambda reader: self._upload(reader, filename, overwrite),
            lambda digest: self._store_checksum(filename, digest),
            cleanup=lambda: self._remove_orphan_segments(filename),
            name=filename,
        )
        return cast("IO[bytes]", upload.writer())

    def write_bytes(self, filename: str, data: bytes, overwrite: bool = True) -> None:
        if len(data) > self.segment_size:
            self.save(io.BytesIO(data), filename, overwrite=overwrite)
            return
        headers = {CHECKSUM_HEADER: hashlib.sha256(data).hexdigest()}
        if not overwrite:
            headers["If-None-Match"] = "*"
        with self._claim(filename, overwrite), self._errors(filename):
            self.conn.put_object(
                self.container,
                filename,
                contents=data,
                content_type=guess_mime(filename),
                headers=headers,
            )

    def save(
        self, file_or_wfs: IO[bytes] | FileStorage, filename: str, overwrite: bool = False
    ) -> str:
        stream = file_or_wfs.stream if isinstance(file_or_wfs, FileStorage) else file_or_wfs
        content, rest = read_ahead(stream, self.segment_size)
        if rest is None:  # one PUT with its checksum, where SwiftService would make several
            self.write_bytes(filename, content, overwrite=overwrite)
            return filename
        hashing = HashingReader(rest)
        self._upload(cast("IO[bytes]", hashing), filename, overwrite)
        self._store_checksum(filename, hashing.hexdigest())
        return filename

    def _upload(self, stream: IO[bytes], filename: str, overwrite: bool) -> None:
        """A streamed upload: a Static Large Object when it is longer than a segment."""
        self.conn  # noqa: B018 - makes sure the container exists
        headers = [f"Content-Type: {guess_mime(filename)}"]
        if not overwrite:
            headers.append("If-None-Match: *")
        options = {
            "segment_size": self.segment_size,
            "use_slo": True,
            "segment_container": self.segment_container,
            "header": headers,
            "leave_segments": False,
            "checksum": False,  # the SHA-256 is ours; md5 would be a second pass
        }
        upload = SwiftUploadObject(stream, object_name=filename)
        with self._claim(filename, overwrite), self._errors(filename):
            for result in self.service.upload(self.container, [upload], options=options):
                if not result["success"]:
                    error = result.get("error")
                    if isinstance(error, UploadAborted):
                        raise error
                    if isinstance(error, Exception):
                        self._remove_orphan_segments(filename)
                        raise _with_status(error, result)
                    raise BackendError(f"storage {self.name!r}: upload failed: {result}")

    @property
    def segment_container(self) -> str:
        """Where the segments of large objects go."""
        return f"{self.container}_segments"

    def _referenced_segments(self, filename: str) -> set[str]:
        """The segments the current manifest of ``filename`` uses (none if it is not an SLO)."""
        with contextlib.suppress(ClientException):
            headers, manifest = self.conn.get_object(
                self.container, filename, query_string="multipart-manifest=get"
            )
            if headers.get("x-static-large-object", "").lower() != "true":
                return set()
            with contextlib.suppress(ValueError, TypeError, AttributeError, IndexError):
                return {item["name"].split("/", 2)[2] for item in json.loads(manifest)}
        return set()

    def _listing(
        self, container: str, prefix: str = "", missing_ok: bool = False
    ) -> Iterator[dict[str, Any]]:
        """The objects of ``container`` under ``prefix``, a page at a time (any number of them).
        With ``missing_ok``, a container that does not exist lists nothing."""
        marker = ""
        while True:
            with self._errors():
                try:
                    _, page = self.conn.get_container(
                        container, prefix=prefix or None, marker=marker, limit=LISTING_PAGE
                    )
                except ClientException as exc:
                    if missing_ok and exc.http_status == 404:
                        return
                    raise
            if not page:
                return
            yield from page
            marker = page[-1]["name"]

    def _unused_segments(
        self, prefix: str = "", cutoff: datetime | None = None
    ) -> Iterator[tuple[str, str, datetime]]:
        """``(segment, object, written)`` for each segment under ``prefix`` (written before
        ``cutoff``) that the current manifest of its object does not use."""
        owner, keep = "", set()
        for item in self._listing(self.segment_container, prefix, missing_ok=True):
            match = _SEGMENT.match(item["name"])
            written = datetime.fromisoformat(item["last_modified"]).replace(tzinfo=timezone.utc)
            if match is None or (cutoff is not None and written > cutoff):
                continue
            if match["object"] != owner:  # an object's segments are listed together
                owner = str(match["object"])
                with self._errors():
                    keep = self._referenced_segments(owner)
            if item["name"] not in keep:
                yield item["name"], owner, written

    def _delete_segment(self, name: str) -> None:
        with self._errors(), contextlib.suppress(ClientException):  # deleted meanwhile: fine
            self.conn.delete_object(self.segment_container, name)

    def _remove_orphan_segments(self, filename: str) -> None:
        """Delete segments of ``filename`` that no manifest references (a failed upload's)."""
        # Best effort: when the proxy is gone this fails too, and sweep() removes them later.
        with contextlib.suppress(BackendError):
            for segment, _, _ in self._unused_segments(prefix=f"{filename}/slo/"):
                self._delete_segment(segment)

    def sweep(self, older_than: float, remove: bool = True) -> Iterator[str]:
        """Delete segments older than the cutoff that no manifest uses: those of an upload that
        died with its process, or whose proxy went away before it could clean up."""
        cutoff = datetime.now(timezone.utc) - timedelta(seconds=older_than)
        for segment, owner, written in self._unused_segments(cutoff=cutoff):
            if remove:
                self._delete_segment(segment)
            yield f"orphan segment {segment!r} of {owner!r}, written {written:%F %T}"

    def _store_checksum(self, filename: str, digest: str | None) -> None:
        """Store the SHA-256 as object metadata (without one, it is computed on demand)."""
        if digest is None:
            return
        with self._errors(filename):
            headers = dict(self._head(filename))
            metadata = {k: v for k, v in headers.items() if k.startswith("x-object-meta-")}
            metadata[CHECKSUM_HEADER] = digest
            self.conn.post_object(self.container, filename, headers=metadata)

    def delete(self, filename: str) -> None:
        large = self._head(filename).get("x-static-large-object", "").lower() == "true"
        with self._errors(filename):
            # For a Static Large Object, the query deletes its segments too.
            query = "multipart-manifest=delete" if large else None
            self.conn.delete_object(self.container, filename, query_string=query)

    def list_files(self, prefix: str = "") -> Iterator[str]:
        for item in self._listing(self.container, prefix):
            yield item["name"]

    def metadata(self, filename: str) -> Metadata:
        headers = self._head(filename)
        checksum = self._checksum(filename, headers)
        return Metadata(
            checksum=f"sha256:{checksum}",
            size=int(headers["content-length"]),
            mime=headers.get("content-type") or guess_mime(filename),
            modified=parsedate_to_datetime(headers["last-modified"]),
        )

    def _checksum(self, filename: str, headers: Mapping[str, str]) -> str:
        """The stored SHA-256; for an object written by another tool, computed once from the
        version ``headers`` describe and stored with that version's ETag, which must still match
        for it to be trusted (an object replaced since is hashed again)."""
        etag = headers.get("etag")
        stored = headers.get(CHECKSUM_HEADER)
        if stored and headers.get(CHECKSUM_ETAG_HEADER, etag) == etag:
            return stored
        size = int(headers["content-length"])
        with _ObjectReader(self, filename, size, etag) as reader:
            checksum = sha256_hex(cast("IO[bytes]", reader))
        metadata = {k: v for k, v in headers.items() if k.startswith("x-object-meta-")}
        metadata.update({CHECKSUM_HEADER: checksum, CHECKSUM_ETAG_HEADER: etag or ""})
        with contextlib.suppress(ClientException):  # a read-only user still gets the checksum
            self.conn.post_object(self.container, filename, headers=metadata)
        return checksum

    # -- URLs and serving ----------------------------------------------------------------------

    @property
    def has_signed_urls(self) -> bool:
        return bool(self.config["tempurl_key"])

    def signed_url(self, filename: str) -> str | None:
        if not self.config["tempurl_key"]:
            return None
        with self._errors(filename):
            storage_url, _ = self.conn.get_auth()
        parts = urlsplit(storage_url)
        path = f"{parts.path}/{quote(self.container)}/{quote(filename)}"
        signed = generate_temp_url(
            path, self.config["tempurl_expiry"], self.config["tempurl_key"], "GET"
        )
        return f"{parts.scheme}://{parts.netloc}{signed}"

    def serve(self, filename: str) -> Response:
        if self.config["serve_redirect"] and self.config["tempurl_key"]:
            self._head(filename)
            return redirect(cast(str, self.signed_url(filename)))
        headers = self._head(filename)
        size = int(headers["content-length"])
        etag = headers.get("etag")
        return send_stream(  # the body is the version of the HEAD, or the stream fails
            cast("IO[bytes]", _ObjectReader(self, filename, size, etag)),
            name=filename,
            size=size,
            mime=headers.get("content-type") or guess_mime(filename),
            etag=(etag or "").strip('"') or None,
            modified=parsedate_to_datetime(headers["last-modified"]),
        )


def _status(error: BaseException) -> int | None:
    """The HTTP status behind a flask-fs error, if the server gave one."""
    cause = error.__cause__
    return cause.http_status if isinstance(cause, ClientException) else None


def _with_status(error: Exception, result: Mapping[str, Any]) -> Exception:
    """The server's status for a failed upload.

    swiftclient retries a failed segment, finds it cannot send a stream again, and raises an
    error without the status (e.g. 507, a full device): it is still in the response record.
    """
    if isinstance(error, ClientException) and not error.http_status:
        response = result.get("response_dict") or {}
        status = response.get("status")
        if isinstance(status, int) and status >= 400:
            message = str(response.get("reason") or error.msg)
            return cast(Exception, ClientException(message, http_status=status))
    return error


class _ObjectReader(RangedReader):
    """An object's body; seeking re-opens it with a ranged GET."""

    def __init__(
        self,
        backend: SwiftBackend,
        filename: str,
        size: int | None = None,
        etag: str | None = None,
    ) -> None:
        super().__init__(size, etag)
        self.backend = backend
        self.filename = filename

    def open_body(self, start: int) -> None:
        headers = {"Range": f"bytes={start}-"} if start else {}
        if self.etag:
            headers["If-Match"] = self.etag
        with self.backend._errors(self.filename):
            try:
                response, body = self.backend.conn.get_object(
                    self.backend.container,
                    self.filename,
                    resp_chunk_size=CHUNK_SIZE,
                    headers=headers,
                )
            except ClientException as exc:
                if self.etag and exc.http_status == 412:
                    raise self.replaced(self.filename, self.backend.name) from exc
                raise
        if self.size is None:
            self.size = start + int(response["content-length"])
        self.etag = self.etag or response.get("etag")
        self.body = body

    def read_body(self, size: int | None) -> bytes:
        with self.backend._errors(self.filename):
            return super().read_body(size)

"""The OpenStack Swift backend (fs-swift), through python-swiftclient.

An adapter of :class:`~flask_fs.backends.objectstore.ObjectStoreBackend`, which holds the rules
(create-only writes, checksums, ranged reads, serving, errors); here are Swift's requests:

- One ``Connection`` per thread (they are not thread-safe); streamed uploads go through
  ``SwiftService``, which turns anything larger than ``segment_size`` into a Static Large
  Object (segments in ``<container>_segments``), one segment in memory at a time. ``sweep``
  deletes segments no manifest uses.
- Create-only writes send ``If-None-Match: *``. Swift checks it when a PUT starts, before the
  data arrives: a sequential create is refused, but racing creators can all succeed; within a
  process the pipeline's claim runs them one at a time, across processes the last writer wins,
  whole.
- The SHA-256 is stored as ``X-Object-Meta-Sha256`` (an SLO's ETag is not a checksum of the
  content); checksums and write tokens are object metadata (``X-Object-Meta-*``).
- A GET of a Static Large Object being replaced may be answered 409 (its old segments are
  gone): the pipeline tries it again (``read_attempts``).
"""

from __future__ import annotations

import contextlib
import json
import re
import secrets
import threading
from collections.abc import Hashable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from importlib.metadata import version
from typing import IO, Any, ClassVar, cast
from urllib.parse import quote, urlsplit

from swiftclient.client import ClientException, Connection
from swiftclient.service import SwiftError, SwiftService, SwiftUploadObject
from swiftclient.utils import generate_temp_url
from werkzeug.http import parse_options_header

from flask_fs.backends import FileInfo, objectstore
from flask_fs.backends.direct import STAGING_FOLDER
from flask_fs.backends.swift_uploads import DIRECT_PART, Segment, SwiftUploads, stale_staged
from flask_fs.errors import BackendError
from flask_fs.serving import Conditions, guess_mime
from flask_fs.settings import STORAGE_NAME, Setting
from flask_fs.streams import CHUNK_SIZE
from flask_fs.transfers import UploadAborted

__version__ = version("fs-swift")

MiB = 1024 * 1024
#: The prefix of an object's user metadata headers.
META = "x-object-meta-"
LISTING_PAGE = 10_000
#: The container's TempURL key, which Swift's tempurl accepts as well as the account's.
_CONTAINER_KEY = "X-Container-Meta-Temp-URL-Key"
#: How a segment is named: swiftclient's ``<object>/slo/<mtime>[/<size>]/<segment size>/<index>``
#: (the size is missing when a stream is uploaded), or a direct upload's part
#: ``<object>/direct/<upload id>/<number>`` (:mod:`flask_fs.backends.swift_uploads`).
_SEGMENT = re.compile(
    r"^(?P<object>.+)/(?:slo/[^/]+(?:/\d+){2,3}|" + DIRECT_PART.pattern.lstrip("^") + ")$"
)


#: What a status means to a user. A proxy whose object servers answer 507 (device full) has
#: nowhere to put the data and answers 503 itself.
_REASONS = {
    401: "authentication failed",
    503: "the service is unavailable (overloaded, or its devices are full)",
    507: "the server is out of space",
}


class SwiftBackend(objectstore.ObjectStoreBackend):
    """An OpenStack Swift backend.

    Expect the following settings:

    - ``authurl``: The Swift Auth URL
    - ``user``: The Swift user in
    - ``key``: The user API Key

    and optionally ``auth_version`` (``"1"``, ``"2.0"`` or ``"3"``), ``os_options`` (tenant or
    project, domains, region...: what v3 providers need), ``container`` (default: the storage
    name), ``create_container``, ``segment_size``, ``tempurl_key`` (the account's or the
    container's TempURL key) and ``tempurl_expiry`` (``url()`` then gives temporary URLs),
    ``set_tempurl_key`` (without ``tempurl_key``: use the container's key, set to a random one
    if it has none), ``serve_redirect``, ``retries`` and ``timeout``.
    """

    settings: ClassVar[Mapping[str, Any]] = {
        **objectstore.ObjectStoreBackend.settings,  # serve_redirect
        "authurl": Setting(str, required=True),
        "user": Setting(str),
        "key": Setting(str),
        "auth_version": Setting(str, "1"),
        "os_options": Setting(dict, {}),
        "container": Setting(str, STORAGE_NAME),
        "create_container": Setting(bool, True),
        "segment_size": Setting(int, 16 * MiB),
        "tempurl_key": Setting(str),
        "tempurl_expiry": Setting(int, 3600, alias_of="url_expires"),  # deprecated
        "set_tempurl_key": Setting(bool, False),
        "retries": Setting(int, 3),
        "timeout": Setting(float, 30.0),
    }
    client_errors = (ClientException, SwiftError, OSError)
    #: Whole reads of an object replaced meanwhile are tried this many times.
    read_attempts = 3
    signs_disposition = False

    def __init__(self, name: str, config: Mapping[str, Any]) -> None:
        super().__init__(name, config)
        config = self.config  # every setting present, of its declared type
        self.container: str = config["container"]
        self.segment_size: int = config["segment_size"]
        self._local = threading.local()
        self._container_ready = not config["create_container"]
        self._lock = threading.Lock()
        self._container_key: str | None = None
        self._key_lock = threading.Lock()
        self._uploads: SwiftUploads | None = None
        self._uploads_lock = threading.Lock()
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
        with self._lock, self.errors():
            if not self._container_ready:
                conn.put_container(self.container)
                self._container_ready = True

    # -- primitives of the pipeline ------------------------------------------------------------

    @property
    def location(self) -> str:
        return f"container {self.container!r} at {self.config['authurl']}"

    @property
    def single_request_limit(self) -> int:
        return self.segment_size

    def claim_key(self, filename: str) -> Hashable:
        return ("swift", self.config["authurl"], self.config["user"], self.container, filename)

    def error_kind(self, exc: BaseException) -> objectstore.ErrorKind | None:
        status = exc.http_status if isinstance(exc, ClientException) else None
        if status == 404:
            return "missing"
        return "precondition" if status == 412 else None

    def describe_error(self, exc: BaseException) -> str:
        if not isinstance(exc, ClientException):
            return str(exc)
        status = exc.http_status
        return f"{_REASONS.get(status or 0, '') or exc.msg} ({status or exc})"

    def retry_read(self, error: BackendError) -> bool:
        return _status(error) == 409

    def head_object(self, filename: str) -> objectstore.ObjectInfo:
        headers = self.conn.head_object(self.container, filename)
        return _info(headers, int(headers["content-length"]))

    def fetch_object(
        self, filename: str, byte_range: str | None, conditions: Conditions
    ) -> objectstore.ObjectAnswer:
        """One GET; its 304, 412 and 416 arrive as ``ClientException``\\ s."""
        headers = conditions.headers()
        if byte_range:
            headers["Range"] = byte_range
        try:
            response, body = self.conn.get_object(
                self.container, filename, resp_chunk_size=CHUNK_SIZE, headers=headers
            )
        except ClientException as exc:
            if exc.http_status not in (304, 412, 416):
                raise
            return objectstore.ObjectAnswer.refused(
                exc.http_status, exc.http_response_headers or {}
            )
        length = int(response["content-length"])
        content_range = response.get("content-range")
        start, size = objectstore.body_extent(length, content_range)
        status = 206 if content_range else 200
        return objectstore.ObjectAnswer(status, _info(response, size), body, start, length)

    def get_object(self, filename: str, start: int, etag: str | None) -> objectstore.ObjectBody:
        headers = {"Range": f"bytes={start}-"} if start else {}
        if etag:
            headers["If-Match"] = etag
        response, body = self.conn.get_object(
            self.container, filename, resp_chunk_size=CHUNK_SIZE, headers=headers
        )
        return objectstore.ObjectBody(body, int(response["content-length"]), response.get("etag"))

    def put_object(
        self, filename: str, data: bytes, metadata: Mapping[str, str], create_only: bool
    ) -> None:
        headers = {META + key: value for key, value in metadata.items()}
        if create_only:
            headers["If-None-Match"] = "*"
        self.conn.put_object(
            self.container,
            filename,
            contents=data,
            content_type=guess_mime(filename),
            headers=headers,
        )

    def upload_stream(
        self, filename: str, stream: IO[bytes], metadata: Mapping[str, str], create_only: bool
    ) -> None:
        """A Static Large Object when the stream is longer than a segment."""
        self.conn  # noqa: B018 - makes sure the container exists
        headers = [f"Content-Type: {guess_mime(filename)}"]
        headers += [f"{META}{key}: {value}" for key, value in metadata.items()]
        if create_only:
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
        for result in self.service.upload(self.container, [upload], options=options):
            if not result["success"]:
                error = result.get("error")
                if isinstance(error, UploadAborted):
                    raise error
                if isinstance(error, Exception):
                    self.discard_upload(filename)
                    raise _with_status(error, result)
                raise BackendError(f"storage {self.name!r}: upload failed: {result}")

    def annotate(
        self, filename: str, values: Mapping[str, str], current: Mapping[str, str] | None
    ) -> None:
        """A POST of the object's metadata, which replaces all of it: what it holds is kept."""
        if current is None:
            current = self.head_object(filename).metadata
        metadata = {**current, **values}
        self.conn.post_object(
            self.container, filename, headers={META + k: v for k, v in metadata.items()}
        )

    def delete_object(self, filename: str, info: objectstore.ObjectInfo) -> None:
        large = info.raw.get("x-static-large-object", "").lower() == "true"
        # For a Static Large Object, the query deletes its segments too.
        query = "multipart-manifest=delete" if large else None
        self.conn.delete_object(self.container, filename, query_string=query)

    def list_objects(self, prefix: str) -> Iterator[tuple[str, objectstore.ObjectInfo]]:
        """The container listing (JSON), a page per request: each object's ``bytes``,
        ``last_modified``, ``hash`` and ``content_type``.

        A Static Large Object is listed with its total size (and its ``slo_etag``), but a
        Dynamic Large Object's manifest (``X-Object-Manifest``, written by other tools) is
        listed with 0 bytes: an object listed empty is asked for its size with a HEAD.
        """
        for item in self._listing(self.container, prefix):
            name = item["name"]
            info = self._listed_info(item)
            if info is not None:
                yield name, info

    def list_details(self, prefix: str = "") -> Iterator[FileInfo]:
        """:meth:`list_objects` read straight into :class:`~flask_fs.FileInfo`: no
        ``ObjectInfo`` in between for an object listed with its size (what a fast listing
        spends most of its own time on); one listed empty gets its HEAD, as there."""
        with self.errors():
            for item in self._listing(self.container, prefix):
                name = item["name"]
                if objectstore.hidden(name, prefix):
                    continue
                size = item.get("bytes")
                if not size:
                    info = self._listed_info(item)
                    if info is not None:
                        yield objectstore.listed_file(name, info)
                    continue
                yield FileInfo(
                    name,
                    int(size),
                    _listed_time(item["last_modified"]),
                    None,  # a listing has no metadata, so no stored checksum
                    item.get("content_type") or guess_mime(name),
                )

    def _listed_info(self, item: Mapping[str, Any]) -> objectstore.ObjectInfo | None:
        """What a listing entry says of its object (a HEAD's answer if it lists no bytes);
        ``None`` if the object was deleted since it was listed."""
        if not item.get("bytes"):
            try:
                return self.head_object(item["name"])
            except ClientException as exc:
                if self.error_kind(exc) == "missing":
                    return None
                raise
        return objectstore.ObjectInfo(
            size=int(item["bytes"]),
            etag=item.get("slo_etag") or item.get("hash"),
            modified=_listed_time(item["last_modified"]),
            mime=item.get("content_type"),
            raw=item,
        )

    def discard_upload(self, filename: str) -> None:
        """Delete segments of ``filename`` that no manifest references (a failed upload's)."""
        # Best effort: when the proxy is gone this fails too, and sweep() removes them later.
        with contextlib.suppress(BackendError), self.errors():
            for segment, _, _ in self._unused_segments(prefix=f"{filename}/slo/"):
                self._delete_segment(segment)

    def find_leftovers(self, cutoff: datetime) -> Iterator[objectstore.Leftover]:
        """Segments older than the cutoff that no manifest uses: those of an upload that died
        with its process, or whose proxy went away before it could clean up, the parts of an
        abandoned direct upload (when none was sent since the cutoff: an upload still receiving
        parts is left whole), and bodies staged by browsers but never published."""
        uploads: dict[tuple[str, str], list[tuple[str, datetime]]] = {}
        for segment, owner, written in self._unused_segments():
            upload = _SEGMENT.match(segment)
            if upload is not None and upload["upload"]:
                uploads.setdefault((owner, upload["upload"]), []).append((segment, written))
            elif written <= cutoff:
                yield objectstore.Leftover(
                    f"orphan segment {segment!r} of {owner!r}, written {written:%F %T}", segment
                )
        for (owner, upload_id), parts in uploads.items():
            if max(written for _, written in parts) <= cutoff:
                for segment, written in parts:
                    yield objectstore.Leftover(
                        f"part {segment!r} of abandoned upload {upload_id} of {owner!r}, "
                        f"written {written:%F %T}",
                        segment,
                    )
        for segment, written in stale_staged(self, cutoff):
            yield objectstore.Leftover(
                f"unpublished upload {segment!r}, written {written:%F %T}", segment
            )

    def remove_leftover(self, leftover: objectstore.Leftover) -> None:
        self._delete_segment(leftover.handle)

    @property
    def has_signed_urls(self) -> bool:
        """With a ``TEMPURL_KEY`` (or ``SET_TEMPURL_KEY``), unless ``SIGNED_URLS`` is set to
        False."""
        keyed = self.config["tempurl_key"] or self.config["set_tempurl_key"]
        return bool(keyed) and self.config.get("signed_urls") is not False

    def presign(
        self, filename: str, expires: timedelta | None, disposition: str | None
    ) -> str | None:
        """A TempURL. Its signature covers the method, path and expiry, not the ``filename``
        and ``inline`` parameters that choose the disposition (see :func:`_disposition_query`):
        a link holder could add ``&inline`` to it (``signs_disposition`` is False)."""
        key = self._tempurl_key()
        if not key:
            return None
        storage_url, _ = self.conn.get_auth()
        parts = urlsplit(storage_url)
        path = f"{parts.path}/{quote(self.container)}/{quote(filename)}"
        seconds = self.config["tempurl_expiry"] if expires is None else expires.total_seconds()
        signed = generate_temp_url(path, int(seconds), key, "GET")
        return f"{parts.scheme}://{parts.netloc}{signed}{_disposition_query(disposition)}"

    def direct_uploads(self) -> SwiftUploads | None:
        """FormPost and TempURL ``PUT``\\ s signed with the TempURL key (``TEMPURL_KEY`` or
        ``SET_TEMPURL_KEY``); ``None`` without one (the application then receives uploads)."""
        if not (self.config["tempurl_key"] or self.config["set_tempurl_key"]):
            return None
        with self._uploads_lock:
            if self._uploads is None:
                self._uploads = SwiftUploads(self)
            return self._uploads

    def set_cors(self, origins: list[str]) -> None:
        """Let browsers on ``origins`` use the container and its segments container (where
        direct uploads go) and read the ``ETag`` of a part they send."""
        headers = {
            "X-Container-Meta-Access-Control-Allow-Origin": " ".join(origins),
            "X-Container-Meta-Access-Control-Expose-Headers": "etag",
        }
        with self.errors():
            for container in (self.container, self.segment_container):
                self.conn.put_container(container, headers=headers)

    def tempurl_key(self) -> str | None:
        """The key TempURLs (and FormPosts) are signed with, if any (see :meth:`_tempurl_key`)."""
        with self.errors():
            return self._tempurl_key()

    def _tempurl_key(self) -> str | None:
        """``TEMPURL_KEY``; else, with ``SET_TEMPURL_KEY``, the container's key, which is set to
        a random one first if the container has none (two processes doing so at once: the last
        one's key wins, the other's first URLs are refused)."""
        key: str | None = self.config["tempurl_key"] or self._container_key
        if key or not self.config["set_tempurl_key"]:
            return key
        conn = self.conn
        with self._key_lock:
            if self._container_key is None:
                key = conn.head_container(self.container).get(_CONTAINER_KEY.lower())
                if not key:
                    conn.post_container(self.container, {_CONTAINER_KEY: secrets.token_urlsafe(32)})
                    key = conn.head_container(self.container)[_CONTAINER_KEY.lower()]
                self._container_key = key
            return self._container_key

    # -- segments of large objects -------------------------------------------------------------

    @property
    def segment_container(self) -> str:
        """Where the segments of large objects go."""
        return f"{self.container}_segments"

    def publish_segments(
        self, filename: str, segments: Sequence[Segment], sha256: str, overwrite: bool
    ) -> None:
        """Give ``filename`` the content of ``segments`` (of the segments container): one
        Static Large Object manifest ``PUT``, carrying the content's SHA-256, with
        ``If-None-Match: *`` unless ``overwrite`` (``FileExists`` when the name is taken).
        Nothing is copied. The segments the replaced file used are removed."""
        manifest = json.dumps(
            [
                {
                    "path": f"/{self.segment_container}/{segment.name}",
                    "etag": segment.etag,
                    "size_bytes": segment.size,
                }
                for segment in segments
            ]
        )
        replaced = self._referenced_segments(filename) if overwrite else set()

        def send(metadata: dict[str, str]) -> None:
            headers = {META + key: value for key, value in metadata.items()}
            if not overwrite:
                headers["If-None-Match"] = "*"
            self.conn.put_object(
                self.container,
                filename,
                contents=manifest,
                content_type=guess_mime(filename),
                headers=headers,
                query_string="multipart-manifest=put",
            )

        self._publish(filename, overwrite, {objectstore.CHECKSUM_KEY: sha256}, send)
        self.remove_segments(sorted(replaced - {segment.name for segment in segments}))

    def segments_listing(self, prefix: str) -> Iterator[dict[str, Any]]:
        """The segments container's listing under ``prefix`` (nothing if it does not exist)."""
        with self.errors():
            yield from self._listing(self.segment_container, prefix, missing_ok=True)

    def remove_unused_segments(self, prefix: str) -> None:
        """Delete the segments under ``prefix`` that the manifest of their file does not use."""
        with self.errors():
            for segment, _, _ in self._unused_segments(prefix=prefix):
                self._delete_segment(segment)

    def remove_segments(self, names: Iterator[str] | Sequence[str]) -> None:
        """Delete these segments (those already gone are fine)."""
        with self.errors():
            for name in names:
                self._delete_segment(name)

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
            if item["name"].startswith(STAGING_FOLDER + "/"):
                continue  # a body a browser sent (see stale_staged), whatever its name says
            match = _SEGMENT.match(item["name"])
            written = _listed_time(item["last_modified"])
            if match is None or (cutoff is not None and written > cutoff):
                continue
            if match["object"] != owner:  # an object's segments are listed together
                owner = str(match["object"])
                keep = self._referenced_segments(owner)
            if item["name"] not in keep:
                yield item["name"], owner, written

    def _delete_segment(self, name: str) -> None:
        with contextlib.suppress(ClientException):  # deleted meanwhile: fine
            self.conn.delete_object(self.segment_container, name)


def _listed_time(value: str) -> datetime:
    """A listing's ``last_modified``: an ISO date without a zone, in UTC."""
    try:
        return datetime.fromisoformat(value + "+00:00")  # a fifth of the cost of .replace()
    except ValueError:  # a zone after all
        return datetime.fromisoformat(value).astimezone(timezone.utc)


def _info(headers: Mapping[str, str], size: int) -> objectstore.ObjectInfo:
    """What the headers of a HEAD or GET say of the object."""
    return objectstore.ObjectInfo(
        size=size,
        etag=headers.get("etag"),
        modified=parsedate_to_datetime(headers["last-modified"]),
        mime=headers.get("content-type"),
        metadata={k[len(META) :]: v for k, v in headers.items() if k.startswith(META)},
        raw=headers,
    )


def _disposition_query(disposition: str | None) -> str:
    """The tempurl parameters answering with ``disposition`` (``inline`` when ``None``, where
    Swift's default is an attachment): ``filename`` names the file, ``inline`` keeps it inline,
    and Swift writes the header itself (``filename*`` for non-ASCII)."""
    if disposition is None:
        return "&inline"
    kind, params = parse_options_header(disposition)
    name = params.get("filename")
    query = f"&filename={quote(name, safe='')}" if name else ""
    return query + ("&inline" if kind == "inline" else "")


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

"""The object-store pipeline, written once: S3, Swift and third-party stores are adapters of it.

:class:`ObjectStoreBackend` holds every rule of storing files in an object store; a subclass
writes only the requests of its service (the *primitives*, as fsspec's ``AbstractBufferedFile``
asks ``_initiate_upload``/``_upload_chunk``/``_fetch_range`` of s3fs and gcsfs):

- ``head_object``: an object's :class:`ObjectInfo` (one HEAD);
- ``get_object``: a GET from byte ``start``, requiring ``etag`` when given (``If-Match``);
- ``fetch_object``: the GET that serves a file, passing on the request's ``Range`` and
  preconditions, the whole object's headers in its answer (by default a HEAD, and the GET
  when the body is read);
- ``put_object``: bytes in one request, with metadata, create-only or not;
- ``upload_stream``: a streamed upload (multipart, segments...), create-only or not;
- ``annotate``: attach key/values to an object after it is written (tags, a metadata POST);
- ``delete_object``, ``list_objects`` (each object's name and :class:`ObjectInfo`, as the
  listing gives them, a page of the listing at a time);
- ``error_kind``: whether a client error means "missing" or "precondition failed";

and, where the store has them, ``copy_object`` (server-side copies), ``presign`` (signed URLs),
``find_leftovers``/``remove_leftover`` (``sweep``) and ``discard_upload`` (clean up after a
failed streamed upload). Each is documented on :class:`ObjectStoreBackend`.

What the pipeline does with them:

- Small content (``write_bytes``, a ``save`` whose stream ``read_ahead`` finds short) is one
  ``put_object`` carrying its SHA-256; anything larger is one ``upload_stream`` of a
  ``HashingReader`` (``save``) or a :class:`~flask_fs.transfers.PipeUpload`
  (``open(name, "wb")``), the SHA-256 attached after.
- ``overwrite=False``: the store enforces it (``create_only=True``: ``If-None-Match: *``), when
  the write is published (no HEAD before it); create-only writes of a name run one at a time in
  this process (:func:`~flask_fs.transfers.claim_name`); a refused precondition is
  :class:`~flask_fs.errors.FileExists`. A create-only write stores a token (``write-id``) in
  the object's metadata: when the reply to it was lost and the client's retry was refused, an
  object holding that token is the write's own, and the write succeeded.
- Checksums: stored at write time; for an object written by another tool, computed once from
  the version a HEAD describes and remembered with that version's ETag (``sha256`` and
  ``sha256-etag`` annotations), trusted only while the ETag matches.
- Reads are :class:`ObjectReader`\\ s, seekable and bound to one version (``If-Match``).
- Serving is one request (:meth:`ObjectStoreBackend.serve`): a GET (``fetch_object``) that
  passes on the ``Range`` and preconditions, whose answer gives the headers and a body pinned
  to its ETag (it never hashes); a HEAD for a HEAD; none for a redirect to a signed URL
  (``SERVE_REDIRECT``).
- Listings (``list_files``, ``list_details``) never show a reserved ``.fs-tmp-`` name (an
  upload's staged body, under ``.fs-tmp-uploads``) unless asked for that
  reserved folder itself; ``sweep`` removes staged bodies older than its cutoff, with the
  adapter's own leftovers (``find_leftovers``).
- Errors are mapped once: missing is :class:`~flask_fs.errors.FileNotFound`, a refused
  precondition :class:`~flask_fs.errors.FileExists`, anything else a
  :class:`~flask_fs.errors.BackendError` naming the storage, where it is, and the cause.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import posixpath
import time
import uuid
from abc import abstractmethod
from collections.abc import Callable, Hashable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import IO, TYPE_CHECKING, Any, ClassVar, Literal, NamedTuple, cast

from flask import current_app, has_app_context, request
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import HTTPException
from werkzeug.http import parse_content_range_header, parse_date, unquote_etag

from .. import streams
from ..errors import BackendError, FileExists, FileNotFound, FSError
from ..names import TEMPORARY_PREFIX
from ..serving import (
    Conditions,
    content_disposition,
    guess_mime,
    is_active,
    precondition_status,
    send_status,
    send_stream,
    store_conditions,
    store_range,
)
from ..settings import Setting
from ..streams import sha256_hex
from ..transfers import HashingReader, PipeUpload, RangedReader, claim_name, read_ahead
from . import BaseBackend, FileInfo, Metadata
from .checksum_memo import ChecksumMemo
from .direct import STAGING_FOLDER, BodyCheck, is_record

if TYPE_CHECKING:
    from werkzeug.wrappers import Response

#: Metadata and annotation key of the content's SHA-256 (hex).
CHECKSUM_KEY = "sha256"
#: Annotation key of the ETag a checksum computed after the fact belongs to.
CHECKSUM_ETAG_KEY = "sha256-etag"
#: Metadata key of a create-only write's token, to recognise it after a lost reply.
WRITE_KEY = "write-id"

#: What a client error means to the pipeline (see :meth:`ObjectStoreBackend.error_kind`).
ErrorKind = Literal["missing", "precondition"]


@dataclass(frozen=True)
class ObjectInfo:
    """What a HEAD says of an object."""

    size: int  #: in bytes
    etag: str | None  #: the version, as the store spells it (sent back in ``If-Match``)
    modified: datetime | None  #: last modification, timezone-aware
    mime: str | None = None  #: the stored content type
    #: the object's user metadata, keys lower-case and without the store's prefix
    metadata: Mapping[str, str] = field(default_factory=dict)
    #: the store's own answer, for what only the adapter understands
    raw: Mapping[str, Any] = field(default_factory=dict)

    @property
    def version(self) -> str:
        """The ETag without its quotes, as a checksum names the version it belongs to."""
        return (self.etag or "").strip('"')


class ObjectBody(NamedTuple):
    """The answer to :meth:`ObjectStoreBackend.get_object`."""

    body: Any  #: anything with ``read(n)`` and ``close()``
    length: int  #: bytes from ``start`` to the end of the object
    etag: str | None  #: the version read


class ObjectAnswer(NamedTuple):
    """The answer to :meth:`ObjectStoreBackend.fetch_object`."""

    #: 200 (the whole object), 206 (a range of it), 304, 412 or 416 (no body)
    status: int
    #: the whole object, for a 200 or 206 (its size is the object's, not the body's)
    info: ObjectInfo | None = None
    #: the body of a 200 or 206, anything with ``read(n)`` and ``close()`` (``None``: not
    #: fetched yet)
    body: Any = None
    start: int = 0  #: the first byte of ``body``
    length: int = 0  #: how many bytes ``body`` holds
    etag: str | None = None  #: the ETag a 304 or 412 carried, if any
    modified: datetime | None = None  #: the Last-Modified a 304 or 412 carried, if any

    @classmethod
    def refused(cls, status: int, headers: Mapping[str, str]) -> ObjectAnswer:
        """A 304, 412 or 416, with the validators its HTTP ``headers`` carried."""
        lower = {key.lower(): value for key, value in headers.items()}
        return cls(status, etag=lower.get("etag"), modified=parse_date(lower.get("last-modified")))


def body_extent(length: int, content_range: str | None) -> tuple[int, int]:
    """``(start, size)`` of a GET's body of ``length`` bytes: where it starts and the whole
    object's size, read from its ``Content-Range`` (a 206), else the body is the whole object.

    :raises ValueError: for a ``Content-Range`` that does not say both.
    """
    if content_range is None:
        return 0, length
    parsed = parse_content_range_header(content_range)
    if parsed is None or parsed.start is None or parsed.length is None:
        raise ValueError(f"the store answered a malformed Content-Range {content_range!r}")
    return parsed.start, parsed.length


class Leftover(NamedTuple):
    """Something an interrupted write left on the server, found by ``sweep``."""

    description: str  #: the line ``sweep`` yields
    handle: Any = None  #: what :meth:`ObjectStoreBackend.remove_leftover` needs


class ObjectStoreBackend(BaseBackend):
    """A backend for an object store: subclass it and write the primitives (see the module)."""

    settings: ClassVar[Mapping[str, Any]] = {"serve_redirect": Setting(bool, False)}

    #: The exceptions of the store's client that :meth:`error_kind` and
    #: :meth:`describe_error` understand; the pipeline turns them into flask-fs errors.
    client_errors: ClassVar[tuple[type[BaseException], ...]] = ()
    #: Whether objects carry user metadata (a create-only write then stores its token).
    stores_metadata: ClassVar[bool] = True
    #: Whether the store's signature of a URL covers the disposition asked. Where it does not
    #: (Swift's TempURL), active content is linked through the serving view when the
    #: application has a ``SECRET_KEY``, since a link holder could make it inline.
    signs_disposition: ClassVar[bool] = True
    #: How many times a GET (or a whole read) is tried when :meth:`retry_read` allows it.
    read_attempts: ClassVar[int] = 1

    def __init__(self, name: str, config: Mapping[str, Any]) -> None:
        super().__init__(name, config)
        #: checksums of versions looked up (annotations) or computed by this process
        self._memo = ChecksumMemo()
        if _inherited(type(self), "list_objects") and _inherited(type(self), "list_names"):
            raise TypeError(f"{type(self).__name__} must implement list_objects (or list_names)")

    # -- primitives ----------------------------------------------------------------------------

    @property
    @abstractmethod
    def location(self) -> str:
        """Where the files are, as error messages name it (``"bucket 'b' at https://..."``)."""

    @property
    @abstractmethod
    def single_request_limit(self) -> int:
        """The most bytes sent in one :meth:`put_object`; more is an :meth:`upload_stream`."""

    @abstractmethod
    def claim_key(self, filename: str) -> Hashable:
        """What identifies ``filename`` across storages of this process (server, bucket, key)."""

    @abstractmethod
    def error_kind(self, exc: BaseException) -> ErrorKind | None:
        """``"missing"`` (404), ``"precondition"`` (412) or ``None`` for a client error."""

    def describe_error(self, exc: BaseException) -> str:
        """The cause of a client error, as a user should read it."""
        return str(exc) or type(exc).__name__

    @abstractmethod
    def head_object(self, filename: str) -> ObjectInfo:
        """What the store says of the object (a client error if it is missing)."""

    @abstractmethod
    def get_object(self, filename: str, start: int, etag: str | None) -> ObjectBody:
        """A GET from byte ``start`` to the end; with ``etag``, only of that version (If-Match)."""

    def fetch_object(
        self, filename: str, byte_range: str | None, conditions: Conditions
    ) -> ObjectAnswer:
        """The GET that serves a file: with ``byte_range`` (a ``Range`` header value, one range
        of bytes, a suffix maybe) and ``conditions`` (``If-Match``... see
        :class:`~flask_fs.serving.Conditions`) passed on, so that a 206 moves only its bytes
        and a 304 none. Answer what the store answered: 200 or 206 with the whole object's
        :class:`ObjectInfo` and the body, or 304, 412, 416 (:meth:`ObjectAnswer.refused`);
        a missing object is a client error, as for :meth:`head_object`.

        The default passes nothing on: the answer is a :meth:`head_object`, and the body a
        :meth:`get_object` when it is read (two requests, the preconditions and the range
        answered from the HEAD's headers).
        """
        return ObjectAnswer(200, self.head_object(filename))

    @abstractmethod
    def put_object(
        self, filename: str, data: bytes, metadata: Mapping[str, str], create_only: bool
    ) -> None:
        """Store ``data`` in one request, with ``metadata``; ``create_only``: If-None-Match."""

    @abstractmethod
    def upload_stream(
        self, filename: str, stream: IO[bytes], metadata: Mapping[str, str], create_only: bool
    ) -> None:
        """Store the content of ``stream`` in as many requests as it takes, in bounded memory.

        A :class:`~flask_fs.transfers.UploadAborted` read from ``stream`` must abort the upload
        and be raised again.
        """

    @abstractmethod
    def annotate(
        self, filename: str, values: Mapping[str, str], current: Mapping[str, str] | None
    ) -> None:
        """Attach ``values`` to the object, keeping the annotations in ``current`` (``None``:
        the object was just written)."""

    def annotations(self, filename: str, info: ObjectInfo) -> Mapping[str, str]:
        """What :meth:`annotate` attached to the object: its metadata unless overridden."""
        return info.metadata

    @abstractmethod
    def delete_object(self, filename: str, info: ObjectInfo) -> None:
        """Delete the object ``info`` describes."""

    def list_objects(self, prefix: str) -> Iterator[tuple[str, ObjectInfo]]:
        """``(name, info)`` of each object under ``prefix``, a page of the listing at a time,
        ``info`` holding what the listing says (size, date, ETag, type where listed).

        An adapter implements this one (or, as adapters written before it, only
        :meth:`list_names`: this default then costs a HEAD per object).
        """
        for name in self.list_names(prefix):
            try:
                info = self.head(name)
            except FileNotFound:  # deleted since it was listed
                continue
            yield name, info

    def list_names(self, prefix: str) -> Iterator[str]:
        """The names of the objects under ``prefix``: :meth:`list_objects`' names."""
        for name, _ in self.list_objects(prefix):
            yield name

    def copy_object(self, filename: str, target: str, info: ObjectInfo, create_only: bool) -> bool:
        """Copy server-side, checksum included; ``False`` if the store cannot (the pipeline then
        streams the content)."""
        return False

    @property
    def create_only_copy(self) -> bool:
        """Whether :meth:`copy_object` refuses an existing target itself; otherwise create-only
        copies stream through a create-only upload."""
        return False

    def presign(
        self, filename: str, expires: timedelta | None, disposition: str | None
    ) -> str | None:
        """A GET URL the store signs for ``expires`` (``None``: the configured expiry), its
        answer carrying ``Content-Disposition: disposition`` when one is given; ``None`` if the
        store cannot sign."""
        return None

    def discard_upload(self, filename: str) -> None:
        """Clean up after a failed or discarded streamed upload (segments, parts...)."""

    def find_leftovers(self, cutoff: datetime) -> Iterator[Leftover]:
        """What interrupted writes left before ``cutoff`` (multipart uploads, segments...)."""
        return iter(())

    def remove_leftover(self, leftover: Leftover) -> None:
        """Remove one of :meth:`find_leftovers`' finds."""

    def retry_read(self, error: BackendError) -> bool:
        """Whether a GET that failed with ``error`` may be tried again (no byte was read)."""
        return False

    # -- errors --------------------------------------------------------------------------------

    def translate(self, exc: BaseException, filename: str | None = None) -> FSError:
        """The flask-fs error for a client error met while working on ``filename``."""
        kind = self.error_kind(exc)
        if filename is not None and kind == "missing":
            return FileNotFound.of(filename, self.name)
        where = f"storage {self.name!r} ({self.location})"
        if filename is not None and kind == "precondition":
            if not self.exists(filename):
                # SeaweedFS refuses a create-only write where an (empty) folder of that
                # name remains from deleted "name/..." objects: no object is there.
                return BackendError(
                    f"{where}: the server refused to create {filename!r} although no object "
                    "has that name (a folder of that name may remain on the server)"
                )
            return FileExists.of(filename, self.name)
        return BackendError(f"{where}: {self.describe_error(exc)}")

    @contextlib.contextmanager
    def errors(self, filename: str | None = None) -> Iterator[None]:
        """Turn the client's errors into flask-fs errors (see :meth:`translate`)."""
        try:
            yield
        except self.client_errors as exc:
            error = self.translate(exc, filename)
            if isinstance(error, FileExists | FileNotFound):
                raise error from None
            raise error from exc

    # -- reading -------------------------------------------------------------------------------

    def head(self, filename: str) -> ObjectInfo:
        """:meth:`head_object`, a missing object being :class:`~flask_fs.errors.FileNotFound`."""
        with self.errors(filename):
            return self.head_object(filename)

    def exists(self, filename: str) -> bool:
        try:
            self.head(filename)
        except FileNotFound:
            return False
        return True

    def open_read(self, filename: str) -> IO[bytes]:
        reader = ObjectReader(self, filename)
        self._retried(lambda: reader.open_body(0))  # FileNotFound now, not at the first read
        return cast("IO[bytes]", reader)  # reads go straight to the response: no copy

    def read(self, filename: str) -> bytes:
        """The whole content, read again when :meth:`retry_read` allows (e.g. Swift, whose
        large object being replaced loses its segments under the GET)."""
        return cast(bytes, self._retried(lambda: _read_all(self.open_read(filename)), whole=True))

    def _retried(self, action: Callable[[], Any], whole: bool = False) -> Any:
        attempt = 1
        while True:
            try:
                return action()
            except BackendError as exc:
                if attempt >= self.read_attempts or not (whole or self.retry_read(exc)):
                    raise
            attempt += 1
            time.sleep(0.05 * attempt)

    def metadata(self, filename: str) -> Metadata:
        info = self.head(filename)
        return Metadata(
            checksum=f"{CHECKSUM_KEY}:{self.checksum(filename, info)}",
            size=info.size,
            mime=info.mime or guess_mime(filename),
            modified=info.modified or datetime.now(timezone.utc),
        )

    def list_details(self, prefix: str = "") -> Iterator[FileInfo]:
        """One :meth:`list_objects`: the listing's sizes and dates, no request per object. The
        checksum is there when the listing carries the object's metadata (S3 and Swift do not)."""
        with self.errors():
            for name, info in self.list_objects(prefix):
                if not hidden(name, prefix):
                    yield listed_file(name, info)

    def checksum(self, filename: str, info: ObjectInfo) -> str:
        """The SHA-256 stored at write time; for an object written by another tool, computed
        once from the version ``info`` describes and remembered with that version's ETag,
        which must still match for it to be trusted (an object replaced since is hashed again).
        What a second request (annotations) or a read found is remembered by this process too
        (``ChecksumMemo``), for that ETag.
        """
        version = info.version
        stored = stored_checksum(info.metadata, version) or self._memo.get(filename, version)
        if stored:
            return stored
        stored = stored_checksum(self._annotations(filename, info), version)
        if stored:
            self._memo.put(filename, version, stored)
            return stored
        return self.read_checksum(filename, info)

    def read_checksum(self, filename: str, info: ObjectInfo, check: BodyCheck | None = None) -> str:
        """Read the version ``info`` describes (through ``check``, which may refuse it) and
        remember its SHA-256 with that version's ETag."""
        with ObjectReader(self, filename, info.size, info.etag) as reader:
            stream = cast("IO[bytes]", reader)
            digest = sha256_hex(stream) if check is None else check.read(stream)
        version = info.version
        self._memo.put(filename, version, digest)
        remembered = {CHECKSUM_KEY: digest, CHECKSUM_ETAG_KEY: version}
        with contextlib.suppress(BackendError), self.errors(filename):
            # read-only credentials still get the checksum
            self.annotate(filename, remembered, self._annotations(filename, info))
        return digest

    def _annotations(self, filename: str, info: ObjectInfo) -> Mapping[str, str]:
        with contextlib.suppress(BackendError), self.errors(filename):
            return self.annotations(filename, info)
        return {}  # a store without annotations (S3 servers without tagging)

    # -- writing -------------------------------------------------------------------------------

    def open_write(self, filename: str, overwrite: bool = False) -> IO[bytes]:
        # No early answer for create-only (a HEAD before every stream): the store refuses an
        # existing name when the upload is published, and close() raises FileExists.
        upload = PipeUpload(
            lambda reader: self._upload(reader, filename, overwrite),
            lambda digest: self.attach_checksum(filename, digest),
            cleanup=lambda: self.discard_upload(filename),
            name=filename,
        )
        return cast("IO[bytes]", upload.writer())

    def write_bytes(self, filename: str, data: bytes, overwrite: bool = True) -> None:
        if len(data) > self.single_request_limit:
            self.save(io.BytesIO(data), filename, overwrite=overwrite)
            return
        checksum = {CHECKSUM_KEY: hashlib.sha256(data).hexdigest()}
        self._publish(
            filename,
            overwrite,
            checksum,
            lambda metadata: self.put_object(filename, data, metadata, not overwrite),
        )

    def save(
        self, file_or_wfs: IO[bytes] | FileStorage, filename: str, overwrite: bool = False
    ) -> str:
        stream = streams.upload_stream(file_or_wfs)  # the FileStorage's own stream, if one
        content, rest = read_ahead(stream, self.single_request_limit)
        if rest is None:  # one request, checksum included
            self.write_bytes(filename, content, overwrite=overwrite)
            return filename
        hashing = HashingReader(rest)
        self._upload(cast("IO[bytes]", hashing), filename, overwrite)
        self.attach_checksum(filename, hashing.hexdigest())
        return filename

    def _upload(self, stream: IO[bytes], filename: str, overwrite: bool) -> None:
        self._publish(
            filename,
            overwrite,
            {},
            lambda metadata: self.upload_stream(filename, stream, metadata, not overwrite),
        )

    def _publish(
        self,
        filename: str,
        overwrite: bool,
        metadata: dict[str, str],
        send: Callable[[dict[str, str]], None],
    ) -> None:
        """Run one write of ``filename``: claimed if create-only, its token in its metadata,
        a refused precondition being a success when the object there holds that token."""
        token = None
        if not overwrite and self.stores_metadata:
            token = metadata[WRITE_KEY] = uuid.uuid4().hex
        with claim_name(self.claim_key(filename), filename, self.name, overwrite):
            try:
                with self.errors(filename):
                    send(metadata)
            except FileExists:
                if not self._written_by(filename, token):
                    raise

    def _written_by(self, filename: str, token: str | None) -> bool:
        """Whether the object holds the create-only write ``token``: the reply to its request
        was lost and the client's retry met its own object (a 412 that is a success)."""
        if token is None:
            return False
        try:
            return self.head(filename).metadata.get(WRITE_KEY) == token
        except FileNotFound:
            return False

    def attach_checksum(self, filename: str, digest: str | None) -> None:
        """Attach the SHA-256 of a streamed upload; without one (a client that read its source
        out of order, a store that refuses), it is computed when ``metadata`` asks."""
        if digest is None:
            return
        with contextlib.suppress(BackendError), self.errors(filename):
            self.annotate(filename, {CHECKSUM_KEY: digest}, None)

    # -- other operations ----------------------------------------------------------------------

    def delete(self, filename: str) -> None:
        info = self.head(filename)  # FileNotFound for a missing object: some stores say nothing
        with self.errors(filename):
            self.delete_object(filename, info)

    def list_files(self, prefix: str = "") -> Iterator[str]:
        with self.errors():
            for name in self.list_names(prefix):
                if not hidden(name, prefix):
                    yield name

    def copy(self, filename: str, target: str, overwrite: bool = False) -> None:
        if not overwrite and not self.create_only_copy:
            # A store that may not refuse an existing target on a copy: the content streams
            # through a create-only upload, which it does refuse.
            self.refuse_existing(target)
            super().copy(filename, target, overwrite=False)
            return
        info = self.head(filename)
        claim = claim_name(self.claim_key(target), target, self.name, overwrite)
        with claim, self.errors(target):
            copied = self.copy_object(filename, target, info, not overwrite)
        if not copied:
            super().copy(filename, target, overwrite=overwrite)

    def serve(self, filename: str) -> Response:
        """One request to the store: a redirect to a signed URL (``SERVE_REDIRECT``) asks none,
        a HEAD is a HEAD, a GET is one :meth:`fetch_object` whose answer gives the headers and
        the body. The store's 304 and 412 are checked against the validators they carry, and
        :func:`~flask_fs.serving.make_conditional` decides the rest: when the store's answer
        cannot stand (a 416, a 304 or 412 its own ETag contradicts), a HEAD answers instead."""
        if self.config["serve_redirect"]:
            url = self.signed_url_of(filename)  # a missing file: the store's 404 at the URL
            if url is not None:
                from flask import redirect

                return redirect(url)
        if request.method == "HEAD":
            return self._send(filename, self.head(filename))
        conditions = store_conditions()
        with self.errors(filename):
            answer = self.fetch_object(filename, store_range(), conditions)
        if answer.status in (304, 412) and _stands(answer, conditions):
            return send_status(
                answer.status,
                name=filename,
                mime=guess_mime(filename),
                etag=unquote_etag(answer.etag)[0] if answer.etag else None,
                modified=answer.modified,
            )
        if answer.info is None or answer.status not in (200, 206):
            return self._send(filename, self.head(filename))
        return self._send(filename, answer.info, answer)

    def _send(
        self, filename: str, info: ObjectInfo, answer: ObjectAnswer | None = None
    ) -> Response:
        """Serve the version ``info`` describes: the body of ``answer`` if it has one, else a
        GET when the response is read, which fails rather than send another version."""
        reader = ObjectReader(self, filename, info.size, info.etag)
        if answer is not None and answer.body is not None:
            reader.attach(answer.body, answer.start, answer.length)
        try:
            response = send_stream(
                cast("IO[bytes]", reader),
                name=filename,
                size=info.size,
                mime=info.mime or guess_mime(filename),
                etag=info.version or None,
                modified=info.modified,
            )
        except HTTPException:  # 416: no body
            reader.close()
            raise
        if response.status_code == 200 and reader.tell():
            reader.seek(0)  # the whole file, where the store sent a range
        return response

    def signed_url_of(
        self,
        filename: str,
        expires: timedelta | None = None,
        download_name: str | None = None,
        inline: bool | None = None,
    ) -> str | None:
        """:meth:`presign`, its errors mapped; ``expires`` defaults to the storage's
        ``URL_EXPIRES``. The disposition is sent only when it says more
        than the store's default (inline, under the object's name): a download name, a
        download, or active content, which is never inline."""
        if expires is None and self.config.get("url_expires"):
            expires = timedelta(seconds=self.config["url_expires"])  # the core URL_EXPIRES
        mime = guess_mime(filename)
        if is_active(mime) and not self.signs_disposition and _application_signs():
            return None
        disposition = None
        if download_name or inline is False or is_active(mime):
            name = download_name or posixpath.basename(filename)
            disposition = content_disposition(name, inline=inline, mime=mime)
        with self.errors(filename):
            return self.presign(filename, expires, disposition)

    def signed_url(
        self,
        filename: str,
        *,
        expires: timedelta | None = None,
        download_name: str | None = None,
        inline: bool | None = None,
    ) -> str | None:
        if expires is None and not self.has_signed_urls:
            return None
        return self.signed_url_of(filename, expires, download_name, inline)

    def sweep(self, older_than: float, remove: bool = True) -> Iterator[str]:
        """The adapter's leftovers (:meth:`find_leftovers`), then the bodies of direct uploads
        staged before the cutoff and never published, and older records of completed ones."""
        cutoff = datetime.now(timezone.utc) - timedelta(seconds=older_than)
        with self.errors():
            for leftover in list(self.find_leftovers(cutoff)):
                if remove:
                    self.remove_leftover(leftover)
                yield leftover.description
            for name, info in list(self.list_objects(STAGING_FOLDER + "/")):
                if info.modified is None or info.modified > cutoff:
                    continue
                if remove:
                    self.delete_object(name, info)
                kind = "record of ended upload" if is_record(name) else "staged upload"
                yield f"{kind} {name!r} of {info.modified:%Y-%m-%d %H:%M:%S %Z}"


def _application_signs() -> bool:
    """Whether the current application can sign links to its serving view."""
    return has_app_context() and bool(current_app.config.get("SECRET_KEY"))


def stored_checksum(values: Mapping[str, str], version: str) -> str | None:
    """The SHA-256 among an object's metadata or annotations ``values``, if it belongs to
    ``version`` (one computed after the fact names the ETag it was computed for)."""
    stored = values.get(CHECKSUM_KEY)
    if stored and values.get(CHECKSUM_ETAG_KEY, version) == version:
        return stored
    return None


def listed_file(name: str, info: ObjectInfo) -> FileInfo:
    """The :class:`~flask_fs.FileInfo` of a listed object."""
    stored = stored_checksum(info.metadata, info.version) if info.metadata else None
    return FileInfo(
        name=name,
        size=info.size,
        modified=info.modified or datetime.now(timezone.utc),
        checksum=f"{CHECKSUM_KEY}:{stored}" if stored else None,
        mime=info.mime or guess_mime(name),
    )


def hidden(name: str, prefix: str = "") -> bool:
    """Whether a listing of ``prefix`` leaves out ``name``: a reserved ``.fs-tmp-`` name (a
    staged upload, a temporary object), unless ``prefix`` is itself in a reserved folder (what
    the sweep of staged uploads lists)."""
    return _reserved(name) and not _reserved(prefix)


def _reserved(name: str) -> bool:
    return TEMPORARY_PREFIX in name and any(
        segment.startswith(TEMPORARY_PREFIX) for segment in name.split("/")
    )


def _inherited(cls: type, method: str) -> bool:
    """Whether ``cls`` takes ``method`` from :class:`ObjectStoreBackend` (does not implement it)."""
    return getattr(cls, method) is getattr(ObjectStoreBackend, method)


def _stands(answer: ObjectAnswer, conditions: Conditions) -> bool:
    """Whether a store's 304 or 412 stands: evaluated on the validators it carried, the
    request's preconditions give the same, or the answer lacks the validator its condition
    compares (the store compared its own, e.g. a 304 to ``If-Modified-Since`` without a date)."""
    etag = unquote_etag(answer.etag)[0] if answer.etag else None
    ours = precondition_status(etag, answer.modified)
    if ours == answer.status:
        return True
    by_tag = conditions.if_match if answer.status == 412 else conditions.if_none_match
    compared = etag if by_tag else answer.modified
    return ours is None and compared is None


def _read_all(stream: IO[bytes]) -> bytes:
    with stream:
        return stream.read()


class ObjectReader(RangedReader):
    """An object's body as a seekable stream: seeking re-opens it with a ranged GET of the same
    version (``ReplacedWhileRead`` if it is gone)."""

    def __init__(
        self,
        backend: ObjectStoreBackend,
        filename: str,
        size: int | None = None,
        etag: str | None = None,
    ) -> None:
        super().__init__(size, etag)
        self.backend = backend
        self.filename = filename

    def open_body(self, start: int) -> None:
        backend = self.backend
        try:
            answer = backend.get_object(self.filename, start, self.etag)
        except backend.client_errors as exc:
            raise self._error(exc) from exc
        if self.size is None:
            self.size = start + answer.length
        self.etag = self.etag or answer.etag
        self.body = answer.body

    def read_body(self, size: int | None) -> bytes:
        try:
            return super().read_body(size)
        except self.backend.client_errors as exc:
            # e.g. swiftclient resuming a broken GET with If-Match: the version is gone
            raise self._error(exc) from exc

    def _error(self, exc: BaseException) -> FSError:
        """The flask-fs error for a client error of a GET: a failed precondition of a pinned
        version is :class:`~flask_fs.transfers.ReplacedWhileRead`."""
        backend = self.backend
        if self.etag and backend.error_kind(exc) == "precondition":
            return self.replaced(self.filename, backend.name)
        return backend.translate(exc, self.filename)


__all__ = [
    "CHECKSUM_ETAG_KEY",
    "CHECKSUM_KEY",
    "WRITE_KEY",
    "ErrorKind",
    "Leftover",
    "ObjectAnswer",
    "ObjectBody",
    "ObjectInfo",
    "ObjectReader",
    "ObjectStoreBackend",
    "body_extent",
    "hidden",
    "stored_checksum",
]

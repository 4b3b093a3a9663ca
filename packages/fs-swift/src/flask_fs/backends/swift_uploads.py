"""Direct uploads to Swift (see :mod:`flask_fs.backends.direct`): browsers send the bytes to
the Swift proxy, the application signs and publishes.

- **One body**: a FormPost (Swift's ``formpost`` middleware) to the prefix
  ``<staging>/`` of the segments container, bounded by ``max_file_size`` and to one file; Swift
  names the object ``<staging>/<the browser's file name>``. Publishing it is one Static Large
  Object manifest ``PUT`` whose one segment is that object (nothing is copied), with
  ``If-None-Match: *`` unless overwriting. FormPost cannot require a content type (the
  application checks the first bytes).
- **In parts**: TempURL ``PUT``\\ s of segments ``<file>/direct/<upload id>/<number:08d>`` in the
  segments container (``...00000000`` is an empty marker written when the upload opens: an
  upload without it is unknown or closed), joined by a manifest ``PUT`` as above.

The SHA-256 is computed by reading the body once (one pass over the segments, the version
listed) before the manifest ``PUT``, which carries it: the file never exists without it.

Both are signed with the TempURL key the backend signs its URLs with; a container key is given
to the segments container too (FormPost and TempURL look for it in the container written to).
Leftovers (parts of abandoned uploads, staged bodies never published) are removed by
``sweep``: a published body carries the name of its file (``staged-for``), so the sweep knows
whether that file's manifest still uses it.
"""

from __future__ import annotations

import hmac
import re
import secrets
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from swiftclient.client import ClientException
from swiftclient.utils import generate_temp_url

from flask_fs.backends.direct import (
    STAGING_FOLDER,
    BodyCheck,
    StoredPart,
    StoreUploads,
    UploadForm,
)
from flask_fs.errors import (
    BackendError,
    FileExists,
    FileNotFound,
    OperationNotSupported,
    UploadNotAllowed,
)
from flask_fs.streams import CHUNK_SIZE

if TYPE_CHECKING:
    from flask_fs.backends.swift import SwiftBackend

#: A direct upload's segment, after its file's name: ``direct/<upload id>/<number:08d>``.
DIRECT_PART = re.compile(r"^direct/(?P<upload>[0-9a-f]{32})/(?P<number>\d{8})")
#: Metadata of a published staged body: the file whose segment it is.
#: What Swift allows when its ``/info`` is not published (its defaults before 2.38: 1 MiB).
DEFAULT_MIN_SEGMENT = 1024 * 1024
DEFAULT_MAX_SEGMENTS = 1000
_UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True)
class Segment:
    """An object of the segments container, as a manifest names it."""

    name: str
    etag: str
    size: int


class SwiftUploads(StoreUploads):
    """Direct uploads to the Swift container of ``backend``."""

    def __init__(self, backend: SwiftBackend) -> None:
        self.backend = backend
        with backend.errors():
            try:
                info: Mapping[str, Any] = backend.conn.get_capabilities()
            except ClientException:  # a cluster that does not publish /info
                info = {}
        slo = info.get("slo", {})
        self.min_part_size = int(slo.get("min_segment_size", DEFAULT_MIN_SEGMENT))
        self.max_parts = int(slo.get("max_manifest_segments", DEFAULT_MAX_SEGMENTS))
        #: Whether the cluster has FormPost (unknown without ``/info``: assumed).
        self.formpost = not info or "formpost" in info
        digests = (info.get("formpost") or {}).get("allowed_digests", ["sha1"])
        #: FormPost's signature: SHA-256 where the cluster accepts it (SHA-1 is deprecated).
        self.digest = "sha256" if "sha256" in digests else "sha1"
        self._ready = False
        self._lock = threading.Lock()

    # -- one body ------------------------------------------------------------------------------

    def sign_upload(
        self,
        staging: str,
        *,
        max_size: int,
        content_type: str | None,
        expires: timedelta,
        redirect: str | None = None,
    ) -> UploadForm:
        """A FormPost of one file to ``<staging>/`` (``content_type`` cannot be required)."""
        _check_staging(staging)
        if not self.formpost:
            raise OperationNotSupported(
                f"storage {self.backend.name!r}: the Swift cluster has no formpost middleware"
            )
        if max_size < 0:
            raise BackendError(f"storage {self.backend.name!r}: a negative max_size {max_size}")
        key = self._key()
        url, path = self._address(staging + "/")
        deadline = str(int(time.time() + expires.total_seconds()))
        fields = {"redirect": redirect} if redirect else {}
        fields |= {"max_file_size": str(max_size), "max_file_count": "1", "expires": deadline}
        signed = "\n".join([path, redirect or "", str(max_size), "1", deadline])
        fields["signature"] = hmac.new(key.encode(), signed.encode(), self.digest).hexdigest()
        return UploadForm("POST", url, fields)

    def publish_staged(
        self, staging: str, filename: str, *, overwrite: bool, check: BodyCheck | None = None
    ) -> None:
        """One manifest ``PUT`` whose one segment is a copy of the staged body (the latest, if
        the form was sent more than once), made inside Swift under a name no form can write,
        then read through ``check`` before the manifest is written: the same form sent again
        before it expires writes another staged body, never the file's segment. An empty body
        is written as an empty object."""
        check = check or BodyCheck()
        _check_staging(staging)
        backend = self.backend
        staged = self._unpublished(staging)
        if not staged:
            raise FileNotFound.of(staging, backend.name)
        body = staged[0]
        others = [item["name"] for item in staged[1:]]
        segment = _segment(body)
        try:
            if segment.size == 0:
                check.sha256()
                backend.write_bytes(filename, b"", overwrite=overwrite)
                others.append(segment.name)
            else:
                _refuse_manifest(body, backend.name)
                published = self._copy_out(segment, filename)
                try:
                    digest = self._read([published], check)
                    backend.publish_segments(filename, [published], digest, overwrite)
                except BaseException:
                    backend.remove_segments([published.name])
                    raise
                others.append(segment.name)
        except (FileExists, UploadNotAllowed):
            # not what the file uses: the same body published twice under this name
            used = backend._referenced_segments(filename)
            backend.remove_segments([item["name"] for item in staged if item["name"] not in used])
            raise
        backend.remove_segments(others)

    def _copy_out(self, staged: Segment, filename: str) -> Segment:
        """A copy of the staged body as a segment of ``filename`` (named as the pipeline names
        its own, so that ``sweep`` knows whose it is), made by Swift: no byte goes through the
        application. A deletion date the form may have set is not kept."""
        backend = self.backend
        token = secrets.token_hex(8)
        name = f"{filename}/slo/{token}/{staged.size}/{staged.size}/00000000"
        container = backend.segment_container
        with backend.errors(filename):
            backend.conn.copy_object(
                container,
                staged.name,
                destination=f"/{container}/{name}",
                headers={"If-Match": staged.etag},
            )
            backend.conn.post_object(container, name, headers={"X-Remove-Delete-At": "1"})
        return Segment(name, staged.etag, staged.size)

    def _unpublished(self, staging: str) -> list[Mapping[str, Any]]:
        """The bodies under ``staging``, the latest first (a published one is removed: its
        file has a copy)."""
        listing = self.backend.segments_listing(staging + "/")
        return sorted(listing, key=lambda item: str(item["last_modified"]), reverse=True)

    # -- in parts ------------------------------------------------------------------------------

    def start_parts(
        self, filename: str, *, content_type: str | None, overwrite: bool = False
    ) -> str:
        """A new upload id, its marker written (the file's type is guessed from its name, as
        for every write). Overwriting or not, the parts are segments of the file's own."""
        upload_id = secrets.token_hex(16)
        self._key()  # the segments container exists
        with self.backend.errors(filename):
            self.backend.conn.put_object(
                self.backend.segment_container, _part(filename, upload_id, 0), contents=b""
            )
        return upload_id

    def sign_part(
        self, filename: str, upload_id: str, number: int, *, expires: timedelta
    ) -> UploadForm:
        """A TempURL ``PUT`` of the segment."""
        _check_upload_id(upload_id, self.backend.name)
        if not 1 <= number <= self.max_parts:
            raise BackendError(
                f"storage {self.backend.name!r}: part {number} out of 1..{self.max_parts}"
            )
        key = self._key()
        url, path = self._address(_part(filename, upload_id, number))
        signed = generate_temp_url(path, int(expires.total_seconds()), key, "PUT")
        return UploadForm("PUT", url + signed[len(path) :])

    def stored_parts(self, filename: str, upload_id: str) -> list[StoredPart]:
        """The listing of the upload's segments (``FileNotFound`` without its marker)."""
        return [
            StoredPart(number, int(item["bytes"]), str(item["hash"]))
            for number, item in self._listed_parts(filename, upload_id).items()
            if number
        ]

    def join_parts(
        self,
        filename: str,
        upload_id: str,
        parts: Sequence[StoredPart],
        *,
        overwrite: bool,
        check: BodyCheck | None = None,
    ) -> None:
        """One manifest ``PUT`` of the parts, each as stored (its ETag must match), read
        through ``check`` first; empty parts are left out, all empty is an empty object."""
        backend = self.backend
        listed = self._listed_parts(filename, upload_id)
        segments = self._segments(filename, upload_id, parts, listed)
        try:
            digest = self._read(segments, check or BodyCheck())
            if segments:
                backend.publish_segments(filename, segments, digest, overwrite)
            else:
                backend.write_bytes(filename, b"", overwrite=overwrite)
        except (FileExists, UploadNotAllowed):
            self.abort_parts(filename, upload_id)
            raise
        # the marker and any part left out: what the manifest does not use
        backend.remove_unused_segments(_part(filename, upload_id, None))

    def abort_parts(self, filename: str, upload_id: str) -> None:
        """Remove the upload's segments that no manifest uses (none, once it is joined)."""
        _check_upload_id(upload_id, self.backend.name)
        self.backend.remove_unused_segments(_part(filename, upload_id, None))

    # -- helpers -------------------------------------------------------------------------------

    def _key(self) -> str:
        """The TempURL key, once the segments container exists and accepts it."""
        backend = self.backend
        key = backend.tempurl_key()
        if not key:
            raise BackendError(f"storage {backend.name!r}: direct uploads need a TempURL key")
        with self._lock:
            if not self._ready:
                with backend.errors():
                    conn = backend.conn
                    account = conn.head_account()
                    slots = ("x-account-meta-temp-url-key", "x-account-meta-temp-url-key-2")
                    headers = {}
                    if key not in {account.get(slot) for slot in slots}:  # a container key
                        headers["X-Container-Meta-Temp-URL-Key"] = key
                    conn.put_container(backend.segment_container, headers=headers)
                self._ready = True
        return key

    def _address(self, name: str) -> tuple[str, str]:
        """The URL of ``name`` in the segments container, and its path as Swift signs it."""
        with self.backend.errors():
            conn = self.backend.conn  # authenticated once it has sent a request
            storage_url = conn.url or conn.get_auth()[0]
        parts = urlsplit(storage_url)
        path = f"{parts.path}/{self.backend.segment_container}/{name}"
        return parts._replace(path=quote(path), query="").geturl(), path

    def _listed_parts(self, filename: str, upload_id: str) -> dict[int, Mapping[str, Any]]:
        """The upload's segments listed, by number (0: the marker)."""
        _check_upload_id(upload_id, self.backend.name)
        prefix = _part(filename, upload_id, None)
        listed = {}
        for item in self.backend.segments_listing(prefix):
            tail = item["name"][len(prefix) :]
            if tail.isdigit() and len(tail) == 8:
                listed[int(tail)] = item
        if 0 not in listed:
            raise FileNotFound.of(f"upload {upload_id} of {filename!r}", self.backend.name)
        return listed

    def _segments(
        self,
        filename: str,
        upload_id: str,
        parts: Sequence[StoredPart],
        listed: Mapping[int, Mapping[str, Any]],
    ) -> list[Segment]:
        """The manifest's segments for ``parts``: stored, unchanged, within Swift's limits."""
        where = f"storage {self.backend.name!r}: upload {upload_id} of {filename!r}"
        numbers = [part.number for part in parts]
        if not parts or numbers != sorted(set(numbers)):
            raise BackendError(f"{where}: parts must be given once each, in order: {numbers}")
        if len(parts) > self.max_parts:
            raise BackendError(f"{where}: {len(parts)} parts, Swift takes {self.max_parts}")
        segments = []
        for index, part in enumerate(parts):
            item = listed.get(part.number)
            if item is None or str(item["hash"]) != part.etag.strip('"'):
                raise BackendError(f"{where}: part {part.number} is not stored as given")
            _refuse_manifest(item, self.backend.name)
            segment = _segment(item)
            last = index == len(parts) - 1
            if not last and 0 < segment.size < self.min_part_size:
                raise BackendError(
                    f"{where}: part {part.number} holds {segment.size} bytes, Swift needs "
                    f"{self.min_part_size} in each part but the last"
                )
            if segment.size:  # an SLO segment holds at least one byte
                segments.append(segment)
        return segments

    def _read(self, segments: Sequence[Segment], check: BodyCheck) -> str:
        """The segments' content read through ``check``, each as listed (``If-Match``): its
        SHA-256, or its refusal."""
        backend = self.backend
        for segment in segments:
            try:
                with backend.errors():
                    _, body = backend.conn.get_object(
                        backend.segment_container,
                        segment.name,
                        resp_chunk_size=CHUNK_SIZE,
                        headers={"If-Match": segment.etag},
                    )
                    for chunk in body:
                        check.feed(chunk)
            except BackendError as error:
                raise BackendError(
                    f"storage {backend.name!r}: the uploaded {segment.name!r} changed or "
                    f"vanished while it was published ({error})"
                ) from error
        return check.sha256()


def stale_staged(backend: SwiftBackend, cutoff: datetime) -> Iterator[tuple[str, datetime]]:
    """``(name, written)`` of each staged body written before ``cutoff``: none is a file's
    (publishing copies it)."""
    for item in backend.segments_listing(STAGING_FOLDER + "/"):
        written = datetime.fromisoformat(item["last_modified"]).replace(tzinfo=timezone.utc)
        if written <= cutoff:
            yield item["name"], written


def _part(filename: str, upload_id: str, number: int | None) -> str:
    """The segment of part ``number`` (0: the marker; ``None``: the prefix of them all)."""
    prefix = f"{filename}/direct/{upload_id}/"
    return prefix if number is None else f"{prefix}{number:08d}"


def _segment(item: Mapping[str, Any]) -> Segment:
    return Segment(str(item["name"]), str(item["hash"]), int(item["bytes"]))


def _refuse_manifest(item: Mapping[str, Any], storage: str) -> None:
    """A part sent as a manifest (``?multipart-manifest=put``) could name any object of the
    account: only plain objects are joined."""
    if "slo_etag" in item or "swift_bytes" in str(item.get("content_type", "")):
        raise BackendError(f"storage {storage!r}: {item['name']!r} is a manifest, not a body")


def _check_staging(staging: str) -> None:
    rest = staging.removeprefix(STAGING_FOLDER + "/")
    if rest == staging or not rest or "/" in rest:
        raise BackendError(f"{staging!r} is not a staging name (under {STAGING_FOLDER!r})")


def _check_upload_id(upload_id: str, storage: str) -> None:
    if not _UPLOAD_ID.match(upload_id):
        raise FileNotFound(f"no upload {upload_id!r} in storage {storage!r}")

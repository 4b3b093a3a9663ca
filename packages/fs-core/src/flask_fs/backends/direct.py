"""What a backend implements so that browsers upload straight to its store (S3, Swift).

The application only signs, checks and publishes; the bytes go from the browser to the store.
A backend without it (local, GridFS, any third-party backend) still gets direct uploads: the
application receives the bodies itself (``flask_fs.uploads``), in bounded memory.

Two shapes of upload, both create-only unless the storage allows overwriting:

- **one body**: the browser sends the whole file to a *staging* name (a reserved
  :data:`STAGING_FOLDER` name, never a file's), bounded in size by the store;
  :meth:`StoreUploads.publish_staged` reads it through the application's :class:`BodyCheck`,
  then gives it its name.
- **in parts** (S3 multipart, Swift segments): each part is signed on its own;
  :meth:`StoreUploads.join_parts` assembles them under the file's name, refused by the store
  when the name exists (``If-None-Match: *`` on S3's ``CompleteMultipartUpload`` and on Swift's
  manifest ``PUT``).

Either way the body goes through the :class:`BodyCheck` before it replaces a file: a body the
application refuses never takes the place of the file it would have overwritten. Only a
create-only name may be published first and checked just after (then removed if refused: no
other file had that name).
"""

from __future__ import annotations

import hashlib
import io
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import IO, Any

from ..names import TEMPORARY_PREFIX
from ..streams import CHUNK_SIZE

#: Where bodies uploaded in one piece wait for their checks (a reserved name that no file can
#: be given and listings skip), swept when abandoned.
STAGING_FOLDER = TEMPORARY_PREFIX + "uploads"
#: How the names of completion records begin (:mod:`flask_fs.uploads.records`).
RECORDS = f"{STAGING_FOLDER}/completed-"


def is_record(name: str) -> bool:
    """Whether a name under :data:`STAGING_FOLDER` is the record of an ended upload (not an
    upload)."""
    return name.startswith(RECORDS)


@dataclass(frozen=True)
class UploadForm:
    """How a browser sends one body: ``method`` to ``url``, with these form ``fields`` (a
    ``POST`` of ``multipart/form-data``, the file last) or these ``headers`` (a ``PUT`` of the
    raw body)."""

    method: str
    url: str
    fields: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The plain dict given to the browser (the shape Uppy's ``@uppy/aws-s3`` expects)."""
        return {
            "method": self.method,
            "url": self.url,
            "fields": dict(self.fields),
            "headers": dict(self.headers),
        }


@dataclass(frozen=True)
class StoredPart:
    """A part the store holds for an unfinished upload in parts."""

    number: int  #: from 1
    size: int  #: in bytes
    etag: str  #: what the browser got back for it, given again to :meth:`~StoreUploads.join_parts`


class BodyCheck:
    """What the application checks of an uploaded body, fed by the backend as it reads the
    body, before publishing it. This one only hashes; the application's
    (:class:`flask_fs.uploads.checks.Receiving`) also bounds the size and checks the type.
    :meth:`feed` or :meth:`sha256` raise to refuse the body."""

    def __init__(self) -> None:
        self.digest = hashlib.sha256()

    def feed(self, chunk: bytes) -> None:
        """Account for the next ``chunk`` of the body."""
        self.digest.update(chunk)

    def sha256(self) -> str:
        """After the last chunk: the body's SHA-256 (hex), or a refusal."""
        return self.digest.hexdigest()

    def pump(self, source: IO[bytes], target: IO[bytes] | None = None) -> None:
        """Read ``source`` to its end a chunk at a time, each fed, then written to ``target``
        (when given)."""
        read = getattr(source, "read1", source.read)
        while chunk := read(CHUNK_SIZE):
            self.feed(chunk)
            if target is not None:
                target.write(chunk)

    def read(self, stream: IO[bytes]) -> str:
        """Feed all of ``stream``, then :meth:`sha256`."""
        self.pump(stream)
        return self.sha256()


class CheckedReader(io.RawIOBase):
    """``stream`` read through ``check``: each chunk is fed to it as it is read, and its
    verdict (:meth:`BodyCheck.sha256`) is given at the end of the stream, before the reader
    learns that it ended. A write that reads it to its end is refused with the body."""

    def __init__(self, stream: IO[bytes], check: BodyCheck) -> None:
        super().__init__()
        self.stream = stream
        self.check = check
        self.checked: str | None = None  #: the SHA-256, once the end was reached and passed

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.stream.read(len(buffer))
        if data:
            self.check.feed(data)
        elif self.checked is None:
            self.checked = self.check.sha256()
        buffer[: len(data)] = data
        return len(data)


class StoreUploads(ABC):
    """Direct uploads to a store. Names given here are validated storage names (or, for
    ``staging``, a name under :data:`STAGING_FOLDER`); errors are :mod:`flask_fs.errors`
    (:class:`~flask_fs.errors.FileExists` when a create-only name is taken)."""

    #: The smallest part but the last, and the most parts, the store accepts.
    min_part_size: int = 5 * 1024 * 1024
    max_parts: int = 10_000

    @abstractmethod
    def sign_upload(
        self,
        staging: str,
        *,
        max_size: int,
        content_type: str | None,
        expires: timedelta,
        redirect: str | None = None,
    ) -> UploadForm:
        """A form that stores one body of at most ``max_size`` bytes (the store refuses more)
        under ``staging``, until ``expires`` from now; with ``content_type``, the store refuses
        another. After a successful ``POST`` the store redirects the browser to ``redirect``
        when given (a URL whose path carries every token: some stores drop its query)."""

    @abstractmethod
    def publish_staged(
        self, staging: str, filename: str, *, overwrite: bool, check: BodyCheck | None = None
    ) -> None:
        """Give the body stored under ``staging`` the name ``filename`` (refused with
        ``FileExists``, the staged body removed, when the name is taken and not
        ``overwrite``), atomically: readers of ``filename`` see the old file or the new one
        whole. The body goes through ``check`` (a plain :class:`BodyCheck` if not given) first;
        refused, it is removed and never replaces a file. ``staging`` is gone afterwards."""

    @abstractmethod
    def start_parts(
        self, filename: str, *, content_type: str | None, overwrite: bool = False
    ) -> str:
        """Open an upload in parts for ``filename`` (to replace a file of that name if
        ``overwrite``); its id."""

    @abstractmethod
    def sign_part(
        self, filename: str, upload_id: str, number: int, *, expires: timedelta
    ) -> UploadForm:
        """A ``PUT`` of part ``number`` (from 1) of that upload, until ``expires`` from now; its
        answer carries the part's ``ETag``."""

    @abstractmethod
    def stored_parts(self, filename: str, upload_id: str) -> list[StoredPart]:
        """The parts stored so far, by number (what a resumed upload need not send again)."""

    @abstractmethod
    def join_parts(
        self,
        filename: str,
        upload_id: str,
        parts: Sequence[StoredPart],
        *,
        overwrite: bool,
        check: BodyCheck | None = None,
    ) -> None:
        """Assemble ``parts`` as ``filename`` (``FileExists`` when taken and not ``overwrite``:
        the parts are then removed), the whole going through ``check`` (as for
        :meth:`publish_staged`); refused, nothing of it is left. Afterwards the upload is
        closed. ``overwrite`` is the one the upload was started with."""

    @abstractmethod
    def abort_parts(self, filename: str, upload_id: str) -> None:
        """Close the upload, removing its parts (done for an unknown or closed one)."""

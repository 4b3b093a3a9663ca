"""What a backend implements so that browsers upload straight to its store (S3, Swift).

The application only signs, checks and publishes; the bytes go from the browser to the store.
A backend without it (local, GridFS, any third-party backend) still gets direct uploads: the
application receives the bodies itself (``flask_fs.uploads``), in bounded memory.

Two shapes of upload, both create-only unless the storage allows overwriting:

- **one body**: the browser sends the whole file to a *staging* name (a reserved
  :data:`STAGING_FOLDER` name, never a file's), bounded in size by the store; the application
  checks it, then :meth:`StoreUploads.publish_staged` gives it its name.
- **in parts** (S3 multipart, Swift segments): the upload is opened for the file's own name;
  each part is signed on its own; :meth:`StoreUploads.join_parts` assembles them under that name,
  refused by the store when the name exists (``If-None-Match: *`` on S3's
  ``CompleteMultipartUpload`` and on Swift's manifest ``PUT``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from ..names import TEMPORARY_PREFIX

#: Where bodies uploaded in one piece wait for their checks (a reserved name that no file can
#: be given and listings skip), swept when abandoned.
STAGING_FOLDER = TEMPORARY_PREFIX + "uploads"


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
    def publish_staged(self, staging: str, filename: str, *, overwrite: bool) -> None:
        """Give the body stored under ``staging`` the name ``filename`` (refused with
        ``FileExists``, the staged body removed, when the name is taken and not
        ``overwrite``), atomically: readers of ``filename`` see the old file or the new one
        whole. ``staging`` is gone afterwards."""

    @abstractmethod
    def start_parts(self, filename: str, *, content_type: str | None) -> str:
        """Open an upload in parts for ``filename``; its id."""

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
        self, filename: str, upload_id: str, parts: Sequence[StoredPart], *, overwrite: bool
    ) -> None:
        """Assemble ``parts`` as ``filename`` (``FileExists`` when taken and not ``overwrite``:
        the parts are then removed). Afterwards the upload is closed."""

    @abstractmethod
    def abort_parts(self, filename: str, upload_id: str) -> None:
        """Close the upload, removing its parts (done for an unknown or closed one)."""

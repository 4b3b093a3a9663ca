"""Sweeping abandoned direct uploads: what waits under ``STAGING_FOLDER`` (bodies sent to a
store and never completed, parts the application keeps), through the backend's own listing;
and the records of completed ones (:mod:`flask_fs.uploads.records`) once old."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

from ..backends import BaseBackend, FileInfo
from ..backends.direct import STAGING_FOLDER, is_record
from ..errors import FileNotFound


def sweep_staging(backend: BaseBackend, older_than: float, remove: bool = True) -> Iterator[str]:
    """Yield (and, if ``remove``, delete) each abandoned upload under ``STAGING_FOLDER``: one
    whose newest entry is older than ``older_than`` seconds (an upload in parts still receiving
    parts is left whole)."""
    cutoff = time.time() - older_than
    uploads: dict[str, list[FileInfo]] = {}
    for info in backend.list_details(STAGING_FOLDER + "/"):
        upload = info.name[len(STAGING_FOLDER) + 1 :].split("/", 1)[0]
        uploads.setdefault(upload, []).append(info)
    for upload, entries in uploads.items():
        if max(entry.modified.timestamp() for entry in entries) > cutoff:
            continue  # an upload may still be running
        if remove:
            for entry in entries:
                with contextlib.suppress(FileNotFound):
                    backend.delete(entry.name)
        if is_record(entries[0].name):
            yield f"record of ended upload {upload!r}"
            continue
        size = sum(entry.size for entry in entries)
        yield f"abandoned upload {upload!r} ({len(entries)} part(s), {size} bytes)"


def is_staging(name: str) -> bool:
    """Whether a listed name is an upload's, under ``STAGING_FOLDER``: never a file."""
    return name.startswith(STAGING_FOLDER + "/")


def may_hold_staging(prefix: str) -> bool:
    """Whether a listing under ``prefix`` can meet an upload's name (see :func:`is_staging`)."""
    folder = STAGING_FOLDER + "/"
    return folder.startswith(prefix) or prefix.startswith(folder)


__all__ = ["is_staging", "may_hold_staging", "sweep_staging"]

"""Direct uploads the application receives itself: for backends whose store takes no upload
from browsers (local, GridFS, third-party backends; ``direct_uploads()`` is ``None``).

A body is streamed into the storage as it arrives, create-only unless the storage overwrites,
checked on the way (:class:`~flask_fs.uploads.checks.Receiving`): memory stays bounded, and a
body that is too large or of another type is never published. An upload in parts keeps each
part in the storage itself, as ``STAGING_FOLDER/<upload id>/<part number>`` (so that every
process of the application sees them, on GridFS as on a shared disk); completing it streams the
parts in order into the file, then removes them.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Sequence
from typing import IO

from ..backends import BaseBackend
from ..backends.direct import STAGING_FOLDER, StoredPart
from ..errors import FileExists, FileNotFound
from .checks import Completed, Receiving, UploadRefused
from .tickets import Ticket


def new_upload_id() -> str:
    """A fresh, unguessable upload id (a safe name segment)."""
    return secrets.token_hex(16)


def parts_folder(upload_id: str) -> str:
    """Where the parts of an upload are kept (with a trailing ``/``)."""
    return f"{STAGING_FOLDER}/{upload_id}/"


def part_name(upload_id: str, number: int) -> str:
    """The name part ``number`` is kept under (zero-padded: listed in order)."""
    return f"{parts_folder(upload_id)}{number:05d}"


def receive_body(
    backend: BaseBackend, ticket: Ticket, body: IO[bytes], overwrite: bool
) -> Completed:
    """Stream ``body`` into the ticket's file, checked on the way; published only whole and
    right (:class:`~flask_fs.errors.FileExists` when the name is taken by then)."""
    receiving = Receiving(ticket.max_size, ticket)
    with backend.open_write(ticket.filename, overwrite=overwrite) as target:
        receiving.pump(body, target)
        return receiving.finish()


def receive_part(backend: BaseBackend, ticket: Ticket, number: int, body: IO[bytes]) -> StoredPart:
    """Store part ``number`` of the ticket's upload (replacing one sent before); refused when
    the parts would hold more than the ticket's ``max_size``."""
    assert ticket.upload_id is not None
    others = sum(p.size for p in stored_parts(backend, ticket.upload_id) if p.number != number)
    receiving = Receiving(ticket.max_size - others)
    with backend.open_write(part_name(ticket.upload_id, number), overwrite=True) as target:
        receiving.pump(body, target)
    return StoredPart(number, receiving.size, receiving.digest.hexdigest())


def stored_parts(backend: BaseBackend, upload_id: str) -> list[StoredPart]:
    """The parts stored for ``upload_id``, by number; each one's ETag is its SHA-256."""
    folder = parts_folder(upload_id)
    parts = []
    for info in backend.list_details(folder):
        number = info.name[len(folder) :]
        if not number.isdigit():
            continue
        checksum = info.checksum
        if checksum is None:
            try:
                checksum = backend.metadata(info.name)["checksum"]
            except FileNotFound:  # replaced or aborted meanwhile
                continue
        parts.append(StoredPart(int(number), info.size, checksum.partition(":")[2]))
    return sorted(parts, key=lambda part: part.number)


def join_parts(
    backend: BaseBackend, ticket: Ticket, parts: Sequence[StoredPart], overwrite: bool
) -> Completed:
    """Stream ``parts`` in order into the ticket's file, checked on the way, then remove every
    part of the upload. A refused file is not published, and its parts are removed too."""
    assert ticket.upload_id is not None
    receiving = Receiving(ticket.max_size, ticket)
    try:
        with backend.open_write(ticket.filename, overwrite=overwrite) as target:
            for part in parts:
                with backend.open_read(part_name(ticket.upload_id, part.number)) as source:
                    receiving.pump(source, target)
            completed = receiving.finish()
    except (UploadRefused, FileExists):
        abort_parts(backend, ticket.upload_id)
        raise
    abort_parts(backend, ticket.upload_id)
    return completed


def abort_parts(backend: BaseBackend, upload_id: str) -> None:
    """Remove every part of ``upload_id`` (nothing to do for an unknown one)."""
    for name in list(backend.list_files(parts_folder(upload_id))):
        with contextlib.suppress(FileNotFound):
            backend.delete(name)


__all__ = [
    "abort_parts",
    "join_parts",
    "new_upload_id",
    "part_name",
    "parts_folder",
    "receive_body",
    "receive_part",
    "stored_parts",
]

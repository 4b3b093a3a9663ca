"""Completing direct uploads on every path, and telling the application.

- a body sent to the store (S3, Swift): the staged body is read through the checks, then gets
  its name (:meth:`~flask_fs.backends.direct.StoreUploads.publish_staged`);
- parts: the parts given are checked against the parts stored (numbers, ETags, total size),
  then joined through the checks, by the store or by the application
  (:mod:`flask_fs.uploads.appside`).

A file that fails its checks is never published over another (a create-only one may be, for
an instant, then is removed), and the refusal is raised; one that passes is recorded
(:mod:`flask_fs.uploads.records`) and announced once with the
:data:`~flask_fs.signals.upload_completed` signal. Completing it again answers the same.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from datetime import timedelta
from typing import IO, TYPE_CHECKING, Any

from flask import current_app

from ..backends.direct import StoredPart, UploadForm
from ..errors import FileExists, FileNotFound, FSError
from ..signals import upload_completed
from . import appside, records
from .checks import Completed, Receiving, UploadRefused
from .tickets import Ticket

if TYPE_CHECKING:
    from ..storage import Storage

#: The most parts an upload may have (S3's limit).
MAX_PARTS = 10_000


def announce(storage: Storage, completed: Completed) -> Completed:
    """Send :data:`~flask_fs.signals.upload_completed` for ``completed``."""
    upload_completed.send(
        current_app._get_current_object(),  # type: ignore[attr-defined]
        storage=storage,
        filename=completed.filename,
        size=completed.size,
        sha256=completed.sha256,
    )
    return completed


def complete_staged(storage: Storage, ticket: Ticket) -> Completed:
    """Check and name a body the browser sent to the store (``FileNotFound``: nothing staged;
    ``FileExists``: the name is taken). Completed before, the same answer."""
    with records.completing(storage.backend, ticket):
        return _complete_staged(storage, ticket)


def _complete_staged(storage: Storage, ticket: Ticket) -> Completed:
    uploads = storage.backend.direct_uploads()
    if uploads is None or ticket.staging is None or ticket.upload_id is not None:
        raise FileNotFound(f"no staged upload to complete for {ticket.filename!r}")
    # The form stays valid after the completion: a body sent to it again is not published
    # (it waits for the sweep), the first completion's answer is given again.
    completed = records.recorded(storage.backend, ticket)
    if completed is not None:
        return completed
    receiving = Receiving(ticket.max_size, ticket)
    try:
        uploads.publish_staged(
            ticket.staging, ticket.filename, overwrite=storage.overwrite, check=receiving
        )
    except FileNotFound as error:
        return _completed_before(storage, ticket, error)
    return _record(storage, ticket, receiving.finish())


def complete_body(storage: Storage, ticket: Ticket, body: IO[bytes]) -> Completed:
    """Receive the one body of the ticket's upload (backends whose store takes none from
    browsers), checked on the way. Sent again to the same ticket, it is not read: the first
    answer is given again, and the file it named is never replaced by another body."""
    with records.completing(storage.backend, ticket):
        completed = records.recorded(storage.backend, ticket)
        if completed is not None:
            return completed
        received = appside.receive_body(storage.backend, ticket, body, storage.overwrite)
        return _record(storage, ticket, received)


def _completed_before(storage: Storage, ticket: Ticket, error: Exception) -> Completed:
    """The answer of an earlier completion of the ticket's upload; else ``error`` (an unknown
    upload, parts not as stored) is raised."""
    completed = records.recorded(storage.backend, ticket)
    if completed is None:
        raise error
    return completed


def _record(storage: Storage, ticket: Ticket, completed: Completed) -> Completed:
    """Record ``completed`` and announce it, unless another completion of it did."""
    if records.record(storage.backend, ticket, completed):
        announce(storage, completed)
    return completed


#: How long a store's URL for one part stays valid (the ticket's own expiry if sooner): a part
#: is signed just before it is sent, and a URL still valid after the join could overwrite
#: what the file is made of on stores whose parts stay objects (Swift's segments).
PART_URL_SECONDS = 600


def sign_part(storage: Storage, ticket: Ticket, number: int, app_url: str) -> UploadForm:
    """How the browser sends part ``number``: a ``PUT`` to the store, or to ``app_url`` (the
    application's part URL) when the application keeps the parts."""
    check_part_number(number)
    records.check_open(storage.backend, ticket)
    uploads = storage.backend.direct_uploads()
    if uploads is None:
        return UploadForm("PUT", app_url)
    assert ticket.upload_id is not None
    left = max(1, min(ticket.expires - int(time.time()), PART_URL_SECONDS))
    return uploads.sign_part(
        ticket.filename, ticket.upload_id, number, expires=timedelta(seconds=left)
    )


def receive_part(storage: Storage, ticket: Ticket, number: int, body: IO[bytes]) -> StoredPart:
    """Store part ``number`` (checked by the caller: :func:`check_part_number`) of an upload
    whose parts the application keeps; refused (a 404) once the upload ended, even when it
    ends while the part arrives."""
    assert ticket.upload_id is not None
    records.check_open(storage.backend, ticket)
    part = appside.receive_part(storage.backend, ticket, number, body)
    how = records.ended(storage.backend, ticket)
    if how is not None:  # ended while the part arrived: it is removed (aborted: all of them)
        if how == "completed":
            with contextlib.suppress(FileNotFound):
                storage.backend.delete(appside.part_name(ticket.upload_id, number))
        else:
            appside.abort_parts(storage.backend, ticket.upload_id)
        raise FileNotFound(f"the upload of {ticket.filename!r} is {how}")
    return part


def list_parts(storage: Storage, ticket: Ticket) -> list[StoredPart]:
    """The parts stored so far (what a resumed upload need not send again); a 404 once the
    upload ended (:func:`flask_fs.uploads.records.check_open`)."""
    assert ticket.upload_id is not None
    records.check_open(storage.backend, ticket)
    uploads = storage.backend.direct_uploads()
    if uploads is None:
        return appside.stored_parts(storage.backend, ticket.upload_id)
    return uploads.stored_parts(ticket.filename, ticket.upload_id)


def complete_parts(storage: Storage, ticket: Ticket, given: Any) -> Completed:
    """Join the parts ``given`` (Uppy's ``[{"PartNumber": n, "ETag": e}, ...]``) into the
    ticket's file and check it. Parts larger together than the ticket's ``max_size`` are
    refused and removed (the store took them: it cannot bound a part's size). Completed
    before, the same answer."""
    with records.completing(storage.backend, ticket):
        return _complete_parts(storage, ticket, given)


def _complete_parts(storage: Storage, ticket: Ticket, given: Any) -> Completed:
    assert ticket.upload_id is not None
    try:
        # An upload that ended (its record says how) joins no part: completed, the first
        # completion's answer is given again; aborted, it is unknown (a 404).
        chosen = choose_parts(list_parts(storage, ticket), given, ticket)
    except FileNotFound as error:  # the upload is closed
        return _completed_before(storage, ticket, error)
    except UploadRefused as refused:
        if refused.status == 413:  # the parts can never make a file: nothing is left
            _abort(storage, ticket)
            raise
        return _completed_before(storage, ticket, refused)  # its parts are gone if completed
    uploads = storage.backend.direct_uploads()
    try:
        if uploads is None:
            completed = appside.join_parts(storage.backend, ticket, chosen, storage.overwrite)
        else:
            receiving = Receiving(ticket.max_size, ticket)
            uploads.join_parts(
                ticket.filename,
                ticket.upload_id,
                chosen,
                overwrite=storage.overwrite,
                check=receiving,
            )
            completed = receiving.finish()
    except FileNotFound as error:  # completed meanwhile
        return _completed_before(storage, ticket, error)
    except (UploadRefused, FileExists) as refused:
        if not getattr(refused, "still_open", False):
            # Refused once joined (its parts are removed): the upload ends there, as it does
            # on S3, where the refused upload id is spent.
            with contextlib.suppress(FSError):
                records.record_abort(storage.backend, ticket)
        raise
    return _record(storage, ticket, completed)


def abort_upload(storage: Storage, ticket: Ticket) -> None:
    """Close the upload for good (no part is signed, stored or joined after this, on any
    backend) and remove its parts; an upload completed before is left as it is."""
    with records.completing(storage.backend, ticket):
        _abort(storage, ticket)


def _abort(storage: Storage, ticket: Ticket) -> None:
    """Record the abort, then remove the parts. An abort that cannot be recorded removes them
    still, and is raised (a 5xx: the browser may abort again), for the upload is not closed."""
    assert ticket.upload_id is not None
    try:
        if records.record_abort(storage.backend, ticket) is not None:
            return  # completed: its parts are the file's, or gone
    except FSError:
        _remove_parts(storage, ticket.upload_id, ticket.filename)
        raise
    _remove_parts(storage, ticket.upload_id, ticket.filename)


def _remove_parts(storage: Storage, upload_id: str, filename: str) -> None:
    uploads = storage.backend.direct_uploads()
    if uploads is None:
        appside.abort_parts(storage.backend, upload_id)
    else:
        uploads.abort_parts(filename, upload_id)


def choose_parts(stored: Sequence[StoredPart], given: Any, ticket: Ticket) -> list[StoredPart]:
    """The stored parts ``given`` names, in increasing numbers and with the ETags they were
    stored with; their total size within the ticket's limits."""
    if not isinstance(given, list) or not given:
        raise UploadRefused(400, "complete needs the list of parts", still_open=True)
    by_number = {part.number: part for part in stored}
    chosen: list[StoredPart] = []
    for item in given:
        try:
            number, etag = int(item["PartNumber"]), str(item["ETag"])
        except (KeyError, TypeError, ValueError):
            raise UploadRefused(
                400, "each part needs its PartNumber and ETag", still_open=True
            ) from None
        part = by_number.get(number)
        if part is None or _bare(part.etag) != _bare(etag):
            raise UploadRefused(400, f"part {number} is not stored as given", still_open=True)
        if chosen and number <= chosen[-1].number:
            raise UploadRefused(400, "parts must be given in increasing numbers", still_open=True)
        chosen.append(part)
    total = sum(part.size for part in chosen)
    if total > ticket.max_size:
        raise UploadRefused(413, f"the upload is larger than {ticket.max_size} bytes")
    if ticket.size is not None and total != ticket.size:
        raise UploadRefused(
            400, f"the upload has {total} bytes, not the {ticket.size} declared", still_open=True
        )
    return chosen


def check_part_number(number: int) -> None:
    if not 1 <= number <= MAX_PARTS:
        raise UploadRefused(400, f"a part number is from 1 to {MAX_PARTS}")


def _bare(etag: str) -> str:
    return etag.strip().removeprefix("W/").strip('"')


__all__ = [
    "MAX_PARTS",
    "abort_upload",
    "announce",
    "check_part_number",
    "choose_parts",
    "complete_body",
    "complete_parts",
    "complete_staged",
    "list_parts",
    "receive_part",
    "sign_part",
]

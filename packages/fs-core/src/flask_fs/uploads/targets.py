"""Where a browser sends an upload: :func:`upload_target` (``Storage.upload_target``) and the
start of an upload in parts, each with its ticket.

Before anything is signed the name goes through what :meth:`Storage.save` applies (extension
rules, ``upload_to`` and ``prefix``, name validation, folder conflicts) and an existing name is
refused early when the storage does not overwrite (completion is what guarantees it).
"""

from __future__ import annotations

import math
import secrets
import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from flask import current_app

from ..backends.direct import STAGING_FOLDER
from ..errors import UploadNotAllowed
from ..links import view_url
from ..signing import as_timedelta
from .appside import new_upload_id
from .checks import UploadRefused
from .tickets import Ticket, new_ticket

if TYPE_CHECKING:
    from ..storage import Prefix, Storage

#: The blueprint's endpoints (see :mod:`flask_fs.uploads.views`).
BODY_ENDPOINT = "fs_uploads.put_body"
PART_ENDPOINT = "fs_uploads.put_part"
COMPLETE_ENDPOINT = "fs_uploads.complete"


def checked_name(storage: Storage, filename: str, prefix: Prefix = None) -> str:
    """The name an upload of ``filename`` gets, checked as :meth:`Storage.save` checks it, and
    refused (``FileExists``) when it is taken and the storage does not overwrite."""
    if not storage.config.get("direct_uploads"):
        raise UploadNotAllowed(
            f"storage {storage.name!r} does not take direct uploads: set "
            f"{storage.name.upper().replace('-', '_')}_FS_DIRECT_UPLOADS = True"
        )
    name = storage._writable(storage.upload_name(None, filename, prefix))  # type: ignore[arg-type]
    storage.backend.refuse_existing(name, storage.overwrite)
    return name


def _limits(
    storage: Storage, max_size: int | None, expires: float | timedelta | None
) -> tuple[int, timedelta]:
    config = storage.config
    if max_size is None:
        max_size = int(config.direct_uploads_max_size)
    if isinstance(max_size, bool) or not isinstance(max_size, int) or max_size <= 0:
        raise UploadNotAllowed(f"max_size must be a number of bytes above 0, not {max_size!r}")
    return max_size, as_timedelta(config.direct_uploads_expires if expires is None else expires)


def _check_size(size: int | None, max_size: int) -> None:
    if size is None:
        return
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise UploadNotAllowed(f"size must be a number of bytes, not {size!r}")
    if size > max_size:
        raise UploadRefused(413, f"the upload is larger than {max_size} bytes")


def upload_target(
    storage: Storage,
    filename: str,
    *,
    max_size: int | None = None,
    content_type: str | None = None,
    expires: float | timedelta | None = None,
    size: int | None = None,
    prefix: Prefix = None,
) -> dict[str, Any]:
    """What a browser sends one body with: see :meth:`flask_fs.Storage.upload_target`."""
    name = checked_name(storage, filename, prefix)
    max_size, lifetime = _limits(storage, max_size, expires)
    _check_size(size, max_size)
    content_type = content_type or None
    uploads = storage.backend.direct_uploads()
    staging = None if uploads is None else f"{STAGING_FOLDER}/{secrets.token_hex(16)}"
    ticket = new_ticket(
        storage.name,
        name,
        max_size=max_size,
        expires=lifetime,
        content_type=content_type,
        size=size,
        staging=staging,
        nonce=secrets.token_hex(8) if staging is None else None,
    )
    token = ticket.sign(current_app)
    complete: str | None = None  # a PUT to the application: its answer is the completion
    if uploads is None or staging is None:
        headers = {"Content-Type": content_type} if content_type else {}
        url = view_url(BODY_ENDPOINT, external=True, fs=storage.name, ticket=token)
        target: dict[str, Any] = {"method": "PUT", "url": url, "fields": {}, "headers": headers}
    else:
        complete = view_url(COMPLETE_ENDPOINT, external=True, fs=storage.name, ticket=token)
        form = uploads.sign_upload(
            staging,
            max_size=max_size,
            content_type=content_type,
            expires=lifetime,
            redirect=complete,
        )
        target = form.as_dict()
    return {
        **target,
        "complete": complete,
        "filename": name,
        "max_size": max_size,
        "expires": seconds_left(ticket),
    }


def start_upload(
    storage: Storage, filename: str, *, content_type: str | None = None, size: int | None = None
) -> Ticket:
    """Open an upload in parts of ``filename`` (checked as :func:`checked_name` does): its
    ticket, which carries the upload id."""
    name = checked_name(storage, filename)
    max_size, lifetime = _limits(storage, None, None)
    _check_size(size, max_size)
    content_type = content_type or None
    uploads = storage.backend.direct_uploads()
    if uploads is None:
        upload_id = new_upload_id()
    else:
        upload_id = uploads.start_parts(
            name, content_type=content_type, overwrite=storage.overwrite
        )
    ticket = new_ticket(
        storage.name,
        name,
        max_size=max_size,
        expires=lifetime,
        content_type=content_type,
        size=size,
    )
    return ticket.with_upload_id(upload_id)


def seconds_left(ticket: Ticket) -> int:
    """How long the ticket still works, in whole seconds (what Uppy takes as ``expires``)."""
    return max(0, math.floor(ticket.expires - time.time()))


__all__ = ["checked_name", "seconds_left", "start_upload", "upload_target"]

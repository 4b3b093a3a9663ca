"""What a completed direct upload answered, kept in the storage so that completing it again (a
browser that retries after a lost reply, a store that accepts a completion twice) gets the same
answer, and the application hears of the upload once.

A record is a small JSON object under ``STAGING_FOLDER``, named after the upload's staging name
or upload id, written create-only: of two completions that race, the one whose record is
written announces the upload. Records are swept with abandoned uploads (``Storage.sweep``):
a completion repeated after that is answered as an unknown upload.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import threading
from collections.abc import Iterator

from ..backends import BaseBackend
from ..backends.direct import RECORDS, is_record
from ..errors import FileExists, FileNotFound, FSError
from .checks import Completed
from .tickets import Ticket

log = logging.getLogger(__name__)


def record_name(ticket: Ticket) -> str:
    """Where the completion of the ticket's upload is recorded."""
    upload = ticket.upload_id or ticket.staging or ticket.nonce or ticket.filename
    digest = hashlib.sha256(f"{ticket.filename}\0{upload}".encode()).hexdigest()[:32]
    return RECORDS + digest


_locks_guard = threading.Lock()
_locks: dict[tuple[str, str], tuple[threading.Lock, int]] = {}


@contextlib.contextmanager
def completing(backend: BaseBackend, ticket: Ticket) -> Iterator[None]:
    """Hold the completion of the ticket's upload in this process: another completion of it
    waits, then finds it completed (and answers from its record), instead of racing it
    (on Swift, a loser that removes the parts the winner's manifest is being written with)."""
    key = (backend.name, record_name(ticket))
    with _locks_guard:
        lock, users = _locks.get(key, (threading.Lock(), 0))
        _locks[key] = (lock, users + 1)
    try:
        with lock:
            yield
    finally:
        with _locks_guard:
            lock, users = _locks[key]
            if users == 1:
                del _locks[key]
            else:
                _locks[key] = (lock, users - 1)


def record(backend: BaseBackend, ticket: Ticket, completed: Completed) -> bool:
    """Record ``completed``; whether this call did (``False``: another completion of the same
    upload did first). A record that cannot be written is logged, and counts as written: the
    application then hears of a repeated completion twice rather than of none."""
    data = json.dumps(
        {"filename": completed.filename, "size": completed.size, "sha256": completed.sha256}
    ).encode()
    try:
        backend.write_bytes(record_name(ticket), data, overwrite=False)
    except FileExists:
        return False
    except FSError as error:
        log.warning(
            "storage %r: the completion of %r was not recorded: %s",
            backend.name,
            ticket.filename,
            error,
        )
    return True


def recorded(backend: BaseBackend, ticket: Ticket) -> Completed | None:
    """The recorded completion of the ticket's upload, if it was completed (``None`` if not, or
    if the record is unreadable)."""
    try:
        fields = json.loads(backend.read(record_name(ticket)))
        completed = Completed(str(fields["filename"]), int(fields["size"]), str(fields["sha256"]))
    except (FileNotFound, ValueError, KeyError, TypeError):
        return None
    return completed if completed.filename == ticket.filename else None


__all__ = ["completing", "is_record", "record", "record_name", "recorded"]

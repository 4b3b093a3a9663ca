"""How a direct upload ended, kept in the storage: what its completion answered, so that
completing it again (a browser that retries after a lost reply, a store that accepts a
completion twice) gets the same answer and the application hears of the upload once; or that
it was aborted, so that no part sent after the abort (a request still in flight, a part URL
still valid) is stored, signed or joined into a file.

A record is a small JSON object under ``STAGING_FOLDER``, named after the upload's staging name
or upload id, written create-only: an upload ends once, and of two completions that race, the
one whose record is written announces the upload. Records are swept with abandoned uploads
(``Storage.sweep``): a request for the upload after that is answered as for an unknown one.
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


def _write(
    backend: BaseBackend,
    ticket: Ticket,
    fields: dict[str, object],
    what: str,
    *,
    overwrite: bool = False,
    strict: bool = False,
) -> bool:
    """Write the ticket's record (create-only unless ``overwrite``); whether this call did
    (``False``: the upload ended before). A record that cannot be written is raised if
    ``strict``, else logged and counted as written."""
    data = json.dumps({"filename": ticket.filename, **fields}).encode()
    try:
        backend.write_bytes(record_name(ticket), data, overwrite=overwrite)
    except FileExists:
        return False
    except FSError as error:
        log.warning(
            "storage %r: the %s of %r was not recorded: %s",
            backend.name,
            what,
            ticket.filename,
            error,
        )
        if strict:
            raise
    return True


#: What :func:`_read` gives for a record that exists but cannot be read: the upload ended, no
#: one can say how.
_DAMAGED: dict[str, object] = {"damaged": True}


def _read(backend: BaseBackend, ticket: Ticket) -> dict[str, object] | None:
    """The ticket's record; ``None`` when there is none, :data:`_DAMAGED` when it is not one
    (cut short, or another file's)."""
    try:
        fields = json.loads(backend.read(record_name(ticket)))
    except FileNotFound:
        return None
    except ValueError:
        return _DAMAGED
    if not isinstance(fields, dict) or fields.get("filename") != ticket.filename:
        return _DAMAGED
    return fields


def _completion(fields: dict[str, object] | None, ticket: Ticket) -> Completed | None:
    if fields is None or fields.get("aborted"):
        return None
    size, sha256 = fields.get("size"), fields.get("sha256")
    if not isinstance(size, int) or not isinstance(sha256, str):
        return None
    return Completed(ticket.filename, size, sha256)


def record(backend: BaseBackend, ticket: Ticket, completed: Completed) -> bool:
    """Record ``completed``; whether the application is to hear of it: ``False`` when another
    completion of the upload was recorded first. One that lost to an abort (in another
    process) or to a damaged record still published its file: its record replaces the other,
    so that the record says what the storage holds, and it is announced. A record that cannot
    be written is logged, and counts as written: the application then hears of a repeated
    completion twice rather than of none."""
    fields: dict[str, object] = {"size": completed.size, "sha256": completed.sha256}
    if _write(backend, ticket, fields, "completion"):
        return True
    if recorded(backend, ticket) is not None:
        return False
    _write(backend, ticket, fields, "completion", overwrite=True)
    return True


def recorded(backend: BaseBackend, ticket: Ticket) -> Completed | None:
    """The recorded completion of the ticket's upload, if it was completed (``None`` if not, or
    if the record is unreadable)."""
    return _completion(_read(backend, ticket), ticket)


def record_abort(backend: BaseBackend, ticket: Ticket) -> Completed | None:
    """Record that the ticket's upload is aborted, unless it ended before: then its recorded
    completion, if it was completed (``None`` if it was aborted). A record that cannot be
    written is raised (:class:`~flask_fs.errors.FSError`): the abort did not happen."""
    if _write(backend, ticket, {"aborted": True}, "abort", strict=True):
        return None
    return recorded(backend, ticket)


def ended(backend: BaseBackend, ticket: Ticket) -> str | None:
    """How the ticket's upload ended: ``"aborted"``, ``"completed"``, ``"ended"`` (its record
    is damaged), or ``None`` (it has not)."""
    fields = _read(backend, ticket)
    if fields is None:
        return None
    if fields is _DAMAGED:
        return "ended"
    return "aborted" if fields.get("aborted") else "completed"


def check_open(backend: BaseBackend, ticket: Ticket) -> None:
    """Refuse (:class:`~flask_fs.errors.FileNotFound`, a 404) a request for parts of an upload
    that ended: aborted, or completed (a part sent then could never be part of the file)."""
    how = ended(backend, ticket)
    if how is not None:
        raise FileNotFound(f"the upload of {ticket.filename!r} is {how}")


__all__ = [
    "check_open",
    "completing",
    "ended",
    "is_record",
    "record",
    "record_abort",
    "record_name",
    "recorded",
]

"""The checks every direct upload passes before it is reported done, whichever way its bytes
came: at most ``max_size`` bytes, exactly the declared size when one was declared, and first
bytes of the type signed (and of the type the name says: :mod:`flask_fs.sniffing`).

:class:`Receiving` runs them on the bytes as they pass, counting and hashing on the way, so that
a body is refused before it is published: as the application receives it, or as the backend
reads what the store holds (:class:`~flask_fs.backends.direct.BodyCheck`).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..backends.direct import BodyCheck
from ..errors import UploadNotAllowed
from ..sniffing import SNIFF_BYTES, matches, matches_name
from .tickets import Ticket


class UploadRefused(UploadNotAllowed):
    """An upload that does not match what was signed; ``status`` is the HTTP status that says
    why (413: too large, 400: not the declared size, 415: not the type signed). ``still_open``:
    only the request is refused (a completion naming parts not as stored), the upload and its
    parts are kept for a right one."""

    def __init__(self, status: int, message: str, *, still_open: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.still_open = still_open


@dataclass(frozen=True)
class Completed:
    """A direct upload stored and checked."""

    filename: str
    size: int
    sha256: str


class Receiving(BodyCheck):
    """Bytes of an upload as they pass: counted (refused beyond ``limit``), hashed, and, with a
    ``ticket``, their first bytes checked against its type and name. :meth:`finish` (or
    :meth:`sha256`) may be asked again: the verdict does not change."""

    def __init__(self, limit: int, ticket: Ticket | None = None) -> None:
        super().__init__()
        self.limit = limit
        self.ticket = ticket
        self.size = 0
        self._head = b""
        self._type_checked = ticket is None

    def feed(self, chunk: bytes) -> None:
        """Account for ``chunk``, before it is written anywhere."""
        self.size += len(chunk)
        if self.size > self.limit:
            raise UploadRefused(413, f"the upload is larger than {self.limit} bytes")
        if not self._type_checked:
            self._head += chunk[: SNIFF_BYTES - len(self._head)]
            if len(self._head) >= SNIFF_BYTES:
                self._check_type()
        self.digest.update(chunk)

    def finish(self) -> Completed:
        """The upload, once every byte went through; refused if too short or of another type."""
        if not self._type_checked:
            self._check_type()
        ticket = self.ticket
        if ticket is not None and ticket.size is not None and self.size != ticket.size:
            raise UploadRefused(
                400, f"the upload has {self.size} bytes, not the {ticket.size} declared"
            )
        return Completed(ticket.filename if ticket else "", self.size, self.digest.hexdigest())

    def _check_type(self) -> None:
        self._type_checked = True
        assert self.ticket is not None
        if not (
            matches(self.ticket.content_type, self._head)
            and matches_name(self.ticket.filename, self._head)
        ):
            raise UploadRefused(
                415,
                f"the content of {self.ticket.filename!r} is not what its name or declared type "
                "says",
            )

    def sha256(self) -> str:
        """The SHA-256 of :meth:`finish`: what a backend asks before publishing the body."""
        return self.finish().sha256


__all__ = ["Completed", "Receiving", "UploadRefused"]

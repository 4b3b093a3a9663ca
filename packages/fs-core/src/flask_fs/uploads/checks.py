"""The checks every direct upload passes before it is reported done, whichever way its bytes
came: at most ``max_size`` bytes, exactly the declared size when one was declared, and first
bytes of the type signed (and of the type the name says: :mod:`flask_fs.sniffing`).

:class:`Receiving` runs them on the bytes as they pass, counting and hashing on the way, so that
a body received by the application is refused before it is published, and a file the store
assembled is read once to be checked (and removed when it fails).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import IO

from ..backends import BaseBackend
from ..errors import UploadNotAllowed
from ..sniffing import SNIFF_BYTES, matches, matches_name
from ..streams import CHUNK_SIZE
from .tickets import Ticket


class UploadRefused(UploadNotAllowed):
    """An upload that does not match what was signed; ``status`` is the HTTP status that says
    why (413: too large, 400: not the declared size, 415: not the type signed)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Completed:
    """A direct upload stored and checked."""

    filename: str
    size: int
    sha256: str


class Receiving:
    """Bytes of an upload as they pass: counted (refused beyond ``limit``), hashed, and, with a
    ``ticket``, their first bytes checked against its type and name."""

    def __init__(self, limit: int, ticket: Ticket | None = None) -> None:
        self.limit = limit
        self.ticket = ticket
        self.size = 0
        self.digest = hashlib.sha256()
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

    def pump(self, source: IO[bytes], target: IO[bytes] | None = None) -> None:
        """Read ``source`` to its end a chunk at a time, each checked, then written to
        ``target`` (when given)."""
        read = getattr(source, "read1", source.read)
        while chunk := read(CHUNK_SIZE):
            self.feed(chunk)
            if target is not None:
                target.write(chunk)


def check_stored(backend: BaseBackend, ticket: Ticket) -> Completed:
    """Check the file a store assembled under the ticket's name, reading it once; a file that
    fails is deleted before the refusal is raised."""
    receiving = Receiving(ticket.max_size, ticket)
    try:
        with backend.open_read(ticket.filename) as stream:
            receiving.pump(stream)
        return receiving.finish()
    except UploadRefused:
        backend.delete(ticket.filename)
        raise


__all__ = ["Completed", "Receiving", "UploadRefused", "check_stored"]

"""Upload tickets: what the application signed for one upload, handed to the browser opaque.

A ticket is a signed token (the application's ``SECRET_KEY``, salted for this one purpose, with
``flask_fs.signing.signer``: ``SECRET_KEY_FALLBACKS`` verify too) that carries everything the
application decided before the bytes came: the storage, the file's final name, the size limit
and the declared size, the content type, where the bytes wait (a staging name, or the id of an
upload in parts) and when the ticket expires. The browser sends it back in URL paths (some
stores drop a redirect URL's query); nothing the browser says besides it is trusted.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import time
from dataclasses import asdict, dataclass, replace
from datetime import timedelta
from typing import Any

from flask import Flask
from itsdangerous import BadSignature

from ..signing import signer

SALT = "flask-fs.upload-ticket"


@dataclass(frozen=True)
class Ticket:
    """One upload, as the application signed it."""

    storage: str  #: the storage's name
    filename: str  #: the name the file gets, validated and authorized
    max_size: int  #: the most bytes it may hold
    expires: int  #: until when the ticket works (seconds since the epoch)
    content_type: str | None = None  #: the type the browser declared, checked on the bytes
    size: int | None = None  #: the size the browser declared, which the file must have exactly
    staging: str | None = None  #: where a body uploaded to the store waits (store uploads)
    upload_id: str | None = None  #: the upload in parts it belongs to
    nonce: str | None = None  #: what tells one body's ticket from another for the same name

    @property
    def expired(self) -> bool:
        return self.expires <= time.time()

    def with_upload_id(self, upload_id: str) -> Ticket:
        return replace(self, upload_id=upload_id)

    def sign(self, app: Flask) -> str:
        """The ticket as a URL-safe token (letters, digits, ``-_.``)."""
        payload = json.dumps(asdict(self), separators=(",", ":"), ensure_ascii=False)
        encoded = base64.urlsafe_b64encode(payload.encode("utf-8")).rstrip(b"=")
        return signer(app, SALT).sign(encoded).decode("ascii")


def new_ticket(
    storage: str,
    filename: str,
    *,
    max_size: int,
    expires: timedelta,
    content_type: str | None = None,
    size: int | None = None,
    staging: str | None = None,
    nonce: str | None = None,
) -> Ticket:
    """A ticket that expires ``expires`` from now (rounded up to the second)."""
    until = math.ceil(time.time() + expires.total_seconds())
    return Ticket(storage, filename, max_size, until, content_type, size, staging, nonce=nonce)


def read_ticket(app: Flask, token: str, storage: str) -> Ticket | None:
    """The ticket ``token`` carries if its signature is valid, it is for ``storage`` and it has
    not expired; else ``None``, whatever the reason (the caller says nothing more)."""
    if not app.config.get("SECRET_KEY"):
        return None
    try:
        encoded = signer(app, SALT).unsign(token.encode("ascii"))
        fields: Any = json.loads(base64.urlsafe_b64decode(encoded + b"=" * (-len(encoded) % 4)))
        ticket = Ticket(**fields)
    except (BadSignature, UnicodeEncodeError, binascii.Error, ValueError, TypeError):
        return None
    if ticket.storage != storage or ticket.expired:
        return None
    return ticket


__all__ = ["SALT", "Ticket", "new_ticket", "read_ticket"]

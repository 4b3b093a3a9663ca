"""URLs to the serving view signed with the application's secret key (local, GridFS, any
backend whose store signs none itself).

The query of such a URL holds the time it expires (absolute, in seconds since the epoch), the
download name and disposition asked, and an HMAC-SHA256 (itsdangerous) of all of these with the
storage's and the file's names: it opens that file of that storage, read only, until then, and
nothing else. The key is ``SECRET_KEY`` (``SECRET_KEY_FALLBACKS`` are accepted too, for key
rotation), salted for this one purpose.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from flask import Flask
from itsdangerous import Signer

from .errors import ConfigurationError, InvalidExpiry

SALT = "flask-fs.signed-url"

#: The query parameters of a signed URL.
EXPIRES, DOWNLOAD_NAME, INLINE, SIGNATURE = "expires", "download_name", "inline", "signature"


@dataclass(frozen=True)
class Grant:
    """What a valid signature allows: one file, until ``expires``, with this disposition."""

    storage: str
    filename: str
    expires: int
    download_name: str | None = None
    inline: bool | None = None

    @property
    def asks_disposition(self) -> bool:
        """Whether the URL sets the ``Content-Disposition`` (a download name, or inline or not)."""
        return self.download_name is not None or self.inline is not None

    def message(self) -> bytes:
        """What the signature is made of: every field, unambiguously."""
        fields = [self.storage, self.filename, self.expires, self.download_name, self.inline]
        return json.dumps(fields, separators=(",", ":"), ensure_ascii=False).encode("utf-8")

    def query(self, app: Flask) -> dict[str, str]:
        """The query parameters of the URL, its signature included."""
        params = {EXPIRES: str(self.expires)}
        if self.download_name is not None:
            params[DOWNLOAD_NAME] = self.download_name
        if self.inline is not None:
            params[INLINE] = "1" if self.inline else "0"
        params[SIGNATURE] = signer(app).get_signature(self.message()).decode("ascii")
        return params


def as_timedelta(expires: float | timedelta) -> timedelta:
    """``expires`` (seconds or a ``timedelta``) as a ``timedelta``; more than zero."""
    if isinstance(expires, bool) or not isinstance(expires, int | float | timedelta):
        raise InvalidExpiry(f"expires must be seconds or a timedelta, not {expires!r}")
    try:
        delta = expires if isinstance(expires, timedelta) else timedelta(seconds=expires)
    except (OverflowError, ValueError):  # inf, nan
        raise InvalidExpiry(f"expires must be a number of seconds, not {expires!r}") from None
    if delta.total_seconds() <= 0:
        raise InvalidExpiry(f"expires must be more than zero, not {expires!r}")
    return delta


def grant(
    storage: str,
    filename: str,
    expires: timedelta,
    download_name: str | None = None,
    inline: bool | None = None,
) -> Grant:
    """A grant for ``filename`` that expires ``expires`` from now (rounded up to the second)."""
    until = math.ceil(time.time() + expires.total_seconds())
    return Grant(storage, filename, until, download_name, inline)


def signer(app: Flask, salt: str = SALT) -> Signer:
    """The signer of the application's secret key(s), salted for one purpose: signed URLs
    (the default ``salt``) or another (upload tickets: :mod:`flask_fs.uploads.tickets`).

    :raises ConfigurationError: if the application has no ``SECRET_KEY``.
    """
    secret = app.config.get("SECRET_KEY")
    if not secret:
        raise ConfigurationError(
            "signed URLs to the serving view and direct uploads need the application's "
            "SECRET_KEY: set it (or sign on the store: SIGNED_URLS on S3, TEMPURL_KEY on Swift)"
        )
    keys = [*(app.config.get("SECRET_KEY_FALLBACKS") or ()), secret]  # the last one signs
    return Signer(keys, salt=salt, key_derivation="hmac", digest_method=hashlib.sha256)


def verify(app: Flask, storage: str, filename: str, args: Mapping[str, str]) -> Grant | None:
    """The grant the query ``args`` carry for ``filename`` of ``storage`` if their signature is
    valid and has not expired, else ``None`` (whatever the reason: the caller says nothing)."""
    try:
        expires = int(args[EXPIRES])
        inline = {None: None, "1": True, "0": False}[args.get(INLINE)]
        signature = args[SIGNATURE].encode("ascii")
    except (KeyError, ValueError, UnicodeEncodeError):
        return None
    found = Grant(storage, filename, expires, args.get(DOWNLOAD_NAME), inline)
    if not app.config.get("SECRET_KEY"):
        return None
    if not signer(app).verify_signature(found.message(), signature):
        return None
    return found if expires > time.time() else None


def is_signed(args: Mapping[str, str]) -> bool:
    """Whether a request's query asks for signed access."""
    return SIGNATURE in args

"""Serving files over HTTP: shared by every backend.

Range requests, ``ETag``/``If-None-Match`` and ``Last-Modified``/``If-Modified-Since`` are
werkzeug's (``send_file`` and ``Response.make_conditional``): nothing here parses a header.
"""

from __future__ import annotations

import mimetypes
import posixpath
from datetime import datetime
from typing import IO, Any

from flask import request, send_file
from werkzeug.wrappers import Response

DEFAULT_MIME = "application/octet-stream"


def guess_mime(filename: str) -> str:
    """The content type for a file name, ``application/octet-stream`` when unknown."""
    return mimetypes.guess_type(filename, strict=False)[0] or DEFAULT_MIME


def is_active(mime: str | None) -> bool:
    """Whether a browser could run script from content of this type (HTML, SVG, XML, JS)."""
    if not mime:
        return False
    base = mime.split(";", 1)[0].strip().lower()
    return any(word in base for word in ("html", "xml", "script")) or base.endswith("+xml")


def download_options(filename: str, mime: str) -> dict[str, Any]:
    """``send_file`` options: active content is sent as an attachment, never inline."""
    return {"as_attachment": is_active(mime), "download_name": posixpath.basename(filename)}


def send_stream(
    stream: IO[bytes],
    *,
    name: str,
    size: int,
    mime: str,
    etag: str | None,
    modified: datetime | None,
) -> Response:
    """A streamed, conditional, range-capable response for an open binary stream."""
    response = send_file(
        stream,
        mimetype=mime,
        conditional=False,
        etag=etag or False,
        last_modified=modified,
        max_age=None,
        **download_options(name, mime),
    )
    response.content_length = size
    response.make_conditional(request.environ, accept_ranges=True, complete_length=size)
    return response


def harden(response: Response) -> Response:
    """Headers every served file gets, whatever backend produced the response."""
    response.headers["X-Content-Type-Options"] = "nosniff"
    disposition = response.headers.get("Content-Disposition", "")
    serves_content = response.status_code < 300
    if serves_content and is_active(response.mimetype) and not disposition.startswith("attachment"):
        response.headers["Content-Disposition"] = "attachment"
    return response

"""Serving files over HTTP: shared by every backend.

Preconditions and ranges follow RFC 9110 (sections 13.2.2 and 14): ``If-Match`` and
``If-Unmodified-Since`` that fail give 412 without a body, ``If-None-Match`` and
``If-Modified-Since`` give 304, and only then is ``Range`` looked at: a suffix longer than the
file is the whole file, a Range that is malformed, of another unit or of several ranges is
ignored (the whole file, 200), one that starts past the end is 416. Headers are parsed by
werkzeug (``request.if_match``, ``request.range``...), ranged bodies are werkzeug's
``make_conditional``: nothing here parses a header.
"""

from __future__ import annotations

import functools
import io
import mimetypes
import posixpath
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any
from urllib.parse import quote

from flask import current_app, request, send_file
from werkzeug.datastructures import ETags, Range
from werkzeug.http import dump_options_header, http_date, quote_etag
from werkzeug.wrappers import Response
from werkzeug.wsgi import FileWrapper

DEFAULT_MIME = "application/octet-stream"


def guess_mime(filename: str) -> str:
    """The content type for a file name, ``application/octet-stream`` when unknown (what
    ``mimetypes.guess_type`` says of its extensions, remembered per extensions: listings
    ask it of every file)."""
    base = filename[filename.rfind("/") + 1 :]
    dot = base.find(".", 1)  # a leading dot starts a name, not an extension
    return _mime_of_extensions(base[dot:] if dot > 0 else "")


@functools.lru_cache(maxsize=1024)
def _mime_of_extensions(extensions: str) -> str:
    return mimetypes.guess_type("file" + extensions, strict=False)[0] or DEFAULT_MIME


def is_active(mime: str | None) -> bool:
    """Whether a browser could run script from content of this type (HTML, SVG, XML, JS)."""
    if not mime:
        return False
    base = mime.split(";", 1)[0].strip().lower()
    return any(word in base for word in ("html", "xml", "script")) or base.endswith("+xml")


#: How much of a remote file a response reads at a time.
SERVE_CHUNK_SIZE = 256 * 1024

#: Characters a download name may not carry into a header (controls: CR and LF among them).
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def content_disposition(
    download_name: str | None, *, inline: bool | None = None, mime: str | None = None
) -> str:
    """The ``Content-Disposition`` of a file the browser saves as ``download_name`` (RFC 6266).

    ``inline`` unless ``inline`` is False or the content is active (:func:`is_active`: never
    inline, whatever is asked). A name that is not ASCII goes as ``filename*`` (UTF-8, RFC 8187)
    after an ASCII ``filename`` for old clients; control characters are dropped, so a name can
    never start another header.
    """
    kind = "attachment" if inline is False or is_active(mime) else "inline"
    name = _CONTROL.sub("", download_name or "")
    if not name:
        return kind
    return dump_options_header(kind, _filename_parameters(name, "download"))


def _filename_parameters(name: str, fallback: str) -> dict[str, str]:
    """A ``Content-Disposition``'s file name: ``filename``, and for a name that is not ASCII,
    its ASCII form (``fallback`` if nothing is left of it) then ``filename*`` (UTF-8,
    RFC 8187)."""
    if name.isascii():
        return {"filename": name}
    simple = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    encoded = "UTF-8''" + quote(name, safe="!#$&+-.^_`|~")
    return {"filename": simple or fallback, "filename*": encoded}


def send_stream(
    stream: IO[bytes],
    *,
    name: str,
    size: int,
    mime: str,
    etag: str | None,
    modified: datetime | None,
) -> Response:
    """A streamed, conditional, range-capable response for an open binary stream (inline:
    :func:`harden` makes active content an attachment)."""
    if _is_plain(request.environ):
        return _plain_response(stream, name, size, mime, etag, modified)
    if request.method in ("GET", "HEAD"):
        # A 304 or 412 is decided on the validators alone, as make_conditional would (on the
        # Last-Modified header's whole seconds): no file response is made, nothing is read.
        seconds = modified.replace(microsecond=0) if modified is not None else None
        status = precondition_status(etag, seconds)
        if status is not None:
            stream.close()
            return send_status(status, name=name, mime=mime, etag=etag, modified=modified)
    response = _file_response(stream, name, mime, etag, modified)
    response.content_length = size
    return make_conditional(response, size)


def _is_plain(environ: dict[str, Any]) -> bool:
    """Whether the request asks the whole file, unconditionally: most requests."""
    return "HTTP_RANGE" not in environ and not _has_preconditions(environ)


def _plain_response(
    stream: IO[bytes],
    name: str,
    size: int,
    mime: str,
    etag: str | None,
    modified: datetime | None,
) -> Response:
    """The whole file, with the headers :func:`_file_response` then :func:`make_conditional`
    give a request without Range or preconditions, built directly: a small file's response
    costs a fraction of theirs (``tests/test_serving.py`` holds them equal)."""
    response = _send_file_response(stream, name, size, mime, etag, modified)
    response.headers["Accept-Ranges"] = "bytes"
    response.headers["Date"] = http_date()
    return response


def _send_file_response(
    stream: IO[bytes],
    name: str,
    size: int,
    mime: str,
    etag: str | None,
    modified: datetime | None,
) -> Response:
    """What :func:`_file_response` gives, with ``size`` as its length, built directly."""
    if _is_os_file(stream):
        body: Any = request.environ.get("wsgi.file_wrapper", FileWrapper)(stream, 8192)
    else:
        body = FileWrapper(stream, SERVE_CHUNK_SIZE)  # see _file_response
    response = current_app.response_class(body, mimetype=mime, direct_passthrough=True)
    headers = response.headers
    headers["Content-Disposition"] = _inline_disposition(posixpath.basename(name))
    headers["Content-Length"] = str(size)
    if modified is not None:
        headers["Last-Modified"] = http_date(modified)
    headers["Cache-Control"] = "no-cache"
    if etag:
        headers["ETag"] = quote_etag(etag)
    return response


@functools.lru_cache(maxsize=1024)
def _inline_disposition(download_name: str) -> str:
    """``Content-Disposition`` as ``send_file`` writes it for an inline file (an empty ASCII
    name where nothing of the name is ASCII)."""
    return dump_options_header("inline", _filename_parameters(download_name, ""))


def send_status(
    status: int, *, name: str, mime: str, etag: str | None, modified: datetime | None
) -> Response:
    """A 304 or 412 decided already (by a store that answered the request's preconditions):
    the headers of the file, no body."""
    response = _send_file_response(io.BytesIO(), name, 0, mime, etag, modified)
    response.status_code = status
    return response


def _file_response(
    stream: IO[bytes], name: str, mime: str, etag: str | None, modified: datetime | None
) -> Response:
    response = send_file(
        stream,
        mimetype=mime,
        conditional=False,
        etag=etag or False,
        last_modified=modified,
        max_age=None,
        download_name=posixpath.basename(name),
    )
    if not _is_os_file(stream):
        # A server's wsgi.file_wrapper may read the file in its I/O thread (waitress does, for
        # anything seekable, after seeking to its end to learn its size): each read of a remote
        # object would block every connection, and the seeks cost GETs. A request's own thread
        # reads it instead, from where it is.
        response.response = FileWrapper(stream, SERVE_CHUNK_SIZE)
    return response


def _is_os_file(stream: IO[bytes]) -> bool:
    """Whether ``stream`` is a file of the operating system (one a server may ``sendfile``)."""
    try:
        stream.fileno()
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is an OSError
        return False
    return True


def make_conditional(response: Response, size: int) -> Response:
    """Answer the request's preconditions and Range on ``response``, a whole file of ``size``
    bytes with its ``ETag`` and ``Last-Modified`` set (only GET and HEAD are conditional)."""
    if request.method not in ("GET", "HEAD"):
        return response
    status = _precondition_status(response)
    if status == 412:
        response.status_code = 412
        response.close()  # the file is not sent: a failed precondition has no body
        response.set_data(b"")
        return response
    if status == 304:
        response.status_code = 304  # werkzeug drops a 304's body and entity headers
        return response
    response.make_conditional(_range_environ(size), accept_ranges=True, complete_length=size)
    return response


def _precondition_status(response: Response) -> int | None:
    if not _has_preconditions(request.environ):
        return None  # most requests: no ETag or date of the response to parse
    return precondition_status(response.get_etag()[0], response.last_modified)


def _has_preconditions(environ: dict[str, Any]) -> bool:
    return any(header in environ for header in _PRECONDITIONS)


def precondition_status(etag: str | None, modified: datetime | None) -> int | None:
    """412 or 304 when a precondition of the request says so of a file with this ETag
    (unquoted) and modification time (RFC 9110, 13.2.2), else None."""
    etag = etag or ""
    if_match, if_none_match = request.if_match, request.if_none_match
    if if_match:
        if not (if_match.star_tag or if_match.contains(etag)):  # a strong comparison
            return 412
    elif request.if_unmodified_since and modified and modified > request.if_unmodified_since:
        return 412
    if if_none_match:
        if if_none_match.star_tag or if_none_match.contains_weak(etag):  # a weak comparison
            return 304
    elif request.if_modified_since and modified and modified <= request.if_modified_since:
        return 304
    return None


#: The request headers that :func:`_precondition_status` has answered.
_PRECONDITIONS = (
    "HTTP_IF_MATCH",
    "HTTP_IF_NONE_MATCH",
    "HTTP_IF_MODIFIED_SINCE",
    "HTTP_IF_UNMODIFIED_SINCE",
)


def _range_environ(size: int) -> dict[str, Any]:
    """The request as werkzeug's ``make_conditional`` should see it to answer its Range (and
    ``If-Range``) the way RFC 9110 does: preconditions already answered, the Range header
    left out when it is to be ignored, a suffix longer than the file made the whole file."""
    if "HTTP_RANGE" not in request.environ and not _has_preconditions(request.environ):
        return request.environ  # nothing to leave out: werkzeug only reads it
    environ = {k: v for k, v in request.environ.items() if k not in _PRECONDITIONS}
    environ.pop("HTTP_RANGE", None)
    wanted = _single_range()
    if wanted is None:
        return environ  # ignored (RFC 9110, 14.2): the whole file, 200
    start, stop = wanted.ranges[0]
    if stop is None and start < 0 and -start > size:  # bytes=-N with N > size (14.1.2)
        wanted = Range("bytes", [(0, None)])
    environ["HTTP_RANGE"] = wanted.to_header()
    return environ


def _single_range() -> Range | None:
    """The request's Range if it is one range of bytes; ``None`` when it has none, or one to
    ignore (malformed, of another unit or of several ranges)."""
    wanted = request.range  # None when absent or malformed
    if wanted is None or wanted.units != "bytes" or len(wanted.ranges) != 1:
        return None
    return wanted


@dataclass(frozen=True)
class Conditions:
    """The preconditions of a request, as passed on to a store (see :func:`store_conditions`):
    each ETag a single strong tag, quoted; the dates as the request gave them."""

    if_match: str | None = None
    if_none_match: str | None = None
    if_modified_since: datetime | None = None
    if_unmodified_since: datetime | None = None

    def headers(self) -> dict[str, str]:
        """The conditions as HTTP request headers."""
        headers = {}
        if self.if_match:
            headers["If-Match"] = self.if_match
        if self.if_none_match:
            headers["If-None-Match"] = self.if_none_match
        if self.if_modified_since:
            headers["If-Modified-Since"] = http_date(self.if_modified_since)
        if self.if_unmodified_since:
            headers["If-Unmodified-Since"] = http_date(self.if_unmodified_since)
        return headers


def store_conditions() -> Conditions:
    """The request's preconditions in the form every store answers as :func:`make_conditional`
    would: an ``If-Match`` or ``If-None-Match`` of one ETag (a weak one made strong for
    ``If-None-Match``, which compares weakly), a date only when no ETag condition replaces it
    (RFC 9110, 13.2.2). A list of ETags, ``*``, or a weak tag in ``If-Match`` is left out (and
    so is the date it overrides): the store sends the file and the response decides. Only a
    GET's: :func:`make_conditional` answers no other method's."""
    if request.method != "GET" or not _has_preconditions(request.environ):
        return Conditions()
    if_match, if_none_match = request.if_match, request.if_none_match
    return Conditions(
        if_match=_single_tag(if_match, weak=False) if if_match else None,
        if_none_match=_single_tag(if_none_match, weak=True) if if_none_match else None,
        if_unmodified_since=None if if_match else request.if_unmodified_since,
        if_modified_since=None if if_none_match else request.if_modified_since,
    )


def _single_tag(etags: ETags, weak: bool) -> str | None:
    if etags.star_tag:
        return None
    tags = etags.as_set(include_weak=weak)  # a weak tag never matches If-Match
    if len(tags) != 1:
        return None
    return quote_etag(next(iter(tags)))


def store_range() -> str | None:
    """The ``Range`` header to pass on to a store, so that it sends only the bytes served: the
    request's, when it is a GET of one range of bytes without ``If-Range`` (else ``None``: the
    whole object, and :func:`make_conditional` decides). A suffix longer than the object is
    the whole object at the store too."""
    environ = request.environ
    if request.method != "GET" or "HTTP_RANGE" not in environ or "HTTP_IF_RANGE" in environ:
        return None
    wanted = _single_range()
    return None if wanted is None else wanted.to_header()


#: What a ``CACHE_CONTROL`` setting applies to: a file served, whole or in part, or unchanged.
CACHEABLE = frozenset({200, 206, 304})


def set_cache_control(response: Response, value: str | None) -> Response:
    """Give ``response`` the storage's ``Cache-Control`` (its ``CACHE_CONTROL`` setting) when it
    serves the file (200, 206, 304); ``None`` leaves werkzeug's (``no-cache``). Redirects to
    signed URLs keep none: a cached redirect would outlive its signature."""
    if value is not None and response.status_code in CACHEABLE:
        response.headers["Cache-Control"] = value
    return response


def harden(response: Response) -> Response:
    """The one place that decides the safety headers of what flask-fs serves, whatever backend
    made the response (errors included): MIME sniffing is forbidden, and active content (HTML,
    SVG, XML, JS) is an attachment, never inline (its file name, if given, is kept)."""
    response.headers["X-Content-Type-Options"] = "nosniff"
    if response.status_code < 300 and is_active(response.mimetype):
        disposition = response.headers.get("Content-Disposition", "")
        kind, separator, parameters = disposition.partition(";")
        if kind.strip().lower() != "attachment":
            response.headers["Content-Disposition"] = "attachment" + separator + parameters
    return response

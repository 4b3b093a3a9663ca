"""The ``flask_fs.uploads`` blueprint: direct uploads from browsers, at
``{FS_PREFIX}/_uploads/<storage>`` (a storage name cannot start with ``_``: no clash with the
serving view). :func:`flask_fs.init_app` registers it when a storage sets ``DIRECT_UPLOADS``.

Under that endpoint, the routes of Companion's S3 API, as Uppy's ``@uppy/aws-s3`` calls them
with its ``endpoint`` option:

- ``GET  /s3/params?filename=&type=[&size=]``: how to send one body
  (:meth:`flask_fs.Storage.upload_target`);
- ``POST /s3/multipart`` (JSON ``{filename, type[, size]}``): open an upload in parts, answered
  ``{key, uploadId}``, ``key`` being the upload's ticket;
- ``GET  /s3/multipart/<uploadId>/<partNumber>?key=``: how to send one part (``{url, method,
  headers, expires}``);
- ``GET  /s3/multipart/<uploadId>?key=``: the parts stored (``[{PartNumber, Size, ETag}]``);
- ``POST /s3/multipart/<uploadId>/complete?key=`` (JSON ``{parts: [{PartNumber, ETag}]}``);
- ``DELETE /s3/multipart/<uploadId>?key=``.

And the application's own, each with a ticket in its path: ``PUT /body/<ticket>`` (one body,
for backends whose store takes none from browsers), ``PUT /parts/<ticket>/<number>`` (one part,
likewise), ``GET|POST /complete/<ticket>`` (a body sent to the store: where the store redirects
the browser, or where the browser posts once its upload is done).

Who may upload: the routes that start an upload ask the storage's authorizer
(:meth:`flask_fs.Storage.authorize_uploads`); without one they answer 401 unless
``DIRECT_UPLOADS_ANONYMOUS`` is on. The other routes are authorized by their ticket alone: a
tampered or expired one is a 403 that says nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NoReturn

from flask import Blueprint, abort, current_app, g, jsonify, request, url_for
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from ..errors import (
    BackendError,
    FileExists,
    FileNotFound,
    FSError,
    InvalidFilename,
    UnauthorizedFileType,
    UnknownStorage,
    UploadNotAllowed,
)
from ..names import clean_filename
from ..signals import upload_refused
from ..state import by_name
from . import completion
from .checks import Completed, UploadRefused
from .targets import COMPLETE_ENDPOINT, PART_ENDPOINT, seconds_left, start_upload
from .tickets import Ticket, read_ticket

if TYPE_CHECKING:
    from ..storage import Storage

#: Where the blueprint is mounted under ``FS_PREFIX``.
URL_PREFIX = "/_uploads/<fs>"

bp = Blueprint("fs_uploads", __name__)


def _storage(fs: str) -> Storage:
    """The storage named ``fs``; 404 when it is unknown or takes no direct uploads."""
    try:
        storage = by_name(fs)
    except UnknownStorage:
        abort(404)
    if not storage.config.get("direct_uploads"):
        abort(404)
    return storage


def _ticket(storage: Storage, token: str, upload_id: str | None = None) -> Ticket:
    """The request's ticket; a 403 that says nothing if it is not valid for this storage and
    upload now."""
    ticket = read_ticket(current_app, token, storage.name)
    if ticket is None or (upload_id is not None and ticket.upload_id != upload_id):
        abort(Response(status=403))
    g.fs_upload_ticket = ticket  # what a refusal of the upload reports (see _report_refusal)
    return ticket


def _starting(fs: str) -> Storage:
    """The storage an upload is started in (see :func:`_storage`); a 401, before the request
    is read any further, when it has no authorizer and takes no anonymous uploads."""
    storage = _storage(fs)
    if storage.upload_authorizer is None and not storage.config.get("direct_uploads_anonymous"):
        abort(Response(status=401))
    return storage


def _authorized_name(storage: Storage, requested: str) -> str:
    """The name the storage's authorizer gives the upload of ``requested`` (a 403 when it
    refuses); without an authorizer (anonymous uploads are on: :func:`_starting`),
    ``requested``."""
    authorize = storage.upload_authorizer
    if authorize is None:
        return requested
    try:
        name = authorize(request, requested)
    except HTTPException:
        raise
    except Exception:
        current_app.logger.warning(
            "the upload authorizer of %r raised", storage.name, exc_info=True
        )
        abort(Response(status=403))
    if not name:
        abort(Response(status=403))
    return name


def _requested(filename: Any, storage: Storage) -> str:
    """The client's name for the file, cleaned (``clean_filename``), then authorized."""
    if not isinstance(filename, str):
        _refuse(400, "filename is required")
    try:
        cleaned = clean_filename(filename)
    except InvalidFilename as exc:
        _refuse(400, str(exc))
    return _authorized_name(storage, cleaned)


def _size(value: Any) -> int | None:
    """The size the client declared (a query parameter or a JSON number), if any."""
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        _refuse(400, "size must be a number of bytes")
    return value


def _refuse(status: int, message: str) -> NoReturn:
    """End the request with a JSON ``{"error": message}``."""
    response = jsonify(error=message)
    response.status_code = status
    abort(response)


#: HTTP status of each refusal, the most specific first.
_STATUS: list[tuple[type[FSError], int]] = [
    (FileExists, 409),
    (UnauthorizedFileType, 415),
    (InvalidFilename, 400),
    (FileNotFound, 404),
    (UploadNotAllowed, 400),
    (BackendError, 502),
]


@bp.errorhandler(FSError)
def _fs_error(exc: FSError) -> tuple[Response, int]:
    """Refusals as JSON ``{"error": ...}``, with the status that says which."""
    if isinstance(exc, UploadRefused):
        status = exc.status
        g.fs_upload_still_open = exc.still_open
    else:
        status = next((code for kind, code in _STATUS if isinstance(exc, kind)), 500)
    if status >= 500:  # the server's business: logged, not told
        current_app.logger.error("direct upload failed: %s", exc, exc_info=exc)
        return jsonify({"error": "the storage failed"}), status
    return jsonify({"error": str(exc)}), status


def _completed(storage: Storage, completed: Completed) -> Response:
    """The answer of a completing request: the file's name, size, SHA-256 and URL (also as
    ``location``, what Uppy reads), with an ``ETag`` (Uppy waits for one)."""
    url = storage.url(completed.filename, external=True) if storage.has_url else None
    response = jsonify(
        filename=completed.filename,
        size=completed.size,
        sha256=completed.sha256,
        url=url,
        location=url,
        key=completed.filename,
    )
    response.headers["ETag"] = f'"{completed.sha256}"'
    if url:
        response.headers["Location"] = url
    return response


# -- Companion's S3 routes -----------------------------------------------------------------------


@bp.get("/s3/params")
def params(fs: str) -> Response:
    storage = _starting(fs)
    name = _requested(request.args.get("filename"), storage)
    target = storage.upload_target(
        name,
        content_type=request.args.get("type") or None,
        size=_size(request.args.get("size")),
    )
    return jsonify(target)


@bp.post("/s3/multipart")
def create_multipart(fs: str) -> Response:
    storage = _starting(fs)
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        _refuse(400, "a JSON object {filename, type} is expected")
    name = _requested(body.get("filename"), storage)
    content_type = body.get("type")
    ticket = start_upload(
        storage,
        name,
        content_type=content_type if isinstance(content_type, str) else None,
        size=_size(body.get("size")),
    )
    return jsonify(key=ticket.sign(current_app), uploadId=ticket.upload_id)


@bp.get("/s3/multipart/<upload_id>/<int:number>")
def sign_part(fs: str, upload_id: str, number: int) -> Response:
    storage = _storage(fs)
    token = request.args.get("key", "")
    ticket = _ticket(storage, token, upload_id)
    app_url = url_for(PART_ENDPOINT, fs=fs, ticket=token, number=number, _external=True)
    form = completion.sign_part(storage, ticket, number, app_url)
    expires = min(seconds_left(ticket), completion.PART_URL_SECONDS)
    return jsonify(**form.as_dict(), expires=expires)


@bp.get("/s3/multipart/<upload_id>")
def list_parts(fs: str, upload_id: str) -> Response:
    storage = _storage(fs)
    ticket = _ticket(storage, request.args.get("key", ""), upload_id)
    parts = completion.list_parts(storage, ticket)
    return jsonify([{"PartNumber": p.number, "Size": p.size, "ETag": p.etag} for p in parts])


@bp.post("/s3/multipart/<upload_id>/complete")
def complete_multipart(fs: str, upload_id: str) -> Response:
    storage = _storage(fs)
    ticket = _ticket(storage, request.args.get("key", ""), upload_id)
    body = request.get_json(silent=True)
    given = body.get("parts") if isinstance(body, dict) else None
    return _completed(storage, completion.complete_parts(storage, ticket, given))


@bp.delete("/s3/multipart/<upload_id>")
def abort_multipart(fs: str, upload_id: str) -> Response:
    storage = _storage(fs)
    ticket = _ticket(storage, request.args.get("key", ""), upload_id)
    completion.abort_upload(storage, ticket)
    return jsonify({})


# -- the application's own -----------------------------------------------------------------------


def _check_length(limit: int) -> None:
    """A 413 before anything is read when the request says it is larger than ``limit``."""
    length = request.content_length
    if length is not None and length > limit:
        _refuse(413, f"the upload is larger than {limit} bytes")


@bp.put("/body/<ticket>")
def put_body(fs: str, ticket: str) -> Response:
    storage = _storage(fs)
    found = _ticket(storage, ticket)
    if found.upload_id is not None or found.staging is not None:
        abort(Response(status=403))
    _check_length(found.max_size)
    return _completed(storage, completion.complete_body(storage, found, request.stream))


@bp.put("/parts/<ticket>/<int:number>")
def put_part(fs: str, ticket: str, number: int) -> Response:
    storage = _storage(fs)
    found = _ticket(storage, ticket)
    if found.upload_id is None or storage.backend.direct_uploads() is not None:
        abort(Response(status=403))
    completion.check_part_number(number)
    _check_length(found.max_size)
    part = completion.receive_part(storage, found, number, request.stream)
    response = jsonify(PartNumber=part.number, Size=part.size, ETag=part.etag)
    response.headers["ETag"] = f'"{part.etag}"'
    return response


#: What the completion route tells browsers, whatever page asks. A store (S3, Swift) redirects
#: the browser there after a form upload, and a redirect from the store's origin to another
#: makes the request's origin ``null``: only ``*`` lets the page read the answer (Uppy waits
#: for its ``ETag``). The ticket in the path is the route's only authority (no cookie is read,
#: and none is sent with ``*``), so the answer tells no page more than its ticket's holder.
COMPLETION_CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "ETag, Location",
}


@bp.after_request
def _completion_cors(response: Response) -> Response:
    """The completion's answers (refusals and preflights too) readable from any origin."""
    if request.endpoint == COMPLETE_ENDPOINT:
        response.headers.update(COMPLETION_CORS)
        if request.method == "OPTIONS":  # the preflight of an upload whose progress is watched
            response.headers["Access-Control-Allow-Methods"] = "GET, POST"
            asked = request.headers.get("Access-Control-Request-Headers")
            if asked:
                response.headers["Access-Control-Allow-Headers"] = asked
            response.headers["Access-Control-Max-Age"] = "600"
    return response


#: The routes that complete an upload: a refusal there is the upload's, once its bytes are in.
COMPLETING_ENDPOINTS = {COMPLETE_ENDPOINT, "fs_uploads.complete_multipart", "fs_uploads.put_body"}

#: The statuses of an upload refused (not the size, type or name signed; a name taken): a 403
#: (no valid ticket) or a 404 (an upload unknown, aborted or swept) refuses the request alone.
REFUSALS = {400, 409, 413, 415}


@bp.after_request
def _report_refusal(response: Response) -> Response:
    """Tell the application of an upload refused when completing (too large, another type or
    name than signed, a name taken since): the ``upload_refused`` signal and a log line. What
    the browser sent is already removed; the browser gets the same reason, as JSON."""
    ticket: Ticket | None = g.get("fs_upload_ticket")
    refused = response.status_code in REFUSALS and not g.get("fs_upload_still_open")
    if ticket is None or not refused or request.endpoint not in COMPLETING_ENDPOINTS:
        return response
    answer = response.get_json(silent=True) if response.is_json else None
    reason = answer.get("error") if isinstance(answer, dict) else None
    reason = str(reason or response.status)
    current_app.logger.info(
        "direct upload of %r to storage %r refused (%d): %s",
        ticket.filename,
        ticket.storage,
        response.status_code,
        reason,
    )
    upload_refused.send(
        current_app._get_current_object(),  # type: ignore[attr-defined]
        storage=by_name(ticket.storage),
        filename=ticket.filename,
        status=response.status_code,
        reason=reason,
    )
    return response


@bp.route("/complete/<ticket>", methods=["GET", "POST"])
def complete(fs: str, ticket: str) -> Response:
    storage = _storage(fs)
    found = _ticket(storage, ticket)
    key = request.args.get("key")  # the store's redirect names the key it stored (prefixed)
    if key is not None and found.staging is not None and not key.endswith(found.staging):
        _refuse(400, "the store stored another name than the one signed")
    return _completed(storage, completion.complete_staged(storage, found))


__all__ = ["URL_PREFIX", "bp"]

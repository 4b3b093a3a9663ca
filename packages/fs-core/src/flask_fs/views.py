"""The blueprint that serves files: to anyone when ``FS_SERVE`` is on, and to the holders of a
signed URL (:mod:`flask_fs.signing`) whatever ``FS_SERVE`` says."""

from __future__ import annotations

import posixpath

from flask import Blueprint, abort, current_app, request
from werkzeug.wrappers import Response

from . import signing
from .errors import FileNotFound, InvalidFilename, UnknownStorage
from .serving import content_disposition, harden
from .state import by_name, get_state

bp = Blueprint("fs", __name__)


# Every answer of the blueprint, errors (403, 404, 416) included, gets the serving headers.
bp.after_request(harden)


@bp.route("/<string:fs>/<path:filename>")
def get_file(fs: str, filename: str) -> Response:
    """Serve ``filename`` from the storage named ``fs``; 404 when either is unknown, or when
    serving is off and the request is not signed. A signature that is not valid for this file
    now is a 403, the same whether the file exists or not."""
    grant = None
    if signing.is_signed(request.args):
        grant = signing.verify(current_app, fs, filename, request.args)
        if grant is None:
            abort(403)
    elif not get_state().serving:
        abort(404)
    try:
        response = by_name(fs).serve(filename)
    except (UnknownStorage, FileNotFound, InvalidFilename):
        abort(404)
    if grant is not None and grant.asks_disposition and response.status_code in (200, 206, 304):
        response.headers["Content-Disposition"] = content_disposition(
            grant.download_name or posixpath.basename(filename),
            inline=grant.inline,
            mime=response.mimetype,
        )
    return response

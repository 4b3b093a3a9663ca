"""The blueprint that serves files when ``FS_SERVE`` is on."""

from __future__ import annotations

from flask import Blueprint, abort
from werkzeug.wrappers import Response

from .errors import FileNotFound, InvalidFilename, UnknownStorage
from .serving import harden
from .state import by_name

bp = Blueprint("fs", __name__)


# Every answer of the blueprint, errors (404, 416) included, gets the serving headers.
bp.after_request(harden)


@bp.route("/<string:fs>/<path:filename>")
def get_file(fs: str, filename: str) -> Response:
    """Serve ``filename`` from the storage named ``fs``; 404 when either is unknown."""
    try:
        return by_name(fs).serve(filename)
    except (UnknownStorage, FileNotFound, InvalidFilename):
        abort(404)

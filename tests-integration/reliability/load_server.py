"""The application the load test hammers, under waitress.

Usage: load_server.py PORT JSON, where JSON holds ``config`` (storage settings for the storages
``local`` and ``s3``) and ``root`` (the local storage's folder). ``/plain/<name>`` serves the same
local files with Flask's own ``send_file``: the baseline.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import waitress
from flask import Flask, abort, send_file
from werkzeug.security import safe_join
from werkzeug.wrappers import Response

from flask_fs import ALL, Storage, init_app


def create_app(job: dict[str, Any]) -> Flask:
    app = Flask("load_server")
    app.config.update(job["config"])
    app.config.update(FS_SERVE=True, FS_PREFIX="/_fs")
    init_app(app, Storage("local", ALL), Storage("s3", ALL))
    root = str(job["root"])

    @app.route("/plain/<path:name>")
    def plain(name: str) -> Response:
        path = safe_join(root, name)
        if path is None or not os.path.isfile(path):
            abort(404)
        return send_file(path, conditional=True)

    return app


def main() -> None:
    port, job = int(sys.argv[1]), json.loads(sys.argv[2])
    waitress.serve(create_app(job), host="127.0.0.1", port=port, threads=16, _quiet=True)


if __name__ == "__main__":
    main()

"""What the suite's helper processes share: the job (JSON in argv[1]) and its storage.

A job names the ``storage`` and carries the application's ``config`` (the storage's keys, as
:func:`flask_fs.testing.storage_config` gives them), so that a child process reaches the very
storage (folder, bucket prefix, container, GridFS bucket) of the test that started it.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from flask import Flask

from flask_fs import ALL, Storage, init_app


def job_storage(name: str) -> tuple[dict[str, Any], Flask, Storage]:
    """The job of this process, and an application holding its storage."""
    job: dict[str, Any] = json.loads(sys.argv[1])
    app = Flask(name)
    app.config.update(job["config"])
    storage = Storage(job["storage"], ALL)
    init_app(app, storage)
    return job, app, storage

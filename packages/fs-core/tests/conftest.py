"""Fixtures for fs-core's own tests: an application with local storages in a temporary root."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    app = Flask(__name__, instance_path=str(tmp_path / "instance"))
    app.config.update(TESTING=True, FS_ROOT=str(tmp_path / "fs"), SERVER_NAME="myserver.com")
    return app


@pytest.fixture
def ctx(app: Flask) -> Iterator[None]:
    with app.test_request_context():
        yield

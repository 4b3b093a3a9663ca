"""Fixtures of fs-mongo's tests: mongoengine connected to the test server, and storages on the
local backend and on GridFS."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from PIL import Image

import flask_fs as fs


@pytest.fixture(params=["local", "gridfs"])
def backend_settings(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    """Settings that put the storages on the local backend, or on GridFS."""
    if request.param == "local":
        return {"FS_BACKEND": "local", "FS_ROOT": str(tmp_path / "fs")}
    mongo_url = request.getfixturevalue("mongo_url")
    return {
        "FS_BACKEND": "gridfs",
        "FS_GRIDFS_MONGO_URL": mongo_url,
        "FS_GRIDFS_MONGO_DB": f"flask_fs_files_{uuid.uuid4().hex[:8]}",
    }


@pytest.fixture
def files() -> fs.Storage:
    return fs.Storage("files", fs.ALL)


@pytest.fixture
def images() -> fs.Storage:
    return fs.Storage("images", fs.IMAGES)


@pytest.fixture
def app(
    backend_settings: dict[str, Any], mongoengine_db: str, files: fs.Storage, images: fs.Storage
) -> Iterator[Flask]:
    app = Flask(__name__)
    app.config.update(backend_settings)
    app.config.update(
        FILES_FS_URL="http://myserver.com/files/", IMAGES_FS_URL="http://myserver.com/images/"
    )
    fs.init_app(app, files, images)
    with app.app_context():
        yield app


@pytest.fixture
def some_image(tmp_path: Path) -> str:
    """A 300x200 PNG on disk, as the spec's ``some_image``."""
    path = tmp_path / "some_image.png"
    image = Image.linear_gradient("L").resize((300, 200)).convert("RGB")
    image.save(path, "PNG")
    return str(path)


def png_bytes(size: tuple[int, int] = (300, 200)) -> io.BytesIO:
    out = io.BytesIO()
    Image.new("RGB", size, "blue").save(out, "PNG")
    out.seek(0)
    return out

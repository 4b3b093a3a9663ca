"""The demo application driven over HTTP with Flask's test client."""

from __future__ import annotations

import io
from pathlib import Path
from types import ModuleType

import pytest
from flask.testing import FlaskClient
from PIL import Image


@pytest.fixture
def client(demo_module: ModuleType, tmp_path: Path) -> FlaskClient:
    app = demo_module.create_app({"TESTING": True, "FS_ROOT": str(tmp_path)})
    return app.test_client()


def _upload(client: FlaskClient, *files: tuple[bytes, str]) -> str:
    data = {"files": [(io.BytesIO(content), name) for content, name in files]}
    response = client.post("/upload", data=data, follow_redirects=True)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), "teal").save(out, "PNG")
    return out.getvalue()


def test_upload_list_download_delete(client: FlaskClient, tmp_path: Path) -> None:
    page = _upload(client, (b"hello demo", "notes.txt"), (_png(), "Photo 1.PNG"))
    assert "Uploaded notes.txt." in page
    assert "Uploaded Photo_1.png." in page
    assert 'href="/files/notes.txt"' in page
    assert 'src="/thumbnails/Photo_1.png"' in page  # in the gallery, with its thumbnail
    assert "text/plain" in page
    assert "10 B" in page
    assert (tmp_path / "files" / "notes.txt").read_bytes() == b"hello demo"
    thumbnail = Image.open(io.BytesIO(client.get("/thumbnails/Photo_1.png").data))
    assert (thumbnail.format, thumbnail.size) == ("PNG", (240, 240))

    download = client.get("/files/notes.txt")
    assert download.data == b"hello demo"
    partial = client.get("/files/notes.txt", headers={"Range": "bytes=6-"})
    assert partial.status_code == 206
    assert partial.data == b"demo"

    page = client.post("/delete/notes.txt", follow_redirects=True).get_data(as_text=True)
    assert "Deleted notes.txt." in page
    assert "notes.txt</a>" not in page
    assert client.get("/files/notes.txt").status_code == 404
    assert client.post("/delete/notes.txt").status_code == 404
    client.post("/delete/Photo_1.png")
    assert client.get("/thumbnails/Photo_1.png").status_code == 404


def test_a_disguised_file_is_refused_and_not_kept(client: FlaskClient, tmp_path: Path) -> None:
    page = _upload(client, (b"#!/bin/sh\necho pwned", "cute-cat.png"))
    assert "cute-cat.png: this is not an image that can be shown." in page
    assert not (tmp_path / "files" / "cute-cat.png").exists()


def test_errors_are_shown_on_the_page(client: FlaskClient) -> None:
    page = _upload(client, (b"#!/bin/sh", "evil.sh"))
    assert "evil.sh: this type of file is not allowed." in page
    _upload(client, (b"one", "same.txt"))
    page = _upload(client, (b"two", "same.txt"))
    assert "same.txt: a file with this name already exists." in page
    assert client.get("/files/same.txt").data == b"one"
    page = client.post("/upload", data={}, follow_redirects=True).get_data(as_text=True)
    assert "Choose at least one file" in page


def test_too_large_upload_is_refused(demo_module: ModuleType, tmp_path: Path) -> None:
    app = demo_module.create_app(
        {"TESTING": True, "FS_ROOT": str(tmp_path), "MAX_CONTENT_LENGTH": 1024}
    )
    response = app.test_client().post(
        "/upload", data={"files": [(io.BytesIO(b"x" * 4096), "big.txt")]}, follow_redirects=True
    )
    assert "larger than" in response.get_data(as_text=True)
    assert not (tmp_path / "files" / "big.txt").exists()

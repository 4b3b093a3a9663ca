"""The demo application driven over HTTP with Flask's test client."""

from __future__ import annotations

import io
import logging
import re
from pathlib import Path
from types import ModuleType

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from werkzeug.test import TestResponse

import flask_fs as fs
from flask_fs import signals
from flask_fs.cli import fs_command
from flask_fs.signals import upload_completed


def _config(tmp_path: Path, **settings: object) -> dict[str, object]:
    """The test settings: files and the gallery's database under ``tmp_path``."""
    database = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    return {"TESTING": True, "FS_ROOT": str(tmp_path), "DEMO_DATABASE_URL": database, **settings}


@pytest.fixture
def client(demo_module: ModuleType, tmp_path: Path) -> FlaskClient:
    app: Flask = demo_module.create_app(_config(tmp_path))
    return app.test_client()


def _token(client: FlaskClient) -> str:
    """The CSRF token of the client's session, as the page gives it to its forms."""
    page = client.get("/").get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


def _upload(client: FlaskClient, *files: tuple[bytes, str]) -> str:
    data = {
        "files": [(io.BytesIO(content), name) for content, name in files],
        "csrf_token": _token(client),
    }
    response = client.post("/upload", data=data, follow_redirects=True)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _delete(client: FlaskClient, name: str, follow_redirects: bool = False) -> TestResponse:
    return client.post(
        f"/delete/{name}", data={"csrf_token": _token(client)}, follow_redirects=follow_redirects
    )


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

    page = _delete(client, "notes.txt", follow_redirects=True).get_data(as_text=True)
    assert "Deleted notes.txt." in page
    assert "notes.txt</a>" not in page
    assert client.get("/files/notes.txt").status_code == 404
    assert _delete(client, "notes.txt").status_code == 404
    _delete(client, "Photo_1.png")
    assert client.get("/thumbnails/Photo_1.png").status_code == 404


def test_the_index_lists_without_reading_files(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sizes, types and dates come from the listing: no metadata per file, no thumbnail lookup."""
    _upload(client, (b"hello demo", "notes.txt"), (_png(), "photo.png"))

    def refused(*args: object, **kwargs: object) -> None:
        raise AssertionError("the index page asked for a file's metadata")

    monkeypatch.setattr(fs.Storage, "metadata", refused)
    monkeypatch.setattr(fs.Storage, "exists", refused)
    page = client.get("/").get_data(as_text=True)
    assert "notes.txt</a>" in page
    assert "10 B" in page
    assert 'src="/thumbnails/photo.png"' in page


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
    data = {"csrf_token": _token(client)}
    page = client.post("/upload", data=data, follow_redirects=True).get_data(as_text=True)
    assert "Choose at least one file" in page


def test_too_large_upload_is_refused(demo_module: ModuleType, tmp_path: Path) -> None:
    app = demo_module.create_app(_config(tmp_path, MAX_CONTENT_LENGTH=1024))
    response = app.test_client().post(
        "/upload", data={"files": [(io.BytesIO(b"x" * 4096), "big.txt")]}, follow_redirects=True
    )
    assert "larger than" in response.get_data(as_text=True)
    assert not (tmp_path / "files" / "big.txt").exists()


def test_posts_without_the_session_token_are_refused(client: FlaskClient, tmp_path: Path) -> None:
    """What a form on another site would send: no token, or one it made up."""
    _upload(client, (b"keep me", "keep.txt"))
    for data in ({}, {"csrf_token": "guessed"}):
        assert client.post("/delete/keep.txt", data=data).status_code == 400
        upload = {**data, "files": [(io.BytesIO(b"x"), "planted.txt")]}
        assert client.post("/upload", data=upload).status_code == 400
    stranger = client.application.test_client()  # its own session, so its own token
    assert stranger.post("/delete/keep.txt", data={"csrf_token": _token(client)}).status_code == 400
    assert (tmp_path / "files" / "keep.txt").read_bytes() == b"keep me"
    assert not (tmp_path / "files" / "planted.txt").exists()
    assert 'name="csrf_token"' in client.get("/").get_data(as_text=True)


def test_a_storage_failure_shows_a_generic_page_and_logs_the_details(
    demo_module: ModuleType, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = demo_module.create_app(_config(tmp_path, FS_ROOT="/proc/flask-fs-demo-cannot-write"))
    client = app.test_client()
    with caplog.at_level(logging.ERROR):
        response = client.post(
            "/upload",
            data={"files": [(io.BytesIO(b"x"), "notes.txt")], "csrf_token": _token(client)},
        )
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "The storage failed" in page
    assert "notes.txt" not in page
    assert "storage 'files'" not in page
    assert "storage 'files': cannot write 'notes.txt'" in caplog.text


def _names(demo_module: ModuleType, app: Flask) -> list[str]:
    """The file names of the gallery's rows, as the database has them."""
    with app.app_context(), demo_module.db_session() as session:
        rows = session.scalars(demo_module.select(demo_module.Upload)).all()
        return sorted(row.file.filename for row in rows)


def test_uploads_are_rows_and_deleting_a_row_removes_its_files(
    demo_module: ModuleType, client: FlaskClient, tmp_path: Path
) -> None:
    _upload(client, (b"hello demo", "notes.txt"), (_png(), "photo.png"))
    assert _names(demo_module, client.application) == ["notes.txt", "photo.png"]
    assert (tmp_path / "demo.sqlite3").exists()
    _delete(client, "photo.png")
    assert _names(demo_module, client.application) == ["notes.txt"]
    assert not (tmp_path / "files" / "photo.png").exists()
    assert not (tmp_path / "thumbnails" / "photo.png").exists()


def test_refused_uploads_leave_no_row_and_no_file(
    demo_module: ModuleType, client: FlaskClient, tmp_path: Path
) -> None:
    _upload(client, (b"#!/bin/sh", "cute-cat.png"), (b"#!/bin/sh", "evil.sh"))
    assert _names(demo_module, client.application) == []
    assert not list((tmp_path / "files").iterdir())


def test_a_file_without_a_row_is_listed_nowhere_and_found_by_the_orphans_command(
    demo_module: ModuleType, client: FlaskClient
) -> None:
    _upload(client, (b"kept", "kept.txt"))
    app = client.application
    with app.app_context():
        demo_module.files.write("lost.txt", b"no row refers to it")
    assert "lost.txt" not in client.get("/").get_data(as_text=True)
    command = [
        "orphans",
        "flask_fs_demo:Upload.file",
        "--session",
        "flask_fs_demo:db_session",
        "--older-than",
        "0",
    ]
    # `flask fs` is an entry point of flask-fs: what the `flask` command adds to every app.
    result = app.test_cli_runner().invoke(fs_command, args=command)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["orphan lost.txt"]


def test_a_file_saved_in_a_request_that_does_not_commit_is_removed(
    demo_module: ModuleType, client: FlaskClient, tmp_path: Path
) -> None:
    app = client.application
    with app.app_context():  # the session is removed at teardown: no commit, a rollback
        row = demo_module.Upload()
        demo_module.db_session.add(row)
        row.file.save(io.BytesIO(b"never committed"), "draft.txt")
        assert (tmp_path / "files" / "draft.txt").exists()
    assert _names(demo_module, app) == []
    assert not (tmp_path / "files" / "draft.txt").exists()


def test_a_direct_upload_becomes_a_row(demo_module: ModuleType, client: FlaskClient) -> None:
    """What flask_fs.uploads signals once a direct (Uppy) upload is stored under its name."""
    app = client.application
    with app.test_request_context("/"):
        demo_module.files.write("direct.txt", b"sent by Uppy")
        upload_completed.send(
            app, storage=demo_module.files, filename="direct.txt", size=12, sha256="0" * 64
        )
    assert _names(demo_module, app) == ["direct.txt"]
    assert "direct.txt</a>" in client.get("/").get_data(as_text=True)


def test_a_direct_upload_becomes_a_row_and_a_non_image_is_refused(
    demo_module: ModuleType, client: FlaskClient, tmp_path: Path
) -> None:
    app = client.application
    with app.test_request_context():
        demo_module.files.write("direct.txt", b"sent by Uppy")
        demo_module.files.write("fake.png", b"#!/bin/sh")
        for name in ("direct.txt", "fake.png"):
            signals.upload_completed.send(
                app, storage=demo_module.files, filename=name, size=9, sha256="0" * 64
            )
    assert _names(demo_module, app) == ["direct.txt"]
    assert not (tmp_path / "files" / "fake.png").exists()
    assert "direct.txt" in client.get("/").get_data(as_text=True)

"""Calls the 0.4.0 manual documents work as written (issue 14, items 2 and 4 to 12)."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.datastructures import FileStorage

import flask_fs as fs
from flask_fs.backends.local import LocalBackend
from flask_fs.errors import FileExists, FSError, InvalidFilename, UnauthorizedFileType

# -- item 2: BaseBackend.write and open as documented ------------------------------------------


def test_backend_write_takes_bytes_str_or_a_file_and_replaces(tmp_path: Path) -> None:
    backend = LocalBackend("files", {"root": tmp_path})
    backend.write("a.txt", b"bytes")
    backend.write("a.txt", "str")
    assert backend.read("a.txt") == b"str"
    backend.write("a.txt", io.BytesIO(b"a file object"))
    assert backend.read("a.txt") == b"a file object"
    with pytest.raises(FileExists):
        backend.write("a.txt", b"kept", overwrite=False)
    assert backend.read("a.txt") == b"a file object"
    assert backend.as_binary(io.BytesIO(b"read")) == b"read"


def test_backend_open_defaults_to_text(tmp_path: Path) -> None:
    backend = LocalBackend("files", {"root": tmp_path})
    backend.write("a.txt", "tëxt")
    with backend.open("a.txt") as f:
        assert f.read() == "tëxt"


# -- item 4: the Quick Start, and open's modes -------------------------------------------------


def test_quick_start_as_written(app: Flask) -> None:
    store = fs.Storage("store")
    fs.init_app(app, store)
    with app.app_context():
        store.write("my.file", "content")
        assert store.read("my.file") == b"content"
        with store.open("my.file", "wb") as f:
            f.write(b"new content")
        assert store.read("my.file") == b"new content"
        with pytest.raises(FileExists), store.open("my.file", "xb") as f:
            f.write(b"refused")
        with pytest.raises(FileExists):
            store.write("my.file", "refused: write keeps the storage's rule")
        assert store.read("my.file") == b"new content"
        store.delete("my.file")


# -- item 5: global FS_ALLOW / FS_DENY ---------------------------------------------------------


def test_global_allow_and_deny_apply_to_every_storage(app: Flask) -> None:
    app.config.update(FS_ALLOW=["tiff"], FS_DENY=("svg",), PHOTOS_FS_DENY=["gif"])
    images = fs.Storage("images", fs.IMAGES)
    photos = fs.Storage("photos", fs.IMAGES)
    fs.init_app(app, images, photos)
    with app.app_context():
        assert images.extension_allowed("tiff")
        assert not images.extension_allowed("svg")
        assert images.extension_allowed("gif")
        assert not photos.extension_allowed("gif")  # the storage's own key wins
        assert photos.extension_allowed("svg")


# -- items 6 and 7: save's prefix under upload_to; upload_to callables -------------------------


def test_prefix_is_nested_under_upload_to(app: Flask) -> None:
    store = fs.Storage("store", upload_to="up")
    fs.init_app(app, store)
    with app.app_context():
        assert store.save(io.BytesIO(b"x"), "a.txt", prefix="x") == "up/x/a.txt"
        upload = FileStorage(io.BytesIO(b"y"), "b.txt")
        assert store.save(upload, prefix=lambda: "dyn") == "up/dyn/b.txt"
        assert store.read("up/x/a.txt") == b"x"


def test_upload_to_callable_with_or_without_the_app(app: Flask) -> None:
    app.config["UPLOAD_FOLDER"] = "from-app"
    with_app = fs.Storage("withapp", upload_to=lambda app: app.config["UPLOAD_FOLDER"])
    without = fs.Storage("without", upload_to=lambda: "static")
    fs.init_app(app, with_app, without)
    with app.app_context():
        assert with_app.save(io.BytesIO(b"x"), "a.txt") == "from-app/a.txt"
        assert without.save(io.BytesIO(b"x"), "a.txt") == "static/a.txt"


# -- item 8: resolve_conflict with an absolute folder ------------------------------------------


def test_resolve_conflict_takes_the_absolute_folder(app: Flask, tmp_path: Path) -> None:
    store = fs.Storage("store")
    fs.init_app(app, store)
    with app.app_context():
        store.write("folder/photo.jpg", b"x")
        folder = os.path.dirname(store.path("folder/photo.jpg"))
        assert os.path.isabs(folder)
        assert store.resolve_conflict(folder, "photo.jpg") == "photo_1.jpg"
        assert store.resolve_conflict("folder", "photo.jpg") == "photo_1.jpg"
        root = os.path.dirname(folder)
        store.write("photo.jpg", b"x")
        assert store.resolve_conflict(root, "photo.jpg") == "photo_1.jpg"
        with pytest.raises(InvalidFilename, match="outside the root"):
            store.resolve_conflict(str(tmp_path), "photo.jpg")


# -- item 9: URLs -------------------------------------------------------------------------------


def test_base_url_is_absolute_for_a_served_storage(app: Flask) -> None:
    app.config.update(FS_SERVE=True, FS_PREFIX="/fs")
    files = fs.Storage("files")
    fs.init_app(app, files)
    with app.app_context():  # SERVER_NAME is set: no request needed
        assert files.base_url == "http://myserver.com/fs/files/"
    with app.test_request_context(base_url="https://myserver.com"):
        assert files.base_url == "https://myserver.com/fs/files/"


def test_a_configured_url_without_a_scheme_gets_the_requests(app: Flask) -> None:
    app.config["FILES_FS_URL"] = "somewhere.com/static"
    files = fs.Storage("files")
    fs.init_app(app, files)
    with app.test_request_context(base_url="https://myserver.com"):
        assert files.base_url == "https://somewhere.com/static/"
        assert files.url("a.txt") == "https://somewhere.com/static/a.txt"
    with app.test_request_context(base_url="http://myserver.com"):
        assert files.url("a.txt") == "http://somewhere.com/static/a.txt"


def test_url_ignores_a_leading_slash(app: Flask) -> None:
    app.config["FILES_FS_URL"] = "https://cdn.example.com/"
    files = fs.Storage("files")
    fs.init_app(app, files)
    with app.app_context():
        assert files.url("/a.txt") == files.url("a.txt") == "https://cdn.example.com/a.txt"
        with pytest.raises(InvalidFilename):
            files.url("//etc/passwd")


# -- items 10 and 11: extensions ----------------------------------------------------------------


def test_a_bare_string_is_one_extension(app: Flask) -> None:
    assert "exe" not in fs.AllExcept("exe")
    assert "e" in fs.AllExcept("exe")
    app.config.update(ONE_FS_ALLOW="tiff", ONE_FS_DENY="txt")
    one = fs.Storage("one", "png")
    fs.init_app(app, one)
    with app.app_context():
        assert one.extension_allowed("png")
        assert not one.extension_allowed("p")
        assert one.extension_allowed("tiff")
        assert not one.extension_allowed("t")
        assert not one.extension_allowed("txt")
        with pytest.raises(UnauthorizedFileType):
            one.save(io.BytesIO(b"x"), "a.g")


def test_presets_combine_with_lists_and_stay_immutable() -> None:
    # The manual's list syntax: the concatenations are what is tested here.
    extended = fs.IMAGES + ["tiff"]  # noqa: RUF005
    assert extended == (*fs.IMAGES, "tiff")
    prepended = ["tiff"] + fs.IMAGES  # noqa: RUF005
    assert prepended == ("tiff", *fs.IMAGES)
    assert fs.TEXT + ("csv",) == ("txt", "csv")  # noqa: RUF005
    assert ("csv",) + fs.TEXT == ("csv", "txt")  # noqa: RUF005
    assert fs.TEXT + "csv" == ("txt", "csv")
    assert "tiff" not in fs.IMAGES
    with pytest.raises(TypeError):
        fs.IMAGES[0] = "tiff"  # type: ignore[index]
    store = fs.Storage("store", fs.IMAGES + ["tiff"])  # noqa: RUF005
    assert "tiff" in store.extensions


# -- item 12: configure before init_app ---------------------------------------------------------


def test_configure_without_init_app_is_a_clear_error(tmp_path: Path) -> None:
    app = Flask(__name__, instance_path=str(tmp_path))
    with pytest.raises(FSError, match="init_app"):
        fs.Storage("files").configure(app)

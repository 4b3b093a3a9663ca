"""Storage.upload_name: the checked name save() would use, for code that writes uploads itself."""

from __future__ import annotations

import io

import pytest
from flask import Flask
from werkzeug.datastructures import FileStorage

import flask_fs as fs
from flask_fs.errors import InvalidFilename, UnauthorizedFileType


def test_upload_name_is_what_save_uses_and_writes_nothing(app: Flask) -> None:
    images = fs.Storage("images", fs.IMAGES, upload_to="up")
    fs.init_app(app, images)
    with app.app_context():
        upload = FileStorage(io.BytesIO(b"x"), "../Été 2024.PNG")
        assert images.upload_name(upload) == "up/Été_2024.png"
        assert images.upload_name(upload, "a/b.gif", prefix="p") == "up/p/a/b.gif"
        assert list(images.list_files()) == []
        assert images.save(upload) == images.upload_name(upload)


@pytest.mark.parametrize("name", ["evil.php", "evil.html", "evil.exe", "x.phtml", ".htaccess", "x"])
def test_upload_name_refuses_what_save_refuses(app: Flask, name: str) -> None:
    images = fs.Storage("images", fs.IMAGES)
    fs.init_app(app, images)
    with app.app_context():
        with pytest.raises(UnauthorizedFileType):
            images.upload_name(FileStorage(io.BytesIO(b"x"), name))
        with pytest.raises(UnauthorizedFileType):
            images.upload_name(io.BytesIO(b"x"), name)
        with pytest.raises(InvalidFilename):
            images.upload_name(io.BytesIO(b"x"))  # no name to go by

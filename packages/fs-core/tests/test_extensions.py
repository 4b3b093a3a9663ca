"""Extension presets, All/AllExcept and the ALLOW/DENY overrides."""

from __future__ import annotations

import io

import pytest
from flask import Flask
from werkzeug.datastructures import FileStorage

import flask_fs as fs
from flask_fs.errors import UnauthorizedFileType, UploadNotAllowed


def test_presets_match_the_spec() -> None:
    assert fs.TEXT == ("txt",)
    assert set(fs.DOCUMENTS) == {
        "rtf",
        "odf",
        "ods",
        "gnumeric",
        "abw",
        "doc",
        "docx",
        "xls",
        "xlsx",
    }
    assert {"jpg", "jpe", "jpeg", "png", "gif", "svg", "bmp"} <= set(fs.IMAGES)
    assert set(fs.AUDIO) == {"wav", "mp3", "aac", "ogg", "oga", "flac"}
    assert {"csv", "ini", "json", "plist", "xml", "yaml"} <= set(fs.DATA)
    assert set(fs.SCRIPTS) == {"js", "php", "pl", "py", "rb", "sh", "bat"}
    assert set(fs.ARCHIVES) == {"gz", "bz2", "zip", "tar", "tgz", "txz", "7z"}
    assert set(fs.EXECUTABLES) == {"so", "exe", "dll"}
    assert fs.DEFAULTS == fs.TEXT + fs.DOCUMENTS + fs.IMAGES + fs.DATA
    assert fs.NONE == ()


def test_all_and_all_except() -> None:
    assert "exe" in fs.ALL
    assert isinstance(fs.ALL, fs.All)
    without_scripts = fs.AllExcept(fs.SCRIPTS + fs.EXECUTABLES)
    assert "txt" in without_scripts
    assert "sh" not in without_scripts
    assert "EXE" not in without_scripts
    assert "exe" not in fs.AllExcept(("exe", "iso"))


# (declared extensions, ALLOW, DENY, extension, allowed?)
MATRIX = [
    (fs.IMAGES, (), (), "jpg", True),
    (fs.IMAGES, (), (), "JPG", True),
    (fs.IMAGES, (), (), "txt", False),  # the original's bug let every default through
    (fs.IMAGES, (), (), "pdf", False),
    (fs.IMAGES, ("pdf",), (), "pdf", True),
    (fs.IMAGES, (), ("svg",), "svg", False),
    (fs.IMAGES, ("svg",), ("svg",), "svg", False),  # deny wins
    (fs.DEFAULTS, (), (), "txt", True),
    (fs.DEFAULTS, (), (), "exe", False),
    (fs.ALL, (), (), "exe", True),
    (fs.ALL, (), ("EXE",), "exe", False),
    (fs.AllExcept(fs.SCRIPTS), (), (), "sh", False),
    (fs.AllExcept(fs.SCRIPTS), ("sh",), (), "sh", True),
    (fs.NONE, (), (), "txt", False),
    (("bat", "sh"), (), (), "sh", True),
    (("bat", "sh"), (), (), "txt", False),
    (("TXT",), (), (), "txt", True),
]


@pytest.mark.parametrize(("extensions", "allow", "deny", "ext", "allowed"), MATRIX)
def test_extension_matrix(
    app: Flask,
    extensions: fs.extensions.Extensions,
    allow: tuple[str, ...],
    deny: tuple[str, ...],
    ext: str,
    allowed: bool,
) -> None:
    storage = fs.Storage("matrix", extensions)
    app.config.update(MATRIX_FS_ALLOW=allow, MATRIX_FS_DENY=deny)
    fs.init_app(app, storage)
    with app.app_context():
        assert storage.extension_allowed(ext) is allowed
        assert storage.file_allowed(FileStorage(io.BytesIO(b"x")), f"name.{ext}") is allowed


def test_refused_uploads_raise_and_store_nothing(app: Flask) -> None:
    images = fs.Storage("images", fs.IMAGES)
    fs.init_app(app, images)
    with app.app_context():
        with pytest.raises(UnauthorizedFileType, match=r"\.txt"):
            images.save(FileStorage(io.BytesIO(b"x"), "notes.txt"))
        with pytest.raises(UploadNotAllowed):
            images.save(io.BytesIO(b"x"), "script.php")
        assert list(images.list_files()) == []


def test_file_allowed_can_be_overridden(app: Flask) -> None:
    class SmallFiles(fs.Storage):
        def file_allowed(self, storage: FileStorage, basename: str) -> bool:
            size = storage.stream.seek(0, 2)
            storage.stream.seek(0)
            return super().file_allowed(storage, basename) and size < 4

    small = SmallFiles("small", fs.ALL)
    fs.init_app(app, small)
    with app.app_context():
        assert small.save(FileStorage(io.BytesIO(b"abc"), "ok.txt")) == "ok.txt"
        assert small.read("ok.txt") == b"abc"
        with pytest.raises(UnauthorizedFileType):
            small.save(FileStorage(io.BytesIO(b"abcdef"), "big.txt"))
        assert not small.exists("big.txt")

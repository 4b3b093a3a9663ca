"""What an upload through the fields may store: the storage's rules, images that are what their
name says and fit the memory bound, and nothing half-done."""

from __future__ import annotations

import io
import uuid
from typing import Any

import pytest
from flask import Flask
from mongoengine import Document
from PIL import Image
from werkzeug.datastructures import FileStorage

import flask_fs as fs
from flask_fs.errors import FileExists, UnauthorizedFileType
from flask_fs.images import DecompressionBomb, MismatchedImage
from flask_fs.mongo import FileField, ImageField

from .conftest import png_bytes

pytestmark = pytest.mark.usefixtures("app")

HOSTILE_NAMES = ["evil.php", "evil.html", "evil.exe", "evil.phtml", ".htaccess", "evil"]


def _doc_class(**fields: Any) -> type[Document]:
    name = f"Up{uuid.uuid4().hex[:8]}"
    return type(name, (Document,), {"meta": {"collection": name.lower()}, **fields})


def _jpeg(size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.linear_gradient("L").resize(size).convert("RGB").save(out, "JPEG")
    return out.getvalue()


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_fields_follow_the_storages_extension_rules(images: fs.Storage, name: str) -> None:
    MyDoc = _doc_class(  # noqa: N806 - a class
        image=ImageField(fs=images, thumbnails=[32]), file=FileField(fs=images)
    )
    doc = MyDoc()
    with pytest.raises(UnauthorizedFileType):
        doc.image.save(FileStorage(png_bytes(), name))
    with pytest.raises(UnauthorizedFileType):
        doc.image.save(png_bytes(), name)
    with pytest.raises(UnauthorizedFileType):
        doc.file.save(FileStorage(png_bytes(), name))
    with pytest.raises(UnauthorizedFileType):
        doc.file.save(png_bytes(), name)
    assert list(images.list_files()) == []
    assert not doc.image
    assert not doc.file


def test_a_basename_keeps_the_checked_extension(images: fs.Storage) -> None:
    MyDoc = _doc_class(image=ImageField(fs=images, basename=lambda doc: "avatar"))  # noqa: N806
    doc = MyDoc()
    assert doc.image.save(FileStorage(png_bytes(), "../../Photo.PNG")) == "avatar.png"
    with pytest.raises(UnauthorizedFileType):
        doc.image.save(FileStorage(png_bytes(), "photo.php"))
    assert sorted(images.list_files()) == ["avatar.png"]


def test_an_image_that_is_not_what_its_name_says_stores_nothing(images: fs.Storage) -> None:
    MyDoc = _doc_class(image=ImageField(fs=images, thumbnails=[32]))  # noqa: N806
    with pytest.raises(MismatchedImage):
        MyDoc().image.save(FileStorage(png_bytes(), "photo.jpg"))
    assert list(images.list_files()) == []


def test_the_memory_bound_applies_to_the_field(app: Flask, images: fs.Storage) -> None:
    MyDoc = _doc_class(image=ImageField(fs=images, thumbnails=[32]))  # noqa: N806
    app.config["FS_IMAGES_MAX_MEMORY"] = 100_000  # less than a 300x200 PNG takes
    with pytest.raises(DecompressionBomb, match="FS_IMAGES_MAX_MEMORY"):
        MyDoc().image.save(png_bytes(), "big.png")
    assert list(images.list_files()) == []


@pytest.mark.parametrize("size", [(1001, 500), (999, 600), (4033, 3024)])
def test_odd_sized_photos_get_their_thumbnails(images: fs.Storage, size: tuple[int, int]) -> None:
    MyDoc = _doc_class(image=ImageField(fs=images, max_size=1024, thumbnails=[512, 128]))  # noqa: N806
    doc = MyDoc()
    doc.image.save(FileStorage(io.BytesIO(_jpeg(size)), "photo.jpg"))
    assert doc.image.thumbnails == {512: "photo-512.jpg", 128: "photo-128.jpg"}
    assert Image.open(io.BytesIO(images.read("photo-128.jpg"))).size == (128, 128)


def test_a_failed_write_leaves_nothing_half_done(images: fs.Storage) -> None:
    MyDoc = _doc_class(image=ImageField(fs=images, max_size=100, thumbnails=[32]))  # noqa: N806
    images.write("pic-32.png", b"another document's thumbnail")
    doc = MyDoc()
    with pytest.raises(FileExists):
        doc.image.save(png_bytes(), "pic.png")  # pic-original.png, pic.png, then pic-32.png
    assert list(images.list_files()) == ["pic-32.png"]
    assert images.read("pic-32.png") == b"another document's thumbnail"
    assert not doc.image


def test_one_upload_can_be_saved_into_two_fields(images: fs.Storage, files: fs.Storage) -> None:
    MyDoc = _doc_class(image=ImageField(fs=images), file=FileField(fs=files))  # noqa: N806
    upload = FileStorage(png_bytes(), "pic.png")
    doc = MyDoc()
    doc.image.save(upload)
    doc.file.save(upload)
    assert files.read("pic.png") == images.read("pic.png") == png_bytes().getvalue()

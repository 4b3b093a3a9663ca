"""The spec's "Mongoengine support" examples, on the local backend and on GridFS."""

from __future__ import annotations

import io
import uuid
from typing import Any

import pytest
from flask import Flask
from mongoengine import Document, StringField
from PIL import Image
from werkzeug.datastructures import FileStorage

import flask_fs as fs
from flask_fs.images import ImageError
from flask_fs.mongo import FileField, FileReference, ImageField, ImageReference


def _doc_class(**fields: Any) -> type[Document]:
    """A Document class of its own collection (each test gets fresh ones)."""
    name = f"Doc{uuid.uuid4().hex[:8]}"
    attrs = {"meta": {"collection": name.lower()}, "title": StringField(), **fields}
    return type(name, (Document,), attrs)


def _image_size(storage: fs.Storage, name: str) -> tuple[int, int]:
    return Image.open(io.BytesIO(storage.read(name))).size


@pytest.mark.usefixtures("app")
def test_file_field_spec_example(files: fs.Storage) -> None:
    MyDoc = _doc_class(  # noqa: N806 - a class
        file=FileField(fs=files, upload_to=lambda o: "prefix", basename=lambda o: "basename")
    )
    doc = MyDoc()
    assert bool(doc.file) is False
    assert doc.file.filename is None
    assert doc.file.url is None
    assert str(doc.file) == ""

    doc.file.save(io.BytesIO(b"xxx"), "test.file")
    assert bool(doc.file) is True
    assert doc.file.filename == "prefix/test.file"  # the spec prints the name without its prefix
    assert doc.file.url == "http://myserver.com/files/prefix/test.file"
    assert str(doc.file) == "http://myserver.com/files/prefix/test.file"
    assert files.read("prefix/test.file") == b"xxx"

    # Override Werkzeug FileStorage filename with basename
    f = FileStorage(io.BytesIO(b"yyy"), "test.file")
    doc.file.save(f)
    assert doc.file.filename == "prefix/basename.file"
    assert files.read("prefix/basename.file") == b"yyy"
    assert not files.exists("prefix/test.file")  # no longer referenced: deleted


@pytest.mark.usefixtures("app")
def test_file_reference_round_trips_through_the_database(files: fs.Storage) -> None:
    MyDoc = _doc_class(file=FileField(fs=files))  # noqa: N806
    doc = MyDoc(title="t")
    doc.file.save(FileStorage(io.BytesIO(b"abc"), "Rapport été.TXT"))
    doc.save()
    raw = MyDoc._get_collection().find_one({"_id": doc.id})
    assert raw["file"] == {"filename": "Rapport_été.txt"}
    loaded = MyDoc.objects.get(id=doc.id)
    assert isinstance(loaded.file, FileReference)
    assert loaded.file.filename == "Rapport_été.txt"
    assert files.read(loaded.file.filename) == b"abc"
    loaded.file.delete()
    loaded.save()
    assert not files.exists("Rapport_été.txt")
    assert MyDoc.objects.get(id=doc.id).file.filename is None
    assert not MyDoc.objects.get(id=doc.id).file


@pytest.mark.usefixtures("app")
def test_saving_the_same_name_again_replaces_it(files: fs.Storage) -> None:
    MyDoc = _doc_class(file=FileField(fs=files))  # noqa: N806
    doc = MyDoc()
    doc.file.save(io.BytesIO(b"1"), "same.txt")
    doc.file.save(io.BytesIO(b"2"), "same.txt")
    assert files.read("same.txt") == b"2"
    other = MyDoc()
    with pytest.raises(fs.errors.FileExists):  # another document's file is not ours to replace
        other.file.save(io.BytesIO(b"3"), "same.txt")
    assert files.read("same.txt") == b"2"


def test_image_field_spec_example(
    app: Flask, images: fs.Storage, files: fs.Storage, some_image: str
) -> None:
    MyDoc = _doc_class(image=ImageField(fs=images, max_size=150, thumbnails=[100, 32]))  # noqa: N806
    doc = MyDoc()

    with open(some_image, "rb") as f:
        doc.image.save(f, "test.png")

    assert doc.image.filename == "test.png"
    assert doc.image.original == "test-original.png"
    assert doc.image.thumbnail(100) == "test-100.png"
    assert doc.image.thumbnail(32) == "test-32.png"

    # Guess best image url for a given size
    assert doc.image.best_url().endswith(doc.image.filename)
    assert doc.image.best_url(200).endswith(doc.image.filename)
    assert doc.image.best_url(150).endswith(doc.image.filename)
    assert doc.image.best_url(100).endswith(doc.image.thumbnail(100))
    assert doc.image.best_url(90).endswith(doc.image.thumbnail(100))
    assert doc.image.best_url(30).endswith(doc.image.thumbnail(32))

    # Call as shortcut for best_url()
    assert doc.image().endswith(doc.image.filename)
    assert doc.image(200).endswith(doc.image.filename)
    assert doc.image(150).endswith(doc.image.filename)
    assert doc.image(100).endswith(doc.image.thumbnail(100))

    # What was stored: the original untouched, the main image within max_size, square thumbnails
    with open(some_image, "rb") as f:
        assert images.read("test-original.png") == f.read()
    assert _image_size(images, "test.png") == (150, 100)
    assert _image_size(images, "test-100.png") == (100, 100)
    assert _image_size(images, "test-32.png") == (32, 32)
    assert doc.image.full() == "http://myserver.com/images/test.png"

    # Save an optional bbox for thumbnails cropping
    bbox = (10, 10, 100, 100)
    with open(some_image, "rb") as f:
        doc.image.save(f, "test.png", bbox=bbox)
    assert doc.image.bbox == (10, 10, 100, 100)
    assert sorted(images.list_files()) == [
        "test-100.png",
        "test-32.png",
        "test-original.png",
        "test.png",
    ]

    doc.save()
    raw = MyDoc._get_collection().find_one({"_id": doc.id})["image"]
    assert raw == {
        "filename": "test.png",
        "original": "test-original.png",
        "thumbnails": {"100": "test-100.png", "32": "test-32.png"},
        "bbox": [10, 10, 100, 100],
    }
    loaded = MyDoc.objects.get(id=doc.id)
    assert isinstance(loaded.image, ImageReference)
    assert loaded.image.thumbnail(32) == "test-32.png"
    url = loaded.image(90)
    assert url is not None
    assert url.endswith("test-100.png")


@pytest.mark.usefixtures("app")
def test_rerender_follows_new_settings_and_keeps_the_original(
    images: fs.Storage, some_image: str
) -> None:
    field = ImageField(fs=images, max_size=150, thumbnails=[100, 32])
    MyDoc = _doc_class(image=field)  # noqa: N806
    doc = MyDoc()
    with open(some_image, "rb") as f:
        doc.image.save(f, "pic.png")
    doc.save()
    original = images.read("pic-original.png")

    field.max_size, field.thumbnail_sizes = 80, [64]
    loaded = MyDoc.objects.get(id=doc.id)
    loaded.image.render()
    assert _image_size(images, "pic.png") == (80, 53)
    assert loaded.image.thumbnails == {64: "pic-64.png"}
    assert sorted(images.list_files()) == ["pic-64.png", "pic-original.png", "pic.png"]
    assert images.read("pic-original.png") == original
    loaded.image.rerender()  # the changelog's name for it
    loaded.save()
    assert MyDoc.objects.get(id=doc.id).image.thumbnails == {64: "pic-64.png"}


def test_optimize_follows_the_setting_unless_the_field_says(app: Flask, images: fs.Storage) -> None:
    source = io.BytesIO()
    Image.linear_gradient("L").resize((400, 300)).convert("RGB").save(source, "JPEG", quality=100)
    data = source.getvalue()
    app.config["FS_IMAGES_OPTIMIZE"] = True
    MyDoc = _doc_class(  # noqa: N806
        default=ImageField(fs=images), never=ImageField(fs=images, optimize=False)
    )
    doc = MyDoc()
    doc.default.save(io.BytesIO(data), "a.jpg")
    doc.never.save(io.BytesIO(data), "b.jpg")
    assert len(images.read("a.jpg")) < len(data)
    assert images.read("b.jpg") == data
    assert images.read("a-original.jpg") == data


@pytest.mark.usefixtures("app")
def test_a_bad_image_stores_nothing(images: fs.Storage) -> None:
    MyDoc = _doc_class(image=ImageField(fs=images, thumbnails=[32]))  # noqa: N806
    doc = MyDoc()
    with pytest.raises(ImageError):
        doc.image.save(io.BytesIO(b"#!/bin/sh\necho not an image"), "evil.png")
    assert list(images.list_files()) == []
    assert not doc.image


@pytest.mark.usefixtures("app")
def test_replacing_an_image_removes_the_old_files(images: fs.Storage) -> None:
    from .conftest import png_bytes

    MyDoc = _doc_class(image=ImageField(fs=images, thumbnails=[16]))  # noqa: N806
    doc = MyDoc()
    doc.image.save(png_bytes(), "one.png")
    doc.image.save(png_bytes((50, 50)), "two.png")
    assert sorted(images.list_files()) == ["two-16.png", "two.png"]  # not resized: no copy
    doc.image.delete()
    assert list(images.list_files()) == []

"""The references as 0.4.0 had them: the original is the file itself unless the image was
changed, a name can be assigned, bboxes and the manual's keywords round-trip."""

from __future__ import annotations

import io
import uuid
from typing import Any

import pytest
from mongoengine import Document
from werkzeug.datastructures import FileStorage

import flask_fs as fs
from flask_fs.mongo import FileField, ImageField

from .conftest import png_bytes

pytestmark = pytest.mark.usefixtures("app")


def _doc_class(**fields: Any) -> type[Document]:
    name = f"Ref{uuid.uuid4().hex[:8]}"
    return type(name, (Document,), {"meta": {"collection": name.lower()}, **fields})


def test_the_original_is_the_file_itself_unless_the_image_changed(images: fs.Storage) -> None:
    field = ImageField(fs=images, thumbnails=[32])
    MyDoc = _doc_class(image=field)  # noqa: N806
    doc = MyDoc()
    doc.image.save(png_bytes(), "pic.png")
    assert doc.image.original == doc.image.filename == "pic.png"
    assert sorted(images.list_files()) == ["pic-32.png", "pic.png"]
    doc.save()
    assert "original" not in MyDoc._get_collection().find_one({"_id": doc.id})["image"]
    assert MyDoc.objects.get(id=doc.id).image.original == "pic.png"

    field.max_size = 100  # now resized: the original is kept aside, once
    loaded = MyDoc.objects.get(id=doc.id)
    loaded.image.rerender()
    assert loaded.image.original == "pic-original.png"
    assert images.read("pic-original.png") == png_bytes().getvalue()
    assert sorted(images.list_files()) == ["pic-32.png", "pic-original.png", "pic.png"]
    loaded.save()
    assert MyDoc.objects.get(id=doc.id).image.original == "pic-original.png"

    field.max_size = None  # no longer changed: the file is the original again
    loaded = MyDoc.objects.get(id=doc.id)
    loaded.image.rerender()
    assert loaded.image.original == "pic.png"
    assert images.read("pic.png") == png_bytes().getvalue()
    assert sorted(images.list_files()) == ["pic-32.png", "pic.png"]


def test_thumbnail_of_an_unregistered_size(images: fs.Storage) -> None:
    doc = _doc_class(image=ImageField(fs=images, thumbnails=[32]))()
    doc.image.save(png_bytes(), "pic.png")
    assert doc.image.thumbnail(32) == "pic-32.png"
    with pytest.raises(ValueError, match="a registered size"):
        doc.image.thumbnail(50)


def test_a_bbox_tuple_comes_back_as_a_tuple(images: fs.Storage) -> None:
    MyDoc = _doc_class(image=ImageField(fs=images, thumbnails=[32]))  # noqa: N806
    doc = MyDoc()
    doc.image.save(png_bytes(), "pic.png", bbox=(10, 10, 100, 100))
    doc.save()
    assert MyDoc.objects.get(id=doc.id).image.bbox == (10, 10, 100, 100)


def test_a_name_assigned_to_a_field_is_kept(files: fs.Storage, images: fs.Storage) -> None:
    MyDoc = _doc_class(file=FileField(fs=files), image=ImageField(fs=images))  # noqa: N806
    doc = MyDoc()
    doc.file = "file.test"
    doc.image = "pic.png"
    assert doc.file.filename == "file.test"
    assert doc.file.url == "http://myserver.com/files/file.test"
    assert doc.image.original == "pic.png"
    doc.save()
    loaded = MyDoc.objects.get(id=doc.id)
    assert loaded.file.filename == "file.test"
    assert loaded.image.filename == "pic.png"


def test_file_reference_save_takes_the_manuals_keywords(files: fs.Storage) -> None:
    doc = _doc_class(file=FileField(fs=files))()
    assert doc.file.save(wfs=FileStorage(io.BytesIO(b"x"), "a.txt"), filename="b.txt") == "b.txt"
    assert doc.file.save(file_or_wfs=io.BytesIO(b"y"), filename="c.txt") == "c.txt"
    assert files.read("c.txt") == b"y"
    assert not files.exists("b.txt")

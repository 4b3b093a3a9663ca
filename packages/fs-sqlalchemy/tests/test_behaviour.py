"""The behaviour both field families share (flask_fs.fields), one suite run against fs-mongo's
mongoengine documents and fs-sqlalchemy's models (SQLite and PostgreSQL), on local disk and S3.

What differs is left to each package's own tests: when replaced files go (mongoengine at once,
SQLAlchemy after the commit) and whether a name already used gets a fresh one (SQLAlchemy).
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from PIL import Image
from sqlalchemy import JSON, Engine, create_engine, select, type_coerce
from sqlalchemy.orm import Session, object_session
from werkzeug.datastructures import FileStorage

import flask_fs as fs
from flask_fs import fields
from flask_fs.errors import FileExists, UnauthorizedFileType
from flask_fs.images import ImageError

from .conftest import database, make_model, png_bytes


class MongoRecords:
    """mongoengine documents with fs-mongo's fields."""

    def __init__(self) -> None:
        from flask_fs import mongo

        self.FileField = mongo.FileField
        self.ImageField = mongo.ImageField

    def model(self, **columns: Any) -> Any:
        from mongoengine import Document

        name = f"Doc{uuid.uuid4().hex[:8]}"
        return type(name, (Document,), {"meta": {"collection": name.lower()}, **columns})

    def persist(self, record: Any) -> None:
        record.save()

    def reload(self, record: Any) -> Any:
        return type(record).objects.get(id=record.id)

    def stored(self, record: Any, key: str) -> Any:
        return type(record)._get_collection().find_one({"_id": record.id}).get(key)


class SqlRecords:
    """SQLAlchemy models with fs-sqlalchemy's columns; each persist commits."""

    def __init__(self, engine: Engine) -> None:
        from flask_fs import sqlalchemy

        self.FileField = sqlalchemy.FileField
        self.ImageField = sqlalchemy.ImageField
        self.engine = engine
        self.session = Session(engine)
        self.sessions = [self.session]

    def model(self, **columns: Any) -> Any:
        return make_model(self.engine, **columns)

    def persist(self, record: Any) -> None:
        session = object_session(record) or self.session
        session.add(record)
        session.commit()

    def reload(self, record: Any) -> Any:
        """The record as a session of its own loads it."""
        session = Session(self.engine)
        self.sessions.append(session)
        return session.get(type(record), record.id)

    def close(self) -> None:
        for session in self.sessions:
            session.close()

    def stored(self, record: Any, key: str) -> Any:
        column = type(record).__table__.c[key]
        query = select(type_coerce(column, JSON)).where(type(record).__table__.c.id == record.id)
        with Session(self.engine) as session:
            value = session.execute(query).scalar()
        return {k: v for k, v in value.items() if k != "checksum"} if value else None


@pytest.fixture(params=["mongo", "sqlite", "postgresql"])
def orm(request: pytest.FixtureRequest, app: Flask, tmp_path: Path) -> Iterator[Any]:
    """fs-mongo's documents, or fs-sqlalchemy's models on SQLite or PostgreSQL."""
    if request.param == "mongo":
        request.getfixturevalue("mongoengine_db")
        yield MongoRecords()
        return
    with database(request.param, request, tmp_path) as url:
        engine = create_engine(url)
        records = SqlRecords(engine)
        yield records
        records.close()
        engine.dispose()


def _image_size(storage: fs.Storage, name: str) -> tuple[int, int]:
    return Image.open(io.BytesIO(storage.read(name))).size


def test_a_new_records_file_is_an_empty_reference(orm: Any, files: fs.Storage) -> None:
    record = orm.model(file=orm.FileField(fs=files))()
    assert isinstance(record.file, fields.FileReference)
    assert not record.file
    assert record.file.filename is None
    assert record.file.url is None
    assert str(record.file) == ""


def test_file_field_spec_example(orm: Any, files: fs.Storage) -> None:
    model = orm.model(
        file=orm.FileField(fs=files, upload_to=lambda o: "prefix", basename=lambda o: "basename")
    )
    record = model()
    record.file.save(io.BytesIO(b"xxx"), "test.file")
    assert record.file
    assert record.file.filename == "prefix/test.file"
    assert record.file.url == "http://myserver.com/files/prefix/test.file"
    assert str(record.file) == record.file.url
    assert files.read("prefix/test.file") == b"xxx"

    record.file.save(FileStorage(io.BytesIO(b"yyy"), "test.file"))  # the basename applies
    assert record.file.filename == "prefix/basename.file"
    orm.persist(record)
    assert files.read("prefix/basename.file") == b"yyy"
    assert list(files.list_files()) == ["prefix/basename.file"]


def test_a_file_round_trips_through_the_database(orm: Any, files: fs.Storage) -> None:
    record = orm.model(file=orm.FileField(fs=files))()
    record.file.save(FileStorage(io.BytesIO(b"abc"), "Rapport été.TXT"))
    orm.persist(record)
    assert orm.stored(record, "file") == {"filename": "Rapport_été.txt"}
    loaded = orm.reload(record)
    assert isinstance(loaded.file, fields.FileReference)
    assert loaded.file.filename == "Rapport_été.txt"
    assert files.read(loaded.file.filename) == b"abc"

    loaded.file.delete()
    orm.persist(loaded)
    assert not files.exists("Rapport_été.txt")
    assert not orm.reload(record).file
    assert orm.stored(record, "file") is None


def test_replacing_a_file_leaves_only_the_new_one(orm: Any, files: fs.Storage) -> None:
    record = orm.model(file=orm.FileField(fs=files))()
    record.file.save(io.BytesIO(b"1"), "one.txt")
    orm.persist(record)
    loaded = orm.reload(record)
    loaded.file.save(io.BytesIO(b"2"), "two.txt")
    orm.persist(loaded)
    assert list(files.list_files()) == ["two.txt"]
    assert orm.reload(record).file.filename == "two.txt"


def test_saving_the_same_name_again_replaces_the_content(orm: Any, files: fs.Storage) -> None:
    record = orm.model(file=orm.FileField(fs=files))()
    record.file.save(io.BytesIO(b"1"), "same.txt")
    orm.persist(record)
    loaded = orm.reload(record)
    loaded.file.save(io.BytesIO(b"2"), "same.txt")
    orm.persist(loaded)
    name = orm.reload(record).file.filename
    assert files.read(name) == b"2"
    assert list(files.list_files()) == [name]


def test_another_records_file_is_never_replaced(orm: Any, images: fs.Storage) -> None:
    model = orm.model(image=orm.ImageField(fs=images, max_size=100, thumbnails=[32]))
    images.write("pic-32.png", b"another record's thumbnail")
    record = model()
    try:
        record.image.save(png_bytes(), "pic.png")
    except FileExists:  # mongoengine: refused, nothing half done
        assert list(images.list_files()) == ["pic-32.png"]
        assert not record.image
    else:  # SQLAlchemy: saved under a fresh name
        assert record.image.thumbnail(32) != "pic-32.png"
        assert images.exists(record.image.thumbnail(32))
    assert images.read("pic-32.png") == b"another record's thumbnail"


def test_image_field_spec_example(orm: Any, images: fs.Storage, some_image: str) -> None:
    model = orm.model(image=orm.ImageField(fs=images, max_size=150, thumbnails=[100, 32]))
    record = model()
    with open(some_image, "rb") as f:
        record.image.save(f, "test.png", bbox=(10, 10, 100, 100))
    assert isinstance(record.image, fields.ImageReference)
    assert record.image.filename == "test.png"
    assert record.image.original == "test-original.png"
    assert record.image.thumbnail(100) == "test-100.png"
    assert record.image.thumbnail(32) == "test-32.png"
    assert str(record.image.best_url()).endswith("/test.png")
    assert str(record.image.best_url(150)).endswith("/test.png")
    assert str(record.image.best_url(90)).endswith("/test-100.png")
    assert str(record.image(30)).endswith("/test-32.png")
    assert record.image.full() == "http://myserver.com/images/test.png"
    assert _image_size(images, "test.png") == (150, 100)
    assert _image_size(images, "test-32.png") == (32, 32)
    with open(some_image, "rb") as f:
        assert images.read("test-original.png") == f.read()

    orm.persist(record)
    assert orm.stored(record, "image") == {
        "filename": "test.png",
        "original": "test-original.png",
        "thumbnails": {"100": "test-100.png", "32": "test-32.png"},
        "bbox": [10, 10, 100, 100],
    }
    loaded = orm.reload(record)
    assert isinstance(loaded.image, fields.ImageReference)
    assert loaded.image.bbox == (10, 10, 100, 100)
    assert loaded.image.thumbnail(32) == "test-32.png"
    assert str(loaded.image(90)).endswith("/test-100.png")


def test_rerender_follows_new_settings_and_keeps_the_original(
    orm: Any, images: fs.Storage, some_image: str
) -> None:
    field = orm.ImageField(fs=images, max_size=150, thumbnails=[100, 32])
    record = orm.model(image=field)()
    with open(some_image, "rb") as f:
        record.image.save(f, "pic.png")
    orm.persist(record)
    original = images.read("pic-original.png")

    field.max_size, field.thumbnail_sizes = 80, [64]
    loaded = orm.reload(record)
    loaded.image.rerender()
    orm.persist(loaded)
    image = orm.reload(record).image
    assert _image_size(images, image.filename) == (80, 53)
    assert list(image.thumbnails) == [64]
    assert image.original == "pic-original.png"
    assert images.read("pic-original.png") == original
    assert sorted(images.list_files()) == sorted(image.names())


def test_a_bad_image_stores_nothing(orm: Any, images: fs.Storage) -> None:
    record = orm.model(image=orm.ImageField(fs=images, thumbnails=[32]))()
    with pytest.raises(ImageError):
        record.image.save(io.BytesIO(b"#!/bin/sh\necho not an image"), "evil.png")
    assert list(images.list_files()) == []
    assert not record.image


@pytest.mark.parametrize("name", ["evil.php", "evil.html", ".htaccess", "evil"])
def test_fields_follow_the_storages_extension_rules(
    orm: Any, images: fs.Storage, name: str
) -> None:
    model = orm.model(image=orm.ImageField(fs=images), file=orm.FileField(fs=images))
    record = model()
    with pytest.raises(UnauthorizedFileType):
        record.image.save(FileStorage(png_bytes(), name))
    with pytest.raises(UnauthorizedFileType):
        record.file.save(png_bytes(), name)
    assert list(images.list_files()) == []


def test_a_name_assigned_to_a_field_is_kept(
    orm: Any, files: fs.Storage, images: fs.Storage
) -> None:
    model = orm.model(file=orm.FileField(fs=files), image=orm.ImageField(fs=images))
    record = model()
    record.file = "file.test"
    record.image = "pic.png"
    assert record.file.filename == "file.test"
    assert record.file.url == "http://myserver.com/files/file.test"
    assert record.image.original == "pic.png"
    orm.persist(record)
    loaded = orm.reload(record)
    assert loaded.file.filename == "file.test"
    assert loaded.image.filename == "pic.png"

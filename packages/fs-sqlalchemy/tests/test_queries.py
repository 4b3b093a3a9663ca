"""What a file column holds, and finding rows by file name, on SQLite and PostgreSQL:
``Model.field.filename`` is an SQL expression (a JSON path) to compare, sort or match with."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import JSON, Engine, select, type_coerce
from sqlalchemy.orm import sessionmaker

import flask_fs as fs
from flask_fs.sqlalchemy import FileField, ImageField

from .conftest import make_model, png_bytes

pytestmark = pytest.mark.usefixtures("app")


@pytest.fixture
def backend_settings(tmp_path: Path) -> dict[str, Any]:
    """Queries do not touch the storage: the local backend is enough."""
    return {"FS_BACKEND": "local", "FS_ROOT": str(tmp_path / "fs")}


def test_rows_are_found_by_file_name(
    engine: Engine,
    Session: sessionmaker[Any],  # noqa: N803
    files: fs.Storage,
    images: fs.Storage,
) -> None:
    Doc = make_model(engine, file=FileField(fs=files), image=ImageField(fs=images))  # noqa: N806
    with Session() as session:
        for title in ("b", "a", "empty"):
            row = Doc(title=title)
            if title != "empty":
                row.file.save(io.BytesIO(title.encode()), f"{title}.txt")
                row.image.save(png_bytes((20, 20)), f"{title}.png")
            session.add(row)
        session.commit()

        found = session.scalars(select(Doc).where(Doc.file.filename == "a.txt")).one()
        assert found.title == "a"
        found = session.scalars(select(Doc).where(Doc.image.filename == "b.png")).one()
        assert found.title == "b"
        names = session.scalars(select(Doc.file.filename).order_by(Doc.file.filename)).all()
        assert names[-2:] == ["a.txt", "b.txt"] or names[:2] == ["a.txt", "b.txt"]
        assert None in names  # the row without a file
        matched = session.scalars(select(Doc.title).where(Doc.file.filename.like("%.txt")))
        assert sorted(matched) == ["a", "b"]
        empty = session.scalars(select(Doc.title).where(Doc.file.is_(None))).all()
        assert empty == ["empty"]


def test_the_column_holds_the_names_bbox_and_checksum(
    engine: Engine,
    Session: sessionmaker[Any],  # noqa: N803
    files: fs.Storage,
    images: fs.Storage,
) -> None:
    Doc = make_model(engine, file=FileField(fs=files), image=ImageField(fs=images, thumbnails=[8]))  # noqa: N806
    with Session() as session:
        row = Doc()
        row.file.save(io.BytesIO(b"abc"), "a.txt")
        row.image.save(png_bytes((20, 20)), "a.png", bbox=(0, 0, 10, 10))
        session.add(row)
        session.commit()
        table = Doc.__table__
        stored = session.execute(
            select(type_coerce(table.c.file, JSON), type_coerce(table.c.image, JSON))
        ).one()
    assert stored[0] == {
        "filename": "a.txt",
        "checksum": f"sha256:{hashlib.sha256(b'abc').hexdigest()}",
    }
    digest = hashlib.sha256(images.read("a.png")).hexdigest()
    assert stored[1] == {
        "filename": "a.png",
        "thumbnails": {"8": "a-8.png"},
        "bbox": [0, 0, 10, 10],
        "checksum": f"sha256:{digest}",
    }
    assert files.metadata("a.txt")["checksum"] == stored[0]["checksum"]  # what the storage says

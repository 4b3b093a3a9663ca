"""Fixtures of fs-sqlalchemy's tests: a database (SQLite, and PostgreSQL in a schema of the
test's own), storages on the local backend or on S3, and models made per test."""

from __future__ import annotations

import contextlib
import io
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from flask import Flask
from PIL import Image
from sqlalchemy import Engine, Integer, String, create_engine, text
from sqlalchemy.orm import DeclarativeBase, mapped_column, sessionmaker

import flask_fs as fs

BUCKET = "flask-fs-tests"


@contextlib.contextmanager
def database(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of the test's own: an SQLite file, or a PostgreSQL schema (dropped after)."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    url = request.getfixturevalue("postgres_url").replace("postgresql://", "postgresql+psycopg://")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"{url}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:  # a session a test left open fails it, not hangs it
            conn.execute(text("SET lock_timeout = '10s'"))
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with database(request.param, request, tmp_path) as url:
        yield url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def Session(engine: Engine) -> sessionmaker[Any]:
    return sessionmaker(engine)


def _s3_settings(server: Any) -> dict[str, Any]:
    client = boto3.client(
        "s3",
        endpoint_url=server.endpoint,
        aws_access_key_id=server.access_key,
        aws_secret_access_key=server.secret_key,
        region_name=server.region,
        config=Config(s3={"addressing_style": "path"}),
    )
    try:
        client.create_bucket(Bucket=BUCKET)
    except ClientError as exc:
        if exc.response["Error"]["Code"] not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            raise
    prefix = uuid.uuid4().hex[:12]
    return {
        "FS_BACKEND": "s3",
        "FS_S3_ENDPOINT": server.endpoint,
        "FS_S3_REGION": server.region,
        "FS_S3_ACCESS_KEY": server.access_key,
        "FS_S3_SECRET_KEY": server.secret_key,
        "FS_S3_BUCKET": BUCKET,
        "FILES_FS_PREFIX": f"{prefix}/files",
        "IMAGES_FS_PREFIX": f"{prefix}/images",
        "FS_S3_ADDRESSING_STYLE": "path",
    }


@pytest.fixture(params=["local", "s3"])
def backend_settings(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    """Settings that put the storages on the local backend, or on S3 (SeaweedFS)."""
    if request.param == "local":
        return {"FS_BACKEND": "local", "FS_ROOT": str(tmp_path / "fs")}
    return _s3_settings(request.getfixturevalue("seaweed_s3"))


@pytest.fixture
def files() -> fs.Storage:
    return fs.Storage("files", fs.ALL)


@pytest.fixture
def images() -> fs.Storage:
    return fs.Storage("images", fs.IMAGES)


@pytest.fixture
def app(backend_settings: dict[str, Any], files: fs.Storage, images: fs.Storage) -> Iterator[Flask]:
    app = Flask(__name__)
    app.config.update(backend_settings)
    app.config.update(
        FILES_FS_URL="http://myserver.com/files/", IMAGES_FS_URL="http://myserver.com/images/"
    )
    fs.init_app(app, files, images)
    with app.app_context():
        yield app


def make_model(engine: Engine, unique: bool = False, **columns: Any) -> Any:
    """A mapped class of its own table with an integer ``id``, a ``title`` (unique if asked)
    and ``columns`` (name: column type); its table is created."""

    class Base(DeclarativeBase):
        pass

    name = f"Row{uuid.uuid4().hex[:8]}"
    attrs: dict[str, Any] = {
        "__tablename__": name.lower(),
        "id": mapped_column(Integer, primary_key=True),
        "title": mapped_column(String(50), unique=unique, nullable=True),
        **{key: mapped_column(column_type) for key, column_type in columns.items()},
    }
    model = type(name, (Base,), attrs)
    Base.metadata.create_all(engine)
    return model


def png_bytes(size: tuple[int, int] = (300, 200), color: str = "blue") -> io.BytesIO:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    out.seek(0)
    return out


@pytest.fixture
def some_image(tmp_path: Path) -> str:
    """A 300x200 PNG on disk, as the spec's ``some_image``."""
    path = tmp_path / "some_image.png"
    Image.linear_gradient("L").resize((300, 200)).convert("RGB").save(path, "PNG")
    return str(path)

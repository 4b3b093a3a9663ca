"""A database written by Flask-FS 0.4.0, pymongo's GridFS tools and mongofiles, used as it is."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from bson import ObjectId
from flask import Flask
from gridfs import GridFS, GridFSBucket
from pymongo import MongoClient
from pymongo.database import Database

import flask_fs as fs
from flask_fs.backends.gridfs import UPLOAD_BATCH, GridFsBackend, _Upload
from flask_fs.cli import fs_command
from flask_fs.errors import FileExists, FileNotFound

BUCKET = "legacy"
OLD_TEXT = b"precious data"
REPORT = [b"report, first draft", b"report, second draft", b"report, final"]
PHOTO = bytes(range(256)) * 2000  # 512,000 bytes: two 255 KiB chunks
README = b"# readme\n" * 40_000  # 360,000 bytes in mongofiles' 255 KiB chunks


def _seed(db: Database[Any]) -> None:
    """Files as each tool writes them, in the ``legacy`` bucket (the storage's name in 0.4.0)."""
    legacy = GridFS(db, BUCKET)  # what Flask-FS 0.4.0 called: GridFS(db, name).put(...)
    legacy.put(OLD_TEXT, filename="old.txt", content_type="text/plain")
    for draft in REPORT:  # three revisions of one name: the newest is the file
        legacy.put(draft, filename="docs/report.txt")
    bucket = GridFSBucket(db, BUCKET)
    bucket.upload_from_stream(
        "images/photo.png", io.BytesIO(PHOTO), metadata={"contentType": "image/png"}
    )
    # mongofiles (the Go driver): 255 KiB chunks, no content type, no md5.
    file_id = ObjectId()
    chunk = 255 * 1024
    db[f"{BUCKET}.chunks"].insert_many(
        {"files_id": file_id, "n": n, "data": README[n * chunk : (n + 1) * chunk]}
        for n in range(-(-len(README) // chunk))
    )
    db[f"{BUCKET}.files"].insert_one(
        {
            "_id": file_id,
            "length": len(README),
            "chunkSize": chunk,
            "uploadDate": datetime(2019, 5, 1, tzinfo=timezone.utc),
            "filename": "docs/readme.md",
        }
    )
    legacy.put(b"outside", filename="/etc/passwd")  # a name flask-fs cannot address


@pytest.fixture
def database(mongo: MongoClient[Any], database: str) -> Iterator[Database[Any]]:
    db = mongo[database]
    for suffix in ("files", "chunks"):
        db.drop_collection(f"{BUCKET}.{suffix}")
    _seed(db)
    yield db
    for suffix in ("files", "chunks"):
        db.drop_collection(f"{BUCKET}.{suffix}")


@pytest.fixture
def app(mongo_url: str, database: Database[Any]) -> Flask:
    app = Flask(__name__)
    app.config.update(
        FS_BACKEND="gridfs", FS_GRIDFS_MONGO_URL=mongo_url, FS_GRIDFS_MONGO_DB=database.name
    )
    app.config["FS_SERVE"] = True
    fs.init_app(app, fs.Storage(BUCKET, fs.ALL))
    return app


@pytest.fixture
def storage(app: Flask) -> Iterator[fs.Storage]:
    with app.app_context():
        yield fs.by_name(BUCKET)


def _counts(db: Database[Any]) -> tuple[int, int]:
    return (
        db[f"{BUCKET}.files"].count_documents({}),
        db[f"{BUCKET}.chunks"].count_documents({}),
    )


def test_every_file_is_seen(storage: fs.Storage) -> None:
    assert list(storage.list_files()) == [
        "docs/readme.md",
        "docs/report.txt",
        "images/photo.png",
        "old.txt",
    ]
    assert list(storage.list_files("docs/")) == ["docs/readme.md", "docs/report.txt"]
    assert storage.exists("old.txt")
    assert "docs/readme.md" in storage
    assert not storage.exists("docs")


def test_listing_with_details_describes_the_newest_revisions(storage: fs.Storage) -> None:
    infos = {info.name: info for info in storage.list_files(details=True)}
    assert list(infos) == list(storage.list_files())
    readme = infos["docs/readme.md"]  # mongofiles: no type, no checksum
    assert readme.size == len(README)
    assert readme.modified == datetime(2019, 5, 1, tzinfo=timezone.utc)
    assert (readme.mime, readme.checksum) == ("text/markdown", None)
    assert infos["docs/report.txt"].size == len(REPORT[-1])  # the newest of three revisions
    assert infos["old.txt"].mime == "text/plain"  # GridFS.put's top-level contentType
    assert infos["images/photo.png"].mime == "image/png"  # metadata.contentType
    storage.metadata("old.txt")  # hashes it once and stores the SHA-256
    (old,) = storage.list_files("old", details=True)
    assert old.checksum == "sha256:" + hashlib.sha256(OLD_TEXT).hexdigest()


def test_listing_describes_the_revision_metadata_reads(
    storage: fs.Storage, database: Database[Any]
) -> None:
    """Revisions tied on their date, dated out of insertion order, or without a date: the
    listing describes the one ``metadata()`` (and a read) takes."""
    tool, files = GridFS(database, BUCKET), database[f"{BUCKET}.files"]
    for content in (b"1", b"22"):  # the same date: the greater _id is the newest
        tool.put(content, filename="tie.txt")
    files.update_many({"filename": "tie.txt"}, {"$set": {"uploadDate": datetime(2021, 1, 1)}})
    newer, older = (tool.put(content, filename="dated.txt") for content in (b"333", b"4444"))
    files.update_one({"_id": newer}, {"$set": {"uploadDate": datetime(2022, 1, 1)}})
    files.update_one({"_id": older}, {"$set": {"uploadDate": datetime(2020, 1, 1)}})
    undated = tool.put(b"55555", filename="undated.txt")
    files.update_one({"_id": undated}, {"$unset": {"uploadDate": ""}})

    infos = {info.name: info for info in storage.list_files(details=True)}
    assert (infos["tie.txt"].size, infos["dated.txt"].size) == (2, 3)
    assert infos["undated.txt"].modified == undated.generation_time
    for name in ("tie.txt", "dated.txt", "undated.txt"):
        meta = storage.metadata(name)
        assert (infos[name].size, infos[name].modified) == (meta["size"], meta["modified"])
        assert infos[name].modified.utcoffset() == timedelta(0)


def test_reads_stream_the_newest_revision(storage: fs.Storage) -> None:
    assert storage.read("old.txt") == OLD_TEXT
    assert storage.read("docs/report.txt") == REPORT[-1]
    with storage.open("docs/readme.md", "rb") as f:
        assert f.read(9) == b"# readme\n"
        f.seek(300_000)
        assert f.read() == README[300_000:]
    with storage.open("old.txt") as text:
        assert text.read() == OLD_TEXT.decode()
    assert storage.read("images/photo.png") == PHOTO


def test_metadata_uses_what_is_stored_and_remembers_the_checksum(
    storage: fs.Storage, database: Database[Any]
) -> None:
    meta = storage.metadata("old.txt")
    assert meta["mime"] == "text/plain"  # GridFS.put's top-level contentType
    assert meta["size"] == len(OLD_TEXT)
    assert meta["checksum"] == "sha256:" + hashlib.sha256(OLD_TEXT).hexdigest()
    assert storage.metadata("images/photo.png")["mime"] == "image/png"  # metadata.contentType
    readme = storage.metadata("docs/readme.md")
    assert readme["modified"] == datetime(2019, 5, 1, tzinfo=timezone.utc)  # its uploadDate
    assert readme["mime"] == "text/markdown"  # guessed from the name: nothing was stored
    stored = database[f"{BUCKET}.files"].find_one({"filename": "docs/readme.md"})
    assert stored is not None
    assert stored["metadata"]["sha256"] == hashlib.sha256(README).hexdigest()  # remembered
    database[f"{BUCKET}.files"].update_one(
        {"_id": stored["_id"]}, {"$set": {"metadata.sha256": "0" * 64}}
    )
    assert storage.metadata("docs/readme.md")["checksum"] == "sha256:" + "0" * 64  # not rehashed
    assert storage.metadata("docs/report.txt")["checksum"].endswith(
        hashlib.sha256(REPORT[-1]).hexdigest()
    )


def test_serving_with_ranges_and_etags(app: Flask) -> None:
    client = app.test_client()
    response = client.get(f"/{BUCKET}/docs/report.txt")
    assert response.status_code == 200
    assert response.data == REPORT[-1]
    etag = response.headers["ETag"].strip('"')
    again = client.get(f"/{BUCKET}/docs/report.txt", headers={"If-None-Match": f'"{etag}"'})
    assert again.status_code == 304
    partial = client.get(f"/{BUCKET}/docs/readme.md", headers={"Range": "bytes=100-199"})
    assert partial.status_code == 206
    assert partial.data == README[100:200]
    assert partial.headers["Content-Range"] == f"bytes 100-199/{len(README)}"
    assert client.get(f"/{BUCKET}/old.txt").mimetype == "text/plain"


def test_copy_move_and_delete_every_revision(storage: fs.Storage, database: Database[Any]) -> None:
    storage.copy("docs/report.txt", "archive/report.txt")
    assert storage.read("archive/report.txt") == REPORT[-1]
    storage.move("old.txt", "archive/old.txt")
    assert storage.read("archive/old.txt") == OLD_TEXT
    assert not storage.exists("old.txt")
    files_before, chunks_before = _counts(database)
    storage.delete("docs/report.txt")  # three revisions, one chunk each
    assert not storage.exists("docs/report.txt")
    assert _counts(database) == (files_before - 3, chunks_before - 3)
    with pytest.raises(FileNotFound):
        storage.read("docs/report.txt")
    with pytest.raises(FileExists):
        storage.write("docs/readme.md", b"create only")
    storage.write("docs/readme.md", b"replaced", overwrite=True)
    assert storage.read("docs/readme.md") == b"replaced"
    assert database[f"{BUCKET}.files"].count_documents({"filename": "docs/readme.md"}) == 1


def test_what_flask_fs_writes_gridfs_tools_read(
    storage: fs.Storage, database: Database[Any]
) -> None:
    storage.write("notes/new.html", b"<p>new</p>")
    bucket = GridFSBucket(database, BUCKET)
    assert bucket.open_download_stream_by_name("notes/new.html").read() == b"<p>new</p>"
    last = GridFS(database, BUCKET).get_last_version("notes/new.html")
    assert last._file["contentType"] == "text/html"  # what the deprecated content_type reads
    assert last.metadata is not None
    assert last.metadata["contentType"] == "text/html"
    storage.write("old.txt", b"a new revision", overwrite=True)
    assert GridFS(database, BUCKET).get_last_version("old.txt").read() == b"a new revision"


def test_a_new_revision_from_another_tool_is_the_file(storage: fs.Storage, database: Any) -> None:
    storage.write("shared.txt", b"from flask-fs")
    GridFSBucket(database, BUCKET).upload_from_stream("shared.txt", io.BytesIO(b"from a tool"))
    assert storage.read("shared.txt") == b"from a tool"
    assert storage.metadata("shared.txt")["size"] == len(b"from a tool")


def test_sweep_removes_nothing_from_an_upgraded_database(
    storage: fs.Storage, database: Database[Any]
) -> None:
    before = _counts(database)
    assert storage.sweep(0, remove=False) == []
    assert storage.sweep(0) == []
    assert _counts(database) == before
    assert storage.read("docs/report.txt") == REPORT[-1]


def test_sweep_removes_only_unfinished_flask_fs_uploads(
    storage: fs.Storage, database: Database[Any]
) -> None:
    backend = storage.backend
    assert isinstance(backend, GridFsBackend)
    interrupted = _Upload(backend, "big.bin")  # a writer killed before it could publish
    interrupted.write(b"x" * (2 * UPLOAD_BATCH))  # a batch of chunks is in the database
    foreign = ObjectId.from_datetime(datetime.now(timezone.utc) - timedelta(days=2))
    database[f"{BUCKET}.chunks"].insert_one({"files_id": foreign, "n": 0, "data": b"?"})
    lines = storage.sweep(0, remove=False)
    assert lines == [f"chunks of an unfinished upload {interrupted.file_id}, "
                     f"started {interrupted.file_id.generation_time}"]  # fmt: skip
    assert storage.sweep(3600) == []  # too recent for an hour's margin
    assert storage.sweep(0) == lines
    chunks = database[f"{BUCKET}.chunks"]
    assert chunks.count_documents({"files_id": interrupted.file_id}) == 0
    assert chunks.count_documents({"files_id": foreign}) == 1  # not ours: left alone
    assert storage.read("docs/readme.md") == README


def test_the_cli_lists_checks_and_sweeps_nothing(app: Flask, database: Database[Any]) -> None:
    database[f"{BUCKET}.chunks"].insert_one({"files_id": ObjectId(), "n": 0, "data": b"?"})
    runner = app.test_cli_runner()
    listing = runner.invoke(fs_command, ["ls", f"{BUCKET}:docs/"])
    assert listing.exit_code == 0, listing.output
    assert listing.output.split() == ["docs/readme.md", "docs/report.txt"]
    check = runner.invoke(fs_command, ["check"])
    assert check.exit_code == 0, check.output
    assert "5 name(s), 7 GridFS file(s)" in check.output
    assert "1 name(s) with several revisions (the newest is the file): 'docs/report.txt'" in (
        check.output
    )
    assert "1 file name(s) that flask-fs cannot address: '/etc/passwd'" in check.output
    assert "1 set(s) of chunks without a file, not written by flask-fs" in check.output
    swept = runner.invoke(fs_command, ["sweep", "--dry-run", "--older-than", "0"])
    assert swept.exit_code == 0, swept.output
    assert f"{BUCKET}: 0 leftover(s) found" in swept.output

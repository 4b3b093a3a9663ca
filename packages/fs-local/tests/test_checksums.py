"""The local backend records each file's checksum when it writes it: metadata() does not read it.

The proof that a checksum was not read is :func:`_tamper`: the content changes in place while the
size, inode and mtime stay what they were, so only a read could see it.
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.datastructures import FileStorage

import flask_fs as fs
from flask_fs.backends.local_checksums import SIDECAR_FOLDER
from flask_fs.errors import InvalidFilename

OLD = b"recorded content"
NEW = b"tampered content"
HOUR_NS = 3600 * 10**9


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "root"


@pytest.fixture
def files(root: Path, tmp_path: Path) -> Iterator[fs.Storage]:
    app = Flask(__name__, instance_path=str(tmp_path / "instance"))
    app.config["FILES_FS_ROOT"] = str(root)
    files = fs.Storage("files", fs.ALL)
    fs.init_app(app, files)
    with app.test_request_context():
        yield files


def _refuse_xattrs(monkeypatch: pytest.MonkeyPatch) -> None:
    """A file system without user extended attributes (vfat, some NFS and overlay set-ups)."""

    def refuse(*args: object, **kwargs: object) -> bytes:
        raise OSError(errno.ENOTSUP, os.strerror(errno.ENOTSUP))

    monkeypatch.setattr(os, "setxattr", refuse)
    monkeypatch.setattr(os, "getxattr", refuse)


@pytest.fixture
def no_xattrs(monkeypatch: pytest.MonkeyPatch) -> None:
    _refuse_xattrs(monkeypatch)


@pytest.fixture(params=["xattr", "sidecar"])
def records(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each way of keeping records: in extended attributes, or in sidecars without them."""
    if request.param == "sidecar":
        _refuse_xattrs(monkeypatch)
    return str(request.param)


def sha256(data: bytes) -> str:
    return f"sha256:{hashlib.sha256(data).hexdigest()}"


def _tamper(path: Path, data: bytes) -> None:
    """Change the content in place, keeping its size, inode and mtime."""
    before = path.stat()
    assert len(data) == before.st_size
    with open(path, "r+b") as f:
        f.write(data)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


def _age(path: Path) -> None:
    """Make a file look written an hour ago, as most files of another tool are."""
    mtime = time.time_ns() - HOUR_NS
    os.utime(path, ns=(mtime, mtime))


def _write_open_binary(files: fs.Storage, name: str) -> None:
    with files.open(name, "wb") as f:
        f.write(OLD[:5])
        f.write(OLD[5:])


def _write_open_text(files: fs.Storage, name: str) -> None:
    with files.open(name, "w") as f:
        f.write(OLD.decode())


def _write_stream(files: fs.Storage, name: str) -> None:
    files.write(name, io.BytesIO(OLD))


def _save_upload(files: fs.Storage, name: str) -> None:
    files.save(FileStorage(io.BytesIO(OLD), "upload.txt"), name)


def _copy(files: fs.Storage, name: str) -> None:
    files.write("source.txt", OLD)
    files.copy("source.txt", name)


def _move(files: fs.Storage, name: str) -> None:
    files.write("source.txt", OLD)
    files.move("source.txt", name)


WRITES: dict[str, Callable[[fs.Storage, str], object]] = {
    "open-wb": _write_open_binary,
    "open-w": _write_open_text,
    "write-bytes": lambda files, name: files.write(name, OLD),
    "write-str": lambda files, name: files.write(name, OLD.decode()),
    "write-stream": _write_stream,
    "save": _save_upload,
    "copy": _copy,
    "move": _move,
}


@pytest.mark.parametrize("write", WRITES.values(), ids=WRITES.keys())
def test_metadata_of_a_written_file_does_not_read_it(
    files: fs.Storage, root: Path, write: Callable[[fs.Storage, str], object], records: str
) -> None:
    write(files, "a/f.txt")
    _tamper(root / "a" / "f.txt", NEW)
    meta = files.metadata("a/f.txt")
    assert meta["checksum"] == sha256(OLD)
    assert meta["size"] == len(OLD)
    assert not any(name.startswith(SIDECAR_FOLDER) for name in files.list_files())


def test_a_file_changed_in_place_by_another_tool_is_hashed_again(
    files: fs.Storage, root: Path
) -> None:
    files.write("f.txt", OLD)
    with open(root / "f.txt", "r+b") as f:  # a plain write: the mtime moves
        f.write(NEW)
    assert files.metadata("f.txt")["checksum"] == sha256(NEW)


def test_a_replaced_file_is_hashed_again_even_with_the_same_size_and_mtime(
    files: fs.Storage, root: Path
) -> None:
    files.write("f.txt", OLD)
    before = (root / "f.txt").stat()
    (root / "other").write_bytes(NEW)
    os.utime(root / "other", ns=(before.st_atime_ns, before.st_mtime_ns))
    os.replace(root / "other", root / "f.txt")  # a new inode
    assert files.metadata("f.txt")["checksum"] == sha256(NEW)


def test_a_file_of_another_tool_is_hashed_once_then_recorded(
    files: fs.Storage, root: Path, records: str
) -> None:
    root.mkdir()
    (root / "f.txt").write_bytes(OLD)
    _age(root / "f.txt")
    assert files.metadata("f.txt")["checksum"] == sha256(OLD)  # read, then recorded
    _tamper(root / "f.txt", NEW)
    assert files.metadata("f.txt")["checksum"] == sha256(OLD)  # not read again
    (root / "f.txt").write_bytes(NEW[::-1])  # changed in place: read and recorded again
    _age(root / "f.txt")
    assert files.metadata("f.txt")["checksum"] == sha256(NEW[::-1])
    _tamper(root / "f.txt", NEW)
    assert files.metadata("f.txt")["checksum"] == sha256(NEW[::-1])


def test_a_file_another_tool_may_still_be_writing_is_not_recorded(
    files: fs.Storage, root: Path
) -> None:
    root.mkdir()
    (root / "f.txt").write_bytes(OLD)  # modified just now: a same-size rewrite may follow
    assert files.metadata("f.txt")["checksum"] == sha256(OLD)
    _tamper(root / "f.txt", NEW)
    assert files.metadata("f.txt")["checksum"] == sha256(NEW)


def test_metadata_answers_where_nothing_can_be_recorded(
    files: fs.Storage, root: Path, no_xattrs: None
) -> None:
    root.mkdir()
    (root / SIDECAR_FOLDER).write_bytes(b"")  # a file where the sidecars would go
    files.write("f.txt", OLD)
    _age(root / "f.txt")
    assert files.metadata("f.txt")["checksum"] == sha256(OLD)
    _tamper(root / "f.txt", NEW)
    assert files.metadata("f.txt")["checksum"] == sha256(NEW)  # computed on each call


def test_the_sidecar_folder_is_no_file_name(files: fs.Storage, no_xattrs: None) -> None:
    files.write("f.txt", OLD)
    with pytest.raises(InvalidFilename):
        files.read(f"{SIDECAR_FOLDER}/x")
    assert list(files.list_files()) == ["f.txt"]
    assert list(files.list_files(SIDECAR_FOLDER[:3])) == []


def test_sidecars_follow_delete_and_move(files: fs.Storage, root: Path, no_xattrs: None) -> None:
    files.write("a.txt", OLD)
    files.write("b.txt", b"x")
    files.move("a.txt", "b.txt", overwrite=True)
    _tamper(root / "b.txt", NEW)
    assert files.metadata("b.txt")["checksum"] == sha256(OLD)
    assert len(os.listdir(root / SIDECAR_FOLDER)) == 1
    files.delete("b.txt")
    assert os.listdir(root / SIDECAR_FOLDER) == []


def test_sweep_removes_the_sidecars_of_files_deleted_by_another_tool(
    files: fs.Storage, root: Path, no_xattrs: None
) -> None:
    files.write("kept.txt", OLD)
    files.write("gone.txt", OLD)
    assert any("2 checksum record(s)" in line for line in files.backend.diagnose())
    os.unlink(root / "gone.txt")
    assert files.sweep(older_than=3600) == []  # too recent: its file may be being published
    swept = files.sweep(older_than=0)
    assert len(swept) == 1
    assert "checksum record" in swept[0]
    _tamper(root / "kept.txt", NEW)
    assert files.metadata("kept.txt")["checksum"] == sha256(OLD)


def test_a_large_write_from_a_reused_buffer_records_what_was_written(
    files: fs.Storage, root: Path
) -> None:
    buffer = bytearray(1024 * 1024)
    written = hashlib.sha256()
    with files.open("big.bin", "wb") as f:
        for fill in range(4):
            buffer[:] = bytes([fill]) * len(buffer)  # the caller reuses its buffer at once
            f.write(buffer)
            written.update(buffer)
    assert files.metadata("big.bin")["checksum"] == f"sha256:{written.hexdigest()}"
    assert hashlib.sha256((root / "big.bin").read_bytes()).hexdigest() == written.hexdigest()


def test_a_record_takes_no_disk_space(files: fs.Storage, root: Path) -> None:
    """On ext4 an attribute that does not fit in the inode costs a block of its own."""
    files.write("recorded.txt", OLD)
    (root / "plain.txt").write_bytes(OLD)
    assert (root / "recorded.txt").stat().st_blocks == (root / "plain.txt").stat().st_blocks


MiB = 1024 * 1024


@pytest.mark.parametrize("size", [0, 4096, MiB, MiB + 1, 2 * MiB, 3 * MiB + 5])
@pytest.mark.parametrize("how", ["write", "save"])
def test_small_and_large_writes_record_what_was_written(
    files: fs.Storage, root: Path, records: str, size: int, how: str
) -> None:
    """Up to 1 MiB in memory, or an upload two reads exhaust, is written in one go; more goes
    through the writer, starting with what those reads gave."""
    data = os.urandom(size)
    if how == "write":
        files.write("a/f.bin", data)
    else:
        files.save(FileStorage(io.BufferedReader(io.BytesIO(data)), "f.bin"), "a/f.bin")
    assert (root / "a" / "f.bin").read_bytes() == data
    assert files.read("a/f.bin") == data
    if size:
        _tamper(root / "a" / "f.bin", bytes(size))
        assert files.metadata("a/f.bin")["checksum"] == sha256(data)

"""flask-fs's local backend against raw os/shutil/Flask code doing the same work, same run.

    hatch run bench:local            # 1 GB files, 10,000 small files, 100,000 names
    hatch run bench:local --quick    # a smoke run with small sizes
    hatch run bench:local --dir /dev/shm --only small small-atomic   # without disk noise

Rates are MB/s (large files) or op/s (small files: one write and one read; listing: names);
"ratio" is flask-fs / raw (higher is better, 1.00x = as fast as raw); RSS is the peak growth of
the process's resident memory during the work. "small-atomic" compares with raw code that gives
the guarantees flask-fs gives (a temporary file published with os.link, so a reader never sees
half a file and an existing file is never overwritten), "small" with naive open()/write().
HTTP serving uses waitress, a production WSGI server, in the same process as the client.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from http.client import HTTPConnection
from pathlib import Path
from typing import IO, Any

from _harness import Work, case, main, setup
from _http import HOST, serve_in_thread
from _shared_cases import NOTES, Backend, register
from flask import Flask, send_file
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import FileStorage

import flask_fs as fs

MiB = 1024 * 1024
CHUNK = MiB
SMALL = os.urandom(4096)
BLOCK = os.urandom(CHUNK)
files = fs.Storage("files", fs.ALL)


def _app(workdir: Path, root: Path | None = None) -> Flask:
    app = Flask(__name__, instance_path=str(workdir / "instance"))
    app.config.update(FILES_FS_ROOT=str(root or workdir / "fs"), FS_SERVE=True)
    fs.init_app(app, files)
    return app


def _in_app(app: Flask, func: Callable[[], float]) -> Work:
    """Enter a request context before timing starts: a real view is already in one."""
    app.test_request_context().push()  # popped when the child process exits
    return func


def _write_chunks(f: IO[Any], size: int) -> None:
    for _ in range(size // CHUNK):
        f.write(BLOCK)


def _drain(f: IO[Any]) -> None:
    while f.read(CHUNK):
        pass


def _big_file(workdir: Path, size: int) -> None:
    (workdir / "fs").mkdir()
    with open(workdir / "fs" / "big.bin", "wb") as f:
        _write_chunks(f, size)


# -- large files ---------------------------------------------------------------------------------


@case("write", "raw")
def write_raw(workdir: Path, size: int) -> Work:
    def work() -> float:
        with open(workdir / f"raw-{uuid.uuid4().hex}.bin", "wb") as f:
            _write_chunks(f, size)
        return size / MiB

    return work


@case("write", "fs")
def write_fs(workdir: Path, size: int) -> Work:
    def work() -> float:
        with files.open(f"fs-{uuid.uuid4().hex}.bin", "wb") as f:
            _write_chunks(f, size)
        return size / MiB

    return _in_app(_app(workdir), work)


setup("read")(_big_file)


@case("read", "raw")
def read_raw(workdir: Path, size: int) -> Work:
    def work() -> float:
        with open(workdir / "fs" / "big.bin", "rb") as f:
            _drain(f)
        return size / MiB

    return work


@case("read", "fs")
def read_fs(workdir: Path, size: int) -> Work:
    def work() -> float:
        with files.open("big.bin", "rb") as f:
            _drain(f)
        return size / MiB

    return _in_app(_app(workdir), work)


@setup("save-upload")
def save_setup(workdir: Path, size: int) -> None:
    with open(workdir / "upload.bin", "wb") as f:
        _write_chunks(f, size)


@case("save-upload", "raw")
def save_raw(workdir: Path, size: int) -> Work:
    def work() -> float:
        with open(workdir / "upload.bin", "rb") as stream:
            FileStorage(stream, "upload.bin").save(workdir / f"raw-{uuid.uuid4().hex}.bin")
        return size / MiB

    return work


@case("save-upload", "fs")
def save_fs(workdir: Path, size: int) -> Work:
    def work() -> float:
        with open(workdir / "upload.bin", "rb") as stream:
            files.save(FileStorage(stream, "upload.bin"), f"fs-{uuid.uuid4().hex}.bin")
        return size / MiB

    return _in_app(_app(workdir), work)


# -- serving over HTTP ---------------------------------------------------------------------------


def _fetch(app: Flask, path: str, size: int) -> Work:
    port = serve_in_thread(app, threads=2)

    def work() -> float:
        connection = HTTPConnection(HOST, port)
        connection.request("GET", path)
        response = connection.getresponse()
        assert response.status == 200, response.status
        total = 0
        while chunk := response.read(CHUNK):
            total += len(chunk)
        connection.close()
        assert total == size
        return size / MiB

    return work


setup("serve-http")(_big_file)


@case("serve-http", "raw")
def serve_raw(workdir: Path, size: int) -> Work:
    app = Flask(__name__)
    big = workdir / "fs" / "big.bin"
    app.add_url_rule("/raw", "raw", lambda: send_file(big, conditional=True))
    return _fetch(app, "/raw", size)


@case("serve-http", "fs")
def serve_fs(workdir: Path, size: int) -> Work:
    return _fetch(_app(workdir), "/files/big.bin", size)


# -- small files ---------------------------------------------------------------------------------


def _small_names(count: int) -> list[str]:
    return [f"{i % 100:02d}/{i}.bin" for i in range(count)]


def _read_all_raw(root: Path, names: list[str]) -> None:
    for name in names:
        with open(os.path.join(root, name), "rb") as f:
            assert len(f.read()) == len(SMALL)


@case("small", "raw")
def small_raw(workdir: Path, count: int) -> Work:
    root = workdir / f"raw-{uuid.uuid4().hex}"
    names = _small_names(count)

    def work() -> float:
        for name in names:
            path = os.path.join(root, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(SMALL)
        _read_all_raw(root, names)
        return count

    return work


@case("small-atomic", "raw")
def small_atomic_raw(workdir: Path, count: int) -> Work:
    root = workdir / f"raw-{uuid.uuid4().hex}"
    names = _small_names(count)

    def work() -> float:
        for name in names:
            path = os.path.join(root, name)
            directory = os.path.dirname(path)
            os.makedirs(directory, exist_ok=True)
            temp = os.path.join(directory, f".tmp-{uuid.uuid4().hex}")
            with open(temp, "xb") as f:
                f.write(SMALL)
            os.link(temp, path)
            os.unlink(temp)
        _read_all_raw(root, names)
        return count

    return work


def _small_fs(workdir: Path, count: int) -> Work:
    names = _small_names(count)

    def work() -> float:
        for name in names:
            files.write(name, SMALL)
        for name in names:
            assert len(files.read(name)) == len(SMALL)
        return count

    return _in_app(_app(workdir, workdir / f"fs-{uuid.uuid4().hex}"), work)


case("small", "fs")(_small_fs)
case("small-atomic", "fs")(_small_fs)


# -- listing -------------------------------------------------------------------------------------


@setup("list")
def list_setup(workdir: Path, count: int) -> None:
    for i in range(count):
        path = workdir / "fs" / f"{i % 100:02d}" / f"{i}.bin"
        if i < 100:
            path.parent.mkdir(parents=True)
        path.touch()


@case("list", "raw")
def list_raw(workdir: Path, count: int) -> Work:
    root = str(workdir / "fs")

    def work() -> float:
        listed = 0
        for dirpath, _, filenames in os.walk(root):
            base = os.path.relpath(dirpath, root).replace(os.sep, "/")
            for filename in filenames:
                _ = f"{base}/{filename}"
                listed += 1
        assert listed == count
        return count

    return work


@case("list", "fs")
def list_fs(workdir: Path, count: int) -> Work:
    def work() -> float:
        listed = sum(1 for _ in files.list_files())
        assert listed == count
        return count

    return _in_app(_app(workdir), work)


# -- serving, listing with details, metadata (bench/_shared_cases.py) ------------------------------


class RawLocal:
    """The shared cases' raw side: files under the storage's root, with os and ``send_file``."""

    def __init__(self, workdir: Path) -> None:
        self.root = workdir / "fs"

    def view(self, name: str) -> ResponseReturnValue:
        """``send_file``: it answers If-None-Match itself."""
        return send_file(self.root / name, conditional=True)

    def put(self, name: str, data: bytes) -> None:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    def list_details(self, prefix: str) -> list[tuple[str, int, object]]:
        """One ``scandir`` walk: each file's name, size and modification time."""
        found: list[tuple[str, int, object]] = []
        folders = [self.root / prefix] if (self.root / prefix).is_dir() else []
        while folders:
            with os.scandir(folders.pop()) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        folders.append(Path(entry.path))
                    else:
                        stat = entry.stat(follow_symlinks=False)
                        name = os.path.relpath(entry.path, self.root).replace(os.sep, "/")
                        found.append((name, stat.st_size, stat.st_mtime))
        return found


SHARED = register(Backend(files, app=_app, raw=RawLocal))


if __name__ == "__main__":
    main(
        __file__,
        {
            "write": (1024 * MiB, 16 * MiB, "MB/s"),
            "read": (1024 * MiB, 16 * MiB, "MB/s"),
            "save-upload": (1024 * MiB, 16 * MiB, "MB/s"),
            "serve-http": (1024 * MiB, 16 * MiB, "MB/s"),
            "small": (10_000, 200, "op/s"),
            "small-atomic": (10_000, 200, "op/s"),
            "list": (100_000, 1_000, "op/s"),
            **SHARED,
        },
        NOTES,
    )

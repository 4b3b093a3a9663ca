"""What is particular to the local backend: paths, atomic publishing, symlinks, permissions."""

from __future__ import annotations

import io
import os
import socket
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, ClassVar

import pytest
from flask import Flask, current_app
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import flask_fs as fs
from flask_fs.backends.local import LocalBackend
from flask_fs.errors import (
    BackendError,
    ConfigurationError,
    FileExists,
    FileNotFound,
    FSError,
    InvalidFilename,
    NameConflict,
)


@pytest.fixture
def sandbox(tmp_path: Path) -> Path:
    """A folder holding only the storage root: anything else appearing in it escaped."""
    (tmp_path / "sandbox" / "root").mkdir(parents=True)
    return tmp_path / "sandbox"


@pytest.fixture
def files(sandbox: Path) -> Iterator[fs.Storage]:
    app = Flask(__name__, instance_path=str(sandbox.parent / "instance"))
    app.config["FILES_FS_ROOT"] = str(sandbox / "root")
    files = fs.Storage("files", fs.ALL)
    fs.init_app(app, files)
    with app.test_request_context():
        yield files


def _all_paths(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def test_path_and_files_on_disk(files: fs.Storage, sandbox: Path) -> None:
    files.write("a/b.txt", b"x")
    assert files.path("a/b.txt") == str(sandbox / "root" / "a" / "b.txt")
    assert (sandbox / "root" / "a" / "b.txt").read_bytes() == b"x"


def test_root_is_required() -> None:
    with pytest.raises(ConfigurationError, match="ROOT"):
        LocalBackend("x", {"root": None})


def test_published_files_follow_the_umask(files: fs.Storage, sandbox: Path) -> None:
    mask = os.umask(0o022)
    os.umask(mask)
    files.write("a.txt", b"x")
    mode = stat.S_IMODE((sandbox / "root" / "a.txt").stat().st_mode)
    assert mode == 0o666 & ~mask


def test_no_temporary_file_is_left_or_listed(files: fs.Storage, sandbox: Path) -> None:
    writer = files.open("a.txt", "wb")
    writer.write(b"in progress")
    temps = [p for p in _all_paths(sandbox / "root") if ".fs-tmp-" in p]
    assert len(temps) == 1
    assert list(files.list_files()) == []
    assert list(files.list_files(details=True)) == []
    writer.close()
    with pytest.raises(FileExists), files.open("a.txt", "wb", overwrite=False) as f:
        f.write(b"refused")
    with pytest.raises(ValueError, match="boom"), files.open("b.txt", "wb") as f:
        f.write(b"dropped")
        raise ValueError("boom")
    assert _all_paths(sandbox / "root") == {"a.txt"}


def test_an_abandoned_writer_is_discarded(files: fs.Storage, sandbox: Path) -> None:
    writer = files.open("a.txt", "wb")
    writer.write(b"never closed")
    del writer
    assert _all_paths(sandbox / "root") == set()


def test_empty_folders_are_pruned_after_delete_and_move(files: fs.Storage, sandbox: Path) -> None:
    files.write("a/b/c.txt", b"x")
    files.write("a/keep.txt", b"x")
    files.move("a/b/c.txt", "d/c.txt")
    assert _all_paths(sandbox / "root") == {"a", "a/keep.txt", "d", "d/c.txt"}
    files.delete("d/c.txt")
    files.delete("a/keep.txt")
    assert _all_paths(sandbox / "root") == set()


def test_symlinks_cannot_lead_out_of_the_root(files: fs.Storage, sandbox: Path) -> None:
    outside = sandbox / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(b"secret")
    os.symlink(outside, sandbox / "root" / "link")
    os.symlink(outside / "secret.txt", sandbox / "root" / "secret.txt")
    for name in ("link/secret.txt", "secret.txt", "link/new.txt"):
        with pytest.raises(InvalidFilename, match="outside the root"):
            files.read(name)
        with pytest.raises(InvalidFilename, match="outside the root"):
            files.write(name, b"x", overwrite=True)
    with pytest.raises(InvalidFilename):
        files.save(io.BytesIO(b"x"), "new.txt", prefix="link")
    assert _all_paths(outside) == {"secret.txt"}
    assert (outside / "secret.txt").read_bytes() == b"secret"


@pytest.mark.parametrize("overwrite", [False, True], ids=["create-only", "overwrite"])
def test_small_writes_through_links_are_refused_too(
    files: fs.Storage, sandbox: Path, overwrite: bool
) -> None:
    """Small content is written in one go (a lookup of its folders, then the file): a link on
    the way, as folder or as the name itself, still leads out of the root nowhere."""
    outside = sandbox / "outside"
    (outside / "deep").mkdir(parents=True)
    (outside / "secret.txt").write_bytes(b"secret")
    root = sandbox / "root"
    os.symlink(outside, root / "link")
    os.symlink(outside / "secret.txt", root / "secret.txt")
    (root / "real").mkdir()
    os.symlink(outside, root / "real" / "link")
    names = ("link/new.txt", "link/deep/new.txt", "real/link/new.txt", "secret.txt")
    for name in names:
        with pytest.raises(InvalidFilename, match="outside the root"):
            files.write(name, b"x", overwrite=overwrite)
        with pytest.raises(InvalidFilename, match="outside the root"):
            files.backend.write(name, b"x", overwrite=overwrite)
        with pytest.raises(InvalidFilename, match="outside the root"):
            files.save(io.BytesIO(b"x"), name, overwrite=overwrite)
    assert _all_paths(outside) == {"deep", "secret.txt"}
    assert (outside / "secret.txt").read_bytes() == b"secret"


def test_a_link_swapped_in_after_the_lookup_is_not_followed(
    files: fs.Storage, sandbox: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race the lookup cannot see: the name becomes a link to a file outside the root
    between the lookup and the read or the write. The read opens without following it, the
    write replaces the link itself."""
    outside = sandbox / "secret.txt"
    outside.write_bytes(b"secret")
    files.write("a/b.txt", b"mine")
    backend = files.backend
    assert isinstance(backend, LocalBackend)
    looked_up = backend._plain_path("a/b.txt", whole=True)
    assert looked_up is not None
    monkeypatch.setattr(backend, "_plain_path", lambda filename, whole: looked_up)
    path = sandbox / "root" / "a" / "b.txt"
    path.unlink()
    path.symlink_to(outside)
    with pytest.raises(InvalidFilename, match="outside the root"):
        files.read("a/b.txt")
    files.write("a/b.txt", b"new", overwrite=True)
    assert not path.is_symlink()
    assert path.read_bytes() == b"new"
    assert outside.read_bytes() == b"secret"


def test_a_taken_name_is_refused_before_the_upload_is_read(files: fs.Storage) -> None:
    files.write("a/taken.txt", b"first")
    upload = io.BytesIO(b"second")
    with pytest.raises(FileExists):
        files.save(upload, "a/taken.txt")
    assert upload.tell() == 0  # still whole: it can be saved under another name
    assert files.save(upload, "a/other.txt") == "a/other.txt"
    assert files.read("a/other.txt") == b"second"
    assert files.read("a/taken.txt") == b"first"


def test_conflicts_are_refused_without_the_folder_check(sandbox: Path) -> None:
    """``CHECK_FOLDERS`` off: the write's own lookup still refuses them (the file system would)."""
    app = Flask(__name__, instance_path=str(sandbox.parent / "instance"))
    app.config.update(FILES_FS_ROOT=str(sandbox / "root"), FILES_FS_CHECK_FOLDERS=False)
    files = fs.Storage("files", fs.ALL)
    fs.init_app(app, files)
    with app.app_context():
        files.write("f", b"file")
        files.write("d/x", b"inside")
        with pytest.raises(NameConflict, match="parent folder is a file"):
            files.write("f/x", b"x")
        for overwrite in (False, True):
            with pytest.raises(NameConflict if overwrite else FileExists):
                files.write("d", b"d", overwrite=overwrite)
        assert _all_paths(sandbox / "root") == {"f", "d", os.path.join("d", "x")}


class CountingBackend(LocalBackend):
    """A subclass that changes the streams: small writes and reads must keep going through them."""

    opened: ClassVar[list[str]] = []

    def open_read(self, filename: str) -> IO[bytes]:
        self.opened.append(f"r:{filename}")
        return super().open_read(filename)

    def open_write(self, filename: str, overwrite: bool = False) -> IO[bytes]:
        self.opened.append(f"w:{filename}")
        return super().open_write(filename, overwrite)


class SavingBackend(LocalBackend):
    """A subclass with its own ``save``: the storage's saves must reach it."""

    saved: ClassVar[list[str]] = []

    def save(self, file_or_wfs: Any, filename: str, overwrite: bool = False) -> str:
        self.saved.append(filename)
        return super().save(file_or_wfs, filename, overwrite)


def test_a_subclass_that_changes_the_streams_gets_them(sandbox: Path) -> None:
    backend = CountingBackend("files", {"root": str(sandbox / "root")})
    CountingBackend.opened.clear()
    backend.write_checked("a.txt", b"a", overwrite=False, check_folders=None)
    backend.write("b.txt", b"b")
    backend.save(io.BytesIO(b"c"), "c.txt")
    assert backend.read("a.txt") == b"a"
    assert CountingBackend.opened == ["w:a.txt", "w:b.txt", "w:c.txt", "r:a.txt"]
    saving = SavingBackend("files", {"root": str(sandbox / "root")})
    SavingBackend.saved.clear()
    saving.save_checked(io.BytesIO(b"d"), "d.txt", overwrite=False, check_folders=None)
    assert SavingBackend.saved == ["d.txt"]
    assert saving.read("d.txt") == b"d"


def test_symlinks_inside_the_root_are_followed(files: fs.Storage, sandbox: Path) -> None:
    files.write("real/a.txt", b"x")
    os.symlink(sandbox / "root" / "real", sandbox / "root" / "alias")
    assert files.read("alias/a.txt") == b"x"


def test_a_file_where_a_folder_is_expected(files: fs.Storage) -> None:
    files.write("a", b"x")
    with pytest.raises(NameConflict, match="'a' is a file"):
        files.write("a/b.txt", b"y")
    # The backend itself (a writer racing past the storage's check) gives the same verdict.
    with pytest.raises(NameConflict, match="parent folder is a file"):
        files.backend.write("a/b.txt", b"y")
    files.write("dir/x.txt", b"x")
    with pytest.raises(NameConflict, match="it is a folder"):
        files.write("dir", b"y", overwrite=True)
    with pytest.raises(NameConflict, match="is a folder"):
        files.backend.write("dir", b"y", overwrite=True)


def test_serve_uses_the_file_on_disk(files: fs.Storage) -> None:
    files.write("a.txt", b"hello")
    response = files.serve("a.txt")
    response.direct_passthrough = False
    assert response.get_data() == b"hello"
    assert response.headers["ETag"]
    response.close()


@pytest.mark.parametrize("chars", ["ascii", "unicode"])
def test_ten_thousand_generated_names_never_escape(
    files: fs.Storage, sandbox: Path, chars: str
) -> None:
    tokens = ["a", "b", ".", "..", "/", "\\", "\x00", ":", "~", " ", "$", "%2e", "é", "\n"]
    names = (
        st.lists(st.sampled_from(tokens), max_size=10).map("".join)
        if chars == "ascii"
        else st.text(st.characters(codec="utf-8"), max_size=16)
    )
    accepted: set[str] = set()

    @settings(
        max_examples=5_000,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(name=names)
    def check(name: str) -> None:
        try:
            files.write(name, b"x", overwrite=True)
        except FSError:
            return
        accepted.add(name)

    check()
    outside = _all_paths(sandbox) - {"root"}
    assert all(path.startswith("root" + os.sep) for path in outside)
    assert set(files.list_files()) <= accepted


def test_sweep_deletes_only_old_temporary_files_of_unfinished_writes(
    files: fs.Storage, sandbox: Path
) -> None:
    files.write("kept/file.txt", b"kept")
    writer = files.open("dir/unfinished.bin", "wb")  # as if its process had been killed
    writer.write(b"half")
    writer.flush()
    temps = list((sandbox / "root" / "dir").iterdir())
    assert len(temps) == 1
    assert temps[0].name.startswith(".fs-tmp-")
    assert list(files.list_files()) == ["kept/file.txt"]
    assert files.sweep() == []  # younger than a day: the write may still be running
    found = files.sweep(0, remove=False)
    assert len(found) == 1
    assert "dir/.fs-tmp-" in found[0]
    assert "(4 bytes)" in found[0]
    assert temps[0].exists()
    assert files.sweep(0) == found
    assert not (sandbox / "root" / "dir").exists()  # the emptied folder is pruned
    assert files.read("kept/file.txt") == b"kept"
    with pytest.raises(FSError):  # the writer's file is gone: it cannot publish
        writer.close()
    assert not files.exists("dir/unfinished.bin")


def test_the_temporary_prefix_is_reserved(files: fs.Storage) -> None:
    with pytest.raises(InvalidFilename, match="reserved"):
        files.write("a/.fs-tmp-1234", b"x")


def test_writes_racing_deletes_that_empty_their_folder(files: fs.Storage, sandbox: Path) -> None:
    """Each delete prunes the folder it empties, while other threads write and move into it."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    errors: list[str] = []
    deadline = time.monotonic() + 2

    def writer(tag: str) -> None:
        with app.test_request_context():
            for i in range(3000):
                if time.monotonic() > deadline:
                    return
                name = f"a/b/c/{tag}{i}.txt"
                try:
                    files.write(name, b"x")
                    if tag == "m":
                        files.move(name, f"a/b/d/{i}.txt")
                        name = f"a/b/d/{i}.txt"
                    files.delete(name)
                except FSError as exc:
                    errors.append(repr(exc))

    threads = [threading.Thread(target=writer, args=(tag,)) for tag in "wxym"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert _all_paths(sandbox / "root") == set()


def test_error_messages_never_show_a_server_path(sandbox: Path) -> None:
    app = Flask(__name__, instance_path=str(sandbox.parent / "instance"))
    app.config["FILES_FS_ROOT"] = "/proc/flask-fs-cannot-write-here"
    broken = fs.Storage("files", fs.ALL)
    fs.init_app(app, broken)
    with app.app_context(), pytest.raises(BackendError) as failed:
        broken.write("a/b.txt", b"x")
    assert "'a/b.txt'" in str(failed.value)
    assert "/proc" not in str(failed.value)


def test_only_regular_files_are_listed_or_opened(files: fs.Storage, sandbox: Path) -> None:
    root = sandbox / "root"
    (sandbox / "outside.txt").write_bytes(b"secret")
    files.write("a.txt", b"a")
    files.write("dir/b.txt", b"b")
    os.mkfifo(root / "pipe")
    os.mkfifo(root / "dir" / "pipe.txt")
    listening = socket.socket(socket.AF_UNIX)
    listening.bind(str(root / "socket"))
    (root / "out.txt").symlink_to(sandbox / "outside.txt")
    (root / "dangling").symlink_to(root / "missing")
    (root / "folder-link").symlink_to(root / "dir")
    (root / "alias.txt").symlink_to(root / "dir" / "b.txt")  # inside the root: a usable file
    assert list(files.list_files()) == ["a.txt", "alias.txt", "dir/b.txt"]
    assert list(files.list_files("dir/")) == ["dir/b.txt"]
    details = [(i.name, i.size) for i in files.list_files(details=True)]
    assert details == [("a.txt", 1), ("alias.txt", 1), ("dir/b.txt", 1)]
    assert files.read("alias.txt") == b"b"

    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def try_every_operation(name: str, refused: list[str]) -> None:
        with app.test_request_context():
            assert not files.exists(name)
            for operation in (files.read, files.open, files.metadata, files.serve, files.delete):
                try:
                    operation(name)
                except (FileNotFound, InvalidFilename):
                    refused.append(name)

    for name in ("pipe", "dir/pipe.txt", "socket", "dangling", "folder-link"):
        refused: list[str] = []
        worker = threading.Thread(target=try_every_operation, args=(name, refused), daemon=True)
        worker.start()
        worker.join(timeout=10)
        if worker.is_alive():  # blocked opening a FIFO: unblock it before failing
            os.close(os.open(root / name, os.O_WRONLY | os.O_NONBLOCK))
            pytest.fail(f"an operation on {name!r} blocked")
        assert refused == [name] * 5
    listening.close()

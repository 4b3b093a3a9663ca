"""The ``flask fs`` commands on the local backend (fs-s3's tests run them on S3 too)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner

import flask_fs as fs
from flask_fs.cli import fs_command
from flask_fs.names import TEMPORARY_PREFIX

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def storages(app: Flask) -> tuple[fs.Storage, fs.Storage]:
    files, archive = fs.Storage("files", fs.ALL), fs.Storage("archive", fs.ALL)
    fs.init_app(app, files, archive)
    with app.app_context():
        files.write("a.txt", b"hello")
        files.write("docs/b.md", b"# title")
        files.write("docs/sub/c.json", b"{}")
    return files, archive


@pytest.fixture
def cli(app: Flask, storages: tuple[fs.Storage, fs.Storage]) -> FlaskCliRunner:
    return app.test_cli_runner()


def run(cli: FlaskCliRunner, *args: str, code: int = 0) -> str:
    result = cli.invoke(fs_command, list(args))
    assert result.exit_code == code, result.output
    return str(result.output)


def test_ls(cli: FlaskCliRunner) -> None:
    assert run(cli, "ls", "files").split() == ["a.txt", "docs/b.md", "docs/sub/c.json"]
    assert run(cli, "ls", "files:docs/").split() == ["docs/b.md", "docs/sub/c.json"]
    long = run(cli, "ls", "-l", "files:docs/sub/").strip()
    assert long.split()[0] == "2"
    assert "application/json" in long
    assert long.endswith("docs/sub/c.json")


def test_ls_long_reads_no_file(cli: FlaskCliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    """Sizes, types and dates come from the listing: neither metadata nor the content is read."""

    def refused(*args: object, **kwargs: object) -> None:
        raise AssertionError("ls -l asked for a file's metadata")

    monkeypatch.setattr(fs.Storage, "metadata", refused)
    monkeypatch.setattr(fs.Storage, "open", refused)
    lines = run(cli, "ls", "-l", "files").splitlines()
    assert [line.split()[0] for line in lines] == ["5", "7", "2"]
    assert [line.split()[-1] for line in lines] == ["a.txt", "docs/b.md", "docs/sub/c.json"]


def test_info(cli: FlaskCliRunner) -> None:
    out = run(cli, "info", "files:a.txt")
    assert "size:     5 (5 B)" in out
    assert "type:     text/plain" in out
    assert (
        "checksum: sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824" in out
    )
    assert "not found" in run(cli, "info", "files:missing.txt", code=1)


def test_unknown_storages_are_usage_errors(cli: FlaskCliRunner) -> None:
    out = run(cli, "info", "nope:a.txt", code=2)
    assert "storages: archive, files" in out


def test_cp_between_storages_and_folders(
    cli: FlaskCliRunner, app: Flask, storages: tuple[fs.Storage, fs.Storage]
) -> None:
    _, archive = storages
    assert "copied 1 file(s)" in run(cli, "cp", "files:a.txt", "archive:kept/a.txt")
    assert "copied 2 file(s)" in run(cli, "cp", "files:docs/", "archive:backup/")
    with app.app_context():
        assert sorted(archive.list_files()) == ["backup/b.md", "backup/sub/c.json", "kept/a.txt"]
        assert archive.read("backup/sub/c.json") == b"{}"
    assert "already exists" in run(cli, "cp", "files:a.txt", "archive:kept/a.txt", code=1)
    run(cli, "cp", "--overwrite", "files:a.txt", "archive:kept/a.txt")


def test_cp_to_and_from_local_paths(
    cli: FlaskCliRunner, app: Flask, storages: tuple[fs.Storage, fs.Storage], tmp_path: Path
) -> None:
    _, archive = storages
    run(cli, "cp", "files:docs/", str(tmp_path / "out"))
    assert (tmp_path / "out" / "sub" / "c.json").read_bytes() == b"{}"
    assert "already exists" in run(cli, "cp", "files:a.txt", str(tmp_path / "out" / "b.md"), code=1)
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "x.bin").write_bytes(b"\x00" * 3_000_000)
    run(cli, "cp", str(tmp_path / "in"), "archive:uploaded/")
    run(cli, "cp", str(tmp_path / "in" / "x.bin"), "archive:single.bin")
    with app.app_context():
        assert archive.read("uploaded/x.bin") == b"\x00" * 3_000_000
        assert archive.metadata("single.bin")["size"] == 3_000_000
    assert list(tmp_path.glob(f"**/{TEMPORARY_PREFIX}*")) == []


def test_mv_and_dry_runs(
    cli: FlaskCliRunner, app: Flask, storages: tuple[fs.Storage, fs.Storage]
) -> None:
    files, archive = storages
    out = run(cli, "mv", "--dry-run", "files:docs/", "archive:moved/")
    assert "would move docs/b.md -> moved/b.md" in out
    assert "would delete files:a.txt" in run(cli, "rm", "--dry-run", "files:a.txt")
    with app.app_context():
        assert list(archive.list_files()) == []
        assert files.exists("a.txt")
    run(cli, "mv", "files:docs/", "archive:moved/")
    with app.app_context():
        assert list(files.list_files()) == ["a.txt"]
        assert sorted(archive.list_files()) == ["moved/b.md", "moved/sub/c.json"]


def test_rm(cli: FlaskCliRunner, app: Flask, storages: tuple[fs.Storage, fs.Storage]) -> None:
    files, _ = storages
    assert "deleted files:docs/b.md" in run(cli, "rm", "files:docs/")
    assert "not found" in run(cli, "rm", "files:nope.txt", code=1)
    with app.app_context():
        assert list(files.list_files()) == ["a.txt"]


def test_check(cli: FlaskCliRunner, app: Flask) -> None:
    out = run(cli, "check")
    assert "ok   archive (local)" in out
    assert "ok   files (local)" in out
    broken = Flask("broken", instance_path=app.instance_path)
    broken.config["FILES_FS_ROOT"] = "/proc/flask-fs-cannot-write-here"
    fs.init_app(broken, fs.Storage("files"))
    result = broken.test_cli_runner().invoke(fs_command, ["check"])
    assert result.exit_code == 1
    assert "FAIL files (local)" in result.output


def test_the_flask_command_has_the_fs_group(tmp_path: Path) -> None:
    """Registered through the ``flask.commands`` entry point: the real ``flask`` finds it."""
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", str(REPO / "examples/demo/app.py"), "fs", "check"],
        capture_output=True,
        text=True,
        check=False,
        env={"FLASK_FS_ROOT": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    assert "ok   files (local)" in result.stdout


def test_sweep(cli: FlaskCliRunner, app: Flask, storages: tuple[fs.Storage, fs.Storage]) -> None:
    files, _ = storages
    with app.app_context():
        writer = files.open("docs/unfinished.bin", "wb")  # as if its process had died
        writer.write(b"partial")
        writer.flush()
    out = run(cli, "sweep")
    assert "files: 0 leftover(s) deleted" in out  # younger than a day: left alone
    out = run(cli, "sweep", "files", "--older-than", "0", "--dry-run")
    assert "would delete files: temporary file 'docs/.fs-tmp-" in out
    assert "files: 1 leftover(s) found" in out
    out = run(cli, "sweep", "--older-than", "0")
    assert "deleted files: temporary file 'docs/.fs-tmp-" in out
    assert "archive: 0 leftover(s) deleted" in out
    assert run(cli, "sweep", "--older-than", "0").count("0 leftover(s) deleted") == 2
    with app.app_context():
        assert files.read("docs/b.md") == b"# title"
    assert "no storage named" in run(cli, "sweep", "nope", code=1)


@pytest.mark.parametrize(
    "args",
    [
        ["mv", "--overwrite", "files:a.txt", "files:a.txt"],
        ["mv", "files:a.txt", "files:a.txt"],
        ["cp", "--overwrite", "files:a.txt", "files:a.txt"],
        ["mv", "--overwrite", "files:docs/", "files:docs/"],
        ["mv", "--overwrite", "files:docs/", "files:docs"],
    ],
)
def test_a_move_or_copy_onto_itself_is_refused(
    cli: FlaskCliRunner, app: Flask, storages: tuple[fs.Storage, fs.Storage], args: list[str]
) -> None:
    files, _ = storages
    assert "onto itself" in run(cli, *args, code=1)
    with app.app_context():
        assert files.read("a.txt") == b"hello"
        assert sorted(files.list_files()) == ["a.txt", "docs/b.md", "docs/sub/c.json"]
        assert files.read("docs/sub/c.json") == b"{}"


def test_a_local_path_that_is_the_stored_file_is_not_moved_onto_itself(
    cli: FlaskCliRunner, app: Flask, storages: tuple[fs.Storage, fs.Storage]
) -> None:
    files, _ = storages
    with app.app_context():
        on_disk = files.path("a.txt")
        folder = os.path.dirname(files.path("docs/b.md"))
    for args in (
        ["mv", "--overwrite", on_disk, "files:a.txt"],
        ["mv", "--overwrite", "files:a.txt", on_disk],
        ["mv", "--overwrite", folder, "files:docs/"],
    ):
        assert "onto itself" in run(cli, *args, code=1)
    with app.app_context():
        assert files.read("a.txt") == b"hello"
        assert sorted(files.list_files()) == ["a.txt", "docs/b.md", "docs/sub/c.json"]


def test_a_move_within_a_storage_renames(
    cli: FlaskCliRunner, app: Flask, storages: tuple[fs.Storage, fs.Storage]
) -> None:
    files, _ = storages
    assert "moved 2 file(s)" in run(cli, "mv", "files:docs/", "files:docs/old/")
    assert "copied 1 file(s)" in run(cli, "cp", "files:a.txt", "files:b.txt")
    with app.app_context():
        assert sorted(files.list_files()) == [
            "a.txt",
            "b.txt",
            "docs/old/b.md",
            "docs/old/sub/c.json",
        ]


def test_cp_of_a_folder_skips_links_that_leave_it(
    cli: FlaskCliRunner, app: Flask, storages: tuple[fs.Storage, fs.Storage], tmp_path: Path
) -> None:
    _, archive = storages
    (tmp_path / "secret.txt").write_bytes(b"secret")
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "key.pem").write_bytes(b"key")
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_bytes(b"a")
    (folder / "sub" / "b.txt").write_bytes(b"b")
    (folder / "leak.txt").symlink_to(tmp_path / "secret.txt")
    (folder / "sub" / "leak.txt").symlink_to("../../secret.txt")
    (folder / "keys").symlink_to(tmp_path / "secrets")
    (folder / "alias.txt").symlink_to("sub/b.txt")  # stays inside: copied
    (folder / "again").symlink_to("sub")  # a folder inside: copied once, under its own name
    os.mkfifo(folder / "pipe")
    out = run(cli, "cp", str(folder), "archive:up/")
    assert "copied 3 file(s)" in out
    for name in ("leak.txt", "sub/leak.txt", "keys"):
        assert f"skipped {folder / name}: a link that leads out of {folder}" in out
    assert f"skipped {folder / 'pipe'}: not a regular file" in out
    with app.app_context():
        assert sorted(archive.list_files()) == ["up/a.txt", "up/alias.txt", "up/sub/b.txt"]
        assert archive.read("up/alias.txt") == b"b"


def test_cors_needs_a_store_that_has_it(cli: FlaskCliRunner) -> None:
    out = run(cli, "cors", "files", "--origin", "https://app.example", code=1)
    assert "cannot set CORS rules" in out
    for bad in ("app.example", "https://app.example/", "ftp://app.example", "https://"):
        out = run(cli, "cors", "files", "--origin", bad, code=2)
        assert "is not an origin" in out
    assert "Missing option '--origin'" in run(cli, "cors", "files", code=2)
    assert "no storage named 'nope'" in run(cli, "cors", "nope", "--origin", "*", code=1)

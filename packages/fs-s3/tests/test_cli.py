"""The ``flask fs`` commands with an object store: between S3, the local disk and local files."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

import flask_fs as fs
from flask_fs.cli import fs_command


@pytest.fixture
def app(seaweed_s3: Any, tmp_path: Path) -> Flask:
    app = Flask(__name__, instance_path=str(tmp_path / "instance"))
    app.config.update(
        BUCKETS_FS_BACKEND="s3",
        BUCKETS_FS_ENDPOINT=seaweed_s3.endpoint,
        BUCKETS_FS_ACCESS_KEY=seaweed_s3.access_key,
        BUCKETS_FS_SECRET_KEY=seaweed_s3.secret_key,
        BUCKETS_FS_BUCKET="flask-fs-cli",
        BUCKETS_FS_PREFIX=uuid.uuid4().hex,
        BUCKETS_FS_CREATE_BUCKET=True,
    )
    fs.init_app(app, fs.Storage("buckets", fs.ALL), fs.Storage("disk", fs.ALL))
    return app


def run(app: Flask, *args: str, code: int = 0) -> str:
    result = app.test_cli_runner().invoke(fs_command, list(args))
    assert result.exit_code == code, result.output
    return str(result.output)


def test_files_move_between_s3_the_disk_and_local_paths(app: Flask, tmp_path: Path) -> None:
    source = tmp_path / "src"
    (source / "sub").mkdir(parents=True)
    (source / "a.txt").write_bytes(b"alpha")
    (source / "sub" / "big.bin").write_bytes(b"\x01" * 9_000_000)  # multipart on S3
    assert "copied 2 file(s)" in run(app, "cp", str(source), "buckets:up/")
    assert run(app, "ls", "buckets:up/").split() == ["up/a.txt", "up/sub/big.bin"]
    assert "size:     9000000" in run(app, "info", "buckets:up/sub/big.bin")
    run(app, "mv", "buckets:up/", "disk:")
    assert run(app, "ls", "buckets").strip() == ""
    run(app, "cp", "disk:sub/big.bin", str(tmp_path / "back.bin"))
    assert (tmp_path / "back.bin").read_bytes() == b"\x01" * 9_000_000
    out = run(app, "check")
    assert "ok   buckets (s3)" in out
    assert "ok   disk (local)" in out


def test_cors_lets_the_sites_given_upload(
    app: Flask, seaweed_s3: Any, make_raw_client: Any
) -> None:
    out = run(app, "cors", "buckets", "--origin", "https://app.example", "--origin", "*")
    assert "buckets: CORS allows https://app.example, *" in out
    client = make_raw_client(seaweed_s3)
    rules = client.get_bucket_cors(Bucket="flask-fs-cli")["CORSRules"]
    assert [rule["AllowedOrigins"] for rule in rules] == [["https://app.example", "*"]]
    client.delete_bucket_cors(Bucket="flask-fs-cli")

"""The S3 backend is built from the settings the manual lists, and nothing more (issue 14)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask import Flask

import flask_fs as fs
from flask_fs.backends.s3 import S3Backend
from flask_fs.errors import ConfigurationError


def test_built_from_the_manuals_four_settings(s3_server: Any, make_raw_client: Any) -> None:
    name = f"manual{uuid.uuid4().hex[:12]}"
    raw = make_raw_client(s3_server)
    raw.create_bucket(Bucket=name)
    try:
        backend = S3Backend(
            name,
            {
                "endpoint": s3_server.endpoint,
                "region": s3_server.region,
                "access_key": s3_server.access_key,
                "secret_key": s3_server.secret_key,
            },
        )
        assert backend.bucket == name  # named after the storage, as in 0.4.0
        backend.write("a.txt", "content")
        assert backend.read("a.txt") == b"content"
        backend.write("a.txt", b"replaced")  # the backend level replaces by default
        assert backend.read("a.txt") == b"replaced"
        backend.delete("a.txt")
    finally:
        for item in raw.list_objects_v2(Bucket=name).get("Contents", []):
            raw.delete_object(Bucket=name, Key=item["Key"])
        raw.delete_bucket(Bucket=name)


def test_a_value_of_the_wrong_type_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="MAX_CONCURRENCY must be an int, not 'four'"):
        S3Backend("files", {"max_concurrency": "four"})
    app = Flask(__name__)
    app.config.update(FILES_FS_BACKEND="s3", FILES_FS_MULTIPART_THRESHOLD="8 MiB")
    with pytest.raises(ConfigurationError, match=r"'files'.*MULTIPART_THRESHOLD must be an int"):
        fs.init_app(app, fs.Storage("files"))


def test_values_from_the_environment_are_converted() -> None:
    backend = S3Backend("files", {"max_concurrency": "2", "signed_urls": "true"})
    assert backend.transfer_config.max_concurrency == 2
    assert backend.has_signed_urls is True

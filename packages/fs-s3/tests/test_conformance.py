"""The S3 backend passes flask_fs.testing on every S3 server (SeaweedFS, moto, Swift's s3api)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from flask_fs import Storage
from flask_fs.testing import BackendConformance


class TestS3Backend(BackendConformance):
    @pytest.fixture
    def fs_backend(self) -> str:
        return "s3"

    @pytest.fixture
    def fs_settings(self, s3_settings: dict[str, Any]) -> dict[str, Any]:
        return s3_settings

    @pytest.fixture
    def fs_request_counter(
        self, count_s3_requests: Callable[[Storage, Callable[[], Any]], int]
    ) -> Callable[[Storage, Callable[[], Any]], int]:
        return count_s3_requests

    @pytest.fixture
    def fs_large_file_size(self) -> int:
        return 48 * 1024 * 1024

    @pytest.fixture
    def fs_memory_limit(self) -> int:
        # 4 parts of 8 MiB in flight, the part being read and the write queue: the issue's
        # bound for an upload is 64 MB.
        return 64 * 1024 * 1024

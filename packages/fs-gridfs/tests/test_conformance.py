"""The GridFS backend passes flask_fs.testing on a MongoDB-wire server."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from flask_fs import Storage
from flask_fs.testing import BackendConformance


class TestGridFsBackend(BackendConformance):
    @pytest.fixture
    def fs_backend(self) -> str:
        return "gridfs"

    @pytest.fixture
    def fs_settings(self, counted_gridfs_settings: dict[str, Any]) -> dict[str, Any]:
        return counted_gridfs_settings

    @pytest.fixture
    def fs_request_counter(self, command_log: Any) -> Callable[[Storage, Callable[[], Any]], int]:
        return command_log.count  # type: ignore[no-any-return]

    @pytest.fixture
    def fs_large_file_size(self) -> int:
        return 32 * 1024 * 1024

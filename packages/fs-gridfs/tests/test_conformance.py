"""The GridFS backend passes flask_fs.testing on a MongoDB-wire server."""

from __future__ import annotations

from typing import Any

import pytest

from flask_fs.testing import BackendConformance


class TestGridFsBackend(BackendConformance):
    @pytest.fixture
    def fs_backend(self) -> str:
        return "gridfs"

    @pytest.fixture
    def fs_settings(self, gridfs_settings: dict[str, Any]) -> dict[str, Any]:
        return gridfs_settings

    @pytest.fixture
    def fs_large_file_size(self) -> int:
        return 32 * 1024 * 1024

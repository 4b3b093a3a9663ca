"""Direct uploads to GridFS: bodies and parts received by the application, parts kept in the
bucket (every process of the application sees them)."""

from __future__ import annotations

from typing import Any

import pytest

from flask_fs.testing.uploads import AppSideUploadTests


class TestGridFsDirectUploads(AppSideUploadTests):
    @pytest.fixture
    def fs_backend(self) -> str:
        return "gridfs"

    @pytest.fixture
    def fs_settings(self, gridfs_settings: dict[str, Any]) -> dict[str, Any]:
        return gridfs_settings

"""Direct uploads to S3 through the ``flask_fs.uploads`` blueprint, end to end on each S3 server:
the browser's requests (urllib) go to the application, then to the store with what it signed."""

from __future__ import annotations

from typing import Any

import pytest

from flask_fs.testing.uploads import DirectUploadTests


class TestS3BlueprintUploads(DirectUploadTests):
    @pytest.fixture
    def fs_backend(self) -> str:
        return "s3"

    @pytest.fixture
    def fs_settings(self, s3_settings: dict[str, Any], s3_server: Any) -> dict[str, Any]:
        # Swift's s3api has no browser POST uploads: a presigned PUT there.
        return {**s3_settings, "POST_UPLOADS": s3_server.name != "swift-s3api"}

    @pytest.fixture
    def fs_upload_dates(self, s3_server: Any) -> bool:
        return bool(s3_server.name != "moto")

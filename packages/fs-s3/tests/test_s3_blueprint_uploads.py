"""Direct uploads to S3 through the ``flask_fs.uploads`` blueprint, end to end on each S3 server:
the browser's requests (urllib) go to the application, then to the store with what it signed."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from flask_fs.testing.uploads import DirectUploadTests, fetch
from flask_fs.uploads.completion import PART_URL_SECONDS


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

    def test_a_part_url_lives_ten_minutes_at_most(self, uploads: Any) -> None:
        """A part is signed just before it is sent: its URL does not live as long as the
        upload's ticket (an hour by default)."""
        upload = uploads.start("parts.bin", "application/octet-stream")
        signed = fetch("GET", uploads.multipart_url(upload, "/1"))
        assert signed.status == 200, signed.body
        answer = signed.json()
        assert 0 < answer["expires"] <= PART_URL_SECONDS
        lifetime = int(parse_qs(urlsplit(answer["url"]).query)["X-Amz-Expires"][0])
        assert 0 < lifetime <= PART_URL_SECONDS

"""Direct uploads to Swift through the application's blueprint (flask_fs.uploads), by a real
HTTP client: the backend-independent suite, on FormPosts and TempURL segments."""

from __future__ import annotations

from typing import Any

import pytest
from swiftclient.client import Connection

from flask_fs.testing.uploads import DirectUploadTests, MiB

ACCOUNT_KEY = "flask-fs-tempurl-key"  # the account key test_swift.py sets too


class TestSwiftDirectUploads(DirectUploadTests):
    @pytest.fixture
    def fs_backend(self, formpost: None) -> str:
        return "swift"

    @pytest.fixture
    def fs_settings(self, swift_settings: dict[str, Any], swift: Connection) -> dict[str, Any]:
        swift.post_account(headers={"X-Account-Meta-Temp-URL-Key": ACCOUNT_KEY})
        return {**swift_settings, "TEMPURL_KEY": ACCOUNT_KEY}

    @pytest.fixture
    def fs_part_size(self) -> int:
        return MiB  # Swift takes any size (min_segment_size); small parts keep it quick

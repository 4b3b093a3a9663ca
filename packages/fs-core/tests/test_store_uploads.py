"""The core's store paths of direct uploads (bodies staged in the store and published, parts
joined by the store), over real HTTP, with a test store (tests/staging_store.py)."""

from __future__ import annotations

from typing import Any

import pytest

from flask_fs.testing.uploads import DirectUploadTests


class TestStoreUploads(DirectUploadTests):
    @pytest.fixture
    def fs_backend(self, install_backend: Any) -> str:
        install_backend("staging_store", {"stagingstore": "StagingStoreBackend"})
        return "stagingstore"

    @pytest.fixture
    def fs_settings(self) -> dict[str, Any]:
        return {}

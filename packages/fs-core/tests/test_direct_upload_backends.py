"""Direct uploads over real HTTP on the backends fs-core's tests have: a store that takes them
(tests/staging_store.py: the core's paths for S3 and Swift: staged bodies published, parts
joined by the store), and a third-party backend that knows nothing of them."""

from __future__ import annotations

from typing import Any

import pytest

from flask_fs.testing.uploads import AppSideUploadTests, DirectUploadTests


class TestStoreUploads(DirectUploadTests):
    @pytest.fixture
    def fs_backend(self, install_backend: Any) -> str:
        install_backend("staging_store", {"stagingstore": "StagingStoreBackend"})
        return "stagingstore"

    @pytest.fixture
    def fs_settings(self) -> dict[str, Any]:
        return {}


class TestThirdPartyBackendUploads(AppSideUploadTests):
    """A backend that knows nothing of direct uploads (flask_fs.testing's MemoryBackend, whose
    listing shows every name): the application receives them, and Storage's listings leave the
    staged parts out."""

    @pytest.fixture
    def fs_backend(self, install_backend: Any) -> str:
        install_backend("memory", {"memory": "flask_fs.testing.memory:MemoryBackend"})
        return "memory"

"""Direct uploads over real HTTP on the backends fs-core's tests have: a store that takes them
(tests/staging_store.py: the core's paths for S3 and Swift: staged bodies published, parts
joined by the store), and a third-party backend that knows nothing of them."""

from __future__ import annotations

from typing import Any

import pytest

from flask_fs.testing.uploads import AppSideUploadTests, DirectUploadTests, UploadsApp, fetch


class TestStoreUploads(DirectUploadTests):
    @pytest.fixture
    def fs_backend(self, install_backend: Any) -> str:
        install_backend("staging_store", {"stagingstore": "StagingStoreBackend"})
        return "stagingstore"

    @pytest.fixture
    def fs_settings(self) -> dict[str, Any]:
        return {}

    def test_a_redirect_naming_another_key_is_refused_and_reported(
        self, uploads: UploadsApp
    ) -> None:
        """The store's redirect names the key it stored: one that is not the ticket's staged
        body is refused (400), nothing is published, and the refusal is reported."""
        target = uploads.params("named.txt", "text/plain").json()
        assert target["complete"]
        answer = fetch("GET", target["complete"] + "?key=somewhere/else")
        assert answer.status == 400, answer.body
        assert "another name" in answer.json()["error"]
        assert uploads.refused == [(uploads.storage.name, "named.txt", 400)]
        with uploads.app.app_context():
            assert not uploads.storage.exists("named.txt")
        assert uploads.completed == []


class TestThirdPartyBackendUploads(AppSideUploadTests):
    """A backend that knows nothing of direct uploads (flask_fs.testing's MemoryBackend, whose
    listing shows every name): the application receives them, and Storage's listings leave the
    staged parts out."""

    @pytest.fixture
    def fs_backend(self, install_backend: Any) -> str:
        install_backend("memory", {"memory": "flask_fs.testing.memory:MemoryBackend"})
        return "memory"

"""Direct uploads to the local backend (the application receives the bodies and the parts)."""

import pytest

from flask_fs.testing.uploads import AppSideUploadTests


class TestLocalDirectUploads(AppSideUploadTests):
    @pytest.fixture
    def fs_backend(self) -> str:
        return "local"

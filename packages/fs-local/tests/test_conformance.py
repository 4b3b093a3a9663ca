"""The local backend passes the whole flask_fs.testing conformance suite."""

import pytest

from flask_fs.testing import BackendConformance


class TestLocalBackend(BackendConformance):
    @pytest.fixture
    def fs_backend(self) -> str:
        return "local"

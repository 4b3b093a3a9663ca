"""A third party checks its backend with flask-fs's conformance suite."""

import pytest

from flask_fs.testing import BackendConformance


class TestDictBackend(BackendConformance):
    @pytest.fixture
    def fs_backend(self) -> str:
        return "dict"

    @pytest.fixture
    def fs_large_file_size(self) -> int:
        return 8 * 1024 * 1024

    @pytest.fixture
    def fs_memory_limit(self) -> int:
        return 64 * 1024 * 1024  # it keeps files in memory, by design

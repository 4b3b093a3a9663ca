"""The Swift backend passes flask_fs.testing on a real Swift (the all-in-one of services/)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from flask_fs import Storage
from flask_fs.testing import BackendConformance


class TestSwiftBackend(BackendConformance):
    @pytest.fixture
    def fs_backend(self) -> str:
        return "swift"

    @pytest.fixture
    def fs_settings(self, swift_settings: dict[str, Any]) -> dict[str, Any]:
        return {**swift_settings, "SEGMENT_SIZE": 8 * 1024 * 1024}

    @pytest.fixture
    def fs_request_counter(
        self, count_swift_requests: Callable[[Storage, Callable[[], Any]], int]
    ) -> Callable[[Storage, Callable[[], Any]], int]:
        return count_swift_requests

    @pytest.fixture
    def fs_large_file_size(self) -> int:
        return 40 * 1024 * 1024  # five segments: a Static Large Object

    @pytest.fixture
    def fs_memory_limit(self) -> int:
        return 48 * 1024 * 1024  # SwiftService holds one segment (and its join) in memory

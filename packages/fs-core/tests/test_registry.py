"""Backends are found through the ``fs.backend`` entry-point group, third parties' included."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

import flask_fs as fs
from flask_fs.backends import BaseBackend, available_backends, get_backend_class
from flask_fs.errors import BackendNotFound
from flask_fs.testing import BackendConformance


@pytest.fixture
def memory_backend_installed(install_backend: Any) -> None:
    """Declare flask_fs.testing's MemoryBackend, and an entry point that is not a backend, in
    a distribution, as a test suite would."""
    install_backend(
        "memory",
        {
            "memory": "flask_fs.testing.memory:MemoryBackend",
            "broken": "flask_fs.testing.memory:StoredFile",
        },
    )


def test_local_is_registered() -> None:
    assert "local" in available_backends()
    cls = get_backend_class("local")
    assert cls.__module__ == "flask_fs.backends.local"
    assert issubclass(cls, BaseBackend)


@pytest.mark.usefixtures("memory_backend_installed")
def test_a_third_party_backend_is_found_by_name(app: Flask) -> None:
    assert {"local", "memory"} <= set(available_backends())
    app.config["FS_BACKEND"] = "memory"
    files = fs.Storage("thirdparty")
    fs.init_app(app, files)
    with app.app_context():
        assert type(files.backend).__name__ == "MemoryBackend"
        files.write("a.txt", b"in memory")
        assert files.read("a.txt") == b"in memory"


@pytest.mark.usefixtures("memory_backend_installed")
def test_an_entry_point_that_is_not_a_backend_is_refused() -> None:
    with pytest.raises(BackendNotFound, match="not a BaseBackend"):
        get_backend_class("broken")


def test_base_backend_is_abstract() -> None:
    with pytest.raises(TypeError):
        BaseBackend("x", {})  # type: ignore[abstract]


@pytest.mark.usefixtures("memory_backend_installed")
class TestMemoryBackendConformance(BackendConformance):
    """The reference backend, which relies on every default of BaseBackend, passes the suite."""

    @pytest.fixture
    def fs_backend(self) -> str:
        return "memory"

    @pytest.fixture
    def fs_large_file_size(self) -> int:
        return 8 * 1024 * 1024

    @pytest.fixture
    def fs_memory_limit(self) -> int:
        return 64 * 1024 * 1024  # it keeps files in memory, by design

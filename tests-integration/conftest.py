"""Shared fixtures of the integration tests."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parent.parent

# The third-party backend is its own project: test_packaging.py runs its tests in its own venv.
collect_ignore = ["thirdparty"]


@pytest.fixture(scope="session")
def demo_module() -> ModuleType:
    """The demo application's module, loaded from examples/demo/app.py."""
    spec = importlib.util.spec_from_file_location("flask_fs_demo", REPO / "examples/demo/app.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module

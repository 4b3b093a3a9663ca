"""Shared fixtures of the integration tests."""

from __future__ import annotations

import importlib.util
import os
import sys
import tempfile
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
    # Registered before it runs: SQLAlchemy reads the models' annotations in their module, and
    # `flask fs orphans flask_fs_demo:Upload.file` imports it by name.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


ARTIFACTS = Path(
    os.environ.get("FS_TEST_ARTIFACTS", Path(tempfile.gettempdir()) / "flask-fs-artifacts")
)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where tests leave what a person may want to look at (screenshots)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Name the artifacts this run left."""
    if ARTIFACTS.is_dir():
        for path in sorted(ARTIFACTS.iterdir()):
            terminalreporter.write_line(f"artifact: {path}")

"""Fixtures for fs-core's own tests: an application with local storages in a temporary root."""

from __future__ import annotations

import functools
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    app = Flask(__name__, instance_path=str(tmp_path / "instance"))
    app.config.update(TESTING=True, FS_ROOT=str(tmp_path / "fs"), SERVER_NAME="myserver.com")
    return app


@pytest.fixture
def ctx(app: Flask) -> Iterator[None]:
    with app.test_request_context():
        yield


@pytest.fixture
def install_backend(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> InstallBackend:
    """``install_backend(module, {"name": "attribute"})``: install ``tests/{module}.py`` as a
    distribution declaring ``fs.backend`` entry points, found like any installed package. A
    ``"module:attribute"`` target names an installed module instead (nothing is copied)."""
    return functools.partial(_install_backend, tmp_path, monkeypatch)


InstallBackend = Callable[[str, dict[str, str]], None]


def _install_backend(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, module: str, entry_points: dict[str, str]
) -> None:
    site = tmp_path / f"site-{module}"
    dist = f"fs_{module}_test"
    dist_info = site / f"{dist}-1.0.dist-info"
    dist_info.mkdir(parents=True)
    source = Path(__file__).parent / f"{module}.py"
    if source.exists():
        shutil.copy(source, site / f"{dist}.py")
    (dist_info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {dist.replace('_', '-')}\nVersion: 1.0\n"
    )
    lines = "".join(
        f"{name} = {target if ':' in target else f'{dist}:{target}'}\n"
        for name, target in entry_points.items()
    )
    (dist_info / "entry_points.txt").write_text("[fs.backend]\n" + lines)
    monkeypatch.syspath_prepend(str(site))

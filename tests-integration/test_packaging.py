"""The distributions that exist so far build with hatch and work from their wheels in fresh venvs.

A first cut of the packaging checks: build fs-core, fs-local and the flask-fs meta-package, then
install them the way users do (dependencies from the index, siblings from the built wheels).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DISTRIBUTIONS = ["fs-core", "fs-local", "flask-fs"]

SMOKE = """
import tempfile, flask, flask_fs as fs
from flask_fs.backends.local import LocalBackend
app = flask.Flask("smoke", instance_path=tempfile.mkdtemp())
files = fs.Storage("files")
fs.init_app(app, files)
with app.app_context():
    files.write("a/b.txt", "hello")
    assert files.read("a/b.txt") == b"hello"
    assert isinstance(files.backend, LocalBackend)
print("ok")
"""

CORE_ALONE = """
import flask, flask_fs as fs
from flask_fs.errors import BackendNotFound
app = flask.Flask("alone")
try:
    fs.init_app(app, fs.Storage("files"))
except BackendNotFound as exc:
    assert "pip install flask-fs" in str(exc), exc
    print("ok")
"""


@pytest.fixture(scope="module")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    hatch = shutil.which("hatch")
    assert hatch, "hatch must be on PATH (the README's commands install it)"
    out = tmp_path_factory.mktemp("wheels")
    # Inside `hatch run`, HATCH_ENV_ACTIVE names the workspace's environment: not the package's.
    env = {k: v for k, v in os.environ.items() if not k.startswith("HATCH_ENV")}
    for dist in DISTRIBUTIONS:
        subprocess.run(
            [hatch, "build", "-t", "wheel", "-t", "sdist", str(out)],
            cwd=REPO / "packages" / dist,
            check=True,
            capture_output=True,
            env=env,
        )
    return out


def _venv_python(path: Path) -> Path:
    venv.create(path, with_pip=True)
    return path / "bin" / "python"


def _install(python: Path, wheelhouse: Path, *requirements: str) -> None:
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--find-links", str(wheelhouse), *requirements],
        check=True,
    )


def _run(python: Path, code: str) -> str:
    result = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_every_distribution_builds_a_wheel_and_an_sdist(wheelhouse: Path) -> None:
    names = sorted(p.name for p in wheelhouse.iterdir())
    assert names == [
        "flask_fs-1.0.0-py3-none-any.whl",
        "flask_fs-1.0.0.tar.gz",
        "fs_core-1.0.0-py3-none-any.whl",
        "fs_core-1.0.0.tar.gz",
        "fs_local-1.0.0-py3-none-any.whl",
        "fs_local-1.0.0.tar.gz",
    ]


def test_flask_fs_installs_core_and_local_only(wheelhouse: Path, tmp_path: Path) -> None:
    python = _venv_python(tmp_path / "venv")
    _install(python, wheelhouse, "flask-fs==1.0.0")
    assert _run(python, SMOKE) == "ok"
    freeze = _run(
        python,
        "import importlib.metadata as m; print(sorted(d.name.lower() for d in m.distributions()))",
    )
    for dist in ("fs-core", "fs-local", "flask-fs", "flask"):
        assert f"'{dist}'" in freeze
    for absent in ("boto3", "pymongo", "python-swiftclient", "pillow", "mongoengine"):
        assert f"'{absent}'" not in freeze


def test_fs_core_alone_names_the_missing_backend(wheelhouse: Path, tmp_path: Path) -> None:
    python = _venv_python(tmp_path / "venv")
    _install(python, wheelhouse, "fs-core==1.0.0")
    assert _run(python, CORE_ALONE) == "ok"
    marker = (
        "import flask_fs, pathlib; print(pathlib.Path(flask_fs.__file__).with_name('py.typed'))"
    )
    assert Path(_run(python, marker)).exists()


def test_an_sdist_builds_a_working_wheel(wheelhouse: Path, tmp_path: Path) -> None:
    python = _venv_python(tmp_path / "venv")
    _install(python, wheelhouse, str(wheelhouse / "fs_core-1.0.0.tar.gz"))
    _install(python, wheelhouse, str(wheelhouse / "fs_local-1.0.0.tar.gz"))
    assert _run(python, SMOKE) == "ok"


def test_versions_agree() -> None:
    assert sys.version_info >= (3, 10)
    sources = [
        REPO / "packages/fs-core/src/flask_fs/__about__.py",
        REPO / "packages/fs-local/src/flask_fs/backends/local.py",
        REPO / "packages/flask-fs/pyproject.toml",
    ]
    for source in sources:
        assert '"1.0.0"' in source.read_text(), source

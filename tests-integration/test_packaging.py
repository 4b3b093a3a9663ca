"""The published distributions, as users get them: wheels and sdists built with hatch, installed
in fresh virtual environments (dependencies from the index, siblings from the built wheels).

- every distribution builds, installs alone, and its documented import paths work;
- the meta-package's extras pull exactly what they name;
- fs-s3 installed alone saves and reads a file on the real S3 server;
- a backend built outside the workspace is found through its entry point and passes the
  conformance suite in its own venv;
- an sdist builds a wheel that passes the same checks.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.packaging

REPO = Path(__file__).resolve().parent.parent
VERSION = "1.0.0"
DISTRIBUTIONS = {
    # distribution: (an import path the manual documents, third-party packages it brings)
    "fs-core": ("flask_fs.Storage", {"flask"}),
    "fs-local": ("flask_fs.backends.local.LocalBackend", set()),
    "fs-s3": ("flask_fs.backends.s3.S3Backend", {"boto3"}),
    "fs-gridfs": ("flask_fs.backends.gridfs.GridFsBackend", {"pymongo"}),
    "fs-swift": ("flask_fs.backends.swift.SwiftBackend", {"python-swiftclient"}),
    "fs-images": ("flask_fs.images.make_thumbnail", {"pillow"}),
    "fs-mongo": ("flask_fs.mongo.ImageField", {"mongoengine", "pymongo", "pillow"}),
    "fs-sqlalchemy": ("flask_fs.sqlalchemy.ImageField", {"sqlalchemy", "pillow"}),
}
HEAVY = {
    "boto3", "pymongo", "python-swiftclient", "pillow", "mongoengine", "cryptography", "sqlalchemy"
}  # fmt: skip
EXTRAS = {
    "s3": {"fs-s3", "boto3"},
    "cloudfront": {"fs-s3", "boto3", "cryptography"},
    "gridfs": {"fs-gridfs", "pymongo"},
    "swift": {"fs-swift", "python-swiftclient"},
    "images": {"fs-images", "pillow"},
    "mongo": {"fs-mongo", "mongoengine", "fs-images", "pillow", "pymongo"},
    "sqlalchemy": {"fs-sqlalchemy", "sqlalchemy", "fs-images", "pillow"},
}


def _tool(name: str) -> str:
    path = shutil.which(name)
    assert path, f"{name} must be on PATH (the README's `pip install hatch` brings it)"
    return path


@pytest.fixture(scope="module")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every distribution's wheel and sdist, and the third-party backend's wheel."""
    hatch = _tool("hatch")
    out = tmp_path_factory.mktemp("wheels")
    # Inside `hatch run`, HATCH_ENV_ACTIVE names the workspace's environment: not the package's.
    env = {k: v for k, v in os.environ.items() if not k.startswith("HATCH_ENV")}
    projects = [REPO / "packages" / d for d in [*DISTRIBUTIONS, "flask-fs"]]
    for project in [*projects, REPO / "tests-integration" / "thirdparty"]:
        subprocess.run(
            [hatch, "build", "-t", "wheel", "-t", "sdist", str(out)],
            cwd=project,
            check=True,
            capture_output=True,
            env=env,
        )
    return out


class Venv:
    """A fresh virtual environment, filled with uv from the index and the wheelhouse."""

    def __init__(self, path: Path, wheelhouse: Path) -> None:
        self.path = path
        self.wheelhouse = wheelhouse
        subprocess.run([_tool("uv"), "venv", "-q", str(path)], check=True)
        self.python = str(path / "bin" / "python")

    def install(self, *requirements: str) -> None:
        subprocess.run(
            [_tool("uv"), "pip", "install", "-q", "--python", self.python,
             "--find-links", str(self.wheelhouse), *requirements],
            check=True,
        )  # fmt: skip

    def run(self, code: str, **env: str) -> str:
        result = subprocess.run(
            [self.python, "-c", code],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, **env},
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    def distributions(self) -> set[str]:
        listing = self.run(
            "import importlib.metadata as m; print('\\n'.join(d.name for d in m.distributions()))"
        )
        return {line.lower().replace("_", "-") for line in listing.splitlines()}


@pytest.fixture
def make_venv(tmp_path: Path, wheelhouse: Path) -> Any:
    return lambda name="venv": Venv(tmp_path / name, wheelhouse)


def _imports(path: str) -> str:
    module, _, attribute = path.rpartition(".")
    return f"import {module}; assert {module}.{attribute}; print('ok')"


@pytest.mark.parametrize("dist", list(DISTRIBUTIONS))
def test_every_module_of_a_distribution_is_in_its_wheel(wheelhouse: Path, dist: str) -> None:
    """A module imported lazily (``s3_uploads``, ``swift_uploads``) is missed by an import
    test: the wheel must hold every source file of its distribution, and only those."""
    src = REPO / "packages" / dist / "src"
    sources = {
        p.relative_to(src).as_posix()
        for p in src.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    wheel = wheelhouse / f"{dist.replace('-', '_')}-{VERSION}-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        packed = {n for n in archive.namelist() if n.startswith("flask_fs/")}
    # fs-core owns flask_fs/__init__.py and py.typed; the others may keep copies in src
    shared = {"flask_fs/py.typed", "flask_fs/__init__.py"} if dist != "fs-core" else set()
    assert packed == sources - shared


def test_every_distribution_builds_a_wheel_and_an_sdist(wheelhouse: Path) -> None:
    names = {p.name for p in wheelhouse.iterdir()}
    for dist in [*DISTRIBUTIONS, "flask-fs"]:
        stem = dist.replace("-", "_")
        assert f"{stem}-{VERSION}-py3-none-any.whl" in names
        assert f"{stem}-{VERSION}.tar.gz" in names


@pytest.mark.parametrize("dist", list(DISTRIBUTIONS))
def test_each_distribution_installs_alone(dist: str, make_venv: Any) -> None:
    venv = make_venv()
    venv.install(f"{dist}=={VERSION}")
    path, brings = DISTRIBUTIONS[dist]
    assert venv.run(_imports(path)) == "ok"
    installed = venv.distributions()
    assert brings <= installed
    assert not (HEAVY - brings) & installed
    marker = (
        "import flask_fs, pathlib; print(pathlib.Path(flask_fs.__file__).with_name('py.typed'))"
    )
    assert Path(venv.run(marker)).is_file()


def test_flask_fs_is_core_and_local_only(make_venv: Any) -> None:
    venv = make_venv()
    venv.install(f"flask-fs=={VERSION}")
    installed = venv.distributions()
    assert {"flask-fs", "fs-core", "fs-local", "flask"} <= installed
    assert not HEAVY & installed
    assert venv.run(_imports(DISTRIBUTIONS["fs-local"][0])) == "ok"
    missing = venv.run(
        "import flask, flask_fs as fs\n"
        "app = flask.Flask('x'); app.config['FS_BACKEND'] = 's3'\n"
        "try:\n    fs.init_app(app, fs.Storage('files'))\n"
        "except fs.errors.BackendNotFound as exc:\n    print(exc)"
    )
    assert "pip install flask-fs[s3]" in missing


@pytest.mark.parametrize("extra", list(EXTRAS))
def test_each_extra_brings_exactly_what_it_names(extra: str, make_venv: Any) -> None:
    venv = make_venv()
    venv.install(f"flask-fs[{extra}]=={VERSION}")
    installed = venv.distributions()
    assert EXTRAS[extra] <= installed
    assert not (HEAVY - EXTRAS[extra]) & installed


def test_all_brings_everything(make_venv: Any) -> None:
    venv = make_venv()
    venv.install(f"flask-fs[all]=={VERSION}")
    assert set(DISTRIBUTIONS) | HEAVY <= venv.distributions()
    for path, _ in DISTRIBUTIONS.values():
        assert venv.run(_imports(path)) == "ok"
    backends = venv.run("from flask_fs.backends import available_backends as a; print(a())")
    assert backends == "['gridfs', 'local', 's3', 'swift']"


def test_fs_s3_alone_saves_and_reads_on_a_real_server(seaweed_s3: Any, make_venv: Any) -> None:
    venv = make_venv()
    venv.install(f"fs-s3=={VERSION}")
    assert "fs-local" not in venv.distributions()
    code = (
        "import os, flask, flask_fs as fs\n"
        "e = os.environ\n"
        "app = flask.Flask('x')\n"
        "app.config.update(FS_BACKEND='s3', FS_S3_ENDPOINT=e['EP'], FS_S3_ACCESS_KEY=e['AK'],"
        " FS_S3_SECRET_KEY=e['SK'], FS_S3_BUCKET='flask-fs-packaging', FS_S3_CREATE_BUCKET=True)\n"
        "files = fs.Storage('files')\n"
        "fs.init_app(app, files)\n"
        "with app.app_context():\n"
        "    files.write('alone.txt', b'from fs-s3 alone', overwrite=True)\n"
        "    print(files.read('alone.txt').decode())\n"
    )
    env = {"EP": seaweed_s3.endpoint, "AK": seaweed_s3.access_key, "SK": seaweed_s3.secret_key}
    assert venv.run(code, **env) == "from fs-s3 alone"


SQLALCHEMY_ROUND_TRIP = """
import io, sys, tempfile
import flask, flask_fs as fs
from sqlalchemy import Integer, create_engine
from sqlalchemy.orm import DeclarativeBase, Session, mapped_column
from flask_fs.sqlalchemy import FileField

files = fs.Storage("files", fs.ALL)
class Base(DeclarativeBase):
    pass
class Doc(Base):
    __tablename__ = "doc"
    id = mapped_column(Integer, primary_key=True)
    file = mapped_column(FileField(fs=files), nullable=True)
app = flask.Flask("x")
app.config.update(FS_BACKEND="local", FS_ROOT=tempfile.mkdtemp())
fs.init_app(app, files)
engine = create_engine("sqlite://")
Base.metadata.create_all(engine)
with app.app_context(), Session(engine) as session:
    doc = Doc()
    session.add(doc)
    doc.file.save(io.BytesIO(b"kept"), "kept.txt")
    session.commit()
    doc.file.save(io.BytesIO(b"lost"), "lost.txt")
    session.rollback()
    print(sorted(files.list_files()), files.read(doc.file.filename).decode())
"""


def test_fs_sqlalchemy_keeps_files_with_the_transaction(make_venv: Any) -> None:
    """fs-sqlalchemy with a backend and nothing else: SQLAlchemy, no mongoengine; a commit keeps
    its file, a rollback removes its; `flask fs orphans` is there."""
    venv = make_venv()
    venv.install(f"fs-sqlalchemy=={VERSION}", f"fs-local=={VERSION}")
    installed = venv.distributions()
    assert {"sqlalchemy", "fs-images"} <= installed
    assert not {"mongoengine", "pymongo", "fs-mongo", "flask-fs"} & installed
    assert venv.run(SQLALCHEMY_ROUND_TRIP) == "['kept.txt'] kept"
    flask = Path(venv.python).with_name("flask")
    help_text = subprocess.run(
        [str(flask), "fs", "orphans", "--help"], capture_output=True, text=True, check=True
    ).stdout
    assert "no row refers to" in help_text


def test_a_third_party_backend_plugs_in_and_passes_the_suite(make_venv: Any) -> None:
    venv = make_venv()
    venv.install("fs-dict-backend[test]==0.1.0", f"fs-local=={VERSION}")
    assert (
        venv.run("from flask_fs.backends import get_backend_class as g; print(g('dict').__name__)")
        == "DictBackend"
    )
    tests = REPO / "tests-integration" / "thirdparty" / "tests"
    result = subprocess.run(
        [venv.python, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tests)],
        capture_output=True,
        text=True,
        check=False,
        cwd=tests,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    # the whole conformance suite: every test ran and passed (113 when this was written)
    summary = re.search(r"^(\d+) passed in ", result.stdout, re.MULTILINE)
    assert summary is not None, result.stdout[-3000:]
    assert int(summary.group(1)) >= 113


def test_an_sdist_builds_a_working_wheel(wheelhouse: Path, make_venv: Any) -> None:
    venv = make_venv()
    venv.install(
        str(wheelhouse / f"fs_core-{VERSION}.tar.gz"),
        str(wheelhouse / f"fs_local-{VERSION}.tar.gz"),
    )
    assert venv.run(_imports(DISTRIBUTIONS["fs-local"][0])) == "ok"


VERSION_FILE = REPO / "packages/fs-core/src/flask_fs/__about__.py"


@pytest.mark.parametrize("project", [*DISTRIBUTIONS, "flask-fs"])
def test_the_version_is_read_from_one_file(project: str) -> None:
    """Every distribution's hatch version source is fs-core's __about__.py, and no module of it
    writes a version of its own."""
    assert f'__version__ = "{VERSION}"' in VERSION_FILE.read_text()
    folder = REPO / "packages" / project
    pyproject = (folder / "pyproject.toml").read_text()
    assert 'dynamic = ["version"]' in pyproject
    if project != "fs-core":
        assert 'path = "../fs-core/src/flask_fs/__about__.py"' in pyproject
        for module in (folder / "src").rglob("*.py"):
            assert f'"{VERSION}"' not in module.read_text(), module


@pytest.mark.parametrize("project", [*DISTRIBUTIONS, "flask-fs"])
def test_versions_agree(project: str) -> None:
    """What hatch builds each distribution as."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HATCH_ENV")}
    found = subprocess.run(
        [_tool("hatch"), "version"],
        cwd=REPO / "packages" / project,
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    assert found.stdout.strip() == VERSION

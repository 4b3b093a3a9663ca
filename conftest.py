"""Real servers for the tests, on 127.0.0.1, started by the project's own scripts (services/).

A fixture uses the server its environment variable names when it is set (for example a
`docker compose up` service) and otherwise installs (once per machine) and starts one for the
test session. A server that cannot be started is an error: a test needing it never silently passes.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SERVICES = Path(__file__).resolve().parent / "services"
SERVICES_DIR = Path(os.environ.get("FS_SERVICES_DIR", "/tmp/fs-services"))


@dataclass(frozen=True)
class S3Server:
    """How to reach an S3 server."""

    name: str
    endpoint: str
    access_key: str
    secret_key: str
    region: str = "us-east-1"


def _answers(port: int) -> bool:
    """Whether something already listens on 127.0.0.1:``port``."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def _run_service(script: str, install: str, venv: str, port: int) -> Iterator[None]:
    """Install (if its venv is missing) and start a service; stop it when the session ends.

    A server already answering on its port (started by hand or by another test session) is
    used as it is, and left running.
    """
    if _answers(port):
        yield
        return
    path = SERVICES / script
    if not (SERVICES_DIR / venv / "bin").exists():
        subprocess.run(["bash", str(path), install], check=True)
    for _attempt in range(2):  # a server stopped just before may still hold its ports
        subprocess.run(["bash", str(path), "stop"], check=False, capture_output=True)
        started = subprocess.run(["bash", str(path), "start"], capture_output=True, text=True)
        if started.returncode == 0:
            break
        time.sleep(2)
    if started.returncode != 0:
        pytest.fail(f"{script} start failed:\n{started.stdout}\n{started.stderr}", pytrace=False)
    try:
        yield
    finally:
        subprocess.run(["bash", str(path), "stop"], check=False, capture_output=True)


@pytest.fixture(scope="session")
def seaweed_service() -> Iterator[None]:
    """SeaweedFS (S3 gateway on :18333): a real, on-disk server that checks signatures."""
    yield from _run_service("seaweed_s3.sh", "install", "seaweedvenv", 18333)


@pytest.fixture(scope="session")
def moto_service() -> Iterator[None]:
    """moto's ``moto_server`` (S3 on :15001), in memory."""
    yield from _run_service("moto_s3.sh", "install", "motovenv", 15001)


@pytest.fixture(scope="session")
def swift_service() -> Iterator[None]:
    """OpenStack Swift all-in-one (proxy on :18080: native API and s3api)."""
    yield from _run_service("swift_saio.sh", "install-pip", "swiftvenv", 18080)


def external_s3() -> S3Server | None:
    """The S3 server named by ``FS_TEST_S3_ENDPOINT`` (and ``_ACCESS_KEY``...), if any."""
    endpoint = os.environ.get("FS_TEST_S3_ENDPOINT")
    if not endpoint:
        return None
    return S3Server(
        "external",
        endpoint,
        os.environ.get("FS_TEST_S3_ACCESS_KEY", "test"),
        os.environ.get("FS_TEST_S3_SECRET_KEY", "test"),
        os.environ.get("FS_TEST_S3_REGION", "us-east-1"),
    )


#: The local S3 servers and the fixture that starts each.
LOCAL_S3_SERVERS = {
    "seaweed": (
        "seaweed_service",
        S3Server("seaweed", "http://127.0.0.1:18333", "seaweedtest", "seaweedsecret"),
    ),
    "moto": ("moto_service", S3Server("moto", "http://127.0.0.1:15001", "test", "test")),
    "swift-s3api": (
        "swift_service",
        S3Server("swift-s3api", "http://127.0.0.1:18080", "test:tester", "testing"),
    ),
}


def s3_server_names() -> list[str]:
    """The S3 servers the suite runs on: the external one if named, else the three local ones."""
    return ["external"] if external_s3() else list(LOCAL_S3_SERVERS)


@pytest.fixture(scope="session")
def s3_server(request: pytest.FixtureRequest) -> S3Server:
    """One S3 server, started if needed; parametrize it with :func:`s3_server_names`."""
    external = external_s3()
    if external is not None:
        return external
    fixture_name, server = LOCAL_S3_SERVERS[request.param]
    request.getfixturevalue(fixture_name)
    return server


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run every test that takes ``s3_server`` once per S3 server."""
    if "s3_server" in metafunc.fixturenames:
        metafunc.parametrize("s3_server", s3_server_names(), indirect=True, scope="session")


def _local_s3(request: pytest.FixtureRequest, name: str) -> S3Server:
    fixture_name, server = LOCAL_S3_SERVERS[name]
    request.getfixturevalue(fixture_name)
    return server


@pytest.fixture(scope="session")
def seaweed_s3(request: pytest.FixtureRequest) -> S3Server:
    """The local SeaweedFS S3 server, for what only a server that checks signatures shows."""
    return _local_s3(request, "seaweed")


@pytest.fixture(scope="session")
def moto_s3(request: pytest.FixtureRequest) -> S3Server:
    """The local moto S3 server, for what only it shows (bucket regions)."""
    return _local_s3(request, "moto")


@pytest.fixture(scope="session")
def mongo_url(request: pytest.FixtureRequest) -> str:
    """A MongoDB server: ``FS_TEST_MONGO_URL``, else SecantusDB started on 127.0.0.1:17017."""
    url = os.environ.get("FS_TEST_MONGO_URL")
    if url:
        return url
    request.getfixturevalue("mongo_service")
    return "mongodb://127.0.0.1:17017/?directConnection=true"


@pytest.fixture(scope="session")
def mongo_service() -> Iterator[None]:
    """SecantusDB, a MongoDB-wire server (test-only; GPL, beta)."""
    yield from _run_service("mongo_secantus.sh", "install", "mongovenv", 17017)


@dataclass(frozen=True)
class SwiftServer:
    """How to reach a Swift cluster (v1 auth)."""

    authurl: str
    user: str
    key: str


@pytest.fixture(scope="session")
def swift_server(request: pytest.FixtureRequest) -> SwiftServer:
    """Swift: ``FS_TEST_SWIFT_AUTHURL`` (+ ``_USER``, ``_KEY``), else the local all-in-one."""
    authurl = os.environ.get("FS_TEST_SWIFT_AUTHURL")
    if authurl:
        return SwiftServer(
            authurl,
            os.environ.get("FS_TEST_SWIFT_USER", "test:tester"),
            os.environ.get("FS_TEST_SWIFT_KEY", "testing"),
        )
    request.getfixturevalue("swift_service")
    return SwiftServer("http://127.0.0.1:18080/auth/v1.0", "test:tester", "testing")


@pytest.fixture(scope="session")
def mongoengine_db(mongo_url: str) -> Iterator[str]:
    """mongoengine's default connection, to a database of this session's own."""
    import uuid

    import mongoengine

    name = f"flask_fs_mongoengine_{uuid.uuid4().hex[:8]}"
    mongoengine.connect(db=name, host=mongo_url, alias="default", uuidRepresentation="standard")
    yield name
    mongoengine.disconnect(alias="default")


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's Chromium (``FS_TEST_CHROMIUM`` names another), installed if missing."""
    import shutil

    path = os.environ.get("FS_TEST_CHROMIUM") or shutil.which("chromium")
    if not path:
        subprocess.run(["bash", str(SERVICES / "chromium.sh"), "install"], check=True)
        path = shutil.which("chromium")
    assert path, "chromium could not be installed"
    return path

"""Real servers for the tests, on 127.0.0.1, started by the project's own scripts (services/,
described once in services/fs_services.py).

A fixture uses the server its environment variable names when it is set (for example a
`docker compose up` service) and otherwise installs (once per machine) and starts one for the
test session. A server that cannot be started is an error: a test needing it never silently passes.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from fs_services import (
    LOCAL_S3_SERVERS,
    MONGO,
    MOTO,
    POSTGRES,
    SEAWEED,
    SERVICES,
    SWIFT,
    SWIFT_SERVER,
    S3Server,
    Service,
    ServiceError,
    SwiftServer,
)
from fs_services import (
    mongo_url as local_mongo_url,
)
from fs_services import (
    postgres_url as local_postgres_url,
)


def _run_service(service: Service) -> Iterator[None]:
    """The server answers while the session runs (started here if need be)."""
    try:
        yield from service.running()
    except ServiceError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="session")
def seaweed_service() -> Iterator[None]:
    """SeaweedFS (S3 gateway on :18333): a real, on-disk server that checks signatures."""
    yield from _run_service(SEAWEED)


@pytest.fixture(scope="session")
def moto_service() -> Iterator[None]:
    """moto's ``moto_server`` (S3 on :15001), in memory."""
    yield from _run_service(MOTO)


@pytest.fixture(scope="session")
def swift_service() -> Iterator[None]:
    """OpenStack Swift all-in-one (proxy on :18080: native API and s3api)."""
    yield from _run_service(SWIFT)


#: The fixtures that reach a test server: a test using one (even through another fixture) is
#: marked ``services``; one using ``chromium`` is marked ``browser``.
SERVER_FIXTURES = frozenset(
    {
        "seaweed_service",
        "moto_service",
        "swift_service",
        "mongo_service",
        "s3_server",
        "seaweed_s3",
        "moto_s3",
        "mongo_url",
        "swift_server",
        "mongoengine_db",
        "postgres_service",
        "postgres_url",
    }
)


RELIABILITY = Path(__file__).resolve().parent / "tests-integration" / "reliability"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test by what it needs, from the fixtures it uses (and the reliability suite,
    minutes of load and faults, as slow)."""
    for item in items:
        if RELIABILITY in item.path.parents:
            item.add_marker(pytest.mark.slow)
        fixtures = set(getattr(item, "fixturenames", ()))
        if fixtures & SERVER_FIXTURES:
            item.add_marker(pytest.mark.services)
        if "chromium" in fixtures:
            item.add_marker(pytest.mark.browser)


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


#: The fixture that starts each local S3 server.
_S3_FIXTURES = {
    "seaweed": "seaweed_service",
    "moto": "moto_service",
    "swift-s3api": "swift_service",
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
    return _local_s3(request, request.param)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run every test that takes ``s3_server`` once per S3 server: those its ``s3_servers``
    mark names (``only``; ``without``), so that a case that cannot apply to a server is never
    generated for it, rather than skipped."""
    if "s3_server" in metafunc.fixturenames:
        names = s3_server_names()
        mark = metafunc.definition.get_closest_marker("s3_servers")
        if mark is not None:
            only, without = mark.kwargs.get("only"), set(mark.kwargs.get("without", ()))
            names = [n for n in names if (only is None or n in only) and n not in without]
        metafunc.parametrize("s3_server", names, indirect=True, scope="session")


def _local_s3(request: pytest.FixtureRequest, name: str) -> S3Server:
    request.getfixturevalue(_S3_FIXTURES[name])
    return LOCAL_S3_SERVERS[name][1]


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
    return local_mongo_url()


@pytest.fixture(scope="session")
def mongo_service() -> Iterator[None]:
    """SecantusDB, a MongoDB-wire server (test-only; GPL, beta)."""
    yield from _run_service(MONGO)


@pytest.fixture(scope="session")
def postgres_service() -> Iterator[None]:
    """PostgreSQL (Debian's package, installed with apt if missing): a fresh cluster."""
    yield from _run_service(POSTGRES)


@pytest.fixture(scope="session")
def postgres_url(request: pytest.FixtureRequest) -> str:
    """A PostgreSQL database: ``FS_TEST_POSTGRES_URL``, else one started on 127.0.0.1:15432."""
    url = os.environ.get("FS_TEST_POSTGRES_URL")
    if url:
        return url
    request.getfixturevalue("postgres_service")
    return local_postgres_url()


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
    return SWIFT_SERVER


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

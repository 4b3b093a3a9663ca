"""The reliability suite's fixtures: the same storage on every backend, hostile names, and
servers of its own that the fault tests may stop.

``FS_RELIABILITY=soak`` runs the long versions (more names, 60 s of load); CI runs the short ones.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
from flask import current_app
from fs_services import (
    FAULT_MONGO,
    FAULT_MONGO_URL,
    FAULT_SEAWEED,
    FAULT_SEAWEED_S3,
    FAULT_SWIFT,
    FAULT_SWIFT_SERVER,
    Service,
    ServiceError,
)

from flask_fs import Storage
from flask_fs.backends import BaseBackend
from flask_fs.backends.gridfs import GridFsBackend
from flask_fs.backends.local import LocalBackend
from flask_fs.backends.s3 import S3Backend
from flask_fs.backends.swift import SwiftBackend
from flask_fs.testing import temporary_storage, temporary_storages

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
SOAK = os.environ.get("FS_RELIABILITY") == "soak"
BACKENDS = ["local", "s3", "gridfs", "swift"]
MiB = 1024 * 1024
B = TypeVar("B", bound=BaseBackend)

#: What each test module found, for the closing summary (names tried, races, faults...).
FIGURES: dict[str, Any] = {}


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the figures of the reliability suite."""
    if FIGURES:
        terminalreporter.section("reliability figures")
        for key, value in FIGURES.items():
            terminalreporter.write_line(f"{key}: {json.dumps(value, default=str)}")


@dataclass
class Target:
    """One backend, as the suite uses it: settings for throwaway storages, and a view of
    everything in its server (or folder) that does not belong to a given storage."""

    name: str
    backend: str
    settings: dict[str, Any]
    outside: Callable[..., Any]
    leftovers: Callable[[Storage], list[str]] = field(default=lambda storage: [])

    @contextlib.contextmanager
    def storage(
        self, label: str = "rel", app_config: dict[str, Any] | None = None, **extra: Any
    ) -> Iterator[Storage]:
        app_config = {"FS_SERVE": True, **(app_config or {})}
        with temporary_storage(self.backend, self.settings, label, app_config, **extra) as storage:
            yield storage

    @contextlib.contextmanager
    def storages(self, *labels: str) -> Iterator[list[Storage]]:
        """Several fresh storages of this backend on one serving application."""
        with temporary_storages(
            self.backend, self.settings, labels, {"FS_SERVE": True}
        ) as storages:
            yield storages


def _backend(storage: Storage, kind: type[B]) -> B:
    """The backend of ``storage``, which the target made a ``kind``."""
    backend = storage.backend
    assert isinstance(backend, kind), backend
    return backend


def _local_target(base: Path) -> Target:
    def outside(*storages: Storage) -> set[str]:
        roots = {Path(_backend(s, LocalBackend).root) for s in storages}
        return {str(p) for p in base.rglob("*") if not roots & {p, *p.parents}}

    def leftovers(storage: Storage) -> list[str]:
        root = Path(_backend(storage, LocalBackend).root)
        return [str(p) for p in root.rglob(".fs-tmp-*")]

    return Target("local", "local", {"ROOT": str(base / "{name}")}, outside, leftovers)


def _s3_target(server: Any) -> Target:
    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=server.endpoint,
        aws_access_key_id=server.access_key,
        aws_secret_access_key=server.secret_key,
        region_name=server.region,
    )
    bucket = "reliability"

    def outside(*storages: Storage) -> Any:
        prefixes = tuple(_backend(s, S3Backend).key_prefix for s in storages)
        keys = {
            item["Key"]
            for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
            for item in page.get("Contents", ())
            if not item["Key"].startswith(prefixes)
        }
        return keys, {b["Name"] for b in client.list_buckets()["Buckets"]}

    def leftovers(storage: Storage) -> list[str]:
        prefix = _backend(storage, S3Backend).key_prefix
        uploads = client.list_multipart_uploads(Bucket=bucket, Prefix=prefix)
        return [u["Key"] for u in uploads.get("Uploads", ())]

    settings = {
        "ENDPOINT": server.endpoint,
        "ACCESS_KEY": server.access_key,
        "SECRET_KEY": server.secret_key,
        "REGION": server.region,
        "BUCKET": bucket,
        "PREFIX": "{name}/",
    }
    return Target("s3", "s3", settings, outside, leftovers)


def _gridfs_target(url: str) -> Target:
    from pymongo import MongoClient

    database = f"reliability_{uuid.uuid4().hex[:8]}"
    db: Any = MongoClient(url)[database]

    def outside(*storages: Storage) -> dict[str, int]:
        buckets = {_backend(s, GridFsBackend).bucket_name for s in storages}
        return {
            name: db[name].estimated_document_count()
            for name in db.list_collection_names()
            if name.split(".")[0] not in buckets
        }

    def leftovers(storage: Storage) -> list[str]:
        """Chunks that no files document owns, and revisions older than a name's newest."""
        bucket = _backend(storage, GridFsBackend).bucket_name
        newest: dict[str, Any] = {}
        stale = []
        for d in db[f"{bucket}.files"].find({}, {"filename": 1}).sort("uploadDate", -1):
            if d["filename"] in newest:
                stale.append(f"older revision {d['_id']} of {d['filename']!r}")
            newest.setdefault(d["filename"], d["_id"])
        files = {d["_id"] for d in db[f"{bucket}.files"].find({}, {"_id": 1})}
        chunks = [f"chunk {c['_id']}" for c in db[f"{bucket}.chunks"].find({}, {"data": 0})
                  if c["files_id"] not in files]  # fmt: skip
        return stale + chunks

    return Target("gridfs", "gridfs", {"MONGO_URL": url, "MONGO_DB": database}, outside, leftovers)


def _swift_target(server: Any) -> Target:
    from swiftclient.client import ClientException, Connection

    conn = Connection(authurl=server.authurl, user=server.user, key=server.key, retries=1)

    def outside(*storages: Storage) -> dict[str, int]:
        ours = {_backend(s, SwiftBackend).container for s in storages}
        ours |= {f"{container}_segments" for container in ours}
        _, containers = conn.get_account(full_listing=True)
        return {c["name"]: c["count"] for c in containers if c["name"] not in ours}

    def leftovers(storage: Storage) -> list[str]:
        segments = f"{_backend(storage, SwiftBackend).container}_segments"
        try:
            _, listing = conn.get_container(segments, full_listing=True)
        except ClientException as exc:
            if exc.http_status == 404:
                return []  # no large object was ever written
            raise
        used: set[str] = set()
        for name in storage.list_files():
            headers, manifest = conn.get_object(
                _backend(storage, SwiftBackend).container,
                name,
                query_string="multipart-manifest=get",
            )
            if headers.get("x-static-large-object") == "True":
                used |= {item["name"].split("/", 2)[2] for item in json.loads(manifest)}
        return [item["name"] for item in listing if item["name"] not in used]

    settings = {
        "AUTHURL": server.authurl,
        "USER": server.user,
        "KEY": server.key,
        "CONTAINER": "{name}",
        "RETRIES": 1,
        "SEGMENT_SIZE": MiB,
    }
    return Target("swift", "swift", settings, outside, leftovers)


@pytest.fixture(scope="session")
def targets(
    tmp_path_factory: pytest.TempPathFactory,
) -> Callable[[str, pytest.FixtureRequest], Target]:
    """Build the :class:`Target` of a backend, starting its server on first use."""
    made: dict[str, Target] = {}
    local_base = tmp_path_factory.mktemp("reliability-local")

    def get(name: str, request: pytest.FixtureRequest) -> Target:
        if name not in made:
            if name == "local":
                made[name] = _local_target(local_base)
            elif name == "s3":
                made[name] = _s3_target(request.getfixturevalue("seaweed_s3"))
            elif name == "gridfs":
                made[name] = _gridfs_target(request.getfixturevalue("mongo_url"))
            else:
                made[name] = _swift_target(request.getfixturevalue("swift_server"))
        return made[name]

    return get


@pytest.fixture(params=BACKENDS)
def target(request: pytest.FixtureRequest, targets: Callable[..., Target]) -> Target:
    """Each backend in turn."""
    return targets(request.param, request)


def in_app(function: Callable[..., Any]) -> Callable[..., Any]:
    """``function``, run in the current application's context (for other threads)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def run(*args: Any) -> Any:
        with app.app_context():
            return function(*args)

    return run


# -- hostile names -----------------------------------------------------------------------------

_FRAGMENTS = [
    "..",
    ".",
    "/",
    "//",
    "\\",
    "\x00",
    "\x01",
    "\x1f",
    "\x7f",
    "\n",
    "\r",
    "\t",
    " ",
    "  ",
    "%2e%2e",
    "%2f",
    "..%2f",
    "%00",
    "%",
    "?",
    "#",
    "&",
    "=",
    "+",
    ";",
    "~",
    "$",
    "*",
    ":",
    "'",
    '"',
    "<",
    ">",
    "|",
    "`",
    "{",
    "}",
    "[",
    "]",
    "!",
    "@",
    "^",
    "\uff0e\uff0e",
    "\uff0f",
    "\u2024",
    "\u2215",
    "\u2044",
    "\u29f8",
    "\u0338",  # look-alikes
    "e\u0301",
    "\u00e9",
    "\u212b",
    "\u00c5",
    "\ufb01",
    "ﬃ",  # normalisation (NFD/NFC/NFKC)
    "\u200b",
    "\u200d",
    "\u202e",
    "\u2066",
    "\ufeff",
    "\u00a0",
    "\u3000",  # invisible, bidi
    "\ud800",
    "\udfff",
    "\ue000",
    "\U0010ffff",
    "\U0001f600",
    "\u0378",  # surrogate, private
    "CON",
    "NUL",
    "aux",
    "com1",
    "LPT9",
    "prn.txt",
    "desktop.ini",
    "$MFT",  # reserved devices
    "C:",
    "C:\\",
    "\\\\server\\share",
    "file:",
    "http://evil",
    "~root",
    ".git",
    ".fs-tmp-x",
    "a",
    "b",
    "dir",
    "file.txt",
    "image.png",
    "x" * 40,
    "\u00fc" * 20,
    "\u6587\u4ef6",
]


def hostile_names(count: int, seed: int = 20261124) -> list[str]:
    """``count`` distinct names built from traversal, control, look-alike, reserved and overlong
    fragments: the same list on every backend."""
    rng = random.Random(seed)
    names: dict[str, None] = {}
    while len(names) < count:
        kind = rng.random()
        if kind < 0.05:  # very long: around the 255-byte segment and 1024-byte name limits
            unit = rng.choice(["a", "\u00e9", "\U0001f600", "ab/"])
            name = unit * rng.randint(60, 400)
        else:
            parts = [rng.choice(_FRAGMENTS) for _ in range(rng.randint(1, 6))]
            joiner = rng.choice(["", "", "/", "_"])
            name = joiner.join(parts)
        if rng.random() < 0.4:
            name = rng.choice(["../", "/", "./", "a/../", "..\\", ""]) + name
        if rng.random() < 0.2:
            name += rng.choice([".txt", ".html", ".svg", ".", "/", "/..", " ", ".png"])
        names[name] = None
    return list(names)


# -- servers of the fault tests ----------------------------------------------------------------


@dataclass
class FaultServer:
    """A server of the suite's own (other ports, other data), which tests may stop."""

    service: Service

    def start(self) -> None:
        """Start the server again, with the data it had when stopped."""
        try:
            self.service.start(attempts=3, SWIFT_KEEP_TMPFS="1")
        except ServiceError as exc:
            pytest.fail(str(exc))

    def stop(self, keep_data: bool = True) -> None:
        """Stop the server; its data stays for the next start unless ``keep_data`` is False."""
        self.service.stop(SWIFT_KEEP_TMPFS="1" if keep_data else "0")


def _fault_server(
    request: pytest.FixtureRequest, main: str, service: Service
) -> Iterator[FaultServer]:
    request.getfixturevalue(main)  # installs the software (and starts the shared server)
    server = FaultServer(service)
    server.stop(keep_data=False)
    server.start()
    try:
        yield server
    finally:
        server.stop(keep_data=False)


@pytest.fixture(scope="session")
def fault_seaweed(request: pytest.FixtureRequest) -> Iterator[FaultServer]:
    yield from _fault_server(request, "seaweed_service", FAULT_SEAWEED)


@pytest.fixture(scope="session")
def fault_swift(request: pytest.FixtureRequest) -> Iterator[FaultServer]:
    yield from _fault_server(request, "swift_service", FAULT_SWIFT)


@pytest.fixture(scope="session")
def fault_mongo(request: pytest.FixtureRequest) -> Iterator[FaultServer]:
    yield from _fault_server(request, "mongo_service", FAULT_MONGO)


#: Each fault server as a Target (its own bucket/database), with short timeouts and few retries.
_FAULT_TARGETS: dict[str, Callable[[], Target]] = {
    "s3": lambda: _s3_target(FAULT_SEAWEED_S3),
    "swift": lambda: _swift_target(FAULT_SWIFT_SERVER),
    "gridfs": lambda: _gridfs_target(FAULT_MONGO_URL),
}
_FAULT_EXTRA: dict[str, dict[str, Any]] = {
    "s3": {"CLIENT_CONFIG": {"retries": {"max_attempts": 2, "mode": "standard"},
                             "connect_timeout": 2, "read_timeout": 10},
           "MULTIPART_THRESHOLD": 5 * MiB, "MULTIPART_CHUNKSIZE": 5 * MiB},
    "swift": {"TIMEOUT": 10, "SEGMENT_SIZE": 4 * MiB},
    "gridfs": {"CLIENT_OPTIONS": {"serverSelectionTimeoutMS": 3000, "socketTimeoutMS": 10000}},
}  # fmt: skip
_FAULT_FIXTURES = {"s3": "fault_seaweed", "swift": "fault_swift", "gridfs": "fault_mongo"}


@pytest.fixture(params=["s3", "swift", "gridfs"])
def fault_target(request: pytest.FixtureRequest) -> tuple[Target, FaultServer]:
    """An object store of the suite's own, which the test may stop and start again."""
    server = request.getfixturevalue(_FAULT_FIXTURES[request.param])
    target = _FAULT_TARGETS[request.param]()
    target.settings.update(_FAULT_EXTRA[request.param])
    return target, server


def python_script(name: str) -> list[str]:
    """The command running one of the suite's helper scripts with this interpreter."""
    return [sys.executable, str(HERE / name)]

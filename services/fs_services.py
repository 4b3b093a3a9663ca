"""The test servers, in one place: their scripts, ports and credentials, and how to start one.

Used by the root ``conftest.py`` (the shared servers), the reliability suite (servers of its
own, on other ports, that its fault tests stop) and ``bench/``. A server is probed on its port
before anything is started: one already answering (started by hand, by ``docker compose`` or by
another session) is used as it is and left running.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

SERVICES = Path(__file__).resolve().parent
SERVICES_DIR = Path(os.environ.get("FS_SERVICES_DIR", "/tmp/fs-services"))
HOST = "127.0.0.1"


class ServiceError(RuntimeError):
    """A server could not be installed or started."""


def answers(port: int, host: str = HOST) -> bool:
    """Whether something already listens on ``host:port``."""
    try:
        socket.create_connection((host, port), timeout=1).close()
    except OSError:
        return False
    return True


@dataclass(frozen=True)
class Service:
    """A server started by a script of ``services/`` (``install``, ``start``, ``stop``)."""

    script: str
    install_action: str
    #: The folder under ``SERVICES_DIR`` whose ``bin`` says it is installed; ``None``: the
    #: script's install action checks for itself (a system package).
    venv: str | None
    port: int
    #: Environment for the script: another instance's ports and data folder.
    env: dict[str, str] = field(default_factory=dict)

    def instance(self, port: int, **env: str) -> Service:
        """Another instance of this server, on ``port`` (and the ports and folder in ``env``)."""
        return replace(self, port=port, env={**self.env, **env})

    def answers(self) -> bool:
        return answers(self.port)

    def run(self, action: str, **env: str) -> subprocess.CompletedProcess[str]:
        """Run the script's ``action`` for this instance."""
        return subprocess.run(
            ["bash", str(SERVICES / self.script), action],
            env={**os.environ, **self.env, **env},
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )

    def install(self) -> None:
        """Install the server's software once per machine (its venv under ``SERVICES_DIR``)."""
        if self.venv is not None and (SERVICES_DIR / self.venv / "bin").exists():
            return
        installed = self.run(self.install_action)
        if installed.returncode != 0:
            raise ServiceError(f"{self.script} {self.install_action} failed:\n{installed.stderr}")

    def start(self, attempts: int = 3, **env: str) -> None:
        """Install if needed, then (re)start this instance; a server stopped just before may
        still hold its ports, so it is tried ``attempts`` times. ``env`` goes to the script's
        stop and start (``SWIFT_KEEP_TMPFS="1"`` keeps the data of a restarted Swift). A failure
        reports what every attempt printed."""
        self.install()
        failures = []
        for attempt in range(attempts):
            self.run("stop", **env)
            started = self.run("start", **env)
            if started.returncode == 0:
                return
            failures.append(f"attempt {attempt + 1}:\n{started.stdout}\n{started.stderr}")
            if attempt + 1 < attempts:
                time.sleep(2)
        raise ServiceError(f"{self.script} start failed:\n" + "\n".join(failures))

    def stop(self, **env: str) -> None:
        self.run("stop", **env)

    def running(self) -> Iterator[None]:
        """A generator for a session fixture: the server answers while it is suspended; one
        started here is stopped at the end, one found running is left alone."""
        if self.answers():
            yield
            return
        self.start()
        try:
            yield
        finally:
            self.stop()

    def ensure(self) -> None:
        """Start the server unless it answers already; leave it running."""
        if not self.answers():
            self.start()


@dataclass(frozen=True)
class S3Server:
    """How to reach an S3 server."""

    name: str
    endpoint: str
    access_key: str
    secret_key: str
    region: str = "us-east-1"


@dataclass(frozen=True)
class SwiftServer:
    """How to reach a Swift cluster (v1 auth)."""

    authurl: str
    user: str
    key: str


# -- the shared servers ------------------------------------------------------------------------

SEAWEED = Service("seaweed_s3.sh", "install", "seaweedvenv", 18333)
MOTO = Service("moto_s3.sh", "install", "motovenv", 15001)
SWIFT = Service("swift_saio.sh", "install-pip", "swiftvenv", 18080)
MONGO = Service("mongo_secantus.sh", "install", "mongovenv", 17017)
POSTGRES = Service("postgres.sh", "install", None, 15432)

SEAWEED_S3 = S3Server("seaweed", f"http://{HOST}:{SEAWEED.port}", "seaweedtest", "seaweedsecret")
MOTO_S3 = S3Server("moto", f"http://{HOST}:{MOTO.port}", "test", "test")
SWIFT_S3 = S3Server("swift-s3api", f"http://{HOST}:{SWIFT.port}", "test:tester", "testing")
SWIFT_SERVER = SwiftServer(f"http://{HOST}:{SWIFT.port}/auth/v1.0", "test:tester", "testing")


def mongo_url(port: int = MONGO.port) -> str:
    return f"mongodb://{HOST}:{port}/?directConnection=true"


def postgres_url(port: int = POSTGRES.port) -> str:
    return f"postgresql://postgres@{HOST}:{port}/test"


#: Each local S3 server and the service that runs it.
LOCAL_S3_SERVERS: dict[str, tuple[Service, S3Server]] = {
    "seaweed": (SEAWEED, SEAWEED_S3),
    "moto": (MOTO, MOTO_S3),
    "swift-s3api": (SWIFT, SWIFT_S3),
}

# -- the reliability suite's own servers (other ports, other data), which its tests stop -------

FAULT_SEAWEED = SEAWEED.instance(
    23333,
    SW_BASE=str(SERVICES_DIR / "fault-seaweed"),
    SW_S3_PORT="23333",
    SW_MASTER_PORT="24333",
    SW_VOLUME_PORT="23090",
    SW_FILER_PORT="23888",
)
FAULT_SEAWEED_S3 = replace(SEAWEED_S3, name="fault-seaweed", endpoint=f"http://{HOST}:23333")
# a 96 MiB device: large enough for the tests, small enough to fill (507 Insufficient Storage)
FAULT_SWIFT = SWIFT.instance(
    28080,
    SWIFT_BASE=str(SERVICES_DIR / "fault-swift"),
    SWIFT_PROXY_PORT="28080",
    SWIFT_ACCOUNT_PORT="26012",
    SWIFT_CONTAINER_PORT="26011",
    SWIFT_OBJECT_PORT="26010",
    SWIFT_MEMCACHED_PORT="21311",
    SWIFT_TMPFS_MB="96",
    SWIFT_ERROR_SUPPRESSION_INTERVAL="2",
)
FAULT_SWIFT_SERVER = replace(SWIFT_SERVER, authurl=f"http://{HOST}:28080/auth/v1.0")
FAULT_MONGO = MONGO.instance(
    27018, MONGO_BASE=str(SERVICES_DIR / "fault-mongo"), MONGO_PORT="27018"
)
FAULT_MONGO_URL = mongo_url(FAULT_MONGO.port)

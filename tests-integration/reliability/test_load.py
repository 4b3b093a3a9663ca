"""The serve endpoint under 64 concurrent clients (waitress, a load generator on 127.0.0.1), on
the local backend and on S3, against plain Flask ``send_file`` of the same files in the same run:
zero errors; requests/s and p99 latency reported. 5 s per case in CI, 60 s with FS_RELIABILITY=soak.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from flask_fs.testing import storage_config

from .conftest import FIGURES, SOAK, Target, python_script

CLIENTS = 64
SECONDS = 60 if SOAK else 5
SIZES = [1024, 8 * 1024, 64 * 1024, 256 * 1024]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def served(
    targets: Callable[..., Target], request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[dict[str, Any]]:
    """The files written to both storages, and the server that serves them."""
    s3 = targets("s3", request)
    root = tmp_path / "local"
    files = {f"file-{i:02d}.bin": os.urandom(SIZES[i % len(SIZES)]) for i in range(40)}
    with s3.storage("load") as storage:
        for name, content in files.items():
            storage.write(name, content)
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_bytes(content)
        config = {
            **storage_config("s3", {**s3.settings, "BACKEND": "s3"}),
            "S3_FS_PREFIX": storage.backend.key_prefix,  # type: ignore[attr-defined]
            "LOCAL_FS_BACKEND": "local",
            "LOCAL_FS_ROOT": str(root),
        }
        port = _free_port()
        job = json.dumps({"config": config, "root": str(root)})
        server = subprocess.Popen([*python_script("load_server.py"), str(port), job])
        try:
            _wait_for(port)
            yield {"port": port, "files": files}
        finally:
            server.terminate()
            server.wait(30)


def _wait_for(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    pytest.fail("the load test server did not start")


def _load(port: int, paths: dict[str, int]) -> dict[str, Any]:
    job = json.dumps({"port": port, "paths": paths, "clients": CLIENTS, "seconds": SECONDS})
    done = subprocess.run(
        [*python_script("load_client.py"), job], capture_output=True, text=True,
        timeout=SECONDS + 120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def test_serving_under_64_clients_has_no_errors(served: dict[str, Any]) -> None:
    sizes = {name: len(content) for name, content in served["files"].items()}
    cases = {
        "plain send_file": {f"/plain/{n}": s for n, s in sizes.items()},
        "flask-fs local": {f"/_fs/local/{n}": s for n, s in sizes.items()},
        "flask-fs s3": {f"/_fs/s3/{n}": s for n, s in sizes.items()},
    }
    results = {case: _load(served["port"], paths) for case, paths in cases.items()}
    baseline = results["plain send_file"]["requests_per_s"]
    for result in results.values():
        result["vs plain"] = round(result["requests_per_s"] / baseline, 2)
    FIGURES["load"] = {"clients": CLIENTS, "seconds per case": SECONDS, **results}
    for case, result in results.items():
        assert result["errors"] == 0, (case, result["error_samples"])
        assert result["requests"] > 0, case

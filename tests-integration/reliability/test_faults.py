"""Faults: a server stopped in the middle of an upload, a process killed in the middle of a write,
a full device, a server that is down when the application starts.

Each time: a clear FSError in bounded time, no partial file visible, nothing left behind once
``sweep`` has run with the server back, and the same storage object works again.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import threading
import time
from typing import IO, Any, cast

import pytest
from fs_services import SERVICES_DIR

from flask_fs.errors import BackendError, FSError
from flask_fs.testing import storage_config

from .conftest import FIGURES, FaultServer, MiB, Target, in_app, python_script

#: A stopped server must give an error within this many seconds (retries and timeouts included).
ERROR_WITHIN = 60


class _StallingSource(io.RawIOBase):
    """``total`` bytes; after ``stall_after`` it waits for ``resume`` (the server being stopped)."""

    def __init__(self, total: int, stall_after: int) -> None:
        super().__init__()
        self.total, self.stall_after, self.sent = total, stall_after, 0
        self.stalled, self.resume = threading.Event(), threading.Event()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.sent >= self.stall_after and not self.resume.is_set():
            self.stalled.set()
            self.resume.wait(120)
        count = min(len(buffer), self.total - self.sent, MiB)
        buffer[:count] = b"z" * count
        self.sent += count
        return count


def _lost(storage: Any, name: str, content: bytes) -> int:
    """How many bytes of a file written before the fault are not there, whole, any more."""
    try:
        return 0 if storage.read(name) == content else len(content)
    except FSError:
        return len(content)


def _record(key: str, **figures: Any) -> None:
    FIGURES.setdefault(key, []).append(figures)


def test_server_stopped_in_the_middle_of_an_upload(
    fault_target: tuple[Target, FaultServer],
) -> None:
    target, server = fault_target
    with target.storage("stop") as storage:
        storage.write("before.txt", b"written before the fault")
        source = _StallingSource(total=64 * MiB, stall_after=14 * MiB)
        outcome: list[BaseException | str] = []

        def upload() -> None:
            try:
                storage.save(cast(IO[bytes], source), "big.bin")  # a raw stream: save only reads it
                outcome.append("saved")
            except BaseException as exc:
                outcome.append(exc)

        thread = threading.Thread(target=in_app(upload))
        thread.start()
        assert source.stalled.wait(60), "the upload never got going"
        time.sleep(0.5)  # let the parts, segments or chunks sent so far land
        server.stop()
        stopped = time.monotonic()
        source.resume.set()
        thread.join(ERROR_WITHIN + 60)
        error_after = time.monotonic() - stopped
        assert not thread.is_alive(), "the upload hangs with the server stopped"
        assert isinstance(outcome[0], FSError), outcome
        assert storage.name in str(outcome[0])
        assert error_after < ERROR_WITHIN

        down = time.monotonic()  # while it is down, every operation fails clearly and quickly
        with pytest.raises(BackendError):
            storage.read("before.txt")
        read_error_after = time.monotonic() - down

        server.start()
        assert not storage.exists("big.bin")
        assert list(storage.list_files()) == ["before.txt"]
        swept = storage.sweep(0)
        assert target.leftovers(storage) == []
        assert storage.sweep(0) == []
        storage.write("after.txt", b"works again")  # the same storage, no restart
        assert storage.read("after.txt") == b"works again"
        lost = _lost(storage, "before.txt", b"written before the fault")
    _record(f"faults/{target.name}/server-stopped", sent_before_stop=14 * MiB,
            upload_error_seconds=round(error_after, 1),
            read_error_seconds=round(read_error_after, 1),
            leftovers_swept=len(swept), bytes_lost=lost)  # fmt: skip
    assert lost == 0


def test_server_down_at_start_up_is_a_clear_error_not_a_hang(
    fault_target: tuple[Target, FaultServer],
) -> None:
    target, server = fault_target
    server.stop()
    try:
        started = time.monotonic()
        with pytest.raises(BackendError) as error, target.storage("down") as storage:
            storage.write("first.txt", b"x")
        elapsed = time.monotonic() - started
    finally:
        server.start()
    assert elapsed < ERROR_WITHIN
    _record(f"faults/{target.name}/down-at-start", error_seconds=round(elapsed, 1),
            message=str(error.value)[:160])  # fmt: skip


@pytest.mark.parametrize("backend", ["local", "s3", "gridfs", "swift"])
def test_process_killed_in_the_middle_of_a_write(
    backend: str, targets: Any, request: pytest.FixtureRequest
) -> None:
    target: Target = targets(backend, request)
    extra: dict[str, Any] = (
        {"MULTIPART_THRESHOLD": 5 * MiB, "MULTIPART_CHUNKSIZE": 5 * MiB} if backend == "s3" else {}
    )
    with target.storage("killed", **extra) as storage:
        storage.write("kept.txt", b"written before the kill")
        config = storage_config(
            storage.name, {**target.settings, **extra, "BACKEND": target.backend}
        )
        job = json.dumps(
            {"storage": storage.name, "config": config, "name": "big.bin", "size": 24 * MiB}
        )
        writer = subprocess.Popen(
            [*python_script("slow_writer.py"), job], stdout=subprocess.PIPE, text=True
        )
        try:
            assert writer.stdout is not None
            for line in writer.stdout:
                if int(line.split()[1]) >= 24 * MiB:
                    break
            deadline = time.monotonic() + 30  # what was written reaches the server
            while not target.leftovers(storage) and time.monotonic() < deadline:
                time.sleep(0.2)
            leftovers = target.leftovers(storage)
            assert leftovers, "the killed write left nothing to sweep: the test proves nothing"
        finally:
            os.kill(writer.pid, signal.SIGKILL)
            writer.wait(30)
        assert not storage.exists("big.bin")
        assert list(storage.list_files()) == ["kept.txt"]
        assert storage.sweep() == []  # younger than the default day: may be a running write
        swept = storage.sweep(0)
        assert len(swept) >= 1
        assert target.leftovers(storage) == []
        assert storage.sweep(0) == []
        storage.write("big.bin", b"a new write of the same name")
        assert storage.read("big.bin") == b"a new write of the same name"
        lost = _lost(storage, "kept.txt", b"written before the kill")
    _record(f"faults/{backend}/process-killed", written_before_kill=24 * MiB,
            leftovers=len(leftovers), swept=len(swept), bytes_lost=lost)  # fmt: skip
    assert lost == 0


def test_swift_full_device_is_a_clear_error_and_leaves_nothing(
    request: pytest.FixtureRequest,
) -> None:
    """The fault Swift has a 96 MiB device: a 160 MiB upload fills it. The object server answers
    507 Insufficient Storage, and the proxy (with nowhere else to put the data) 503."""
    from .conftest import _FAULT_EXTRA, _FAULT_TARGETS

    request.getfixturevalue("fault_swift")
    target = _FAULT_TARGETS["swift"]()
    target.settings.update(_FAULT_EXTRA["swift"])
    with target.storage("full") as storage:
        source = _StallingSource(total=160 * MiB, stall_after=0)
        source.resume.set()  # no stall: the device fills up on its own
        log = SERVICES_DIR / "fault-swift" / "log" / "object.log"
        full_before = log.read_text().count('" 507 ')
        with pytest.raises(BackendError, match=r"devices are full|out of space") as error:
            storage.save(cast(IO[bytes], source), "huge.bin")  # a raw stream: save only reads it
        assert log.read_text().count('" 507 ') > full_before, "the device did not fill up"
        assert storage.name in str(error.value)
        time.sleep(3)  # the proxy skips a node for a while after its error (set to 2 s here)
        assert not storage.exists("huge.bin")
        swept = storage.sweep(0)
        assert target.leftovers(storage) == []
        storage.write("small.txt", b"room again")
        assert storage.read("small.txt") == b"room again"
    _record("faults/swift/device-full", message=str(error.value)[:160], swept=len(swept))

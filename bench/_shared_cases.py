"""The cases every backend runs the same way: serving through waitress, listing with details and
metadata of a large file. A bench module describes its backend once (:class:`Backend`) and calls
:func:`register`; the raw side does the same work with the raw client, on the same files.

- ``serve-4k``, ``serve-1m``: requests/s of 16 keep-alive clients GETting one 4 KB or 1 MB file
  from waitress, flask-fs's view returning ``storage.serve(name)`` against a plain view streaming
  one raw GET (``send_file`` locally); ``serve-304``: the same with the ETag of a first response
  in ``If-None-Match`` (the raw view passes it to the store).
- ``list-details``: ``list(storage.list_files(prefix, details=True))`` against the raw paginated
  listing with sizes and dates, each side timed after an untimed listing of one folder (its
  connection and lazy set-up, such as the system's MIME table, are paid before, as in a
  running application).
- ``metadata``: ``storage.metadata()`` on both sides; raw is a 1 KB file, flask-fs a large one
  (1 GB), so the ratio is the 1 KB time over the large file's time.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from _harness import Case, MiB, Work, case, enter, setup, source
from _http import get, hammer, serve_in_thread
from flask import Flask
from flask.typing import ResponseReturnValue

from flask_fs import Storage

KiB = 1024
SERVED = {"serve-4k": ("serve/4k.bin", 4 * KiB), "serve-1m": ("serve/1m.bin", MiB)}
SERVED["serve-304"] = SERVED["serve-4k"]
SMALL_META = ("meta/1k.bin", KiB)
#: Each metadata run calls it for at least this long (and at least 3 times).
METADATA_SECONDS = 1.0

SIZES = {
    "serve-4k": (2_000, 200, "req/s"),
    "serve-1m": (300, 40, "req/s"),
    "serve-304": (2_000, 200, "req/s"),
    "list-details": (10_000, 500, "op/s"),
    "metadata": (1024 * MiB, 32 * MiB, "op/s"),
}
NOTES = {
    "metadata": "raw is metadata() of a 1 KB file, flask-fs of the 1 GB one (32 MB if --quick): "
    "1/ratio is the large file's time over the small one's (target: at most 2x, ratio >= 0.50)",
}
if "details" not in inspect.signature(Storage.list_files).parameters:
    NOTES["list-details"] = "needs Storage.list_files(details=True), which this tree lacks"


class RawSide(Protocol):
    """The raw client's side of the shared cases, on the files flask-fs's storage holds."""

    def view(self, name: str) -> ResponseReturnValue:
        """Serve ``name`` with one GET to the store, passing on ``If-None-Match``."""

    def put(self, name: str, data: bytes) -> None:
        """Write ``name`` (setting up the listing)."""

    def list_details(self, prefix: str) -> Iterable[tuple[str, int, object]]:
        """``(name, size, modified)`` of every file under ``prefix``, as the listing gives it."""


@dataclass(frozen=True)
class Backend:
    """How a bench module reaches its backend: ``app(workdir)`` is a Flask app (no context
    pushed) whose configuration binds ``storage``; ``raw(workdir)`` the raw side on the same
    files."""

    storage: Storage
    app: Callable[[Path], Flask]
    raw: Callable[[Path], RawSide]


def register(backend: Backend) -> dict[str, tuple[int, int, str]]:
    """Register the shared cases for ``backend``; return their sizes for :func:`_harness.main`."""
    for served in SERVED:
        setup(served)(_write_once(backend, *SERVED[served]))
        case(served, "raw")(_serve_case(served, "raw", lambda w: _raw_app(backend.raw(w))))
        case(served, "fs")(_serve_case(served, "fs", lambda w: _fs_app(backend, w)))

    setup("list-details")(lambda workdir, count: _fill_listing(backend.raw(workdir), count))

    @case("list-details", "raw")
    def list_raw(workdir: Path, count: int) -> Work:
        raw = backend.raw(workdir)
        _counted(raw.list_details(_first_listed(count)), count // 100)  # untimed: warms up
        return lambda: _counted(raw.list_details(_listing(count)), count)

    @case("list-details", "fs")
    def list_fs(workdir: Path, count: int) -> Work:
        enter(backend.app(workdir))
        details: dict[str, Any] = {"details": True}  # typed Any: type-checks before it exists
        listed = backend.storage.list_files
        _counted(listed(_first_listed(count), **details), count // 100)  # untimed, as raw
        return lambda: _counted(listed(_listing(count), **details), count)

    @setup("metadata")
    def metadata_setup(workdir: Path, size: int) -> None:
        _write_once(backend, *SMALL_META)(workdir, KiB)
        _write_once(backend, _big(size), size)(workdir, size)

    @case("metadata", "raw")
    def metadata_raw(workdir: Path, size: int) -> Work:
        enter(backend.app(workdir))
        return _metadata_calls(backend.storage, *SMALL_META)

    @case("metadata", "fs")
    def metadata_fs(workdir: Path, size: int) -> Work:
        enter(backend.app(workdir))
        return _metadata_calls(backend.storage, _big(size), size)

    return SIZES


def _write_once(backend: Backend, name: str, size: int) -> Callable[[Path, int], None]:
    """A setup writing ``name`` through flask-fs (its checksum recorded) unless it is there."""

    def write(workdir: Path, _: int) -> None:
        storage = backend.storage
        with backend.app(workdir).app_context():
            if not storage.exists(name) or storage.metadata(name)["size"] != size:
                storage.save(source(size), name, overwrite=True)

    return write


def _raw_app(raw: RawSide) -> Flask:
    app = Flask(__name__)
    app.add_url_rule("/bench/<path:name>", "raw", raw.view)
    return app


def _fs_app(backend: Backend, workdir: Path) -> Flask:
    app = backend.app(workdir)

    def view(name: str) -> ResponseReturnValue:
        return backend.storage.serve(name)

    app.add_url_rule("/bench/<path:name>", "fs", view)
    return app


def _serve_case(served: str, impl: str, make_app: Callable[[Path], Flask]) -> Case:
    name, size = SERVED[served]
    path = f"/bench/{name}"

    def prepare(workdir: Path, requests: int) -> Work:
        port = serve_in_thread(make_app(workdir))
        status, etag, length = get(port, path)  # untimed: connects, checks the file
        assert (status, length) == (200, size), (impl, status, length)
        headers, status, length = {}, 200, size
        if served == "serve-304":
            assert etag, f"{impl} gave no ETag"
            headers, status, length = {"If-None-Match": etag}, 304, 0

        def work() -> float:
            hammer(port, path, requests, headers=headers, status=status, length=length)
            return requests

        return work

    return prepare


def _listing(count: int) -> str:
    return f"listing-{count}/"


def _listed_name(count: int, i: int) -> str:
    return f"{_listing(count)}{i % 100:02d}/{i:06d}.bin"


def _first_listed(count: int) -> str:
    """The listing's first folder, a hundredth of it (what a side's untimed first call asks)."""
    return _listed_name(count, 0).rsplit("/", 1)[0] + "/"


def _fill_listing(raw: RawSide, count: int) -> None:
    """Write the files to list with the raw client, 16 at a time, unless they are there."""
    if sum(1 for _ in raw.list_details(_listing(count))) == count:
        return
    names = [_listed_name(count, i) for i in range(count)]
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda name: raw.put(name, b"x"), names))


def _counted(listing: Iterable[object], count: int) -> float:
    listed = len(list(listing))
    assert listed == count, (listed, count)
    return count


def _big(size: int) -> str:
    return f"meta/big-{size}.bin"


def _metadata_calls(storage: Storage, name: str, size: int) -> Work:
    assert storage.metadata(name)["size"] == size  # untimed: connects, checks the file

    def work() -> float:
        calls, start = 0, time.perf_counter()
        while calls < 3 or time.perf_counter() - start < METADATA_SECONDS:
            storage.metadata(name)
            calls += 1
        return calls

    return work

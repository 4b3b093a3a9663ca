"""Hostile names through every operation that takes a name, on every backend.

Each name goes through write, exists, read, open, metadata, url + an HTTP GET of it (a name
with a leading slash: its URL is that of the name without it, as ``url`` ignores it), copy, move,
delete, and save with ``filename=``, ``prefix=`` and a client-supplied ``FileStorage`` name. The
outcome of each operation (``ok`` or the error's class) is the name's *verdict*: it must be the
same on every backend, no exception may be anything but an ``FSError``, and nothing may appear in
the server (or folder) outside the storage.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from typing import Any

import pytest
from flask import current_app
from werkzeug.datastructures import FileStorage

from flask_fs import Storage
from flask_fs.errors import FSError

from .conftest import BACKENDS, FIGURES, SOAK, Target, hostile_names

COUNT = 50_000 if SOAK else 10_000
#: Parent folders before what they hold: SeaweedFS refuses to create "a" while a folder "a"
#: remains from a deleted "a/b" (see docs/backends.md), which the order avoids.
NAMES = sorted(hostile_names(COUNT), key=lambda name: name.count("/"))

#: Each backend's verdicts, compared once all have run.
VERDICTS: dict[str, dict[str, tuple[str, ...]]] = {}


class Crash(Exception):
    """An exception that is not an FSError escaped an operation."""


def _outcome(operation: Callable[[], Any], expect: Any = None) -> str:
    try:
        result = operation()
    except FSError as exc:
        return type(exc).__name__
    except Exception as exc:  # the defect this suite looks for
        raise Crash(f"{type(exc).__name__}: {exc}") from exc
    if expect is not None and result != expect:
        return f"WRONG:{result!r:.60}"
    return "ok"


def _get(storage: Storage, name: str) -> bytes | str | bool:
    if name.startswith("/"):  # url("/a") is url("a"), as in 0.4.0: the URL of another name
        return storage.url(name) == storage.url(name[1:])
    url = storage.url(name)
    assert url is not None
    response = current_app.test_client().get(url)
    if response.status_code != 200:
        return f"HTTP {response.status_code}"
    return response.get_data()


def _saved(storage: Storage, save: Callable[[], str]) -> str:
    """Save, read the file back under the returned name, and delete it."""
    stored = save()
    assert storage.read(stored).startswith(b"content of ")
    storage.delete(stored)
    return "ok"


def _read_open(storage: Storage, name: str) -> bytes:
    with storage.open(name, "rb") as f:
        return bytes(f.read())


def _save_upload_to(storage: Storage, upload: FileStorage, folder: str) -> str:
    """Save into the storage's ``upload_to`` folder (a callable, as applications declare it)."""
    storage.upload_to = lambda: folder
    try:
        return storage.save(upload)
    finally:
        storage.upload_to = None


def verdict(storage: Storage, folders: Storage, uploads: Storage, name: str) -> tuple[str, ...]:
    content = f"content of {name!r}".encode("utf-8", "surrogatepass")
    copy, moved = name + "-copy", name + "-moved"

    def upload(filename: str) -> FileStorage:
        return FileStorage(io.BytesIO(content), filename)

    # in storages of their own, where they make no folder that a later name would meet
    def in_prefix() -> str:
        return _saved(folders, lambda: folders.save(upload("a.txt"), prefix=name))

    def in_upload_to() -> str:
        return _saved(folders, lambda: _save_upload_to(folders, upload("b.txt"), name))

    def as_client_name() -> str:
        return _saved(uploads, lambda: uploads.save(upload(name)))

    steps: list[tuple[Callable[[], Any], Any]] = [
        (lambda: storage.write(name, content), None),
        (lambda: storage.exists(name), True),
        (lambda: storage.read(name), content),
        (lambda: _read_open(storage, name), content),
        (lambda: storage.metadata(name)["size"], len(content)),
        (lambda: _get(storage, name), True if name.startswith("/") else content),
        (lambda: storage.copy(name, copy), None),
        (lambda: storage.move(copy, moved), None),
        (lambda: storage.read(moved), content),
        (lambda: storage.delete(moved), None),
        (lambda: storage.delete(name), None),
        (lambda: storage.exists(name), False),
        (lambda: list(storage.list_files(name)), None),
        (lambda: _saved(storage, lambda: storage.save(io.BytesIO(content), name)), None),
        (in_prefix, None),
        (in_upload_to, None),
        (as_client_name, None),
    ]
    return tuple(_outcome(operation, expect) for operation, expect in steps)


@pytest.mark.parametrize("backend", BACKENDS)
def test_hostile_names_get_the_same_verdict_and_never_escape(
    backend: str, targets: Callable[..., Target], request: pytest.FixtureRequest
) -> None:
    target = targets(backend, request)
    started = time.perf_counter()
    verdicts: dict[str, tuple[str, ...]] = {}
    crashes: list[str] = []
    with target.storages("names", "folders", "uploads") as (storage, folders, uploads):
        before = target.outside(storage, folders, uploads)
        for name in NAMES:
            try:
                verdicts[name] = verdict(storage, folders, uploads, name)
            except Crash as exc:
                crashes.append(f"{name!r}: {exc}")
        left = [*storage.list_files(), *folders.list_files(), *uploads.list_files()]
        after = target.outside(storage, folders, uploads)
    VERDICTS[backend] = verdicts
    accepted = sum(v[0] == "ok" for v in verdicts.values())
    FIGURES[f"names/{backend}"] = {
        "names": len(NAMES),
        "accepted": accepted,
        "refused": len(NAMES) - accepted,
        "operations": sum(len(v) for v in verdicts.values()),
        "non-FSError exceptions": len(crashes),
        "seconds": round(time.perf_counter() - started, 1),
    }
    assert not crashes, crashes[:20]
    assert after == before, "something was written outside the storage"
    assert left == [], "files were left behind"
    wrong = {n: v for n, v in verdicts.items() if any(o.startswith("WRONG") for o in v)}
    assert not wrong, list(wrong.items())[:20]
    assert 0.05 < accepted / len(NAMES) < 0.6  # the mix tests both outcomes


def test_every_backend_gave_the_same_verdicts() -> None:
    missing = [b for b in BACKENDS if b not in VERDICTS]
    assert not missing, f"no verdicts from {missing}: their name tests failed or did not run"
    reference = VERDICTS["local"]
    for backend in BACKENDS[1:]:
        differ = {
            n: (reference[n], VERDICTS[backend][n])
            for n in NAMES
            if VERDICTS[backend][n] != reference[n]
        }
        assert not differ, (backend, list(differ.items())[:10])

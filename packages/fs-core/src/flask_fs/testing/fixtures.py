"""Fixtures of the conformance suite: a Flask app with fresh storages of the backend under test."""

from __future__ import annotations

import contextlib
import functools
import tempfile
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from flask_fs import ALL, Storage, init_app
from flask_fs.config import config_key_prefix
from flask_fs.errors import FSError


def _unique_name(label: str) -> str:
    return f"{label}{uuid.uuid4().hex[:10]}"


def storage_config(storage_name: str, settings: Mapping[str, Any]) -> dict[str, Any]:
    """``settings`` as a storage's config keys: ``{"ROOT": x}`` → ``{"FILES_FS_ROOT": x}``.

    In string values, ``{name}`` is replaced by the storage's name.
    """
    prefix = config_key_prefix(storage_name)
    return {
        prefix + key.upper(): value.replace("{name}", storage_name)
        if isinstance(value, str)
        else value
        for key, value in settings.items()
    }


@contextlib.contextmanager
def temporary_storages(
    backend: str,
    settings: Mapping[str, Any],
    labels: Sequence[str],
    app_config: Mapping[str, Any] | None = None,
    **extra: Any,
) -> Iterator[list[Storage]]:
    """Fresh storages of ``backend`` (one per label) in one throwaway application, inside a
    request context.

    ``settings`` and ``extra`` are their storage-level settings (see :func:`storage_config`);
    ``app_config`` is more application configuration (e.g. ``{"FS_SERVE": True}``).
    Whatever files they hold afterwards are deleted, as far as the backend still answers.
    """
    app = Flask("flask_fs_temporary", instance_path=tempfile.mkdtemp(prefix="flask-fs-"))
    app.config.update(SERVER_NAME="fs.test", **(app_config or {}))
    storages = [Storage(_unique_name(label), ALL) for label in labels]
    for storage in storages:
        app.config.update(storage_config(storage.name, {**settings, **extra, "BACKEND": backend}))
    init_app(app, *storages)
    with app.test_request_context():
        try:
            yield storages
        finally:
            for storage in storages:
                with contextlib.suppress(FSError):  # e.g. a test of an unreachable server
                    _empty(storage)


@contextlib.contextmanager
def temporary_storage(
    backend: str,
    settings: Mapping[str, Any],
    label: str = "test",
    app_config: Mapping[str, Any] | None = None,
    **extra: Any,
) -> Iterator[Storage]:
    """A fresh storage of ``backend`` in a throwaway application: :func:`temporary_storages`
    with a single label."""
    with temporary_storages(backend, settings, [label], app_config, **extra) as (storage,):
        yield storage


#: ``count(storage, action)``: how many requests ``storage`` makes while ``action()`` runs.
RequestCounter = Callable[[Storage, Callable[[], Any]], int]

#: The backend operations that concern one file: listing with details should call none.
PER_FILE_OPERATIONS = (
    "exists",
    "metadata",
    "open_read",
    "read",
    "content_sha256",
    "head",
    "head_object",
)


def count_file_operations(storage: Storage, action: Callable[[], Any]) -> int:
    """How many of :data:`PER_FILE_OPERATIONS` ``storage``'s backend runs during ``action``:
    the default ``fs_request_counter`` (a backend's tests may count real requests instead)."""
    backend = storage.backend
    calls = 0

    def counted(method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            nonlocal calls
            calls += 1
            return method(*args, **kwargs)

        return wrapper

    names = [n for n in PER_FILE_OPERATIONS if n not in vars(backend) and hasattr(backend, n)]
    for name in names:
        setattr(backend, name, counted(getattr(backend, name)))
    try:
        action()
    finally:
        for name in names:
            delattr(backend, name)
    return calls


class ConformanceFixtures:
    """The fixtures of every conformance test; a backend's test class overrides the first three."""

    @pytest.fixture
    def fs_backend(self) -> str:
        """The entry-point name of the backend under test."""
        pytest.fail("the conformance suite needs an `fs_backend` fixture naming the backend")

    @pytest.fixture
    def fs_settings(self) -> dict[str, Any]:
        """Storage-level settings (upper-case keys, as ``{NAME}_FS_{KEY}`` takes them).

        In string values, ``{name}`` is replaced by each storage's name, e.g.
        ``{"BUCKET": "tests", "PREFIX": "{name}/"}`` gives every storage its own prefix.
        """
        return {}

    @pytest.fixture
    def fs_large_file_size(self) -> int:
        """Size in bytes of the file the streaming tests write and read."""
        return 64 * 1024 * 1024

    @pytest.fixture
    def fs_request_counter(self) -> RequestCounter:
        """``count(storage, action)``: how many requests ``storage`` makes of its store while
        ``action()`` runs. The default counts calls of the backend's per-file operations
        (``metadata``, ``exists``, ``open_read``...); a backend's tests may count the requests
        its client sends (an S3 client's events, a Swift client's request log)."""
        return count_file_operations

    @pytest.fixture
    def fs_app(self, fs_backend: str, fs_settings: dict[str, Any], tmp_path: Path) -> Flask:
        app = Flask("flask_fs_conformance", instance_path=str(tmp_path / "instance"))
        app.config.update(TESTING=True, FS_SERVE=True, SERVER_NAME="fs.test")
        app.config["FS_ROOT"] = str(tmp_path / "fs")
        app.config["FS_BACKEND"] = fs_backend
        app.extensions["fs_conformance_settings"] = dict(fs_settings)
        return app

    def _make_storage(self, app: Flask, label: str, **kwargs: Any) -> Storage:
        storage = Storage(_unique_name(label), ALL, **kwargs)
        app.config.update(storage_config(storage.name, app.extensions["fs_conformance_settings"]))
        init_app(app, storage)
        return storage

    @pytest.fixture
    def storage(self, fs_app: Flask) -> Iterator[Storage]:
        """A fresh, empty storage of the backend under test, inside a request context."""
        storage = self._make_storage(fs_app, "conformance")
        with fs_app.test_request_context():
            yield storage
            _empty(storage)

    @pytest.fixture
    def other_storage(self, fs_app: Flask, storage: Storage) -> Iterator[Storage]:
        """A second storage of the same backend, for copies between storages."""
        other = self._make_storage(fs_app, "other")
        yield other
        _empty(other)

    @pytest.fixture
    def overwriting_storage(self, fs_app: Flask, storage: Storage) -> Iterator[Storage]:
        """A storage declared with ``overwrite=True``."""
        other = self._make_storage(fs_app, "overwriting", overwrite=True)
        yield other
        _empty(other)


def _empty(storage: Storage) -> None:
    """Delete what a test left, so object stores do not accumulate test data."""
    for name in list(storage.list_files()):
        with contextlib.suppress(FSError):
            storage.delete(name)

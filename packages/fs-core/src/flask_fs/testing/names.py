"""Hostile names: refused with :class:`InvalidFilename` by every operation, on every backend."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flask_fs import Storage
from flask_fs.errors import FSError, InvalidFilename

from .fixtures import ConformanceFixtures

#: Names no backend may accept: traversal, absolute, empty segments, control characters...
HOSTILE_NAMES = [
    "",
    ".",
    "..",
    "../escape.txt",
    "a/../../escape.txt",
    "a/..",
    "/etc/passwd",
    "//server/share",
    "a\\b.txt",
    "..\\..\\escape.txt",
    "C:\\Windows\\win.ini",
    "a/./b.txt",
    "a//b.txt",
    "folder/",
    "nul\x00byte.txt",
    "line\nbreak.txt",
    "carriage\rreturn",
    "tab\there",
    "escape\x1b[31m",
    "del\x7f",
    "\udc80surrogate.txt",
    "x" * 256,
    "a/" + "b" * 256,
    "/".join(["abcdefgh"] * 120),
]


def _operations(storage: Storage, other: Storage) -> dict[str, Callable[[str], Any]]:
    return {
        "write": lambda n: storage.write(n, b"x"),
        "read": storage.read,
        "open-r": lambda n: storage.open(n, "rb"),
        "open-w": lambda n: storage.open(n, "wb"),
        "exists": storage.exists,
        "delete": storage.delete,
        "metadata": storage.metadata,
        "save": lambda n: storage.save(io.BytesIO(b"x"), n),
        "save-prefix": lambda n: storage.save(io.BytesIO(b"x"), "f.txt", prefix=n + "/x"),
        "copy-from": lambda n: storage.copy(n, "target.txt"),
        "copy-to": lambda n: storage.copy("source.txt", n),
        "move-to": lambda n: storage.move("source.txt", n, to=other),
        "url": lambda n: storage.url("/" + n),  # one leading slash is dropped, as in 0.4.0
        "serve": storage.serve,
        "path": storage.path,
    }


class HostileNameTests(ConformanceFixtures):
    #: How many generated names the property test tries.
    hostile_examples = 300

    @pytest.mark.parametrize("name", HOSTILE_NAMES, ids=repr)
    def test_hostile_name_is_refused_everywhere(
        self, storage: Storage, other_storage: Storage, name: str
    ) -> None:
        storage.write("source.txt", b"source")
        for label, operation in _operations(storage, other_storage).items():
            with pytest.raises(InvalidFilename):
                operation(name)
                pytest.fail(f"{label} accepted {name!r}")
        assert list(storage.list_files()) == ["source.txt"]
        assert list(other_storage.list_files()) == []

    def test_hostile_names_are_404_when_served(self, fs_app: Flask, storage: Storage) -> None:
        client = fs_app.test_client()
        for path in ("../x", "..%2Fx", "a%5Cb", "a%00b", "%2E%2E/%2E%2E/etc/passwd"):
            assert client.get(f"/{storage.name}/{path}").status_code == 404

    def test_generated_names_succeed_or_raise_fs_error(self, storage: Storage) -> None:
        written: set[str] = set()
        alphabet = st.sampled_from(["a", "é", "文", ".", "/", "\\", "\x00", "\n", " ", "-", ":"])
        names = st.one_of(st.text(alphabet, max_size=12), st.text(max_size=12))

        @settings(
            max_examples=self.hostile_examples,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture],
        )
        @given(name=names)
        def check(name: str) -> None:
            try:
                storage.write(name, b"x", overwrite=True)
            except FSError:
                return
            written.add(name)
            assert storage.read(name) == b"x"

        check()
        listed = set(storage.list_files())
        assert listed <= written

"""The Swift backend is built from the settings the manual lists, and nothing more (issue 14)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from swiftclient.client import Connection

from flask_fs.backends.swift import SwiftBackend
from flask_fs.errors import ConfigurationError


def test_built_from_the_manuals_three_settings(swift_server: Any, swift: Connection) -> None:
    name = f"manual{uuid.uuid4().hex[:12]}"
    settings = {"authurl": swift_server.authurl, "user": swift_server.user, "key": swift_server.key}
    backend = SwiftBackend(name, settings)
    assert backend.container == name  # named after the storage, as in 0.4.0
    try:
        backend.write("a.txt", "content")
        assert backend.read("a.txt") == b"content"
        backend.write("a.txt", b"replaced")  # the backend level replaces by default
        assert backend.read("a.txt") == b"replaced"
        backend.delete("a.txt")
    finally:
        swift.delete_container(name)


def test_authurl_is_required_and_types_are_checked() -> None:
    with pytest.raises(ConfigurationError, match="'files': AUTHURL is required"):
        SwiftBackend("files", {"user": "u", "key": "k"})
    with pytest.raises(ConfigurationError, match="SEGMENT_SIZE must be an int, not 'four'"):
        SwiftBackend("files", {"authurl": "http://127.0.0.1:1/auth", "segment_size": "four"})

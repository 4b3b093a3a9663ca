"""The local backend is built from the setting the manual lists (issue 14, item 1)."""

from __future__ import annotations

from pathlib import Path

from flask_fs.backends.local import LocalBackend


def test_built_from_root_alone(tmp_path: Path) -> None:
    backend = LocalBackend("files", {"root": tmp_path})
    backend.write("a.txt", "content")
    backend.write("a.txt", b"replaced")  # the backend level replaces by default
    assert (tmp_path / "a.txt").read_bytes() == b"replaced"
    assert backend.config["root"] == str(tmp_path)

"""Atomic local writes (the local backend's and the CLI's): create-only is decided at publish."""

from __future__ import annotations

from pathlib import Path

import pytest

from flask_fs.atomic import atomic_file
from flask_fs.names import TEMPORARY_PREFIX


def test_a_file_appears_only_when_the_block_ends(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "a.bin"
    with atomic_file(str(target), overwrite=False) as out:
        out.write(b"data")
        assert not target.exists()
    assert target.read_bytes() == b"data"
    assert [p.name for p in target.parent.iterdir()] == ["a.bin"]


def test_create_only_refuses_a_file_that_appeared_during_the_write(tmp_path: Path) -> None:
    target = tmp_path / "a.bin"
    with pytest.raises(FileExistsError), atomic_file(str(target), overwrite=False) as out:
        out.write(b"mine")
        target.write_bytes(b"theirs")  # another writer wins the name meanwhile
    assert target.read_bytes() == b"theirs"
    assert list(tmp_path.glob(f"{TEMPORARY_PREFIX}*")) == []


def test_overwrite_replaces(tmp_path: Path) -> None:
    target = tmp_path / "a.bin"
    target.write_bytes(b"old")
    with atomic_file(str(target), overwrite=True) as out:
        out.write(b"new")
    assert target.read_bytes() == b"new"


def test_a_failed_block_publishes_nothing(tmp_path: Path) -> None:
    target = tmp_path / "a.bin"
    with pytest.raises(RuntimeError), atomic_file(str(target), overwrite=True) as out:
        out.write(b"half")
        raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []

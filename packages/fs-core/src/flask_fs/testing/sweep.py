"""``sweep``: finished and discarded writes leave nothing behind, and files are never swept."""

from __future__ import annotations

import pytest

from flask_fs import Storage
from flask_fs.errors import FSError

from .fixtures import ConformanceFixtures

MiB = 1024 * 1024


class SweepTests(ConformanceFixtures):
    def test_sweep_of_a_clean_storage_finds_nothing_and_keeps_files(self, storage: Storage) -> None:
        storage.write("small.txt", b"small")
        with storage.open("folder/streamed.bin", "wb") as f:
            f.write(b"x" * (2 * MiB))
        assert storage.sweep(0) == []
        assert storage.read("small.txt") == b"small"
        assert storage.metadata("folder/streamed.bin")["size"] == 2 * MiB

    def test_a_discarded_write_leaves_nothing_to_sweep(self, storage: Storage) -> None:
        with pytest.raises(RuntimeError), storage.open("gone.bin", "wb") as f:
            for _ in range(3):
                f.write(b"y" * MiB)
            raise RuntimeError("the client went away")
        assert not storage.exists("gone.bin")
        assert storage.sweep(0, remove=False) == []

    def test_sweep_refuses_a_negative_age(self, storage: Storage) -> None:
        with pytest.raises(FSError):
            storage.sweep(-1)

"""``copy`` and ``move``, within a storage and between two storages."""

from __future__ import annotations

import pytest

from flask_fs import Storage
from flask_fs.errors import FileExists, FileNotFound, InvalidFilename

from .fixtures import ConformanceFixtures


class CopyMoveTests(ConformanceFixtures):
    def test_copy_within_a_storage(self, storage: Storage) -> None:
        storage.write("a.txt", b"content")
        assert storage.copy("a.txt", "sub/b.txt") == "sub/b.txt"
        assert storage.read("a.txt") == storage.read("sub/b.txt") == b"content"

    def test_move_within_a_storage(self, storage: Storage) -> None:
        storage.write("dir/a.txt", b"content")
        assert storage.move("dir/a.txt", "b.txt") == "b.txt"
        assert storage.read("b.txt") == b"content"
        assert not storage.exists("dir/a.txt")
        assert list(storage.list_files()) == ["b.txt"]

    def test_copy_and_move_to_another_storage(
        self, storage: Storage, other_storage: Storage
    ) -> None:
        storage.write("a.txt", b"content")
        storage.copy("a.txt", to=other_storage)
        assert other_storage.read("a.txt") == b"content"
        storage.move("a.txt", "moved/a.txt", to=other_storage)
        assert other_storage.read("moved/a.txt") == b"content"
        assert not storage.exists("a.txt")

    def test_copy_does_not_overwrite_by_default(self, storage: Storage) -> None:
        storage.write("a.txt", b"source")
        storage.write("b.txt", b"target")
        with pytest.raises(FileExists):
            storage.copy("a.txt", "b.txt")
        with pytest.raises(FileExists):
            storage.move("a.txt", "b.txt")
        assert storage.read("b.txt") == b"target"
        assert storage.read("a.txt") == b"source"
        storage.move("a.txt", "b.txt", overwrite=True)
        assert storage.read("b.txt") == b"source"
        assert not storage.exists("a.txt")

    def test_copy_of_a_missing_file(self, storage: Storage, other_storage: Storage) -> None:
        with pytest.raises(FileNotFound):
            storage.copy("missing.txt", "b.txt")
        with pytest.raises(FileNotFound):
            storage.move("missing.txt", to=other_storage)
        assert list(other_storage.list_files()) == []

    def test_copy_onto_itself_is_refused(self, storage: Storage) -> None:
        storage.write("a.txt", b"x")
        with pytest.raises(InvalidFilename):
            storage.copy("a.txt", "a.txt")

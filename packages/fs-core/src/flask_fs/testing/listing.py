"""``list_files``: every file, storage-relative names, lazily."""

from __future__ import annotations

import types

from flask_fs import Storage

from .fixtures import ConformanceFixtures

NAMES = ["a.txt", "b/c.txt", "b/d/e.txt", "bb.txt", "ünï/文件.txt"]


class ListingTests(ConformanceFixtures):
    def test_empty_storage_lists_nothing(self, storage: Storage) -> None:
        assert list(storage.list_files()) == []

    def test_lists_every_file_with_relative_names(self, storage: Storage) -> None:
        for name in NAMES:
            storage.write(name, b"x")
        assert sorted(storage.list_files()) == sorted(NAMES)

    def test_list_is_a_generator(self, storage: Storage) -> None:
        storage.write("a.txt", b"x")
        assert isinstance(storage.list_files(), types.GeneratorType)

    def test_list_with_a_prefix(self, storage: Storage) -> None:
        for name in NAMES:
            storage.write(name, b"x")
        assert sorted(storage.list_files("b/")) == ["b/c.txt", "b/d/e.txt"]
        assert sorted(storage.list_files("b")) == ["b/c.txt", "b/d/e.txt", "bb.txt"]
        assert sorted(storage.list_files("b/d")) == ["b/d/e.txt"]
        assert list(storage.list_files("zzz")) == []

    def test_a_prefix_is_taken_literally(self, storage: Storage) -> None:
        """Characters a pattern or a query language gives a meaning to match themselves."""
        names = ["a.b/1", "axb/2", "a+b/3", "aab/4", "(x)/5", "x/6", "[y]/7", "y/8", "a*/9"]
        for name in names:
            storage.write(name, b"x")
        for prefix in ("a.b", "a+b", "(x)", "[y]", "a*"):
            expected = [name for name in names if name.startswith(prefix)]
            assert sorted(storage.list_files(prefix)) == expected, prefix
            listed = [info.name for info in storage.list_files(prefix, details=True)]
            assert sorted(listed) == expected, prefix

    def test_deleted_files_are_not_listed(self, storage: Storage) -> None:
        for name in NAMES:
            storage.write(name, b"x")
        storage.delete("b/d/e.txt")
        assert sorted(storage.list_files()) == sorted(set(NAMES) - {"b/d/e.txt"})

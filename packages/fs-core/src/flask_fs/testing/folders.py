"""A name is a file or a folder, never both: the same verdicts on every backend.

Run on a storage with ``CHECK_FOLDERS`` on, as the backends that check by default have it and
as object stores have it when it is set (see :mod:`flask_fs.folders`).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator

import pytest
from flask import Flask

from flask_fs import Storage
from flask_fs.config import config_key_prefix
from flask_fs.errors import FileExists, NameConflict

from .fixtures import ConformanceFixtures, _empty

#: Every way of writing a name: (label, write(storage, name)).
WRITERS: list[tuple[str, Callable[[Storage, str], object]]] = [
    ("write", lambda s, name: s.write(name, b"new", overwrite=True)),
    ("save", lambda s, name: s.save(io.BytesIO(b"new"), name, overwrite=True)),
    ("open", lambda s, name: s.open(name, "wb").close()),
    ("copy", lambda s, name: s.copy("source.txt", name, overwrite=True)),
    ("move", lambda s, name: s.move("source.txt", name, overwrite=True)),
]


class FolderTests(ConformanceFixtures):
    @pytest.fixture
    def folder_storage(self, fs_app: Flask) -> Iterator[Storage]:
        """A fresh storage that checks folders (``CHECK_FOLDERS = True``)."""
        storage = self._make_storage(fs_app, "folders")
        fs_app.config[config_key_prefix(storage.name) + "CHECK_FOLDERS"] = True
        storage.configure(fs_app)
        with fs_app.test_request_context():
            storage.write("source.txt", b"source")
            yield storage
            _empty(storage)

    @pytest.mark.parametrize(("how", "writer"), WRITERS, ids=[label for label, _ in WRITERS])
    def test_a_file_inside_a_file_is_refused(
        self, folder_storage: Storage, how: str, writer: Callable[[Storage, str], object]
    ) -> None:
        folder_storage.write("f", b"file")
        folder_storage.write("a/f.txt", b"file")
        for name in ("f/x", "f/x/y", "a/f.txt/x"):
            with pytest.raises(NameConflict, match="is a file"):
                writer(folder_storage, name)
            assert not folder_storage.exists(name)
        assert folder_storage.read("f") == b"file"
        assert folder_storage.read("source.txt") == b"source"  # a refused move keeps its source

    @pytest.mark.parametrize(("how", "writer"), WRITERS, ids=[label for label, _ in WRITERS])
    def test_a_file_named_as_a_folder_is_refused(
        self, folder_storage: Storage, how: str, writer: Callable[[Storage, str], object]
    ) -> None:
        folder_storage.write("d/e/x", b"inside")
        for name in ("d", "d/e"):
            with pytest.raises(NameConflict, match="is a folder"):
                writer(folder_storage, name)
            assert not folder_storage.exists(name)
        assert list(folder_storage.list_files("d")) == ["d/e/x"]
        assert folder_storage.read("source.txt") == b"source"

    def test_names_that_only_start_alike_are_not_conflicts(self, folder_storage: Storage) -> None:
        folder_storage.write("f", b"file")
        folder_storage.write("d/x", b"inside")
        for name in ("f.txt", "fx/y", "f-x/y", "d.txt", "dx", "d-x", "e/d"):
            folder_storage.write(name, name.encode())
        assert folder_storage.read("d/x") == b"inside"
        assert folder_storage.read("f") == b"file"

    def test_a_folder_emptied_can_become_a_file(self, folder_storage: Storage) -> None:
        folder_storage.write("d/x", b"inside")
        folder_storage.delete("d/x")
        # Replacing: SeaweedFS refuses a create-only write where an emptied folder remains.
        folder_storage.write("d", b"now a file", overwrite=True)
        folder_storage.delete("d")
        folder_storage.write("d/x", b"a folder again")
        assert folder_storage.read("d/x") == b"a folder again"

    def test_the_verdict_is_a_file_exists(self, folder_storage: Storage) -> None:
        """Callers that catch FileExists (a name that is taken) catch these too."""
        folder_storage.write("f", b"file")
        with pytest.raises(FileExists):
            folder_storage.write("f/x", b"x")

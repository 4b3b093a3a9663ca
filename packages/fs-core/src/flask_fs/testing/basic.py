"""Reading, writing, opening, testing and deleting files."""

from __future__ import annotations

import io

import pytest
from werkzeug.datastructures import FileStorage

from flask_fs import Storage
from flask_fs.errors import FileNotFound, OperationNotSupported

from .fixtures import ConformanceFixtures


class BasicOperationTests(ConformanceFixtures):
    def test_write_then_read_bytes(self, storage: Storage) -> None:
        storage.write("file.bin", b"\x00\x01binary\xff")
        assert storage.read("file.bin") == b"\x00\x01binary\xff"

    def test_write_str_is_stored_as_utf8(self, storage: Storage) -> None:
        storage.write("file.txt", "héllo wörld")
        assert storage.read("file.txt") == "héllo wörld".encode()

    def test_write_from_a_file_object(self, storage: Storage) -> None:
        storage.write("file.txt", io.BytesIO(b"from a stream"))
        assert storage.read("file.txt") == b"from a stream"

    def test_write_returns_the_name(self, storage: Storage) -> None:
        assert storage.write("dir/file.txt", b"x") == "dir/file.txt"

    def test_empty_file(self, storage: Storage) -> None:
        storage.write("empty.txt", b"")
        assert storage.exists("empty.txt")
        assert storage.read("empty.txt") == b""

    def test_nested_and_unicode_names(self, storage: Storage) -> None:
        storage.write("a/b/c/ünïcødé 文件.txt", b"deep")
        assert storage.read("a/b/c/ünïcødé 文件.txt") == b"deep"

    def test_read_missing_raises_file_not_found(self, storage: Storage) -> None:
        with pytest.raises(FileNotFound):
            storage.read("missing.txt")

    def test_exists_and_in(self, storage: Storage) -> None:
        assert not storage.exists("file.txt")
        assert "file.txt" not in storage
        storage.write("file.txt", b"x")
        assert storage.exists("file.txt")
        assert "file.txt" in storage

    def test_a_folder_is_not_a_file(self, storage: Storage) -> None:
        storage.write("folder/file.txt", b"x")
        assert not storage.exists("folder")
        with pytest.raises(FileNotFound):
            storage.read("folder")

    def test_delete(self, storage: Storage) -> None:
        storage.write("file.txt", b"x")
        storage.delete("file.txt")
        assert not storage.exists("file.txt")
        with pytest.raises(FileNotFound):
            storage.read("file.txt")

    def test_delete_missing_raises_file_not_found(self, storage: Storage) -> None:
        with pytest.raises(FileNotFound):
            storage.delete("missing.txt")

    def test_delete_is_exact_not_a_prefix(self, storage: Storage) -> None:
        for name in ("a", "ab", "a.txt", "abc/d"):
            storage.write(name, name.encode())
        storage.delete("a")
        assert sorted(storage.list_files()) == ["a.txt", "ab", "abc/d"]

    def test_deleting_a_folder_name_deletes_nothing(self, storage: Storage) -> None:
        storage.write("folder/file.txt", b"x")
        with pytest.raises(FileNotFound):
            storage.delete("folder")
        assert list(storage.list_files()) == ["folder/file.txt"]

    def test_open_read_binary_and_text(self, storage: Storage) -> None:
        storage.write("file.txt", "line 1\nlïne 2\n")
        with storage.open("file.txt", "rb") as f:
            assert f.read() == "line 1\nlïne 2\n".encode()
        with storage.open("file.txt") as f:
            assert f.readlines() == ["line 1\n", "lïne 2\n"]

    def test_open_read_streams_in_chunks(self, storage: Storage) -> None:
        content = bytes(range(256)) * 4096
        storage.write("file.bin", content)
        chunks = []
        with storage.open("file.bin", "rb") as f:
            while chunk := f.read(65536):
                chunks.append(chunk)
        assert b"".join(chunks) == content
        assert len(chunks) == len(content) // 65536

    def test_open_missing_raises_file_not_found(self, storage: Storage) -> None:
        with pytest.raises(FileNotFound):
            storage.open("missing.txt", "rb")

    def test_open_write_binary_and_text(self, storage: Storage) -> None:
        with storage.open("file.bin", "wb") as f:
            f.write(b"part 1, ")
            f.write(b"part 2")
        with storage.open("file.txt", "w") as f:
            f.write("tëxt")
        assert storage.read("file.bin") == b"part 1, part 2"
        assert storage.read("file.txt") == "tëxt".encode()

    def test_open_write_is_invisible_until_closed(self, storage: Storage) -> None:
        f = storage.open("file.txt", "wb")
        f.write(b"half")
        assert not storage.exists("file.txt")
        f.close()
        assert storage.read("file.txt") == b"half"

    def test_error_inside_open_write_leaves_nothing(self, storage: Storage) -> None:
        for mode in ("wb", "w"):
            with pytest.raises(RuntimeError), storage.open("file.txt", mode) as f:
                f.write(b"partial" if mode == "wb" else "partial")
                raise RuntimeError("boom")
            assert not storage.exists("file.txt")
        assert list(storage.list_files()) == []

    def test_unsupported_mode_is_refused(self, storage: Storage) -> None:
        with pytest.raises(OperationNotSupported, match="mode"):
            storage.open("file.txt", "a")

    def test_save_a_file_object_needs_a_name(self, storage: Storage) -> None:
        assert storage.save(io.BytesIO(b"data"), "saved.txt") == "saved.txt"
        assert storage.read("saved.txt") == b"data"

    def test_save_a_filestorage_uses_the_cleaned_client_name(self, storage: Storage) -> None:
        upload = FileStorage(io.BytesIO(b"data"), "../../Été photo.JPG")
        name = storage.save(upload)
        assert name == "Été_photo.jpg"
        assert storage.read(name) == b"data"

    def test_save_with_prefix(self, storage: Storage) -> None:
        assert storage.save(io.BytesIO(b"1"), "a.txt", prefix="some/folder") == "some/folder/a.txt"
        assert storage.save(io.BytesIO(b"2"), "b.txt", prefix=lambda: "dyn") == "dyn/b.txt"
        assert storage.read("some/folder/a.txt") == b"1"
        assert storage.read("dyn/b.txt") == b"2"

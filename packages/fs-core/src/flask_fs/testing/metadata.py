"""``metadata``: size, a checksum that matches the content, content type, modification time."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone

import pytest

from flask_fs import Storage
from flask_fs.errors import FileNotFound

from .fixtures import ConformanceFixtures


class MetadataTests(ConformanceFixtures):
    def test_metadata_of_a_file(self, storage: Storage) -> None:
        content = b"some content\n" * 1000
        before = datetime.now(timezone.utc) - timedelta(seconds=5)
        storage.write("dir/file.txt", content)
        meta = storage.metadata("dir/file.txt")
        assert meta["size"] == len(content)
        assert meta["mime"] == "text/plain"
        assert meta["modified"].tzinfo is not None
        assert before <= meta["modified"] <= datetime.now(timezone.utc) + timedelta(seconds=5)
        algo, _, digest = meta["checksum"].partition(":")
        assert digest == hashlib.new(algo, content).hexdigest()

    def test_checksum_follows_the_content(self, overwriting_storage: Storage) -> None:
        overwriting_storage.write("file.bin", b"one")
        first = overwriting_storage.metadata("file.bin")["checksum"]
        overwriting_storage.write("file.bin", b"two")
        assert overwriting_storage.metadata("file.bin")["checksum"] != first

    def test_unknown_type_is_octet_stream(self, storage: Storage) -> None:
        storage.write("file.unknownext", b"x")
        assert storage.metadata("file.unknownext")["mime"] == "application/octet-stream"

    def test_metadata_of_a_missing_file(self, storage: Storage) -> None:
        with pytest.raises(FileNotFound):
            storage.metadata("missing.txt")

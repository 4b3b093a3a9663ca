"""Large files stream through every operation in bounded memory."""

from __future__ import annotations

import hashlib
import io
import tracemalloc
from collections.abc import Callable

import pytest
from werkzeug.datastructures import FileStorage

from flask_fs import Storage

from .fixtures import ConformanceFixtures

MiB = 1024 * 1024


class GeneratedFile(io.RawIOBase):
    """``size`` bytes of varied content, produced on demand: never held in memory at once."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.position = 0
        self.block = hashlib.sha256(b"flask-fs").digest() * (MiB // 32)
        self.digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer)
        count = min(len(view), self.size - self.position)
        done = 0
        while done < count:
            offset = (self.position + done) % MiB
            index = (self.position + done) // MiB
            take = min(count - done, MiB - offset)
            chunk = (index.to_bytes(8, "big") + self.block[8:])[offset : offset + take]
            view[done : done + take] = chunk
            self.digest.update(chunk)
            done += take
        self.position += count
        return count


def _peak_memory(action: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        action()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


class StreamingTests(ConformanceFixtures):
    @pytest.fixture
    def fs_memory_limit(self) -> int:
        """Most memory (bytes, as traced by tracemalloc) one large transfer may allocate."""
        return 32 * MiB

    def _read_digest(self, storage: Storage, name: str) -> str:
        digest = hashlib.sha256()
        with storage.open(name, "rb") as f:
            while chunk := f.read(MiB):
                digest.update(chunk)
        return digest.hexdigest()

    def test_large_save_and_read_stream(
        self, storage: Storage, fs_large_file_size: int, fs_memory_limit: int
    ) -> None:
        source = GeneratedFile(fs_large_file_size)
        upload = FileStorage(io.BufferedReader(source, MiB), "large.bin")
        peak_save = _peak_memory(lambda: storage.save(upload))
        assert storage.metadata("large.bin")["size"] == fs_large_file_size

        result: list[str] = []
        peak_read = _peak_memory(lambda: result.append(self._read_digest(storage, "large.bin")))
        assert result == [source.digest.hexdigest()]
        assert peak_save < fs_memory_limit, f"save allocated {peak_save / MiB:.1f} MiB"
        assert peak_read < fs_memory_limit, f"read allocated {peak_read / MiB:.1f} MiB"

    def test_large_open_write_stream(
        self, storage: Storage, fs_large_file_size: int, fs_memory_limit: int
    ) -> None:
        source = GeneratedFile(fs_large_file_size)

        def write() -> None:
            with storage.open("large.bin", "wb") as f:
                while chunk := source.read(MiB):
                    f.write(chunk)

        peak = _peak_memory(write)
        assert self._read_digest(storage, "large.bin") == source.digest.hexdigest()
        assert peak < fs_memory_limit, f"open('wb') allocated {peak / MiB:.1f} MiB"

"""``overwrite``: refused by default, enforced atomically, one winner among racing writers."""

from __future__ import annotations

import io
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from flask import Flask

from flask_fs import Storage
from flask_fs.errors import FileExists

from .fixtures import ConformanceFixtures

RACERS = 32


class OverwriteTests(ConformanceFixtures):
    @pytest.fixture
    def fs_atomic_create(self) -> bool:
        """Whether racing creators in one process have exactly one winner (False: a backend
        whose server checks ``If-None-Match`` before the data arrives and that does not claim
        names itself with :func:`flask_fs.transfers.claim_name`)."""
        return True

    def test_write_refuses_an_existing_file_and_keeps_it(self, storage: Storage) -> None:
        storage.write("file.txt", b"original")
        with pytest.raises(FileExists):
            storage.write("file.txt", b"replacement")
        assert storage.read("file.txt") == b"original"

    def test_save_refuses_an_existing_file_and_keeps_it(self, storage: Storage) -> None:
        storage.write("file.txt", b"original")
        with pytest.raises(FileExists):
            storage.save(io.BytesIO(b"replacement"), "file.txt")
        assert storage.read("file.txt") == b"original"

    def test_open_create_only_refuses_an_existing_file_and_keeps_it(self, storage: Storage) -> None:
        storage.write("file.txt", b"original")
        for mode in ("xb", "x"):
            with pytest.raises(FileExists), storage.open("file.txt", mode) as f:
                f.write(b"replacement" if mode == "xb" else "replacement")
        with pytest.raises(FileExists), storage.open("file.txt", "wb", overwrite=False) as f:
            f.write(b"replacement")
        assert storage.read("file.txt") == b"original"

    def test_open_create_only_is_checked_when_publishing(self, storage: Storage) -> None:
        with storage.open("file.txt", "xb") as f:
            f.write(b"first")
            storage.write("file.txt", b"meanwhile", overwrite=True)
            f.write(b" and second")
            with pytest.raises(FileExists):
                f.close()
        assert storage.read("file.txt") == b"meanwhile"

    def test_open_write_replaces_as_python_does(self, storage: Storage) -> None:
        storage.write("file.txt", b"original")
        with storage.open("file.txt", "wb") as f:  # whatever the storage's overwrite rule
            f.write(b"binary")
        assert storage.read("file.txt") == b"binary"
        with storage.open("file.txt", "w") as f:
            f.write("tëxt")
        assert storage.read("file.txt") == "tëxt".encode()
        with storage.open("new.txt", "xb") as f:
            f.write(b"created")
        assert storage.read("new.txt") == b"created"

    def test_overwrite_true_replaces(self, storage: Storage) -> None:
        storage.write("file.txt", b"original")
        storage.write("file.txt", b"replacement", overwrite=True)
        assert storage.read("file.txt") == b"replacement"
        storage.save(io.BytesIO(b"saved"), "file.txt", overwrite=True)
        assert storage.read("file.txt") == b"saved"
        with storage.open("file.txt", "wb", overwrite=True) as f:
            f.write(b"opened")
        assert storage.read("file.txt") == b"opened"

    def test_storage_default_and_explicit_override(self, overwriting_storage: Storage) -> None:
        overwriting_storage.write("file.txt", b"one")
        overwriting_storage.write("file.txt", b"two")
        assert overwriting_storage.read("file.txt") == b"two"
        with pytest.raises(FileExists):
            overwriting_storage.write("file.txt", b"three", overwrite=False)
        assert overwriting_storage.read("file.txt") == b"two"

    def test_racing_writers_have_exactly_one_winner(
        self, fs_app: Flask, storage: Storage, fs_atomic_create: bool
    ) -> None:
        barrier = threading.Barrier(RACERS)
        payloads = [f"writer {i} ".encode() * 1000 for i in range(RACERS)]

        def write(i: int) -> bool:
            with fs_app.test_request_context():
                barrier.wait()
                try:
                    storage.write("race.txt", payloads[i])
                except FileExists:
                    return False
                return True

        with ThreadPoolExecutor(RACERS) as pool:
            results = list(pool.map(write, range(RACERS)))
        winners = [payloads[i] for i, won in enumerate(results) if won]
        if fs_atomic_create:
            assert len(winners) == 1
        else:  # several may succeed, but the file is one writer's whole content
            assert winners
        assert storage.read("race.txt") in winners
        assert list(storage.list_files()) == ["race.txt"]

    def test_readers_see_old_or_new_content_never_a_mix(
        self, fs_app: Flask, overwriting_storage: Storage
    ) -> None:
        versions = [bytes([65 + i]) * 200_000 for i in range(8)]
        overwriting_storage.write("file.bin", versions[0])
        seen: list[bytes] = []
        done = threading.Event()

        def read_until_done() -> None:
            with fs_app.test_request_context():
                while not done.is_set():
                    seen.append(overwriting_storage.read("file.bin"))

        reader = threading.Thread(target=read_until_done)
        reader.start()
        try:
            for version in versions[1:]:
                overwriting_storage.write("file.bin", version)
        finally:
            done.set()
            reader.join()
        assert seen
        assert all(content in versions for content in seen)

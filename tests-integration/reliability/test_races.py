"""Racing writers and readers, on every backend.

- 32 create-only writers of one name, in one process: exactly one wins, and its content is the
  file's; small writes and streamed (multipart, segmented, chunked) ones alike; nothing is left.
- 4 processes x 8 threads: the same across processes, where the server alone decides.
- Readers while the file is replaced over and over: each read is the old or the new content,
  whole, or a clear FSError; never a mix.
"""

from __future__ import annotations

import io
import json
import subprocess
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from flask_fs import Storage
from flask_fs.errors import FileExists, FSError
from flask_fs.testing import storage_config

from .conftest import FIGURES, SOAK, MiB, Target, in_app, python_script

RACERS = 32
ROUNDS = 3 if SOAK else 1
#: Streamed writes this large use multipart uploads (S3), segments (Swift), chunk batches.
LARGE = 6 * MiB
#: Settings that make LARGE a multipart upload on S3 (the smallest part S3 allows is 5 MiB).
EXTRA: dict[str, dict[str, Any]] = {
    "s3": {"MULTIPART_THRESHOLD": 5 * MiB, "MULTIPART_CHUNKSIZE": 5 * MiB}
}


def _race(storage: Storage, name: str, size: int, streamed: bool) -> list[bytes]:
    barrier = threading.Barrier(RACERS)
    payloads = [(f"writer {i:02d} ".encode()) * (size // 10) for i in range(RACERS)]

    def write(i: int) -> bool:
        barrier.wait()
        try:
            if streamed:
                storage.save(io.BytesIO(payloads[i]), name)
            else:
                storage.write(name, payloads[i])
        except FileExists:
            return False
        return True

    with ThreadPoolExecutor(RACERS) as pool:
        won = list(pool.map(in_app(write), range(RACERS)))
    return [payloads[i] for i, w in enumerate(won) if w]


@pytest.mark.parametrize("streamed", [False, True], ids=["write", "streamed"])
def test_racing_creators_in_a_process_have_exactly_one_winner(
    target: Target, streamed: bool
) -> None:
    races = 0
    with target.storage("race", **EXTRA.get(target.name, {})) as storage:
        for round_ in range(ROUNDS):
            name = f"race-{round_}.bin"
            winners = _race(storage, name, LARGE if streamed else 4096, streamed)
            races += 1
            assert len(winners) == 1, f"{len(winners)} winners"
            assert storage.read(name) == winners[0]
        assert target.leftovers(storage) == []
    key = f"races/{target.name}/{'streamed' if streamed else 'write'}"
    FIGURES[key] = {"races": races, "racers": RACERS, "winners per race": 1}


def test_racing_creators_in_4_processes(target: Target) -> None:
    """Across processes only the server can decide: one winner wherever it checks atomically.

    Swift checks ``If-None-Match`` when a PUT starts, so there several writers may succeed
    (documented); the file is then still one writer's whole content.
    """
    with target.storage("xrace") as storage:
        config = storage_config(storage.name, {**target.settings, "BACKEND": target.backend})
        start_at = time.time() + 3  # every process imported and configured by then
        jobs = [
            json.dumps({"storage": storage.name, "config": config, "name": "race.bin",
                        "size": 4096, "writer": w, "start_at": start_at})
            for w in range(4)
        ]  # fmt: skip
        processes = [
            subprocess.Popen([*python_script("race_writer.py"), job], stdout=subprocess.PIPE)
            for job in jobs
        ]
        winners = [w for p in processes for w in json.loads(p.communicate(timeout=120)[0])]
        assert all(p.returncode == 0 for p in processes)
        content = storage.read("race.bin")
        writer = content.split(b" ", 1)[0].decode()
        FIGURES[f"races/{target.name}/4-processes"] = {"racers": 32, "winners": len(winners)}
        assert writer in winners
        assert content == (writer.encode() + b" ") * (4096 // (len(writer) + 1))
        if target.name != "swift":
            assert len(winners) == 1, winners


def test_readers_during_replacements_see_old_or_new_never_a_mix(target: Target) -> None:
    size = LARGE
    versions = [bytes([65 + i]) * size for i in range(2)]  # b"AAA...", b"BBB..."
    replacements = 20 if SOAK else 8
    outcomes: dict[str, int] = {"old or new": 0, "FSError": 0}
    mixed: list[str] = []
    done = threading.Event()
    with target.storage("readers", **EXTRA.get(target.name, {})) as storage:
        storage.write("file.bin", versions[0])

        def replace() -> None:
            try:
                for i in range(replacements):
                    storage.save(io.BytesIO(versions[(i + 1) % 2]), "file.bin", overwrite=True)
            finally:
                done.set()

        def read(get: Callable[[], bytes]) -> None:
            while not done.is_set():
                try:
                    data = get()
                except FSError:
                    outcomes["FSError"] += 1
                    continue
                if data in versions:
                    outcomes["old or new"] += 1
                else:
                    mixed.append(f"{len(data)} bytes, starting {data[:4]!r}, ending {data[-4:]!r}")

        def streamed() -> bytes:
            with storage.open("file.bin", "rb") as f:
                chunks = []
                while chunk := f.read(256 * 1024):
                    chunks.append(chunk)
                    time.sleep(0.001)  # a slow client keeps the stream open across a replace
            return b"".join(chunks)

        with ThreadPoolExecutor(5) as pool:
            futures = [pool.submit(in_app(replace))]
            futures += [pool.submit(in_app(read), lambda: storage.read("file.bin")) for _ in "ab"]
            futures += [pool.submit(in_app(read), streamed) for _ in "ab"]
            for future in futures:
                future.result(timeout=600)
        assert storage.read("file.bin") == versions[replacements % 2]
        assert target.leftovers(storage) == []
    FIGURES[f"races/{target.name}/readers"] = {"replacements": replacements, **outcomes,
                                              "mixed": len(mixed)}  # fmt: skip
    assert not mixed, mixed[:5]
    assert outcomes["old or new"] > 0

"""One process of a cross-process race: THREADS create-only writers of one name.

Usage: race_writer.py JSON, with ``storage`` (name), ``config`` (the app's config keys), ``name``,
``size``, ``writer`` (this process's number) and ``start_at`` (a time.time() to start at).
Prints a JSON list of the writer ids that won.
"""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from job import job_storage  # this script's folder is on sys.path

from flask_fs.errors import FileExists

THREADS = 8


def main() -> None:
    job, app, storage = job_storage("race_writer")
    barrier = threading.Barrier(THREADS)

    def write(thread: int) -> str | None:
        writer = f"{job['writer']}.{thread}"
        payload = (writer.encode() + b" ") * (job["size"] // (len(writer) + 1))
        with app.app_context():
            barrier.wait()
            try:
                storage.write(job["name"], payload)
            except FileExists:
                return None
        return writer

    time.sleep(max(0.0, job["start_at"] - time.time()))
    with ThreadPoolExecutor(THREADS) as pool:
        winners = [w for w in pool.map(write, range(THREADS)) if w is not None]
    print(json.dumps(winners))


if __name__ == "__main__":
    main()

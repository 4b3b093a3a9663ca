"""A process that starts writing a large file and never finishes (the test kills it).

Usage: slow_writer.py JSON, with ``storage`` (name), ``config`` (the app's config keys), ``name``
and ``size`` (bytes to write before waiting). Prints ``written N`` after each MiB.
"""

from __future__ import annotations

import time

from job import job_storage  # this script's folder is on sys.path

MiB = 1024 * 1024


def main() -> None:
    job, app, storage = job_storage("slow_writer")
    with app.app_context(), storage.open(job["name"], "wb") as f:
        for written in range(1, job["size"] // MiB + 1):
            f.write(bytes([written % 256]) * MiB)
            f.flush()
            print(f"written {written * MiB}", flush=True)
        while True:  # the upload is half done: wait to be killed
            time.sleep(1)


if __name__ == "__main__":
    main()

"""A load generator: CLIENTS keep-alive HTTP clients GET random files for SECONDS.

Usage: load_client.py JSON with ``port``, ``paths`` ({path: size}), ``clients``, ``seconds``.
Runs ``processes`` processes of threads (one client each); prints JSON with the number of
requests, errors (wrong status or size, connection errors), requests/s and latency percentiles.
"""

from __future__ import annotations

import http.client
import json
import multiprocessing
import random
import sys
import threading
import time
from typing import Any

PROCESSES = 4


def _client(job: dict[str, Any], stop_at: float, latencies: list[float], errors: list[str]) -> None:
    paths = list(job["paths"].items())
    rng = random.Random()
    conn = http.client.HTTPConnection("127.0.0.1", job["port"], timeout=30)
    while time.monotonic() < stop_at:
        path, size = rng.choice(paths)
        started = time.perf_counter()
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException) as exc:
            errors.append(f"{path}: {type(exc).__name__}: {exc}")
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", job["port"], timeout=30)
            continue
        latencies.append(time.perf_counter() - started)
        if response.status != 200 or len(body) != size:
            errors.append(f"{path}: HTTP {response.status}, {len(body)} of {size} bytes")
    conn.close()


def _process(job: dict[str, Any], stop_at: float, results: Any) -> None:
    latencies: list[float] = []
    errors: list[str] = []
    threads = [
        threading.Thread(target=_client, args=(job, stop_at, latencies, errors))
        for _ in range(job["clients"] // PROCESSES)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results.put((latencies, errors))


def main() -> None:
    job = json.loads(sys.argv[1])
    results: Any = multiprocessing.Queue()
    stop_at = time.monotonic() + job["seconds"]
    started = time.monotonic()
    processes = [
        multiprocessing.Process(target=_process, args=(job, stop_at, results))
        for _ in range(PROCESSES)
    ]
    for process in processes:
        process.start()
    latencies: list[float] = []
    errors: list[str] = []
    for _ in processes:
        got_latencies, got_errors = results.get()
        latencies += got_latencies
        errors += got_errors
    for process in processes:
        process.join()
    elapsed = time.monotonic() - started
    latencies.sort()

    def percentile(p: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000, 1)

    print(json.dumps({
        "requests": len(latencies) + len(errors),
        "errors": len(errors),
        "error_samples": errors[:5],
        "requests_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": percentile(0.5) if latencies else None,
        "p99_ms": percentile(0.99) if latencies else None,
    }))  # fmt: skip


if __name__ == "__main__":
    main()

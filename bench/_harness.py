"""Shared benchmark plumbing: run each case in a fresh process, report time and peak RSS growth.

A case is a function ``(workdir, size)`` registered under ``(case, impl)`` that prepares the work
(untimed) and returns a thunk doing it and returning the work units. The harness times the thunk
in a child process (so ``ru_maxrss`` starts from a clean baseline), repeats it,
keeps the median, and prints flask-fs against the raw client side by side.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask_fs import Storage

MiB = 1024 * 1024
BLOCK = os.urandom(MiB)
SERVICES = Path(__file__).resolve().parent.parent / "services"
# services/fs_services.py describes the test servers once, for the tests and the benchmarks.
sys.path.insert(0, str(SERVICES))

from fs_services import Service  # noqa: E402

Work = Callable[[], float]
Case = Callable[[Path, int], Work]
CASES: dict[tuple[str, str], Case] = {}
SETUPS: dict[str, Callable[[Path, int], None]] = {}


def case(name: str, impl: str) -> Callable[[Case], Case]:
    """Register a benchmark case: ``impl`` is ``"raw"`` or ``"fs"``."""

    def register(func: Case) -> Case:
        CASES[(name, impl)] = func
        return func

    return register


def setup(name: str) -> Callable[[Callable[[Path, int], None]], Callable[[Path, int], None]]:
    """Register untimed preparation shared by both implementations of a case."""

    def register(func: Callable[[Path, int], None]) -> Callable[[Path, int], None]:
        SETUPS[name] = func
        return func

    return register


class Source(io.RawIOBase):
    """``size`` bytes produced on demand, as an upload stream (never all in memory)."""

    def __init__(self, size: int) -> None:
        self.left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = min(len(buffer), self.left, MiB)
        buffer[:count] = BLOCK[:count]
        self.left -= count
        return count


def source(size: int) -> io.BufferedReader:
    """A buffered :class:`Source`, what an upload stream usually is."""
    return io.BufferedReader(Source(size), MiB)


def read_storage(storage: Storage, name: str, size: int) -> Work:
    """flask-fs's side of a "read" case: stream ``name`` in 1 MiB chunks (MB read)."""

    def work() -> float:
        total = 0
        with storage.open(name, "rb") as f:
            while chunk := f.read(MiB):
                total += len(chunk)
        assert total == size
        return size / MiB

    return work


def write_read_small(storage: Storage, count: int, content: bytes, prefix: str = "") -> Work:
    """flask-fs's side of a "small" case: write ``count`` files, then read each (files)."""

    def work() -> float:
        for i in range(count):
            storage.write(f"{prefix}{i}.bin", content)
        for i in range(count):
            assert len(storage.read(f"{prefix}{i}.bin")) == len(content)
        return count

    return work


def ensure_service(service: Service, probe: Callable[[], object]) -> None:
    """Start a server from services/ unless ``probe()`` reaches one already."""
    try:
        probe()
    except Exception:  # anything means: no server there yet
        service.start()


def _max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_child(name: str, impl: str, workdir: Path, size: int) -> None:
    """In the child: run one case once and print its figures as JSON."""
    work = CASES[(name, impl)](workdir, size)
    baseline = _max_rss_mb()
    start = time.perf_counter()
    units = work()
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "units": units, "rss_mb": _max_rss_mb() - baseline}))


@dataclass
class Result:
    seconds: float
    units: float
    rss_mb: float


def _run_once(script: str, name: str, impl: str, workdir: Path, size: int) -> dict[str, float]:
    os.sync()  # start from clean page-cache state: the previous run's writes are not ours
    out = subprocess.run(
        [sys.executable, script, "--child", name, impl, str(workdir), str(size)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    figures: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return figures


def _measure(script: str, name: str, workdir: Path, size: int, repeat: int) -> dict[str, Result]:
    """Run both implementations ``repeat`` times, alternating which goes first."""
    runs: dict[str, list[dict[str, float]]] = {"raw": [], "fs": []}
    for i in range(repeat):
        for impl in ("raw", "fs") if i % 2 == 0 else ("fs", "raw"):
            runs[impl].append(_run_once(script, name, impl, workdir, size))
    return {
        impl: Result(
            seconds=statistics.median(r["seconds"] for r in impl_runs),
            units=impl_runs[0]["units"],
            rss_mb=max(r["rss_mb"] for r in impl_runs),
        )
        for impl, impl_runs in runs.items()
    }


def main(script: str, sizes: dict[str, tuple[int, int, str]]) -> None:
    """Parse arguments; as parent, run every case for both implementations and print a table.

    ``sizes`` maps a case to (full size, quick size, unit label): "MB/s" cases get bytes,
    "ops/s" cases get a count.
    """
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", nargs=4, metavar=("CASE", "IMPL", "DIR", "SIZE"))
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", nargs="*", help="run only these cases")
    parser.add_argument("--dir", help="where to work (default: the system's temporary folder)")
    args = parser.parse_args()
    if args.child:
        name, impl, workdir, size = args.child
        run_child(name, impl, Path(workdir), int(size))
        return

    repeat = 1 if args.quick else args.repeat
    header = f"{'case':<18}{'raw':>14}{'flask-fs':>14}{'ratio':>8}{'raw RSS':>10}{'fs RSS':>10}"
    print(header)
    print("-" * len(header))
    for name, (full, quick, unit) in sizes.items():
        if args.only and name not in args.only:
            continue
        size = quick if args.quick else full
        with tempfile.TemporaryDirectory(prefix="flask-fs-bench-", dir=args.dir) as tmp:
            workdir = Path(tmp)
            if name in SETUPS:
                SETUPS[name](workdir, size)
            results = _measure(script, name, workdir, size, repeat)
        raw, fs = results["raw"], results["fs"]
        raw_rate, fs_rate = raw.units / raw.seconds, fs.units / fs.seconds
        print(
            f"{name:<18}{raw_rate:>9.0f} {unit:<4}{fs_rate:>9.0f} {unit:<4}"
            f"{fs_rate / raw_rate:>7.2f}x{raw.rss_mb:>7.1f} MB{fs.rss_mb:>7.1f} MB",
            flush=True,
        )

"""Shared benchmark plumbing: run each case in a fresh process, report time and peak RSS growth.

A case is a function ``(workdir, size)`` registered under ``(case, impl)`` that prepares the work
(untimed) and returns a thunk doing it and returning the work units. The harness times the thunk
in a child process (so ``ru_maxrss`` starts from a clean baseline), alternating raw and flask-fs
``--repeat`` times, and prints per case the median rate of each side, the median of the per-pair
ratios (fs/raw of the same repetition) with their min-max, flagged when wider than 10% of the
median, and each side's peak RSS growth (the largest over its runs).
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
    from flask import Flask

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
#: What the running child removes once its figures are out (untimed): a benchmark run of
#: gigabyte saves must not fill the servers' disks.
CLEANUPS: list[Callable[[], object]] = []


def afterwards(cleanup: Callable[[], object]) -> None:
    """Have the child call ``cleanup`` once the case is timed (what it wrote, removed)."""
    CLEANUPS.append(cleanup)


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


def enter(app: Flask) -> Flask:
    """Push an app context for the rest of the child process (a view runs in one)."""
    app.app_context().push()
    return app


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
    for cleanup in CLEANUPS:
        cleanup()


@dataclass(frozen=True)
class Pair:
    """One repetition of a case: both sides' figures (``seconds``, ``units``, ``rss_mb``)."""

    raw: dict[str, float]
    fs: dict[str, float]

    @property
    def ratio(self) -> float:
        """flask-fs's rate over raw's rate (higher is better)."""
        return _rate(self.fs) / _rate(self.raw)


def _rate(figures: dict[str, float]) -> float:
    return figures["units"] / figures["seconds"]


@dataclass(frozen=True)
class Summary:
    """A case's figures over its repetitions."""

    pairs: list[Pair]

    @property
    def ratios(self) -> list[float]:
        return [pair.ratio for pair in self.pairs]

    @property
    def ratio(self) -> float:
        """The median of the per-pair ratios."""
        return statistics.median(self.ratios)

    @property
    def spread(self) -> float:
        """(max - min) of the per-pair ratios, as a share of their median."""
        return (max(self.ratios) - min(self.ratios)) / self.ratio

    def runs(self, impl: str) -> list[dict[str, float]]:
        """One side's figures (``"raw"`` or ``"fs"``), one per repetition."""
        return [pair.raw if impl == "raw" else pair.fs for pair in self.pairs]

    def rate(self, impl: str) -> float:
        """The median rate of one side."""
        return statistics.median(_rate(run) for run in self.runs(impl))

    def rss_mb(self, impl: str) -> float:
        """The largest peak RSS growth of one side's runs."""
        return max(run["rss_mb"] for run in self.runs(impl))


class CaseFailed(Exception):
    """A run of a case failed: the last line its child process wrote to stderr."""


def _run_once(script: str, name: str, impl: str, workdir: Path, size: int) -> dict[str, float]:
    os.sync()  # start from clean page-cache state: the previous run's writes are not ours
    child = subprocess.run(
        [sys.executable, script, "--child", name, impl, str(workdir), str(size)],
        check=False,
        capture_output=True,
        text=True,
    )
    if child.returncode != 0:
        last = (child.stderr.strip().splitlines() or [f"exit status {child.returncode}"])[-1]
        raise CaseFailed(f"{impl}: {last}")
    figures: dict[str, float] = json.loads(child.stdout.strip().splitlines()[-1])
    return figures


def _measure(script: str, name: str, workdir: Path, size: int, repeat: int) -> Summary:
    """Run both implementations ``repeat`` times, each in a fresh process, alternating which
    goes first; each repetition gives one fs/raw ratio."""
    pairs = []
    for i in range(repeat):
        order = ("raw", "fs") if i % 2 == 0 else ("fs", "raw")
        runs = {impl: _run_once(script, name, impl, workdir, size) for impl in order}
        pairs.append(Pair(raw=runs["raw"], fs=runs["fs"]))
    return Summary(pairs)


def _run_case(script: str, name: str, workdir: Path, size: int, repeat: int) -> Summary:
    try:
        if name in SETUPS:
            SETUPS[name](workdir, size)
    except Exception as exc:  # a failed setup fails its case, the others still run
        raise CaseFailed(f"setup: {exc!r}") from exc
    return _measure(script, name, workdir, size, repeat)


def _ratio_text(ratio: float) -> str:
    return f"{ratio:.2f}" if ratio >= 0.1 else f"1/{1 / ratio:.0f}"


def _rate_text(rate: float) -> str:
    return f"{rate:>8.0f}" if rate >= 100 else f"{rate:>8.2f}"


#: A spread of the per-pair ratios wider than this share of their median is flagged.
UNSTEADY = 0.10
REPEAT, QUICK_REPEAT = 5, 2


def main(
    script: str, sizes: dict[str, tuple[int, int, str]], notes: dict[str, str] | None = None
) -> None:
    """Parse arguments; as parent, run every case for both implementations and print a table.

    ``sizes`` maps a case to (full size, quick size, unit label): "MB/s" cases get bytes,
    "ops/s" cases get a count. ``notes`` are printed under the table for the cases that ran.
    """
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", nargs=4, metavar=("CASE", "IMPL", "DIR", "SIZE"))
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    parser.add_argument(
        "--repeat", type=int, help=f"pairs of runs per case ({REPEAT}; {QUICK_REPEAT} if --quick)"
    )
    parser.add_argument("--only", nargs="*", help="run only these cases")
    parser.add_argument("--dir", help="where to work (default: the system's temporary folder)")
    parser.add_argument("--json", metavar="FILE", help="write every run's figures to FILE")
    args = parser.parse_args()
    if args.child:
        name, impl, workdir, size = args.child
        run_child(name, impl, Path(workdir), int(size))
        return

    repeat = args.repeat or (QUICK_REPEAT if args.quick else REPEAT)
    print(f"{repeat} pairs of runs per case{' (quick mode)' if args.quick else ''}")
    header = (
        f"{'case':<14}{'raw':>13}{'flask-fs':>14}{'ratio':>8}{'min-max':>14} "
        f"{'raw RSS':>10}{'fs RSS':>10}"
    )
    print(header)
    print("-" * len(header))
    cases: dict[str, object] = {}
    unsteady = False
    failed: list[str] = []
    for name, (full, quick, unit) in sizes.items():
        if args.only and name not in args.only:
            continue
        size = quick if args.quick else full
        with tempfile.TemporaryDirectory(prefix="flask-fs-bench-", dir=args.dir) as tmp:
            workdir = Path(tmp)
            try:
                summary = _run_case(script, name, workdir, size, repeat)
            except CaseFailed as exc:
                print(f"{name:<14}failed, {exc}", flush=True)
                failed.append(name)
                continue
        flag = "!" if summary.spread > UNSTEADY else " "
        unsteady = unsteady or flag == "!"
        spread = f"{_ratio_text(min(summary.ratios))}-{_ratio_text(max(summary.ratios))}"
        print(
            f"{name:<14}{_rate_text(summary.rate('raw'))} {unit:<5}"
            f"{_rate_text(summary.rate('fs'))} {unit:<5}"
            f"{_ratio_text(summary.ratio):>7}x {spread:>13}{flag}{summary.rss_mb('raw'):>7.1f} MB"
            f"{summary.rss_mb('fs'):>7.1f} MB",
            flush=True,
        )
        cases[name] = {
            "size": size,
            "unit": unit,
            "ratio": summary.ratio,
            "pairs": [
                {"raw": pair.raw, "fs": pair.fs, "ratio": pair.ratio} for pair in summary.pairs
            ],
        }
    if unsteady:
        print(f"! the ratios' min-max spread is over {UNSTEADY:.0%} of their median: not steady")
    for name, note in (notes or {}).items():
        if not args.only or name in args.only:
            print(f"{name}: {note}")
    if args.json:
        record = {"script": Path(script).name, "quick": args.quick, "cases": cases}
        Path(args.json).write_text(json.dumps(record, indent=2) + "\n")
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")

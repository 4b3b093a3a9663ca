"""Run one image operation on a file in a process of its own and print its peak memory.

Usage: peak_memory.py PAYLOAD [OPERATION]. OPERATION is ``render`` (the default: an
``ImageField``'s work, a 1024 main image and 512 and 128 thumbnails), ``optimize`` (a full decode
and re-encode) or ``thumbnail``. Prints JSON: ``outcome`` (``rendered`` or the error's class,
``CRASH:...`` for anything that is not an FSError) and ``peak_mb`` (``VmHWM``, this process's own
peak resident memory: ``ru_maxrss`` is inherited from the parent through exec).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from flask_fs.errors import FSError
from flask_fs.images import make_thumbnail, optimize, render


def peak_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def main() -> None:
    payload = Path(sys.argv[1]).read_bytes()
    operation = sys.argv[2] if len(sys.argv) > 2 else "render"
    try:
        if operation == "optimize":
            optimize(payload)
        elif operation == "thumbnail":
            make_thumbnail(payload, 128)
        else:
            render(payload, max_size=1024, thumbnails=[512, 128])
        outcome = "rendered"
    except FSError as exc:
        outcome = type(exc).__name__
    except Exception as exc:
        outcome = f"CRASH:{type(exc).__name__}: {exc}"
    print(json.dumps({"outcome": outcome, "peak_mb": round(peak_mb(), 1)}))


if __name__ == "__main__":
    main()

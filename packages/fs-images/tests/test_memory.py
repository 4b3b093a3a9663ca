"""The memory bound (FS_IMAGES_MAX_MEMORY): hostile images are refused before they are decoded,
and the largest images accepted by default are processed under 300 MB of peak memory. Each
operation runs in a process of its own (peak_memory.py), whose VmHWM is its own peak."""

from __future__ import annotations

import io
import json
import math
import struct
import subprocess
import sys
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from PIL import Image

from flask_fs.errors import ConfigurationError
from flask_fs.images import DEFAULT_MAX_MEMORY, DecompressionBomb, render, work_memory

from .conftest import make_image

#: What an image operation may take at its peak, the interpreter, Flask and Pillow included.
PEAK_MB = 300
SCRIPT = Path(__file__).with_name("peak_memory.py")
SIDE = 9400  # 88 M pixels: just under Pillow's own limit (Image.MAX_IMAGE_PIXELS)


def _chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def _png(side: int, color_type: int, rows: int, extra: bytes = b"") -> bytes:
    """A PNG claiming ``side`` x ``side`` pixels with only ``rows`` rows of (zero) data."""
    channels = {0: 1, 3: 1, 6: 4}[color_type]
    header = struct.pack(">IIBBBBB", side, side, 8, color_type, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * ((side * channels + 1) * rows), 9)
    return (
        b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + extra
        + _chunk(b"IDAT", pixels) + _chunk(b"IEND", b"")
    )  # fmt: skip


def palette_bomb(side: int = SIDE) -> bytes:
    """A palette PNG with transparency, every row present (86 KB for 9400x9400)."""
    palette = _chunk(b"PLTE", b"\x00\x00\x00\xff\xff\xff") + _chunk(b"tRNS", b"\x00")
    return _png(side, 3, side, palette)


def webp_bomb(side: int = SIDE) -> bytes:
    """A lossless WebP of one colour: its pixels cost no bits, so the size in its header is all
    that changes (38 bytes for 9400x9400)."""
    out = io.BytesIO()
    Image.new("RGB", (16, 16), "white").save(out, "WEBP", lossless=True)
    data = bytearray(out.getvalue())
    assert data[12:16] == b"VP8L"  # the lossless format...
    assert data[20] == 0x2F  # ...whose signature is followed by 14-bit width and height
    bits = int.from_bytes(data[21:25], "little") & ~0xFFFFFFF
    data[21:25] = (bits | (side - 1) | (side - 1) << 14).to_bytes(4, "little")
    return bytes(data)


def rows_bomb(side: int = SIDE) -> bytes:
    """An RGBA PNG with only 4 of its rows in the file (225 bytes for 9400x9400)."""
    return _png(side, 6, 4)


def _largest(make: Callable[[int], bytes], reencode: bool = False) -> bytes:
    """The largest square image of ``make`` that the default bound accepts."""
    sample = make(64)
    per_pixel = work_memory(Image.open(io.BytesIO(sample)), 0, reencode) / 64**2
    side = int(math.sqrt(DEFAULT_MAX_MEMORY / per_pixel))
    while True:
        data = make(side)
        if work_memory(Image.open(io.BytesIO(data)), len(data), reencode) <= DEFAULT_MAX_MEMORY:
            return data
        side = int(side * 0.99)


def _grey_palette(side: int) -> bytes:
    image = Image.linear_gradient("L").resize((side, side)).convert("P")
    out = io.BytesIO()
    image.save(out, "PNG", transparency=0)
    return out.getvalue()


def _peak(data: bytes, tmp_path: Path, operation: str = "render") -> dict[str, object]:
    payload = tmp_path / "payload"
    payload.write_bytes(data)
    done = subprocess.run(
        [sys.executable, str(SCRIPT), str(payload), operation],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"peak memory: {operation} {Image.open(io.BytesIO(data)).size}: {result}")
    return result


@pytest.mark.parametrize("make", [palette_bomb, webp_bomb, rows_bomb])
def test_a_bomb_under_pillows_limit_is_refused_before_decoding(
    make: Callable[[], bytes], tmp_path: Path
) -> None:
    data = make()
    assert len(data) < 100_000
    for operation in ("render", "optimize", "thumbnail"):
        result = _peak(data, tmp_path, operation)
        assert result["outcome"] == "DecompressionBomb"
        assert float(result["peak_mb"]) < 100  # type: ignore[arg-type]  # never decoded


@pytest.mark.parametrize(
    ("make", "operation"),
    [
        (_grey_palette, "render"),  # 1 byte decoded, 8 transparent working bytes per pixel
        (webp_bomb, "render"),  # libwebp's canvases
        (lambda side: make_image("JPEG", (side, side)), "optimize"),  # full decode, re-encoded
        (lambda side: make_image("PNG", (side, side), "RGBA"), "thumbnail"),
    ],
    ids=["palette-png", "lossless-webp", "jpeg-optimize", "rgba-png"],
)
def test_the_largest_images_accepted_take_under_300_mb(
    make: Callable[[int], bytes], operation: str, tmp_path: Path
) -> None:
    result = _peak(_largest(make, reencode=operation == "optimize"), tmp_path, operation)
    assert result["outcome"] == "rendered"
    assert float(result["peak_mb"]) < PEAK_MB  # type: ignore[arg-type]


def test_the_bound_is_a_setting() -> None:
    app = Flask(__name__)
    image = make_image("PNG", (400, 300))
    with app.app_context():
        render(image, thumbnails=[32])
        app.config["FS_IMAGES_MAX_MEMORY"] = 400 * 300  # less than 400x300 RGB pixels take
        with pytest.raises(DecompressionBomb, match="FS_IMAGES_MAX_MEMORY"):
            render(image, thumbnails=[32])
        app.config["FS_IMAGES_MAX_MEMORY"] = "a lot"
        with pytest.raises(ConfigurationError, match="FS_IMAGES_MAX_MEMORY"):
            render(image, thumbnails=[32])
    with pytest.raises(DecompressionBomb):
        render(image, thumbnails=[32], max_memory=1000)


def test_a_jpeg_is_bounded_at_the_scale_it_is_decoded() -> None:
    """A thumbnail of a large JPEG decodes it at 1/8: what is checked is that, not the full size."""
    photo = make_image("JPEG", (8000, 6000))
    assert work_memory(Image.open(io.BytesIO(photo))) > DEFAULT_MAX_MEMORY // 2
    limit = DEFAULT_MAX_MEMORY // 8
    assert Image.open(io.BytesIO(render(photo, thumbnails=[128], max_memory=limit).thumbnails[128]))
    with pytest.raises(DecompressionBomb):
        render(photo, optimize=True, max_memory=limit)

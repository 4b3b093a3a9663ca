"""Thumbnails of a 12-megapixel JPEG (512, 256 and 64 pixels), three ways, same run.

    hatch run bench:images           # 12 MP source, 5 rounds
    hatch run bench:images --quick

- ``fs``: flask-fs's ``render``: one decode at the smallest JPEG draft scale that still serves
  512 pixels, then every size from it;
- ``raw`` (a, "pillow"): Pillow's best straightforward code, per size: ``Image.draft`` then a
  centred square crop resized with LANCZOS (``ImageOps.fit``), encoded as JPEG;
- ``naive`` (b): what flask-fs 0.6 did, per size: a full decode and a LANCZOS resize.

Rates are thumbnail sets per second; the naive figures are printed as a third line.
"""

from __future__ import annotations

import io
from pathlib import Path

from _harness import Work, case, main, setup
from PIL import Image, ImageOps

from flask_fs.images import render

SIZES = (512, 256, 64)


def _source(workdir: Path) -> bytes:
    return (workdir / "source.jpg").read_bytes()


@setup("thumbnails")
def make_source(workdir: Path, megapixels: int) -> None:
    width = int((megapixels * 1_000_000 * 4 / 3) ** 0.5)
    height = width * 3 // 4
    gradient = Image.linear_gradient("L").resize((width, height))
    image = Image.merge(
        "RGB", (gradient, gradient.transpose(Image.Transpose.FLIP_LEFT_RIGHT), gradient)
    )
    image.save(workdir / "source.jpg", "JPEG", quality=90)


setup("naive")(make_source)


def _encode(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


@case("thumbnails", "fs")
def fs_render(workdir: Path, megapixels: int) -> Work:
    data = _source(workdir)
    rounds = 5

    def work() -> float:
        for _ in range(rounds):
            assert len(render(data, thumbnails=SIZES).thumbnails) == len(SIZES)
        return rounds

    return work


def _pillow(data: bytes, rounds: int) -> float:
    for _ in range(rounds):
        for size in SIZES:
            image = Image.open(io.BytesIO(data))
            image.draft("RGB", (size, size))
            _encode(ImageOps.fit(image, (size, size), Image.Resampling.LANCZOS))
    return rounds


@case("thumbnails", "raw")
def pillow_best(workdir: Path, megapixels: int) -> Work:
    data = _source(workdir)
    return lambda: _pillow(data, 5)


@case("naive", "raw")
def naive(workdir: Path, megapixels: int) -> Work:
    data = _source(workdir)
    rounds = 2

    def work() -> float:
        for _ in range(rounds):
            for size in SIZES:
                image = Image.open(io.BytesIO(data)).convert("RGB")
                side = min(image.size)
                left, top = (image.width - side) // 2, (image.height - side) // 2
                box = (left, top, left + side, top + side)
                _encode(image.resize((size, size), Image.Resampling.LANCZOS, box=box))
        return rounds

    return work


@case("naive", "fs")
def naive_against_fs(workdir: Path, megapixels: int) -> Work:
    return fs_render(workdir, megapixels)


if __name__ == "__main__":
    main(__file__, {"thumbnails": (12, 2, "set/s"), "naive": (12, 2, "set/s")})

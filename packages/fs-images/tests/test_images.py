"""Thumbnails, resizing and optimisation: formats kept, orientation applied, bad input refused."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageChops, ImageStat

from flask_fs.errors import FSError
from flask_fs.images import (
    DecompressionBomb,
    ImageError,
    MismatchedImage,
    UnsupportedImage,
    image_format,
    make_thumbnail,
    optimize,
    render,
    resize,
)

from .conftest import make_image


def _open(data: bytes | io.BytesIO) -> Image.Image:
    raw = data.getvalue() if isinstance(data, io.BytesIO) else data
    image = Image.open(io.BytesIO(raw))
    image.load()
    return image


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "GIF", "WEBP", "BMP"])
def test_thumbnails_are_squares_in_the_source_format(fmt: str) -> None:
    thumb = _open(make_thumbnail(io.BytesIO(make_image(fmt, (400, 300))), 100))
    assert thumb.format == fmt
    assert thumb.size == (100, 100)


def test_thumbnail_is_a_centred_crop() -> None:
    source = Image.new("RGB", (300, 100), "red")
    source.paste((0, 0, 255), (100, 0, 200, 100))  # a blue square in the middle
    out = io.BytesIO()
    source.save(out, "PNG")
    thumb = _open(make_thumbnail(out.getvalue(), 50)).convert("RGB")
    assert thumb.getpixel((25, 25)) == (0, 0, 255)
    assert thumb.getpixel((1, 1)) == (0, 0, 255)


def test_thumbnail_of_a_bbox() -> None:
    source = Image.new("RGB", (300, 300), "red")
    source.paste((0, 255, 0), (10, 10, 100, 100))
    out = io.BytesIO()
    source.save(out, "PNG")
    thumb = _open(make_thumbnail(out.getvalue(), 32, bbox=(10, 10, 100, 100))).convert("RGB")
    assert thumb.size == (32, 32)
    assert thumb.getpixel((16, 16)) == (0, 255, 0)
    assert thumb.getpixel((1, 30)) == (0, 255, 0)


def test_a_bbox_outside_the_image_is_refused(jpeg: bytes) -> None:
    with pytest.raises(ImageError, match="bounding box"):
        make_thumbnail(jpeg, 32, bbox=(0, 0, 1000, 10))


def test_resize_keeps_the_ratio_and_never_enlarges(jpeg: bytes) -> None:
    assert _open(resize(jpeg, 200)).size == (200, 150)
    assert resize(jpeg, 1000).getvalue() == jpeg  # small enough already: untouched


def test_transparency_is_kept() -> None:
    png = make_image("PNG", (200, 100), "RGBA")
    thumb = _open(make_thumbnail(png, 50))
    assert thumb.mode == "RGBA"
    left, right = thumb.getpixel((2, 25)), thumb.getpixel((48, 25))
    assert isinstance(left, tuple)  # an RGBA pixel
    assert isinstance(right, tuple)
    assert left[3] == 255  # the opaque left
    assert right[3] == 0  # the transparent right
    gif = _open(resize(make_image("GIF", (200, 100), "RGBA"), 100))
    assert gif.format == "GIF"
    assert "transparency" in gif.info


def test_exif_orientation_is_applied() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    portrait_on_screen = make_image("JPEG", (400, 200), exif=exif.tobytes())
    assert _open(resize(portrait_on_screen, 100)).size == (50, 100)


def test_optimize_never_makes_a_file_larger() -> None:
    big = make_image("JPEG", (800, 600), quality=100)
    smaller = optimize(big).getvalue()
    assert len(smaller) < len(big)
    assert _open(smaller).format == "JPEG"
    tiny = make_image("PNG", (8, 8), optimize=True)
    assert len(optimize(tiny).getvalue()) <= len(tiny)


def test_render_makes_every_size_from_one_source(jpeg: bytes) -> None:
    rendered = render(jpeg, max_size=150, thumbnails=[100, 32], optimize=True)
    assert rendered.format == "JPEG"
    assert _open(rendered.main).size == (150, 113)  # 112.5, rounded as Pillow does
    assert {size: _open(data).size for size, data in rendered.thumbnails.items()} == {
        100: (100, 100),
        32: (32, 32),
    }


def test_jpeg_draft_decoding_keeps_thumbnails_sharp_enough() -> None:
    big = make_image("JPEG", (4000, 3000))
    thumb = _open(make_thumbnail(big, 512))
    assert thumb.size == (512, 512)
    reference = _open(make_image("JPEG", (4000, 3000))).resize((512, 512), box=(500, 0, 3500, 3000))
    difference = ImageChops.difference(thumb.convert("L"), reference.convert("L"))
    assert ImageStat.Stat(difference).mean[0] < 4  # mean absolute difference, out of 255


def test_not_an_image() -> None:
    for data in (b"#!/bin/sh\necho pwned\n", b"", b"<svg onload=alert(1)>"):
        with pytest.raises(ImageError, match="not an image"):
            make_thumbnail(data, 32)


def test_a_truncated_image(jpeg: bytes) -> None:
    with pytest.raises(ImageError, match="cannot be decoded"):
        make_thumbnail(jpeg[: len(jpeg) // 2], 32)


def test_unsupported_formats() -> None:
    with pytest.raises(UnsupportedImage, match="TIFF"):
        make_thumbnail(make_image("TIFF"), 32)


def test_decompression_bombs(monkeypatch: pytest.MonkeyPatch, jpeg: bytes) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10_000)  # 400x300 is 12x that: a bomb here
    with pytest.raises(DecompressionBomb):
        make_thumbnail(jpeg, 32)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100_000)  # between 1x and 2x: a warning only
    with pytest.raises(DecompressionBomb):
        make_thumbnail(jpeg, 32)


def test_errors_are_fs_errors() -> None:
    assert issubclass(ImageError, FSError)
    assert image_format(make_image("PNG")) == "PNG"


@pytest.mark.parametrize("size", [(1001, 500), (999, 600), (4033, 3024), (1001, 1001), (3, 2001)])
def test_odd_sized_jpegs_get_their_thumbnails(size: tuple[int, int]) -> None:
    """Draft decoding rounds each side up on its own: the crop box follows each side's scale."""
    rendered = render(make_image("JPEG", size), max_size=1024, thumbnails=[512, 128, 100, 32])
    assert {s: _open(data).size for s, data in rendered.thumbnails.items()} == {
        s: (s, s) for s in (512, 128, 100, 32)
    }
    assert max(_open(rendered.main).size) == min(1024, max(size))


def test_16_bit_grey_keeps_its_tones() -> None:
    grey = Image.linear_gradient("L").resize((256, 256)).convert("I").point(lambda v: v * 257)
    out = io.BytesIO()
    grey.convert("I;16").save(out, "PNG")
    thumb = _open(make_thumbnail(out.getvalue(), 64))
    low, high = thumb.getextrema()
    assert thumb.mode.startswith("I")
    assert isinstance(low, (int, float))  # one band
    assert isinstance(high, (int, float))
    assert low < 2_000  # black...
    assert high > 60_000  # ...to white
    assert abs(_mean(thumb) - 32768) < 2_000  # not clipped to white
    resized = _open(resize(out.getvalue(), 100))
    assert resized.size == (100, 100)
    assert abs(_mean(resized) - 32768) < 2_000


def _mean(image: Image.Image) -> float:
    """The mean of a one-band image: its box average down to one pixel."""
    value = image.convert("I").resize((1, 1), Image.Resampling.BOX).getpixel((0, 0))
    assert isinstance(value, (int, float))  # one band
    return float(value)


@pytest.mark.parametrize(
    ("fmt", "name"), [("PNG", "photo.jpg"), ("JPEG", "logo.png"), ("GIF", "a.webp"), ("PNG", "x")]
)
def test_content_must_be_what_the_name_says(fmt: str, name: str) -> None:
    with pytest.raises(MismatchedImage, match="not what its extension says"):
        render(make_image(fmt), thumbnails=[32], filename=name)
    assert render(make_image("JPEG"), filename="photo.JPEG").format == "JPEG"


def test_any_failure_is_an_image_error(jpeg: bytes) -> None:
    with pytest.raises(ImageError):
        render(jpeg, thumbnails=[0])  # Pillow: "height and width must be > 0"

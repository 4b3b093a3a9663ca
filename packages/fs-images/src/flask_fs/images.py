"""Image operations for flask-fs (fs-images): thumbnails, resizing and optimisation, with Pillow.

- Output keeps the input's format (a ``.jpg`` holds JPEG bytes, a ``.png`` PNG...), keeps
  transparency where the format has it, and applies the EXIF orientation.
- Fast: JPEG images are decoded at a reduced scale (``draft``) when the output is smaller, and
  resizing reduces by whole factors before the final resample (``reducing_gap``). :func:`render`
  makes several sizes from one decode.
- Safe: decompression bombs (Pillow's pixel limit, ``Image.MAX_IMAGE_PIXELS``, made strict),
  truncated or non-image files and unsupported formats raise :class:`ImageError`, an ``FSError``.
- Optimisation never makes a file larger than the original.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from PIL import Image, ImageOps, UnidentifiedImageError

from flask_fs.errors import FSError

__version__ = "1.0.0"

BBox = tuple[int, int, int, int]

#: The formats images are read from and written back in.
SUPPORTED_FORMATS = frozenset({"JPEG", "PNG", "GIF", "WEBP", "BMP"})

#: Encoder options per format: ``(normal, optimised)``.
SAVE_OPTIONS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "JPEG": ({"quality": 90}, {"quality": 85, "optimize": True, "progressive": True}),
    "PNG": ({}, {"optimize": True}),
    "GIF": ({}, {"optimize": True}),
    "WEBP": ({"quality": 90}, {"quality": 80, "method": 6}),
    "BMP": ({}, {}),
}


#: Formats without transparency, and the modes they can store.
OPAQUE_MODES = {"JPEG": ("RGB", "L"), "BMP": ("RGB", "L", "P", "1")}


class ImageError(FSError):
    """The file is not an image flask-fs can process: unreadable, truncated, too large..."""


class DecompressionBomb(ImageError):
    """The image has more pixels than ``Image.MAX_IMAGE_PIXELS`` allows."""


class UnsupportedImage(ImageError):
    """The image's format is not one of ``SUPPORTED_FORMATS`` (JPEG, PNG, GIF, WebP, BMP)."""


@dataclass
class Rendered:
    """The images :func:`render` made from one source."""

    format: str
    main: bytes
    thumbnails: dict[int, bytes] = field(default_factory=dict)


def _read(file: IO[bytes] | bytes) -> bytes:
    if isinstance(file, bytes | bytearray):
        return bytes(file)
    position = file.tell() if file.seekable() else None
    data = file.read()
    if position is not None:
        file.seek(position)
    return data


def open_image(data: bytes, draft_size: int | None = None) -> Image.Image:
    """Decode an image, safely: bombs, truncated files and unknown formats are ImageErrors.

    ``draft_size``: the decoder may work at a reduced scale as long as both sides stay at
    least this many pixels (JPEG only; others ignore it). The EXIF orientation is applied.
    """
    with _pillow_errors():
        image = Image.open(io.BytesIO(data))
        image_format = image.format
        if image_format not in SUPPORTED_FORMATS:
            raise UnsupportedImage(f"unsupported image format {image_format}")
        if draft_size and image_format == "JPEG":
            image.draft("RGB", (draft_size, draft_size))
        image.load()
        oriented = ImageOps.exif_transpose(image)
    oriented.format = image_format
    return oriented


@contextlib.contextmanager
def _pillow_errors() -> Iterator[None]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            yield
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise DecompressionBomb(f"image refused: {exc}") from None
    except UnidentifiedImageError:
        raise ImageError("the file is not an image, or not one Pillow can read") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageError(f"the image cannot be decoded: {exc}") from None


def _oriented_size(data: bytes) -> tuple[int, int]:
    """The size of an image once its EXIF orientation is applied, from its header only."""
    with _pillow_errors():
        image = Image.open(io.BytesIO(data))
        width, height = image.size
        orientation = image.getexif().get(0x0112, 1)
    return (height, width) if orientation in (5, 6, 7, 8) else (width, height)


def _working_mode(image: Image.Image) -> Image.Image:
    """A mode that resamples well: RGB(A) or L(A), keeping transparency."""
    if image.mode in ("RGB", "RGBA", "L", "LA"):
        return image
    has_alpha = "A" in image.mode or (image.mode == "P" and "transparency" in image.info)
    return image.convert("RGBA" if has_alpha else "RGB")


def _encode(image: Image.Image, image_format: str, optimize: bool) -> bytes:
    options = dict(SAVE_OPTIONS[image_format][1 if optimize else 0])
    if image.mode not in OPAQUE_MODES.get(image_format, (image.mode,)):
        image = image.convert("RGB")
    out = io.BytesIO()
    image.save(out, image_format, **options)
    return out.getvalue()


def _square_box(
    width: int, height: int, bbox: Sequence[float] | None
) -> tuple[float, float, float, float]:
    if bbox:
        left, top, right, bottom = (float(v) for v in bbox)
        if not (0 <= left < right <= width and 0 <= top < bottom <= height):
            raise ImageError(f"bounding box {tuple(bbox)} is outside the {width}x{height} image")
        return left, top, right, bottom
    side = min(width, height)
    left, top = (width - side) / 2, (height - side) / 2
    return left, top, left + side, top + side


def _fit(image: Image.Image, max_size: int) -> Image.Image:
    if image.width <= max_size and image.height <= max_size:
        return image
    fitted = image.copy()
    fitted.thumbnail((max_size, max_size), Image.Resampling.LANCZOS, reducing_gap=3.0)
    return fitted


def render(
    file: IO[bytes] | bytes,
    *,
    max_size: int | None = None,
    thumbnails: Iterable[int] = (),
    bbox: Sequence[float] | None = None,
    optimize: bool = False,
) -> Rendered:
    """Every derived image of one source, from a single decode.

    ``main`` is the source fitted within ``max_size`` (ratio kept; the source's own bytes when it
    needs no change and no optimisation), and each thumbnail a ``size``x``size`` square: the
    centred crop, or ``bbox`` (in the source's pixels, after its EXIF orientation).
    """
    data = _read(file)
    width, height = _oriented_size(data)
    sizes = sorted(set(thumbnails), reverse=True)
    resized = max_size is not None and max(width, height) > max_size
    crop = _square_box(width, height, bbox)
    crop_side = min(crop[2] - crop[0], crop[3] - crop[1])
    # The smallest decode that still gives every output enough pixels (JPEG draft mode).
    needs = [size * min(width, height) / crop_side for size in sizes]
    if resized:
        needs.append(max_size * min(width, height) / max(width, height))  # type: ignore[operator]
    full_decode = optimize and not resized
    draft = None if full_decode or not needs else int(max(needs)) + 1
    image = open_image(data, draft_size=draft)
    image_format = str(image.format)
    scale = width / image.width
    working = _working_mode(image)

    if resized:
        main = _encode(_fit(working, int(max_size)), image_format, optimize)  # type: ignore[arg-type]
    elif optimize:
        main = _encode(working, image_format, True)
        main = main if len(main) < len(data) else data
    else:
        main = data
    rendered = Rendered(image_format, main)
    left, top, right, bottom = (v / scale for v in crop)
    source, box = working, (left, top, right, bottom)
    for size in sizes:  # largest first: each smaller square is resampled from the previous one
        thumb = source.resize((size, size), Image.Resampling.LANCZOS, box=box, reducing_gap=3.0)
        rendered.thumbnails[size] = _encode(thumb, image_format, optimize)
        source, box = thumb, (0, 0, size, size)
    return rendered


def make_thumbnail(file: IO[bytes] | bytes, size: int, bbox: BBox | None = None) -> io.BytesIO:
    """Generate a thumbnail for a given image file.

    :param file: The source image file (a binary file object or bytes)
    :param size: The thumbnail size in pixels (thumbnails are squares)
    :param bbox: An optional bounding box ``(left, top, right, bottom)`` to crop before resizing
    """
    return io.BytesIO(render(file, thumbnails=[size], bbox=bbox).thumbnails[size])


def resize(file: IO[bytes] | bytes, max_size: int, optimize: bool = False) -> io.BytesIO:
    """The image fitted within ``max_size``x``max_size``, keeping its ratio and format."""
    return io.BytesIO(render(file, max_size=max_size, optimize=optimize).main)


def optimize(file: IO[bytes] | bytes) -> io.BytesIO:
    """The image re-encoded smaller in the same format; the original if that is not smaller."""
    return io.BytesIO(render(file, optimize=True).main)


def image_format(file: IO[bytes] | bytes) -> str:
    """The format of an image (``"JPEG"``, ``"PNG"``...), checked to be readable and supported."""
    return str(open_image(_read(file)).format)

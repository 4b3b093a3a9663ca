"""Image operations for flask-fs (fs-images): thumbnails, resizing and optimisation, with Pillow.

- Output keeps the input's format (a ``.jpg`` holds JPEG bytes, a ``.png`` PNG...), keeps
  transparency where the format has it, keeps 16-bit grey tones, and applies the EXIF orientation.
- Fast: JPEG images are decoded at a reduced scale (``draft``) when the output is smaller, and
  resizing reduces by whole factors before the final resample (``reducing_gap``). :func:`render`
  makes several sizes from one decode.
- Bounded: before decoding, the memory the work takes (pixels times bytes per pixel of the decoded
  and working modes) is checked against ``FS_IMAGES_MAX_MEMORY``; decompression bombs are refused
  without being decoded.
- Safe: every failure (bombs, truncated or non-image files, unsupported formats, content that is
  not the format its name says) is an :class:`ImageError`, an ``FSError``.
- Optimisation never makes a file larger than the original.
"""

from __future__ import annotations

import contextlib
import io
import posixpath
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import version
from typing import IO, Any

from flask import current_app, has_app_context
from PIL import Image, ImageOps, UnidentifiedImageError

from flask_fs.errors import ConfigurationError, FSError

__version__ = version("fs-images")

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

#: The default of ``FS_IMAGES_MAX_MEMORY``: the memory the work on one image may take, in bytes
#: (see :func:`work_memory`). With Python, Flask, Pillow and mongoengine loaded, the peak memory
#: of an image operation then stays under 300 MB (measured in docs/reliability.md).
DEFAULT_MAX_MEMORY = 192 * 2**20

#: Memory a decoder takes besides the image, in bytes per pixel: libwebp decodes into a canvas
#: of its own (RGBA, and the previous frame's), which Pillow copies before filling the image.
DECODER_BYTES_PER_PIXEL = {"WEBP": 12}

#: Memory an encoder takes when it re-encodes a whole image (an optimisation), in bytes per
#: pixel: libjpeg's progressive mode keeps every coefficient, libwebp converts to YUV and
#: analyses, the GIF encoder copies the image to normalise its palette, BMP output is raw.
ENCODER_BYTES_PER_PIXEL = {"JPEG": 4, "WEBP": 16, "GIF": 4, "BMP": 4, "PNG": 1}


class ImageError(FSError):
    """The file is not an image flask-fs can process: unreadable, truncated, too large..."""


class DecompressionBomb(ImageError):
    """Decoding the image would take more memory than ``FS_IMAGES_MAX_MEMORY`` allows, or it has
    more pixels than Pillow's ``Image.MAX_IMAGE_PIXELS``."""


class UnsupportedImage(ImageError):
    """The image's format is not one of ``SUPPORTED_FORMATS`` (JPEG, PNG, GIF, WebP, BMP)."""


class MismatchedImage(ImageError):
    """The image's content is not the format its name says (PNG bytes in a ``.jpg``)."""


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


# -- the memory bound ----------------------------------------------------------------------------


def max_memory() -> int:
    """The memory the work on one image may take: ``FS_IMAGES_MAX_MEMORY`` of the current
    application, or :data:`DEFAULT_MAX_MEMORY` outside one."""
    if not has_app_context():
        return DEFAULT_MAX_MEMORY
    value = current_app.config.get("FS_IMAGES_MAX_MEMORY", DEFAULT_MAX_MEMORY)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigurationError(
            f"FS_IMAGES_MAX_MEMORY must be a positive int (bytes), not {value!r}"
        )
    return value


def bytes_per_pixel(mode: str) -> int:
    """What Pillow stores per pixel of ``mode``: 1 byte for ``1``, ``L`` and ``P``, 2 for 16-bit
    grey, 4 for everything else (``RGB`` too, padded to 4 bytes)."""
    if mode in ("1", "L", "P"):
        return 1
    return 2 if mode.startswith("I;16") else 4


def working_mode(mode: str, info: Mapping[Any, Any]) -> str:
    """The mode an image of ``mode`` is resampled in: ``RGB``, ``L``, ``I`` for 16 and 32-bit
    grey (whose tones 8 bits would clip to white), and ``RGBa`` (premultiplied, as resampling
    needs) for anything transparent."""
    if mode.startswith("I"):
        return "I"
    if "A" in mode or "a" in mode or "transparency" in info:
        return "RGBa"
    return mode if mode in ("RGB", "L") else "RGB"


def work_memory(image: Image.Image, data_size: int = 0, reencode: bool = False) -> int:
    """The bytes the work on ``image`` (opened, not decoded) takes at its peak.

    The file (``data_size``) and the decoded pixels, plus the largest of what comes next: the
    decoder's buffers, the encoder's when the whole image is encoded again (``reencode``), or the
    working copy (two for transparent images: the straight copy, then the premultiplied one).
    Only the first frame of an animation is decoded.
    """
    mode = working_mode(image.mode, image.info)
    after = max(
        DECODER_BYTES_PER_PIXEL.get(str(image.format), 0),
        ENCODER_BYTES_PER_PIXEL.get(str(image.format), 0) if reencode else 0,
        bytes_per_pixel(mode) * (2 if mode == "RGBa" else 1),
    )
    return data_size + image.width * image.height * (bytes_per_pixel(image.mode) + after)


def _check_memory(image: Image.Image, data_size: int, reencode: bool, limit: int | None) -> None:
    limit = max_memory() if limit is None else limit
    needed = work_memory(image, data_size, reencode)
    if needed > limit:
        raise DecompressionBomb(
            f"image refused: the work on {image.width}x{image.height} {image.mode} pixels "
            f"takes {needed / 2**20:.0f} MiB, more than the {limit / 2**20:.0f} MiB allowed "
            "(FS_IMAGES_MAX_MEMORY)"
        )


# -- decoding ------------------------------------------------------------------------------------


@contextlib.contextmanager
def _image_errors() -> Iterator[None]:
    """Any failure inside becomes an :class:`ImageError` (a bomb, a :class:`DecompressionBomb`)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            yield
    except FSError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise DecompressionBomb(f"image refused: {exc}") from None
    except UnidentifiedImageError:
        raise ImageError("the file is not an image, or not one Pillow can read") from None
    except MemoryError:
        raise DecompressionBomb("image refused: not enough memory to process it") from None
    except Exception as exc:  # Pillow's plugins raise many kinds on hostile input
        raise ImageError(f"the image cannot be decoded: {exc}") from exc


def _open(data: bytes) -> Image.Image:
    """The image, opened but not decoded; its format checked."""
    image = Image.open(io.BytesIO(data))
    if image.format not in SUPPORTED_FORMATS:
        raise UnsupportedImage(f"unsupported image format {image.format}")
    return image


def _orientation(image: Image.Image) -> int:
    """The EXIF orientation, from the header: ``getexif()`` would decode a whole PNG to look
    for EXIF data after its pixels."""
    raw = image.info.get("exif")
    if not raw:
        return 1
    exif = Image.Exif()
    exif.load(raw)
    return int(exif.get(0x0112, 1) or 1)


def _oriented_size(image: Image.Image) -> tuple[int, int]:
    width, height = image.size
    return (height, width) if _orientation(image) in (5, 6, 7, 8) else (width, height)


def _decode(
    image: Image.Image, data_size: int, draft_size: int | None, reencode: bool, limit: int | None
) -> Image.Image:
    image_format = image.format
    if draft_size and image_format == "JPEG":
        image.draft("RGB", (draft_size, draft_size))
    _check_memory(image, data_size, reencode, limit)
    turn = _orientation(image) != 1
    image.load()
    if turn:  # exif_transpose copies even when nothing turns
        image = ImageOps.exif_transpose(image)
    image.format = image_format
    return image


def open_image(
    data: bytes,
    draft_size: int | None = None,
    max_memory: int | None = None,
    reencode: bool = False,
) -> Image.Image:
    """Decode an image, safely: bombs, truncated files and unknown formats are ImageErrors.

    ``draft_size``: the decoder may work at a reduced scale as long as both sides stay at
    least this many pixels (JPEG only; others ignore it). Before decoding, the memory the work
    takes (:func:`work_memory`; ``reencode`` if the whole image will be encoded again) is
    checked against ``max_memory`` (default: ``FS_IMAGES_MAX_MEMORY``). The EXIF orientation is
    applied.
    """
    with _image_errors():
        return _decode(_open(data), len(data), draft_size, reencode, max_memory)


def _check_name(image_format: str, filename: str) -> None:
    """The format an image's name says is the format it holds (Pillow's list of extensions)."""
    _, ext = posixpath.splitext(filename)
    expected = Image.registered_extensions().get(ext.lower())
    if expected != image_format:
        raise MismatchedImage(
            f"{posixpath.basename(filename)!r} holds a {image_format} image, "
            "not what its extension says"
        )


# -- encoding ------------------------------------------------------------------------------------


def _to_working_mode(image: Image.Image) -> Image.Image:
    """``image`` in its working mode; the caller drops ``image`` for its memory to go."""
    mode = working_mode(image.mode, image.info)
    if mode == image.mode:
        return image
    if mode != "RGBa":
        return image.convert(mode)
    straight = image if image.mode == "RGBA" else image.convert("RGBA")
    return straight.convert("RGBa")


def _encode(image: Image.Image, image_format: str, optimize: bool) -> bytes:
    options = dict(SAVE_OPTIONS[image_format][1 if optimize else 0])
    if image.mode == "RGBa":
        image = image.convert("RGBA")
    elif image.mode == "I":  # 16-bit grey: a PNG keeps its 16 bits, others get 8, scaled
        if image_format == "PNG":
            image = image.convert("I;16")
        else:
            image = image.point(lambda value: value * (1 / 256)).convert("L")
    if image.mode not in OPAQUE_MODES.get(image_format, (image.mode,)):
        image = image.convert("RGB")
    out = io.BytesIO()
    image.save(out, image_format, **options)
    return out.getvalue()


# -- geometry ------------------------------------------------------------------------------------


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


def _fitted_size(width: int, height: int, max_size: int) -> tuple[int, int]:
    """``width`` x ``height`` scaled to fit within ``max_size``, ratio kept."""
    scale = max_size / max(width, height)
    return max(1, int(width * scale + 0.5)), max(1, int(height * scale + 0.5))


def _scaled_box(
    box: tuple[float, float, float, float], source: tuple[int, int], decoded: tuple[int, int]
) -> tuple[float, float, float, float]:
    """``box`` (in the source's pixels) in the pixels of the decoded image, which a JPEG draft
    made smaller by a different factor on each side (sizes are rounded up)."""
    scale_x, scale_y = decoded[0] / source[0], decoded[1] / source[1]
    left, top, right, bottom = box
    return (
        max(0.0, left * scale_x),
        max(0.0, top * scale_y),
        min(float(decoded[0]), right * scale_x),
        min(float(decoded[1]), bottom * scale_y),
    )


# -- operations ----------------------------------------------------------------------------------


def render(
    file: IO[bytes] | bytes,
    *,
    max_size: int | None = None,
    thumbnails: Iterable[int] = (),
    bbox: Sequence[float] | None = None,
    optimize: bool = False,
    filename: str | None = None,
    max_memory: int | None = None,
) -> Rendered:
    """Every derived image of one source, from a single decode.

    ``main`` is the source fitted within ``max_size`` (ratio kept; the source's own bytes when it
    needs no change and no optimisation), and each thumbnail a ``size``x``size`` square: the
    centred crop, or ``bbox`` (in the source's pixels, after its EXIF orientation).

    :param filename: When given, the image must be the format its extension says
        (:class:`MismatchedImage`).
    :param max_memory: The bytes decoding may take (default: ``FS_IMAGES_MAX_MEMORY``).
    """
    data = _read(file)
    with _image_errors():
        sizes = sorted(set(thumbnails), reverse=True)
        return _render(data, max_size, sizes, bbox, optimize, filename, max_memory)


def _render(
    data: bytes,
    max_size: int | None,
    sizes: list[int],
    bbox: Sequence[float] | None,
    optimize: bool,
    filename: str | None,
    limit: int | None,
) -> Rendered:
    image = _open(data)
    image_format = str(image.format)
    if filename is not None:
        _check_name(image_format, filename)
    width, height = _oriented_size(image)
    resized = max_size is not None and max(width, height) > max_size
    crop = _square_box(width, height, bbox)
    crop_side = min(crop[2] - crop[0], crop[3] - crop[1])
    # The smallest decode that still gives every output enough pixels (JPEG draft mode).
    needs = [size * min(width, height) / crop_side for size in sizes]
    if max_size is not None and resized:
        needs.append(max_size * min(width, height) / max(width, height))
    full_decode = optimize and not resized
    draft = None if full_decode or not needs else int(max(needs)) + 1
    image = _decode(image, len(data), draft, full_decode, limit)
    main = data
    if full_decode:  # from the decoded image: a palette stays a palette
        optimized = _encode(image, image_format, True)
        main = optimized if len(optimized) < len(data) else data
    if not sizes and not resized:
        return Rendered(image_format, main)
    working = _to_working_mode(image)
    del image  # the decoded image's memory goes once its working copy exists
    if max_size is not None and resized:
        target = _fitted_size(width, height, max_size)
        fitted = working.resize(target, Image.Resampling.LANCZOS, reducing_gap=3.0)
        main = _encode(fitted, image_format, optimize)
    rendered = Rendered(image_format, main)
    source, box = working, _scaled_box(crop, (width, height), working.size)
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

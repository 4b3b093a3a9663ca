"""What a file's first bytes say it is: the check that an upload's content is the type its name
(or the type the browser declared) says, as fs-images checks an image's format.

Only formats with a signature are recognised (images, PDF, archives, audio and video, programs);
text has none. A file *matches* a type when its signature is the one that type has; for a text
type (``text/*``, JSON, XML, SVG...), when it has no signature at all; any content matches a
type that is neither (one flask-fs knows nothing of). A ``.txt`` holding a PNG does not match, a
``.png`` holding text does not either.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Callable

_Test = Callable[[bytes], bool]

#: How many first bytes :func:`sniff` needs.
SNIFF_BYTES = 512

#: The families of types that share one signature (every ZIP-based format is a ZIP).
_FAMILIES: dict[str, str] = {
    "application/zip": "zip",
    "application/x-zip-compressed": "zip",
    "application/java-archive": "zip",
    "application/epub+zip": "zip",
    "application/vnd.android.package-archive": "zip",
    "image/jpeg": "jpeg",
    "image/pjpeg": "jpeg",
    "image/png": "png",
    "image/apng": "png",
    "image/gif": "gif",
    "image/webp": "webp",
    "image/bmp": "bmp",
    "image/x-ms-bmp": "bmp",
    "image/tiff": "tiff",
    "image/x-icon": "ico",
    "image/vnd.microsoft.icon": "ico",
    "image/avif": "isobmff",
    "image/heic": "isobmff",
    "image/heif": "isobmff",
    "video/mp4": "isobmff",
    "video/quicktime": "isobmff",
    "audio/mp4": "isobmff",
    "audio/x-m4a": "isobmff",
    "video/3gpp": "isobmff",
    "application/pdf": "pdf",
    "application/gzip": "gzip",
    "application/x-gzip": "gzip",
    "application/x-tar": "tar",
    "application/x-7z-compressed": "7z",
    "application/vnd.rar": "rar",
    "application/x-rar-compressed": "rar",
    "application/x-bzip2": "bzip2",
    "application/x-xz": "xz",
    "audio/mpeg": "mp3",
    "audio/ogg": "ogg",
    "video/ogg": "ogg",
    "application/ogg": "ogg",
    "audio/flac": "flac",
    "audio/x-flac": "flac",
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "video/x-msvideo": "avi",
    "video/webm": "ebml",
    "video/x-matroska": "ebml",
    "application/wasm": "wasm",
    "application/x-executable": "elf",
    "application/x-msdownload": "exe",
    "application/vnd.microsoft.portable-executable": "exe",
    "application/x-sqlite3": "sqlite",
    "font/woff": "woff",
    "font/woff2": "woff2",
}

#: Types of text that :func:`is_text` knows besides ``text/*``, ``*+xml`` and ``*+json``.
_TEXT_TYPES = frozenset(
    {
        "application/json",
        "application/xml",
        "application/javascript",
        "application/x-javascript",
        "application/ecmascript",
        "application/x-yaml",
        "application/yaml",
        "application/x-sh",
        "application/x-httpd-php",
        "application/rtf",
        "application/x-tex",
        "application/sql",
    }
)

_BMP_HEADER_SIZES = frozenset({12, 40, 52, 56, 64, 108, 124})


def sniff(head: bytes) -> str | None:
    """The family of format the first bytes of a file have the signature of (``"png"``,
    ``"zip"``, ``"isobmff"``...), or ``None`` when they have none that is known (text)."""
    for family, test in _SIGNATURES:
        if test(head):
            return family
    return None


def family_of(mime: str) -> str | None:
    """The signature family of a content type (``image/jpeg`` → ``"jpeg"``); ``None`` for a
    type without a signature. Office and OpenDocument files are ZIPs."""
    mime = mime.split(";", 1)[0].strip().lower()
    if mime in _FAMILIES:
        return _FAMILIES[mime]
    if "openxmlformats" in mime or "opendocument" in mime:
        return "zip"
    return None


def is_text(mime: str) -> bool:
    """Whether ``mime`` is a text type: its content has no binary signature."""
    mime = mime.split(";", 1)[0].strip().lower()
    return mime.startswith("text/") or mime.endswith(("+xml", "+json")) or mime in _TEXT_TYPES


def matches(mime: str | None, head: bytes) -> bool:
    """Whether a file starting with ``head`` may be of type ``mime`` (see the module; ``None``,
    an unknown type: anything matches)."""
    if mime is None:
        return True
    family = family_of(mime)
    if family is not None:
        return sniff(head) == family
    if is_text(mime):
        return sniff(head) is None
    return True


def matches_name(filename: str, head: bytes) -> bool:
    """Whether a file starting with ``head`` is what its name's extension says; a name whose
    extension says no type matches anything."""
    mime = mimetypes.guess_type(filename, strict=False)[0]
    return mime is None or matches(mime, head)


def _starts(*prefixes: bytes) -> _Test:
    return lambda head: head.startswith(prefixes)


def _at(offset: int, *markers: bytes) -> _Test:
    return lambda head: any(head[offset : offset + len(m)] == m for m in markers)


def _riff(kind: bytes) -> _Test:
    return lambda head: head[:4] == b"RIFF" and head[8:12] == kind


def _bmp(head: bytes) -> bool:
    return head[:2] == b"BM" and int.from_bytes(head[14:18], "little") in _BMP_HEADER_SIZES


def _mp3(head: bytes) -> bool:
    return head[:3] == b"ID3" or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0)


def _ico(head: bytes) -> bool:
    return head[:4] == b"\x00\x00\x01\x00" and head[4:6] != b"\x00\x00"


_SIGNATURES: list[tuple[str, _Test]] = [
    ("jpeg", _starts(b"\xff\xd8\xff")),
    ("png", _starts(b"\x89PNG\r\n\x1a\n")),
    ("gif", _starts(b"GIF87a", b"GIF89a")),
    ("webp", _riff(b"WEBP")),
    ("wav", _riff(b"WAVE")),
    ("avi", _riff(b"AVI ")),
    ("bmp", _bmp),
    ("tiff", _starts(b"II*\x00", b"MM\x00*")),
    ("ico", _ico),
    ("isobmff", _at(4, b"ftyp", b"moov", b"mdat", b"wide", b"free")),
    ("pdf", _starts(b"%PDF-")),
    ("zip", _starts(b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")),
    ("gzip", _starts(b"\x1f\x8b")),
    ("tar", _at(257, b"ustar")),
    ("7z", _starts(b"7z\xbc\xaf\x27\x1c")),
    ("rar", _starts(b"Rar!\x1a\x07")),
    ("bzip2", _starts(b"BZh")),
    ("xz", _starts(b"\xfd7zXZ\x00")),
    ("ogg", _starts(b"OggS")),
    ("flac", _starts(b"fLaC")),
    ("ebml", _starts(b"\x1a\x45\xdf\xa3")),
    ("wasm", _starts(b"\x00asm")),
    ("elf", _starts(b"\x7fELF")),
    ("exe", _starts(b"MZ")),
    ("sqlite", _starts(b"SQLite format 3\x00")),
    ("woff", _starts(b"wOFF")),
    ("woff2", _starts(b"wOF2")),
    ("mp3", _mp3),
]

__all__ = ["SNIFF_BYTES", "family_of", "is_text", "matches", "matches_name", "sniff"]

"""The rules for file names, applied once here for every backend.

A *name* is a storage-relative POSIX key: ``"avatars/42/photo.jpg"``. Names are exact keys, never
prefixes or patterns, and the same name means the same file on every backend, so anything that a
file system or an object store would read differently (``..``, ``//``, a backslash, NUL) is refused.
"""

from __future__ import annotations

import posixpath
import re
import unicodedata

from .errors import InvalidFilename

#: Longest name, in UTF-8 bytes: S3's and Swift's 1,024-byte key limit, less room for a storage's
#: key prefix (:data:`MAX_PREFIX_BYTES`), so that a name is valid on every backend or on none.
MAX_NAME_BYTES = 960
#: Longest key prefix a backend may put before names (S3's ``PREFIX``).
MAX_PREFIX_BYTES = 1024 - MAX_NAME_BYTES
#: Longest path segment, in UTF-8 bytes (most file systems' limit).
MAX_SEGMENT_BYTES = 255

#: Names of in-progress writes (the local backend's temporary files): no file may use it.
TEMPORARY_PREFIX = ".fs-tmp-"

_FORBIDDEN_CATEGORIES = {"Cc", "Cs", "Co", "Cn"}  # control, surrogate, private use, unassigned
#: Names every rule below accepts, told at once (a fifth of the time): ASCII segments of letters,
#: digits, ``_``, ``-`` and ``.`` that start with neither ``.`` nor ``-`` (so none is ``.``,
#: ``..`` or reserved) and are at most 255 bytes. The length of the whole is checked apart.
_PLAIN = re.compile(r"[\w][\w.\-]{0,254}(?:/[\w][\w.\-]{0,254})*", re.ASCII)


def validate_name(name: object) -> str:
    """Return ``name`` unchanged if it is a safe storage-relative key; else InvalidFilename."""
    if type(name) is str and len(name) <= MAX_NAME_BYTES and _PLAIN.fullmatch(name):
        return name
    return _checked_name(name)


def _checked_name(name: object) -> str:
    """:func:`validate_name`, rule by rule."""
    if not isinstance(name, str):
        raise InvalidFilename(f"a file name must be a str, not {type(name).__name__}")
    if not name:
        raise InvalidFilename("a file name cannot be empty")
    if "\\" in name:
        raise InvalidFilename(f"{name!r}: backslashes are not allowed in a file name")
    if not (name.isascii() and name.isprintable()):  # printable ASCII needs no closer look
        for char in name:
            if unicodedata.category(char) in _FORBIDDEN_CATEGORIES:
                raise InvalidFilename(
                    f"{name!r}: control or unassigned character {char!r} in file name"
                )
    if name.startswith("/"):
        raise InvalidFilename(f"{name!r}: a file name must be relative to the storage")
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        raise InvalidFilename(f"file name longer than {MAX_NAME_BYTES} bytes")
    for segment in name.split("/"):
        if segment in ("", ".", ".."):
            raise InvalidFilename(f"{name!r}: empty, '.' or '..' path segment")
        if segment.startswith(TEMPORARY_PREFIX):
            raise InvalidFilename(f"{name!r}: {TEMPORARY_PREFIX!r} names are reserved")
        if len(segment.encode("utf-8")) > MAX_SEGMENT_BYTES:
            raise InvalidFilename(
                f"{name!r}: a path segment is longer than {MAX_SEGMENT_BYTES} bytes"
            )
    return name


def validate_prefix(prefix: str) -> str:
    """Validate a listing or folder prefix (``"a/b"``, ``"a/b/"``); return it unchanged.

    One trailing slash is allowed (``"a/"`` lists the folder ``a``, ``"a"`` also lists ``ab``).
    """
    if not isinstance(prefix, str):
        raise InvalidFilename(f"a prefix must be a str, not {type(prefix).__name__}")
    stripped = prefix[:-1] if prefix.endswith("/") else prefix
    if stripped or prefix:
        validate_name(stripped)
    return prefix


def join_name(prefix: str | None, name: str) -> str:
    """Join a prefix and a name and validate the result."""
    if prefix:
        prefix = validate_prefix(prefix).rstrip("/")
    return validate_name(posixpath.join(prefix, name) if prefix else name)


_UNSAFE = re.compile(r"[^\w.\-]+", re.UNICODE)


def clean_filename(filename: str | None) -> str:
    """Turn a client-supplied file name into a safe single-segment name.

    Like werkzeug's ``secure_filename`` but keeps non-ASCII letters (``"Été 2024.JPG"`` gives
    ``"Été_2024.jpg"``) and the extension, lower-cased. Directories the client sent are dropped.
    """
    if not filename:
        raise InvalidFilename("the uploaded file has no name: pass filename=")
    name = unicodedata.normalize("NFC", filename)
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(
        " " if c.isspace() else c
        for c in name
        if c.isspace() or unicodedata.category(c) not in _FORBIDDEN_CATEGORIES
    )
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    stem = _UNSAFE.sub("_", stem).strip("._-")
    ext = _UNSAFE.sub("", ext).lower()
    if not stem:
        if not ext:
            raise InvalidFilename(f"{filename!r} has nothing usable as a file name")
        stem = "file"
    ext_part = f".{ext}" if ext else ""
    budget = MAX_SEGMENT_BYTES - len(ext_part.encode("utf-8"))
    stem = stem.encode("utf-8")[:budget].decode("utf-8", "ignore")
    return validate_name(stem + ext_part)


def extension_of(filename: str) -> str:
    """The extension of the last segment of ``filename``, lower-cased, without its dot."""
    base = posixpath.basename(filename)
    _, dot, ext = base.rpartition(".")
    return ext.lower() if dot and _ else ""

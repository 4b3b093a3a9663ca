"""Extension presets and the containers that decide whether an extension is allowed.

Presets are tuples, so they add together (``TEXT + DOCUMENTS``) and cannot be mutated by
accident. Every check is case-insensitive.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

TEXT = ("txt",)
DOCUMENTS = ("rtf", "odf", "ods", "gnumeric", "abw", "doc", "docx", "xls", "xlsx")
IMAGES = ("jpg", "jpe", "jpeg", "png", "gif", "svg", "bmp", "webp")
AUDIO = ("wav", "mp3", "aac", "ogg", "oga", "flac")
DATA = ("csv", "ini", "json", "plist", "xml", "yaml", "yml")
SCRIPTS = ("js", "php", "pl", "py", "rb", "sh", "bat")
ARCHIVES = ("gz", "bz2", "zip", "tar", "tgz", "txz", "7z")
EXECUTABLES = ("so", "exe", "dll")
DEFAULTS = TEXT + DOCUMENTS + IMAGES + DATA
NONE: tuple[str, ...] = ()


class All:
    """Contains every extension. There is a predefined instance named :data:`ALL`."""

    def __contains__(self, item: object) -> bool:
        return True

    def __repr__(self) -> str:
        return "ALL"


class AllExcept:
    """Contains every extension except the given ones, e.g. ``AllExcept(SCRIPTS + EXECUTABLES)``."""

    def __init__(self, items: Iterable[str]) -> None:
        self.items = frozenset(item.lower() for item in items)

    def __contains__(self, item: object) -> bool:
        return isinstance(item, str) and item.lower() not in self.items

    def __repr__(self) -> str:
        return f"AllExcept({sorted(self.items)!r})"


ALL = All()

Extensions = Collection[str] | All | AllExcept


def normalize_extensions(
    extensions: Extensions | Iterable[str],
) -> All | AllExcept | frozenset[str]:
    """Return a container whose membership test is case-insensitive."""
    if isinstance(extensions, All | AllExcept):
        return extensions
    if isinstance(extensions, str):
        extensions = (extensions,)
    return frozenset(ext.lower().lstrip(".") for ext in extensions)


def contains_extension(container: All | AllExcept | frozenset[str], ext: str) -> bool:
    """Whether ``ext`` (without its dot, any case) is in ``container``."""
    return ext.lower() in container

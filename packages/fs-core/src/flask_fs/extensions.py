"""Extension presets and the containers that decide whether an extension is allowed.

Presets are tuples (:class:`Preset`), so they add together (``TEXT + DOCUMENTS``), with lists too
(``IMAGES + ["tiff"]``), and cannot be mutated by accident. Every check is case-insensitive.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable


class Preset(tuple[str, ...]):
    """An immutable list of extensions that adds up with tuples and lists, on either side:
    ``IMAGES + ["tiff"]``, ``["tiff"] + IMAGES``, ``TEXT + DOCUMENTS``. A bare string is one
    extension, never its letters."""

    def __new__(cls, extensions: Iterable[str] | str = ()) -> Preset:
        return super().__new__(cls, extension_items(extensions))

    def __add__(self, other: Iterable[str] | str) -> Preset:  # type: ignore[override]
        return Preset((*self, *extension_items(other)))

    def __radd__(self, other: Iterable[str] | str) -> Preset:
        return Preset((*extension_items(other), *self))

    def __repr__(self) -> str:
        return repr(tuple(self))


def extension_items(extensions: Iterable[str] | str) -> tuple[str, ...]:
    """The extensions of an iterable, or of a bare string taken as one extension."""
    if isinstance(extensions, str):
        return (extensions,)
    return tuple(extensions)


TEXT = Preset(("txt",))
DOCUMENTS = Preset(("rtf", "odf", "ods", "gnumeric", "abw", "doc", "docx", "xls", "xlsx"))
IMAGES = Preset(("jpg", "jpe", "jpeg", "png", "gif", "svg", "bmp", "webp"))
AUDIO = Preset(("wav", "mp3", "aac", "ogg", "oga", "flac"))
DATA = Preset(("csv", "ini", "json", "plist", "xml", "yaml", "yml"))
SCRIPTS = Preset(("js", "php", "pl", "py", "rb", "sh", "bat"))
ARCHIVES = Preset(("gz", "bz2", "zip", "tar", "tgz", "txz", "7z"))
EXECUTABLES = Preset(("so", "exe", "dll"))
DEFAULTS = TEXT + DOCUMENTS + IMAGES + DATA
NONE = Preset()


class All:
    """Contains every extension. There is a predefined instance named :data:`ALL`."""

    def __contains__(self, item: object) -> bool:
        return True

    def __repr__(self) -> str:
        return "ALL"


class AllExcept:
    """Contains every extension except the given ones, e.g. ``AllExcept(SCRIPTS + EXECUTABLES)``."""

    def __init__(self, items: Iterable[str] | str) -> None:
        self.items = _lowered(items)

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
    return _lowered(extensions)


def _lowered(extensions: Iterable[str] | str) -> frozenset[str]:
    return frozenset(ext.lower().lstrip(".") for ext in extension_items(extensions))


def contains_extension(container: All | AllExcept | frozenset[str], ext: str) -> bool:
    """Whether ``ext`` (without its dot, any case) is in ``container``."""
    return ext.lower() in container

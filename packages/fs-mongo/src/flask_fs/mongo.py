"""mongoengine fields that keep files in a flask-fs storage (fs-mongo).

A document stores a small reference (the file's name, and for images the original's and the
thumbnails' names); the bytes live in the storage. Replacing or deleting a document's file
deletes the files it no longer references.
"""

from __future__ import annotations

import contextlib
import posixpath
from collections.abc import Callable, Mapping, Sequence
from importlib.metadata import version
from typing import IO, Any

from flask import current_app
from mongoengine.base import BaseField
from werkzeug.datastructures import FileStorage

from flask_fs import Storage
from flask_fs.errors import FileNotFound, FSError, InvalidFilename
from flask_fs.images import render
from flask_fs.names import clean_filename, extension_of
from flask_fs.streams import upload_stream

__version__ = version("fs-mongo")

NameFactory = str | Callable[[Any], str] | None


def _call(value: NameFactory, instance: Any) -> str | None:
    return value(instance) if callable(value) else value


def _rewound(file_or_wfs: FileStorage | IO[bytes]) -> IO[bytes]:
    """The upload's stream, from its start: one upload can be saved into several fields."""
    stream = upload_stream(file_or_wfs)
    if stream.seekable():
        stream.seek(0)
    return stream


class FileReference:
    """Implements the FileField interface: a file of a storage, referenced by a document."""

    def __init__(
        self,
        fs: Storage | None = None,
        filename: str | None = None,
        upload_to: NameFactory = None,
        basename: NameFactory = None,
        instance: Any = None,
        name: str | None = None,
    ) -> None:
        self.fs = fs
        self.filename = filename
        self.upload_to = upload_to
        self.basename = basename
        self._instance = instance
        self._name = name

    def __bool__(self) -> bool:
        return bool(self.filename)

    def __str__(self) -> str:
        return self.url or ""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.filename!r}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FileReference) and self.to_mongo() == other.to_mongo()

    __hash__ = None  # type: ignore[assignment]

    @property
    def storage(self) -> Storage:
        if self.fs is None:
            raise InvalidFilename(f"the field {self._name!r} has no storage (fs=...)")
        return self.fs

    @property
    def url(self) -> str | None:
        """The file's URL (see :meth:`flask_fs.Storage.url`), ``None`` without a file."""
        return self.storage.url(self.filename) if self.filename else None

    def to_mongo(self) -> dict[str, Any]:
        return {"filename": self.filename}

    def _mark_as_changed(self) -> None:
        if self._instance is not None and self._name:
            self._instance._mark_as_changed(self._name)

    def _target_name(self, file_or_wfs: FileStorage | IO[bytes], filename: str | None) -> str:
        """The storage name to save under: ``upload_to`` / (``basename`` or name) + extension,
        checked by the storage as :meth:`Storage.save <flask_fs.Storage.save>` checks it (name,
        allowed extensions)."""
        basename = _call(self.basename, self._instance)
        if filename is None and basename and isinstance(file_or_wfs, FileStorage):
            ext = extension_of(clean_filename(file_or_wfs.filename))
            filename = f"{basename}.{ext}" if ext else basename
        prefix = _call(self.upload_to, self._instance)
        return self.storage.upload_name(file_or_wfs, filename, prefix=prefix)

    def _owned(self) -> set[str]:
        return {self.filename} if self.filename else set()

    def _forget(self, keep: set[str]) -> None:
        """Delete the files this reference had and no longer has."""
        for name in self._owned() - keep:
            with contextlib.suppress(FileNotFound):  # already gone: nothing to do
                self.storage.delete(name)

    def save(
        self,
        wfs: FileStorage | IO[bytes] | None = None,
        filename: str | None = None,
        overwrite: bool | None = None,
        *,
        file_or_wfs: FileStorage | IO[bytes] | None = None,
    ) -> str:
        """Save a file (werkzeug ``FileStorage`` or binary file object) and reference it.

        ``file_or_wfs`` is another name for ``wfs``.
        """
        upload = wfs if wfs is not None else file_or_wfs
        if upload is None:
            raise TypeError("save() needs the file to save (wfs)")
        target = self._target_name(upload, filename)
        previous = self._owned()
        replace = True if target in previous else overwrite
        self.storage.write(target, _rewound(upload), overwrite=replace)
        self._forget(keep={target})
        self.filename = target
        self._mark_as_changed()
        return target

    def delete(self) -> None:
        """Delete the referenced file(s) and empty the reference."""
        self._forget(keep=set())
        self.filename = None
        self._mark_as_changed()


class ImageReference(FileReference):
    """Implements the ImageField interface: the image, its thumbnails, and a copy of the
    original when the image was resized or optimised."""

    def __init__(
        self,
        original: str | None = None,
        max_size: int | None = None,
        thumbnail_sizes: Sequence[int] | None = None,
        thumbnails: Mapping[str | int, str] | None = None,
        bbox: Sequence[int] | None = None,
        optimize: bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._original = original if original != self.filename else None
        self.max_size = max_size
        self.thumbnail_sizes = list(thumbnail_sizes or ())
        self.thumbnails = {int(size): name for size, name in (thumbnails or {}).items()}
        self.bbox = tuple(bbox) if bbox else None
        self.optimize = optimize

    @property
    def original(self) -> str | None:
        """The name of the unmodified image. It is the file itself, or its ``-original`` copy
        when the image was resized or optimised."""
        return self._original or self.filename

    @original.setter
    def original(self, value: str | None) -> None:
        self._original = value if value != self.filename else None

    def to_mongo(self) -> dict[str, Any]:
        data: dict[str, Any] = {"filename": self.filename}
        if self._original:
            data["original"] = self._original
        if self.thumbnails:
            data["thumbnails"] = {str(size): name for size, name in self.thumbnails.items()}
        if self.bbox:
            data["bbox"] = list(self.bbox)
        return data

    def _owned(self) -> set[str]:
        return (
            super()._owned()
            | ({self._original} if self._original else set())
            | set(self.thumbnails.values())
        )

    def _should_optimize(self) -> bool:
        if self.optimize is not None:
            return self.optimize
        return bool(current_app.config.get("FS_IMAGES_OPTIMIZE", False))

    def save(  # type: ignore[override]
        self,
        file_or_wfs: FileStorage | IO[bytes],
        filename: str | None = None,
        bbox: Sequence[int] | None = None,
        overwrite: bool | None = None,
    ) -> str:
        """Save an image: the image (fitted within ``max_size``, optimised), every thumbnail,
        and the original untouched (as a ``-original`` copy when the image was changed).

        :param bbox: ``(left, top, right, bottom)``: the region thumbnails are cut from.
        """
        target = self._target_name(file_or_wfs, filename)
        data = _rewound(file_or_wfs).read()
        self.bbox = tuple(bbox) if bbox else None
        self._store(data, target, overwrite)
        return target

    def _store(
        self, data: bytes, target: str, overwrite: bool | None, rerender: bool = False
    ) -> None:
        """Render every derived image first (bad input stores nothing), then write them; if a
        write fails, the files it had written are deleted again."""
        rendered = render(
            data,
            max_size=self.max_size,
            thumbnails=self.thumbnail_sizes,
            bbox=self.bbox,
            optimize=self._should_optimize(),
            filename=target,
        )
        stem, ext = posixpath.splitext(target)
        changed = rendered.main != data  # resized or optimised: the original needs a copy
        kept = self._original if rerender else None  # the copy rerendering reads from
        original = (kept or f"{stem}-original{ext}") if changed else None
        thumbnails = {size: f"{stem}-{size}{ext}" for size in rendered.thumbnails}
        outputs: dict[str, bytes] = {}
        if original and original != kept:  # the original is never rewritten
            outputs[original] = data
        if not rerender or changed or self._original:
            outputs[target] = rendered.main
        outputs.update({thumbnails[size]: content for size, content in rendered.thumbnails.items()})
        self._write_all(outputs, overwrite)
        keep = {target, *thumbnails.values(), *([original] if original else [])}
        self._forget(keep)
        self.filename, self._original, self.thumbnails = target, original, thumbnails
        self._mark_as_changed()

    def _write_all(self, outputs: Mapping[str, bytes], overwrite: bool | None) -> None:
        previous = self._owned()
        written: list[str] = []
        try:
            for name, content in outputs.items():
                replace = True if name in previous else overwrite
                self.storage.write(name, content, overwrite=replace)
                written.append(name)
        except BaseException:
            for name in written:
                if name not in previous:
                    with contextlib.suppress(FSError):
                        self.storage.delete(name)
            raise

    def render(self) -> None:
        """Rerender every derived image from the original, with the current sizes and
        optimisation; the original stays untouched."""
        if not self.original or not self.filename:
            return
        self._store(self.storage.read(self.original), self.filename, True, rerender=True)

    rerender = render

    def thumbnail(self, size: int) -> str | None:
        """The thumbnail filename for a registered size.

        :raises ValueError: if ``size`` is not one of the field's thumbnail sizes.
        """
        size = int(size)
        if size not in self.thumbnail_sizes and size not in self.thumbnails:
            known = sorted({*self.thumbnail_sizes, *self.thumbnails})
            raise ValueError(
                f"thumbnail size {size} is not a registered size "
                f"(registered: {', '.join(map(str, known)) or 'none'})"
            )
        return self.thumbnails.get(size)

    def best_url(self, size: int | None = None, external: bool = False) -> str | None:
        """The URL of the smallest image at least ``size`` pixels: a thumbnail when one is, else
        the main image."""
        if not self.filename:
            return None
        name = self.filename
        if size is not None:
            larger = sorted(s for s in self.thumbnails if s >= size)
            if larger:
                name = self.thumbnails[larger[0]]
        return self.storage.url(name, external=external)

    def full(self, external: bool = False) -> str | None:
        """The URL of the main image."""
        return self.storage.url(self.filename, external=external) if self.filename else None

    def __call__(self, size: int | None = None, external: bool = False) -> str | None:
        return self.best_url(size, external)


class FileField(BaseField):  # type: ignore[misc]
    """Store reference to files in a given storage."""

    proxy_class: type[FileReference] = FileReference

    def __init__(
        self,
        fs: Storage | None = None,
        upload_to: NameFactory = None,
        basename: NameFactory = None,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        self.fs = fs
        self.upload_to = upload_to
        self.basename = basename
        super().__init__(*args, **kwargs)

    def proxy_options(self) -> dict[str, Any]:
        """What every reference of this field is made with."""
        return {"fs": self.fs, "upload_to": self.upload_to, "basename": self.basename}

    def __get__(self, instance: Any, owner: Any) -> Any:
        if instance is None:
            return self
        value = instance._data.get(self.name)
        if not isinstance(value, self.proxy_class):
            value = self.to_python(value)
            instance._data[self.name] = value
        value._instance = instance
        value._name = self.name
        return value

    def __set__(self, instance: Any, value: Any) -> None:
        super().__set__(instance, value if value is None else self.to_python(value))

    def to_python(self, value: Any) -> Any:
        if isinstance(value, self.proxy_class):
            return value
        if isinstance(value, str):  # a name assigned to the field: the file it names
            value = {"filename": value}
        stored = dict(value) if isinstance(value, Mapping) else {}
        return self.proxy_class(**self.proxy_options(), **stored)

    def to_mongo(self, value: Any) -> Any:
        if not value:
            return None
        return value.to_mongo()

    def validate(self, value: Any) -> None:
        if value and not isinstance(value, self.proxy_class):
            self.error(f"{type(value).__name__} is not a {self.proxy_class.__name__}")


class ImageField(FileField):
    """Store reference to images in a given storage.

    Thumbnails and a resized image are made automatically; the original always stays untouched.

    :param max_size: the main image is fitted within ``max_size``x``max_size``
    :param thumbnails: the square thumbnail sizes to make
    :param optimize: whether images are optimised (default: ``FS_IMAGES_OPTIMIZE``)
    """

    proxy_class = ImageReference

    def __init__(
        self,
        max_size: int | None = None,
        thumbnails: Sequence[int] | None = None,
        optimize: bool | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        self.max_size = max_size
        self.thumbnail_sizes = list(thumbnails or ())
        self.optimize = optimize
        super().__init__(*args, **kwargs)

    def proxy_options(self) -> dict[str, Any]:
        return {
            **super().proxy_options(),
            "max_size": self.max_size,
            "thumbnail_sizes": self.thumbnail_sizes,
            "optimize": self.optimize,
        }

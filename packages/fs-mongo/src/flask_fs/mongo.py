"""mongoengine fields that keep files in a flask-fs storage (fs-mongo).

A document stores a small reference (the file's name, and for images the original's and the
thumbnails' names); the bytes live in the storage. The references are
:mod:`flask_fs.fields`'s, shared with fs-sqlalchemy. Replacing or deleting a document's file
deletes the files it no longer references.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from importlib.metadata import version
from typing import Any

from mongoengine.base import BaseField

from flask_fs import Storage, fields
from flask_fs.fields import NameFactory

__version__ = version("fs-mongo")


class FileReference(fields.FileReference):
    """Implements the FileField interface: a file of a storage, referenced by a document.

    Replacing or deleting the file deletes the files it no longer references at once.
    """

    def to_mongo(self) -> dict[str, Any]:
        return self.to_dict()

    def _changed(self) -> None:
        if self._instance is not None and self._name:
            self._instance._mark_as_changed(self._name)


class ImageReference(fields.ImageReference, FileReference):
    """Implements the ImageField interface: the image, its thumbnails, and a copy of the
    original when the image was resized or optimised."""


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

"""File and image references: what an ORM field's value is, whatever the ORM (fs-images).

A record stores a small reference (the file's name, for images the original's and the
thumbnails' names, the crop box, a checksum); the bytes live in a flask-fs storage. The
references here hold everything that does not depend on the ORM: naming (``upload_to``,
``basename``), saving, rendering images, URLs. The ORM packages (fs-mongo, fs-sqlalchemy)
subclass them and fill in three hooks:

- ``_changed()``: the reference changed (mark the record dirty);
- ``_wrote(names)``: files were just written for this reference;
- ``_dropped(names)``: files the reference no longer refers to (by default they are deleted at
  once);

and set ``replaces_in_place`` to ``False`` when a file the record already
refers to must not be rewritten (then a new file gets a fresh name, see :func:`fresh_name`).
"""

from __future__ import annotations

import contextlib
import hashlib
import posixpath
import re
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import IO, Any, ClassVar

from flask import current_app
from werkzeug.datastructures import FileStorage

from flask_fs import Storage
from flask_fs.errors import FileExists, FileNotFound, FSError, InvalidFilename
from flask_fs.images import render
from flask_fs.names import clean_filename, extension_of
from flask_fs.streams import upload_stream
from flask_fs.transfers import HashingReader

NameFactory = str | Callable[[Any], str] | None

#: How many fresh names a save tries when the name it picked is taken (by another record, or a
#: concurrent save), before giving up with :class:`~flask_fs.errors.FileExists`.
FRESH_NAME_ATTEMPTS = 5


_FRESH_SUFFIX = re.compile(r"-[0-9a-f]{8}$")


def _call(value: NameFactory, instance: Any) -> str | None:
    return value(instance) if callable(value) else value


def _rewound(file_or_wfs: FileStorage | IO[bytes]) -> IO[bytes]:
    """The upload's stream, from its start: one upload can be saved into several fields."""
    stream = upload_stream(file_or_wfs)
    if stream.seekable():
        stream.seek(0)
    return stream


def fresh_name(name: str) -> str:
    """``name`` with a random suffix before its extension (``photo.png`` becomes
    ``photo-3f9a0c1b.png``): a name no file has yet, in all likelihood."""
    stem, ext = posixpath.splitext(name)
    stem = _FRESH_SUFFIX.sub("", stem)  # one suffix, not one more per replacement
    return f"{stem}-{secrets.token_hex(4)}{ext}"


class FileReference:
    """A file of a storage, referenced by a record (the ``FileField`` interface)."""

    #: Whether saving under a name the reference already has rewrites that file. An ORM whose
    #: changes can be rolled back sets it to ``False``: the new content gets a fresh name.
    replaces_in_place: ClassVar[bool] = True

    def __init__(
        self,
        fs: Storage | None = None,
        filename: str | None = None,
        upload_to: NameFactory = None,
        basename: NameFactory = None,
        instance: Any = None,
        name: str | None = None,
        checksum: str | None = None,
    ) -> None:
        self.fs = fs
        self.filename = filename
        self.upload_to = upload_to
        self.basename = basename
        self.checksum = checksum
        self._instance = instance
        self._name = name

    def __bool__(self) -> bool:
        return bool(self.filename)

    def __str__(self) -> str:
        return self.url or ""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.filename!r}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FileReference) and self.to_dict() == other.to_dict()

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

    def to_dict(self) -> dict[str, Any]:
        """What the record stores (without the checksum, which not every ORM keeps)."""
        return {"filename": self.filename}

    def names(self) -> set[str]:
        """Every file name this reference refers to."""
        return {self.filename} if self.filename else set()

    # -- the ORM's hooks -----------------------------------------------------------------------

    def _changed(self) -> None:
        """The reference changed: the ORM marks its record as modified."""

    def _wrote(self, names: Iterable[str]) -> None:
        """``names`` were just written for this reference."""

    def _dropped(self, names: Iterable[str]) -> None:
        """This reference no longer refers to ``names``: by default they are deleted now."""
        for name in names:
            with contextlib.suppress(FileNotFound):  # already gone: nothing to do
                self.storage.delete(name)

    # -- saving --------------------------------------------------------------------------------

    def _target_name(self, file_or_wfs: FileStorage | IO[bytes], filename: str | None) -> str:
        """The storage name to save under: ``upload_to`` / (``basename`` or name) + extension,
        checked by the storage as :meth:`Storage.save <flask_fs.Storage.save>` checks it (name,
        allowed extensions)."""
        basename = _call(self.basename, self._instance)
        if filename is None and basename and isinstance(file_or_wfs, FileStorage):
            ext = extension_of(clean_filename(file_or_wfs.filename))
            filename = f"{basename}.{ext}" if ext else basename
        prefix = _call(self.upload_to, self._instance)
        return self._unclaimed(self.storage.upload_name(file_or_wfs, filename, prefix=prefix))

    def _unclaimed(self, target: str) -> str:
        """``target``, or a fresh name if saving there would rewrite one of the reference's
        files when files are not replaced in place."""
        if not self.replaces_in_place and self._derived_names(target) & self.names():
            return fresh_name(target)
        return target

    def _derived_names(self, target: str) -> set[str]:
        """The names a save under ``target`` writes."""
        return {target}

    def _overwrite(self, name: str, overwrite: bool | None) -> bool | None:
        """Whether writing ``name`` may replace a file: one of ours, in place; another's, as
        asked (else as the storage says); never when files are not replaced in place."""
        if not self.replaces_in_place:
            return False
        return True if name in self.names() else overwrite

    def _retrying(self, target: str, write: Callable[[str], None]) -> str:
        """``write(target)``, and return the name written. When files are not replaced in place,
        a taken name (another record's file, a concurrent save) is not an error: ``write`` is
        tried again under fresh names."""
        attempts = 1 if self.replaces_in_place else FRESH_NAME_ATTEMPTS
        name = target
        for attempt in range(1, attempts + 1):
            try:
                write(name)
            except FileExists:
                if attempt == attempts:
                    raise
                name = fresh_name(target)
            else:
                break
        return name

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
        checksums: dict[str, str | None] = {}

        def write(name: str) -> None:
            source = HashingReader(_rewound(upload))
            self.storage.write(name, source, overwrite=self._overwrite(name, overwrite))  # type: ignore[arg-type]
            digest = source.hexdigest()
            checksums[name] = f"sha256:{digest}" if digest else None

        target = self._retrying(self._target_name(upload, filename), write)
        self._wrote([target])
        self._dropped(self.names() - {target})
        self.filename, self.checksum = target, checksums[target]
        self._changed()
        return target

    def delete(self) -> None:
        """Delete the referenced file(s) and empty the reference."""
        self._dropped(self.names())
        self.filename = self.checksum = None
        self._changed()


class ImageReference(FileReference):
    """An image, its thumbnails, and a copy of the original when the image was resized or
    optimised (the ``ImageField`` interface)."""

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

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"filename": self.filename}
        if self._original:
            data["original"] = self._original
        if self.thumbnails:
            data["thumbnails"] = {str(size): name for size, name in self.thumbnails.items()}
        if self.bbox:
            data["bbox"] = list(self.bbox)
        return data

    def names(self) -> set[str]:
        return (
            super().names()
            | ({self._original} if self._original else set())
            | set(self.thumbnails.values())
        )

    def _derived_names(self, target: str) -> set[str]:
        stem, ext = posixpath.splitext(target)
        sizes = {*self.thumbnail_sizes, *self.thumbnails}
        return {target, f"{stem}-original{ext}", *(f"{stem}-{size}{ext}" for size in sizes)}

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
        :returns: the image's name in the storage.
        """
        target = self._target_name(file_or_wfs, filename)
        data = _rewound(file_or_wfs).read()
        self.bbox = tuple(bbox) if bbox else None
        return self._store(data, target, overwrite)

    def _store(
        self, data: bytes, target: str, overwrite: bool | None, rerender: bool = False
    ) -> str:
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
        changed = rendered.main != data  # resized or optimised: the original needs a copy
        kept = self._original if rerender else None  # the copy rerendering reads from
        written: dict[str, Any] = {}

        def write(name: str) -> None:
            stem, ext = posixpath.splitext(name)
            original = (kept or f"{stem}-original{ext}") if changed else None
            thumbnails = {size: f"{stem}-{size}{ext}" for size in rendered.thumbnails}
            outputs: dict[str, bytes] = {}
            if original and original != kept:  # the original is never rewritten
                outputs[original] = data
            if name != self.filename or not rerender or changed or self._original:
                outputs[name] = rendered.main
            outputs.update({thumbnails[size]: rendered.thumbnails[size] for size in thumbnails})
            self._write_all(outputs, overwrite)
            written.update(outputs=outputs, original=original, thumbnails=thumbnails)

        target = self._retrying(target, write)
        original, thumbnails = written["original"], written["thumbnails"]
        self._wrote(written["outputs"])
        self._dropped(
            self.names() - {target, *thumbnails.values(), *([original] if original else [])}
        )
        self.filename, self._original, self.thumbnails = target, original, thumbnails
        self.checksum = f"sha256:{hashlib.sha256(rendered.main).hexdigest()}"
        self._changed()
        return target

    def _write_all(self, outputs: Mapping[str, bytes], overwrite: bool | None) -> None:
        previous = self.names()
        written: list[str] = []
        try:
            for name, content in outputs.items():
                self.storage.write(name, content, overwrite=self._overwrite(name, overwrite))
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
        data = self.storage.read(self.original)
        self._store(data, self._unclaimed(self.filename), True, rerender=True)

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

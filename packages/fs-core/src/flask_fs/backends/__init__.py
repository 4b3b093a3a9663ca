"""The backend contract (:class:`BaseBackend`) and the registry of installed backends.

Backends are found through the ``fs.backend`` entry-point group, ours and third parties' alike:
fs-core never imports a backend by name.
"""

from __future__ import annotations

import io
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib.metadata import entry_points
from pkgutil import extend_path
from typing import IO, TYPE_CHECKING, Any, ClassVar, TypedDict

from werkzeug.datastructures import FileStorage

from ..config import Config
from ..errors import BackendNotFound, FileExists, FileNotFound, OperationNotSupported
from ..folders import check_folders as check_folders_of
from ..legacy_backends import adapt_legacy_backend, is_legacy_backend
from ..modes import OPEN_MODES, OpenMode, check_mode, replaces
from ..serving import send_stream
from ..settings import apply_settings
from ..streams import TextWriter, copy_stream, sha256_hex, upload_stream

if TYPE_CHECKING:
    from werkzeug.wrappers import Response

    from .direct import StoreUploads

# Backends from other distributions (fs-local, fs-s3, ...) install modules into this package.
__path__ = extend_path(__path__, __name__)

ENTRY_POINT_GROUP = "fs.backend"

#: How to install each of our backends.
INSTALL_HINTS = {
    "local": "pip install flask-fs (or fs-local)",
    "s3": "pip install flask-fs[s3]",
    "gridfs": "pip install flask-fs[gridfs]",
    "swift": "pip install flask-fs[swift]",
}


class Metadata(TypedDict):
    """What :meth:`BaseBackend.metadata` returns."""

    checksum: str  #: ``"algo:hexdigest"`` of the content, e.g. ``"sha256:9f86..."``
    size: int  #: in bytes
    mime: str  #: the content type
    modified: datetime  #: last modification, timezone-aware (UTC)


@dataclass(frozen=True)
class FileInfo:
    """A file as a listing describes it: what ``Storage.list_files(details=True)`` yields.

    Built from the listing itself (no request per file), so it holds what the store lists:
    ``checksum`` only where the listing carries the SHA-256, ``mime`` where it carries a type
    or one is guessed from the name.
    """

    name: str  #: the file's name in the storage
    size: int  #: in bytes
    modified: datetime  #: last modification, timezone-aware (UTC)
    checksum: str | None = None  #: ``"sha256:<hex>"`` when the listing has it
    mime: str | None = None  #: the content type, when known


class BaseBackend(ABC):
    """Abstract class to implement a backend.

    A backend gets its storage's ``name`` and its ``config``: the declared :attr:`settings` the
    caller omitted take their defaults, and every value is coerced to its declared type. Every
    name it receives has already been validated by :func:`flask_fs.names.validate_name`.

    Required: :meth:`exists`, :meth:`open_read`, :meth:`open_write`, :meth:`delete`,
    :meth:`list_files`, :meth:`metadata`. Everything else has a streaming default that a
    backend may override for speed (:meth:`list_details` above all). A backend written to the
    0.4.0 manual (``exists``, ``open``, ``read``, ``write``, ``delete``, ``save``, ``serve``)
    works too: what it lacks is derived from what it implements (see
    :mod:`flask_fs.legacy_backends`).
    """

    #: The settings this backend accepts (lower-case keys), each declared with a
    #: ``Setting`` (see :mod:`flask_fs.settings`) or as a plain default value. Any other
    #: ``{NAME}_FS_*`` or ``FS_{BACKEND}_*`` key is a configuration error, unless the backend
    #: declares no settings: it then receives them all.
    settings: ClassVar[Mapping[str, Any]] = {}

    #: Whether a storage of this backend refuses a name that is both a file and a folder when
    #: its ``CHECK_FOLDERS`` setting is not set (see :mod:`flask_fs.folders`). Off by default:
    #: on object stores the check costs requests on every write.
    checks_folders_by_default: ClassVar[bool] = False

    def __init__(self, name: str, config: Mapping[str, Any]) -> None:
        self.name = name
        self.config = Config(apply_settings(name, self.settings, config))

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if is_legacy_backend(cls):
            adapt_legacy_backend(cls)

    # -- required ------------------------------------------------------------------------------

    @abstractmethod
    def exists(self, filename: str) -> bool:
        """Whether a file exists under exactly this name."""

    @abstractmethod
    def open_read(self, filename: str) -> IO[bytes]:
        """A binary stream of the file.

        :raises ~flask_fs.errors.FileNotFound: if it does not exist.
        """

    @abstractmethod
    def open_write(self, filename: str, overwrite: bool = False) -> IO[bytes]:
        """A binary write stream, published on ``close()`` and dropped if the ``with`` fails.

        With ``overwrite=False``, publishing raises :class:`~flask_fs.errors.FileExists` if the
        name exists: the file system or the server checks it at publish time, not beforehand.
        """

    @abstractmethod
    def delete(self, filename: str) -> None:
        """Delete exactly this file.

        :raises ~flask_fs.errors.FileNotFound: if it does not exist.
        """

    @abstractmethod
    def list_files(self, prefix: str = "") -> Iterator[str]:
        """Yield the names of every file whose name starts with ``prefix``."""

    @abstractmethod
    def metadata(self, filename: str) -> Metadata:
        """Size, checksum, content type and modification time of a file."""

    # -- with defaults -------------------------------------------------------------------------

    def list_details(self, prefix: str = "") -> Iterator[FileInfo]:
        """A :class:`FileInfo` of every file whose name starts with ``prefix``.

        The default is :meth:`list_files` and a :meth:`metadata` call per name: correct, but a
        request (or a read) per file. A backend whose listing carries sizes and dates (object
        stores, a directory walk, a database query) should override it to build them from the
        listing alone. A file deleted between the listing and its metadata is left out.
        """
        for name in self.list_files(prefix):
            try:
                meta = self.metadata(name)
            except FileNotFound:
                continue
            yield FileInfo(
                name=name,
                size=meta["size"],
                modified=meta["modified"],
                checksum=meta["checksum"],
                mime=meta["mime"],
            )

    def open(
        self, filename: str, mode: str = "r", overwrite: bool | None = None, **kwargs: Any
    ) -> IO[Any]:
        """Open a file: ``r``/``rb`` read, ``w``/``wb`` replace, ``x``/``xb`` create only.

        Text modes take ``encoding`` (UTF-8 by default), ``errors`` and ``newline``. A file
        opened for writing is published when it is closed; in ``x`` mode (or with
        ``overwrite=False``) publishing raises :class:`~flask_fs.errors.FileExists` if the name
        exists by then.
        """
        check_mode(mode)
        if mode.startswith("r"):
            stream = self.open_read(filename)
            if "b" in mode:
                return stream
            return io.TextIOWrapper(stream, **_text_options(kwargs))
        writer = self.open_write(filename, overwrite=replaces(mode, overwrite))
        if "b" in mode:
            return writer
        return TextWriter(writer, **_text_options(kwargs))

    def refuse_existing(
        self, filename: str, overwrite: bool = False, exists: bool | None = None
    ) -> None:
        """The early answer of a create-only write: :class:`~flask_fs.errors.FileExists` before
        any data is sent when the name is taken (``exists``, if the caller already knows, else
        :meth:`exists`). It is only early: publishing is what enforces create-only."""
        if overwrite:
            return
        if exists is None:
            exists = self.exists(filename)
        if exists:
            raise FileExists.of(filename, self.name)

    def read(self, filename: str) -> bytes:
        """The whole content of a file."""
        with self.open_read(filename) as f:
            return f.read()

    def write(
        self, filename: str, content: bytes | str | IO[bytes], overwrite: bool = True
    ) -> None:
        """Write ``content`` into a file, replacing it unless ``overwrite=False``.

        ``content`` is bytes, str (written as UTF-8) or a binary file object (streamed).
        """
        if is_stream(content):
            self.save(content, filename, overwrite=overwrite)  # type: ignore[arg-type]
        else:
            self.write_bytes(filename, self.as_binary(content), overwrite=overwrite)

    def write_checked(
        self,
        filename: str,
        content: bytes | str | IO[bytes],
        overwrite: bool,
        check_folders: bool | None,
    ) -> None:
        """What :meth:`Storage.write <flask_fs.Storage.write>` calls: refuse a folder conflict
        when ``check_folders`` (the storage's ``CHECK_FOLDERS``; ``None``: the backend's default,
        see :mod:`flask_fs.folders`), then :meth:`write`. A backend whose write tells conflicts
        apart at no extra cost may override it to skip the separate check."""
        check_folders_of(self, check_folders, filename)
        self.write(filename, content, overwrite=overwrite)

    def write_bytes(self, filename: str, data: bytes, overwrite: bool = True) -> None:
        """Write ``data`` into a file: the hook :meth:`write` calls for content in memory."""
        with self.open_write(filename, overwrite=overwrite) as f:
            f.write(data)

    def save(
        self, file_or_wfs: IO[bytes] | FileStorage, filename: str, overwrite: bool = False
    ) -> str:
        """Stream a file object or a werkzeug ``FileStorage`` into ``filename``.

        :raises ~flask_fs.errors.FileExists: when the file exists and ``overwrite`` is False.
        """
        with self.open_write(filename, overwrite=overwrite) as f:
            copy_stream(upload_stream(file_or_wfs), f)
        return filename

    def save_checked(
        self,
        file_or_wfs: IO[bytes] | FileStorage,
        filename: str,
        overwrite: bool,
        check_folders: bool | None,
    ) -> str:
        """What :meth:`Storage.save <flask_fs.Storage.save>` calls: the folder check of
        :meth:`write_checked`, then :meth:`save`; a backend may override it likewise."""
        check_folders_of(self, check_folders, filename)
        return self.save(file_or_wfs, filename, overwrite=overwrite)

    def copy(self, filename: str, target: str, overwrite: bool = False) -> None:
        """Copy a file within this storage (streaming; object stores copy server-side)."""
        with self.open_read(filename) as source:
            self.save(source, target, overwrite=overwrite)

    def move(self, filename: str, target: str, overwrite: bool = False) -> None:
        """Move a file within this storage: a copy, then the source is deleted."""
        self.copy(filename, target, overwrite=overwrite)
        self.delete(filename)

    def serve(self, filename: str) -> Response:
        """A streamed response with Range, ETag and Last-Modified support."""
        meta = self.metadata(filename)
        return send_stream(
            self.open_read(filename),
            name=filename,
            size=meta["size"],
            mime=meta["mime"],
            etag=meta["checksum"].partition(":")[2],
            modified=meta["modified"],
        )

    def content_sha256(self, filename: str) -> str:
        """The SHA-256 (hex) of a file, read through :meth:`open_read`: for a file whose backend
        stored no checksum, such as one written by another tool."""
        with self.open_read(filename) as f:
            return sha256_hex(f)

    def sweep(self, older_than: float, remove: bool = True) -> Iterator[str]:
        """Yield (and, if ``remove``, delete) what interrupted writes left behind.

        Temporary files, multipart parts, segments or chunks that no file refers to and that are
        older than ``older_than`` seconds: a write killed with its process, or whose server went
        away before it could clean up. Yields one line describing each. The default has nothing
        to sweep.
        """
        return iter(())

    def diagnose(self) -> Iterator[str]:
        """Yield findings about what the storage holds, for ``flask fs check``: for example
        files flask-fs cannot address, or leftovers of other tools. The default finds nothing."""
        return iter(())

    def folder_conflict(self, filename: str) -> str | None:
        """What keeps ``filename`` from being written as a file: one of its folders that is a
        file (``"f"`` for ``"f/x"``), or ``"d/"`` when ``filename`` is the folder ``d``; None if
        nothing does. The default costs an :meth:`exists` per folder and one listing; a backend
        may answer it more cheaply."""
        parts = filename.split("/")
        for depth in range(1, len(parts)):
            folder = "/".join(parts[:depth])
            if self.exists(folder):
                return folder
        listing = iter(self.list_files(filename + "/"))
        try:
            return None if next(listing, None) is None else filename + "/"
        finally:
            close = getattr(listing, "close", None)
            if close is not None:
                close()

    def signed_url(
        self,
        filename: str,
        *,
        expires: timedelta | None = None,
        download_name: str | None = None,
        inline: bool | None = None,
    ) -> str | None:
        """A URL of the file that the store itself signs, valid for ``expires`` (``None``: the
        backend's configured expiry), answering with the ``Content-Disposition`` that
        :func:`~flask_fs.serving.content_disposition` gives for ``download_name`` and
        ``inline``; ``None`` when the backend does not sign URLs (the default)."""
        return None

    def direct_uploads(self) -> StoreUploads | None:
        """What lets browsers upload straight to the store (see :mod:`flask_fs.backends.direct`);
        ``None`` (the default): the application receives the uploads itself."""
        return None

    def set_cors(self, origins: list[str]) -> None:
        """Let browsers on ``origins`` (``"https://app.example"``, or ``"*"``) upload to the store
        and read from it directly (``flask fs cors``): ``PUT``, ``POST`` and ``GET``, the
        ``ETag`` header readable. The default cannot.

        :raises ~flask_fs.errors.OperationNotSupported: when the backend or its store cannot.
        """
        raise OperationNotSupported(f"the {type(self).__name__} cannot set CORS rules on its store")

    @property
    def has_signed_urls(self) -> bool:
        """Whether :meth:`signed_url` gives URLs (object stores, when so configured)."""
        return False

    def path(self, filename: str) -> str:
        """A local file system path: only backends with direct file access have one."""
        raise OperationNotSupported(f"the {type(self).__name__} has no local file paths")

    def as_binary(self, content: bytes | str | IO[Any], encoding: str = "utf8") -> bytes:
        """Perform content encoding for binary write: str is encoded, a file object read."""
        if is_stream(content):
            content = content.read()  # type: ignore[union-attr]
        if isinstance(content, str):
            return content.encode(encoding)
        if isinstance(content, bytes | bytearray | memoryview):
            return bytes(content)
        raise TypeError(f"cannot write {type(content).__name__}: give bytes, str or a file object")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


def is_stream(content: object) -> bool:
    """Whether write content is a file object rather than bytes or str."""
    return not isinstance(content, str | bytes | bytearray | memoryview) and hasattr(
        content, "read"
    )


def _text_options(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    options = {k: kwargs[k] for k in ("encoding", "errors", "newline") if k in kwargs}
    options.setdefault("encoding", "utf-8")
    return options


def _entry_points() -> dict[str, Any]:
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def available_backends() -> list[str]:
    """The names of every installed backend."""
    return sorted(_entry_points())


def get_backend_class(name: str) -> type[BaseBackend]:
    """The backend class registered as ``name``, loaded on demand."""
    eps = _entry_points()
    if name not in eps:
        installed = ", ".join(sorted(eps)) or "none"
        hint = INSTALL_HINTS.get(
            name, "install the package that provides it (it declares an 'fs.backend' entry point)"
        )
        raise BackendNotFound(
            f"backend {name!r} is not installed (installed: {installed}); to add it: {hint}"
        )
    cls = eps[name].load()
    if not (isinstance(cls, type) and issubclass(cls, BaseBackend)):
        raise BackendNotFound(f"entry point {name!r} of {ENTRY_POINT_GROUP!r} is not a BaseBackend")
    return cls


__all__ = [
    "ENTRY_POINT_GROUP",
    "OPEN_MODES",
    "BaseBackend",
    "FileInfo",
    "Metadata",
    "OpenMode",
    "available_backends",
    "get_backend_class",
]

"""The :class:`Storage`: one named set of files, whatever backend holds them."""

from __future__ import annotations

import functools
import inspect
import os
import posixpath
import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import IO, TYPE_CHECKING, Any, Literal, ParamSpec, TypeVar, cast, overload
from urllib.parse import quote, urlencode

from flask import Flask, Request, current_app, has_request_context, request
from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Response

from .backends import BaseBackend, FileInfo, Metadata
from .config import Config
from .errors import (
    BackendError,
    ConfigurationError,
    FSError,
    InvalidFilename,
    UnauthorizedFileType,
    describe_os_error,
)
from .extension import configure_storage
from .extensions import DEFAULTS, Extensions, contains_extension, normalize_extensions
from .folders import check_folders
from .links import view_url
from .names import clean_filename, extension_of, join_name, validate_name, validate_prefix
from .serving import harden, set_cache_control
from .signing import as_timedelta, grant
from .state import ConfiguredStorage, get_state
from .uploads.cleanup import is_staging, may_hold_staging, sweep_staging

if TYPE_CHECKING:
    from .state import FSState

__all__ = ["Config", "Storage"]

P = ParamSpec("P")
R = TypeVar("R")

Prefix = str | Callable[[], str] | None
#: ``upload_to``: a folder, or a callable taking the application (or nothing) that returns one.
UploadTo = str | Callable[[Flask], str] | Callable[[], str] | None

#: ``f(request, filename)``: the name a direct upload of ``filename`` gets, or ``None`` to refuse.
UploadAuthorizer = Callable[[Request, str], str | None]

_STORAGE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")

#: :meth:`Storage.sweep` leaves alone what is younger than this (seconds): a day, like the
#: usual "abort incomplete multipart uploads" lifecycle rule.
DEFAULT_SWEEP_AGE = 24 * 3600.0


def _wrap_os_errors(method: Callable[P, R]) -> Callable[P, R]:
    """Turn an ``OSError`` escaping a backend into a :class:`~flask_fs.errors.BackendError`."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except OSError as exc:
            storage = args[0]
            message = f"storage {storage.name!r}: {describe_os_error(exc)}"  # type: ignore[attr-defined]
            raise BackendError(message) from exc

    return wrapper


class Storage:
    """A single set of files, independent of the others.

    All configuration is stored on the application (found with :data:`flask.current_app`), so a
    storage declared once at import time can be used by several applications.

    :param name: The name of this storage; letters, digits, ``_`` and ``-``.
    :param extensions: The extensions uploads may have (e.g. ``TEXT + DOCUMENTS + IMAGES``),
        overridden by the ``{NAME}_FS_ALLOW`` and ``{NAME}_FS_DENY`` settings.
    :param upload_to: A folder that :meth:`save` puts files in, or a callable returning one:
        called with the application if it takes an argument, without one otherwise.
    :param overwrite: Whether existing files may be overwritten by default.
    """

    def __init__(
        self,
        name: str = "files",
        extensions: Extensions = DEFAULTS,
        upload_to: UploadTo = None,
        overwrite: bool = False,
    ) -> None:
        if not isinstance(name, str) or not _STORAGE_NAME.match(name):
            raise ConfigurationError(
                f"invalid storage name {name!r}: use letters, digits, '_' and '-'"
            )
        self.name = name
        self.extensions = normalize_extensions(extensions)
        self.upload_to = upload_to
        self.overwrite = overwrite
        #: The function that decides who may upload what directly (:meth:`authorize_uploads`).
        self.upload_authorizer: UploadAuthorizer | None = None

    def __repr__(self) -> str:
        return f"<Storage {self.name!r}>"

    # -- configuration -------------------------------------------------------------------------

    def configure(self, app: Flask) -> None:
        """Load this storage's configuration from ``app`` and instantiate its backend.

        Settings are looked up as ``{NAME}_FS_{KEY}``, then ``FS_{BACKEND}_{KEY}``, then the
        global ``FS_{KEY}``, then the backend's default (see :mod:`flask_fs.config`).

        :raises FSError: if ``app`` never went through :func:`~flask_fs.init_app`.
        """
        configure_storage(app, self)

    def _configured(self, state: FSState | None = None) -> ConfiguredStorage:
        state = state or get_state()
        configured = state.storages.get(self.name)
        if configured is None or configured.storage is not self:
            raise FSError(f"storage {self.name!r} is not initialised: pass it to init_app()")
        return configured

    @property
    def config(self) -> Config:
        """This storage's resolved settings for the current application."""
        return self._configured().config

    @property
    def backend(self) -> BaseBackend:
        """This storage's backend for the current application."""
        return self._configured().backend

    def _writable(self, filename: str) -> str:
        """``filename`` validated, and refused if it is a folder or inside a file when this
        storage checks folders (:mod:`flask_fs.folders`)."""
        filename = validate_name(filename)
        configured = self._configured()
        check_folders(configured.backend, configured.config.get("check_folders"), filename)
        return filename

    def _overwrite(self, overwrite: bool | None) -> bool:
        return self.overwrite if overwrite is None else overwrite

    # -- URLs ----------------------------------------------------------------------------------

    @property
    def _serving(self) -> bool:
        return get_state().serving

    @property
    def base_url(self) -> str | None:
        """The public, absolute URL of this storage's root (ending with ``/``), or ``None`` when
        it has none. For a served storage it needs a request context or ``SERVER_NAME``."""
        if self.config.url:
            return self._configured_url()
        if self._serving:
            # The route is /<fs>/<path:filename>: build it for a one-letter name and drop it.
            return view_url("fs.get_file", external=True, fs=self.name, filename="_")[:-1]
        return None

    def _configured_url(self) -> str:
        """The configured URL, with a trailing ``/``; one without a scheme
        (``somewhere.com/static``) gets the request's (else ``PREFERRED_URL_SCHEME``)."""
        url = str(self.config.url)
        if not url.endswith("/"):
            url += "/"
        if "://" in url:
            return url
        if has_request_context():
            scheme = request.scheme
        else:
            scheme = current_app.config.get("PREFERRED_URL_SCHEME") or "http"
        return f"{scheme}:{url}" if url.startswith("//") else f"{scheme}://{url}"

    @property
    def has_url(self) -> bool:
        """Whether this storage has a public URL."""
        return bool(self.config.url) or self._signs_by_default or self._serving

    def url(
        self,
        filename: str,
        external: bool = False,
        *,
        expires: float | timedelta | None = None,
        download_name: str | None = None,
        inline: bool | None = None,
    ) -> str | None:
        """The URL a file is (or would be) served at; ``None`` when the storage has no URL.

        Unsigned, in order: the configured ``URL``; the serving view's URL when ``FS_SERVE``
        is on. Signed when ``expires`` is given, when ``SIGNED_URLS`` is on (then for
        ``URL_EXPIRES``), or when a download name or disposition is asked: the store's own
        signed URL (S3, Swift), else the serving view's, signed with the application's secret
        key (under the configured ``URL`` if there is one: a CDN in front of the view).

        :param external: If True, an absolute URL (for the serving view).
        :param expires: How long the URL works: seconds or a :class:`~datetime.timedelta`.
        :param download_name: The name the browser saves the file under.
        :param inline: False to make the browser download the file; True to show it (active
            content, such as HTML or SVG, is never shown).
        :raises ConfigurationError: for a URL signed by the view without a ``SECRET_KEY``; for
            the view's URL outside a request without ``SERVER_NAME``.
        """
        if isinstance(filename, str) and filename.startswith("/"):
            filename = filename[1:]  # url("/a.txt") is url("a.txt"), as in 0.4.0
        filename = validate_name(filename)
        if expires is None and (
            download_name is not None or inline is not None or self._signs_by_default
        ):
            expires = self.config.url_expires
        if expires is not None:
            return self._signed_url(
                filename, as_timedelta(expires), download_name, inline, external
            )
        if self.config.url:
            return self._configured_url() + quote(filename)
        if self._serving:
            return view_url("fs.get_file", external=external, fs=self.name, filename=filename)
        return None

    @property
    def _signs_by_default(self) -> bool:
        return bool(self.config.get("signed_urls")) or self.backend.has_signed_urls

    def _signed_url(
        self,
        filename: str,
        expires: timedelta,
        download_name: str | None,
        inline: bool | None,
        external: bool,
    ) -> str:
        signed = self.backend.signed_url(
            filename, expires=expires, download_name=download_name, inline=inline
        )
        if signed:
            return signed
        query = grant(self.name, filename, expires, download_name, inline).query(current_app)
        if self.config.url:
            return f"{self._configured_url()}{quote(filename)}?{urlencode(query)}"
        return view_url("fs.get_file", external=external, fs=self.name, filename=filename, **query)

    # -- reading and writing -------------------------------------------------------------------

    @_wrap_os_errors
    def exists(self, filename: str) -> bool:
        """Whether a file exists."""
        return self.backend.exists(validate_name(filename))

    def __contains__(self, filename: str) -> bool:
        return self.exists(filename)

    @_wrap_os_errors
    def read(self, filename: str) -> bytes:
        """The content of a file; :class:`~flask_fs.errors.FileNotFound` if it does not exist."""
        return self.backend.read(validate_name(filename))

    @_wrap_os_errors
    def write(
        self, filename: str, content: bytes | str | IO[bytes], overwrite: bool | None = None
    ) -> str:
        """Write ``content`` (bytes, str or a binary file object) into a file.

        :raises FileExists: if the file exists and overwriting is not allowed.
        """
        filename = validate_name(filename)
        configured = self._configured()
        configured.backend.write_checked(
            filename, content, self._overwrite(overwrite), configured.config.get("check_folders")
        )
        return filename

    @_wrap_os_errors
    def open(
        self, filename: str, mode: str = "r", overwrite: bool | None = None, **kwargs: Any
    ) -> IO[Any]:
        """Open a file and return a file object.

        Modes follow Python's: ``r``/``rb`` read, ``w``/``wb`` replace the file, ``x``/``xb``
        create it only (:class:`~flask_fs.errors.FileExists` if it exists when the stream is
        closed). ``overwrite=False`` makes a ``w`` mode create-only too. A file opened for
        writing appears only when it is closed; if the ``with`` block raises, nothing is written.

        :raises FileNotFound: if reading a file that does not exist.
        """
        name = self._writable(filename) if mode[:1] in ("w", "x") else validate_name(filename)
        return self.backend.open(name, mode, overwrite=overwrite, **kwargs)

    @_wrap_os_errors
    def delete(self, filename: str) -> None:
        """Delete a file; :class:`~flask_fs.errors.FileNotFound` if it does not exist."""
        self.backend.delete(validate_name(filename))

    @overload
    def list_files(
        self, prefix: str | None = None, details: Literal[False] = False
    ) -> Iterator[str]: ...

    @overload
    def list_files(
        self, prefix: str | None = None, *, details: Literal[True]
    ) -> Iterator[FileInfo]: ...

    @overload
    def list_files(self, prefix: str | None, details: Literal[True]) -> Iterator[FileInfo]: ...

    @overload
    def list_files(
        self, prefix: str | None = None, details: bool = False
    ) -> Iterator[str] | Iterator[FileInfo]: ...

    def list_files(
        self, prefix: str | None = None, details: bool = False
    ) -> Iterator[str] | Iterator[FileInfo]:
        """Yield every file name in the storage (optionally only those under ``prefix``).

        With ``details=True``, yield a :class:`~flask_fs.FileInfo` (name, size, modification
        time, and checksum and type where known) of each file instead, built from the listing
        itself: on our backends it costs what the listing costs, not a request per file.
        """
        return cast("Iterator[str] | Iterator[FileInfo]", self._listing(prefix, details))

    def _listing(self, prefix: str | None, details: bool) -> Iterator[str | FileInfo]:
        start = validate_prefix(prefix) if prefix else ""
        backend = self.backend
        listing = backend.list_details(start) if details else backend.list_files(start)
        try:
            if may_hold_staging(start):
                for entry in listing:
                    if not is_staging(entry if isinstance(entry, str) else entry.name):
                        yield entry
            else:  # under another folder: nothing to leave out (a tenth of a fast listing)
                yield from listing
        except OSError as exc:
            raise BackendError(f"storage {self.name!r}: {describe_os_error(exc)}") from exc

    @_wrap_os_errors
    def sweep(
        self, older_than: float | timedelta = DEFAULT_SWEEP_AGE, remove: bool = True
    ) -> list[str]:
        """Delete what interrupted writes left behind (temporary files, multipart parts,
        segments, chunks, abandoned direct uploads) older than ``older_than`` (seconds or a
        ``timedelta``); return what was found, one line each. With ``remove=False`` nothing is
        deleted.

        Leave ``older_than`` longer than your longest upload: younger leftovers may belong to a
        write still running.
        """
        if isinstance(older_than, timedelta):
            older_than = older_than.total_seconds()
        if older_than < 0:
            raise FSError(f"storage {self.name!r}: sweep(older_than) cannot be negative")
        found = list(self.backend.sweep(float(older_than), remove=remove))
        return found + list(sweep_staging(self.backend, float(older_than), remove=remove))

    @_wrap_os_errors
    def metadata(self, filename: str) -> Metadata:
        """A file's ``checksum`` (``algo:hex``), ``size``, ``mime`` and ``modified`` time."""
        return self.backend.metadata(validate_name(filename))

    def path(self, filename: str) -> str:
        """The absolute local path of a file, which need not exist.

        :raises OperationNotSupported: when the backend has no direct file access.
        """
        return self.backend.path(validate_name(filename))

    @_wrap_os_errors
    def serve(self, filename: str) -> Response:
        """A response serving the file (Range, ETag and Last-Modified aware), with the
        storage's ``CACHE_CONTROL`` if it has one.

        Needs a request context: ranges and conditional headers come from the request.
        """
        if not has_request_context():
            raise FSError(f"storage {self.name!r}: serve() needs a request context")
        response = harden(self.backend.serve(validate_name(filename)))
        return set_cache_control(response, self.config.get("cache_control"))

    # -- copies --------------------------------------------------------------------------------

    @_wrap_os_errors
    def copy(
        self,
        filename: str,
        target: str | None = None,
        *,
        to: Storage | None = None,
        overwrite: bool | None = None,
    ) -> str:
        """Copy a file to ``target`` in this storage or in the storage ``to`` (streaming)."""
        source, target, destination = self._copy_args(filename, target, to)
        destination._writable(target)
        allow = destination._overwrite(overwrite)
        if destination is self:
            self.backend.copy(source, target, overwrite=allow)
        else:
            with self.backend.open_read(source) as stream:
                destination.backend.save(stream, target, overwrite=allow)
        return target

    @_wrap_os_errors
    def move(
        self,
        filename: str,
        target: str | None = None,
        *,
        to: Storage | None = None,
        overwrite: bool | None = None,
    ) -> str:
        """Move a file to ``target`` in this storage or in the storage ``to``."""
        source, target, destination = self._copy_args(filename, target, to)
        if destination is self:
            self._writable(target)
            self.backend.move(source, target, overwrite=self._overwrite(overwrite))
        else:
            self.copy(source, target, to=destination, overwrite=overwrite)
            self.backend.delete(source)
        return target

    def _copy_args(
        self, filename: str, target: str | None, to: Storage | None
    ) -> tuple[str, str, Storage]:
        source = validate_name(filename)
        destination = to or self
        target = validate_name(target) if target is not None else source
        if destination is self and target == source:
            raise InvalidFilename(f"cannot copy {source!r} onto itself")
        return source, target, destination

    # -- uploads -------------------------------------------------------------------------------

    def extension_allowed(self, ext: str) -> bool:
        """Whether files with this extension (without the dot, any case) may be uploaded."""
        config = self.config
        if contains_extension(normalize_extensions(config.deny or ()), ext):
            return False
        if contains_extension(normalize_extensions(config.allow or ()), ext):
            return True
        return contains_extension(self.extensions, ext)

    def file_allowed(self, storage: Any, basename: str) -> bool:
        """Whether ``storage`` (a ``FileStorage`` or file) may be saved as ``basename``.

        The default checks the extension only; override it to check more.
        """
        return self.extension_allowed(extension_of(basename))

    @_wrap_os_errors
    def save(
        self,
        file_or_wfs: FileStorage | IO[bytes],
        filename: str | None = None,
        prefix: Prefix = None,
        overwrite: bool | None = None,
    ) -> str:
        """Save a file or a werkzeug ``FileStorage``; return its name in the storage.

        :param filename: The name to save under. Optional with a ``FileStorage``, whose
            client-supplied name is then cleaned (see :func:`flask_fs.names.clean_filename`).
        :param prefix: A folder, or a callable returning one, under ``upload_to``.
        :param overwrite: Overrides the storage's default.
        :raises UnauthorizedFileType: if the file type is not allowed.
        :raises FileExists: if the file exists and overwriting is not allowed.
        """
        name = self.upload_name(file_or_wfs, filename, prefix)  # validated
        configured = self._configured()
        configured.backend.save_checked(
            file_or_wfs, name, self._overwrite(overwrite), configured.config.get("check_folders")
        )
        return name

    def upload_name(
        self,
        file_or_wfs: FileStorage | IO[bytes],
        filename: str | None = None,
        prefix: Prefix = None,
    ) -> str:
        """The name :meth:`save` would store ``file_or_wfs`` under, checked as it checks it.

        For code that stores uploads its own way (the mongoengine fields): the client's name is
        cleaned, the name validated, the file type checked (``file_allowed``) and the folders
        joined (``prefix`` under ``upload_to``). Nothing is written.

        :raises InvalidFilename: for an invalid name, or none.
        :raises UnauthorizedFileType: if the file type is not allowed.
        """
        if filename is None:
            if not isinstance(file_or_wfs, FileStorage):
                raise InvalidFilename(
                    "filename is required to save a file that is not a FileStorage"
                )
            filename = clean_filename(file_or_wfs.filename)
        else:
            filename = validate_name(filename)
        if not self.file_allowed(file_or_wfs, filename):
            ext = extension_of(filename)
            raise UnauthorizedFileType(
                f"storage {self.name!r} does not accept "
                f"{'.' + ext if ext else 'extension-less'} files"
            )
        if callable(prefix):
            prefix = prefix()
        return join_name(self._upload_folder(), join_name(prefix, filename))

    # -- direct uploads ------------------------------------------------------------------------

    def upload_target(
        self,
        filename: str,
        *,
        max_size: int | None = None,
        content_type: str | None = None,
        expires: float | timedelta | None = None,
        size: int | None = None,
        prefix: Prefix = None,
    ) -> dict[str, Any]:
        """Where a browser sends one file straight to the storage: a plain dict (JSON-ready).

        ``method``, ``url``, ``fields`` (a ``POST`` of ``multipart/form-data``, these fields
        then the file last) or ``headers`` (a ``PUT`` of the raw body); ``complete``: the URL
        to ``POST`` to once the body is sent (``None`` when the body's own answer completes the
        upload); ``filename`` (the name the file will have), ``max_size`` and ``expires`` (how
        many seconds the target works).

        The name is checked as :meth:`save` checks it (extension rules, ``upload_to`` and
        ``prefix``, name validation), and refused early if it exists and the storage does not
        overwrite. The store (S3, Swift) or the application (other backends) refuses more than
        ``max_size`` bytes; on completion the file's size (``== size`` when given) and type
        (its first bytes, against ``content_type`` and its name) are checked, a file that fails
        is removed. See :doc:`/uploads`.

        :param max_size: Bytes; default ``DIRECT_UPLOADS_MAX_SIZE`` (a default, not a ceiling:
            the application may sign a larger upload; browsers cannot choose it).
        :param content_type: The type the file must have.
        :param expires: How long the target works (seconds or a ``timedelta``); default
            ``DIRECT_UPLOADS_EXPIRES``.
        :param size: The exact size the browser says the file has.
        :raises UploadNotAllowed: when ``DIRECT_UPLOADS`` is off for this storage.
        :raises UnauthorizedFileType: if the file type is not allowed.
        :raises FileExists: if the file exists and overwriting is not allowed.
        :raises ConfigurationError: outside a request without ``SERVER_NAME``: the target's
            URLs (the application's routes) cannot be built.
        """
        from .uploads.targets import upload_target

        return upload_target(
            self,
            filename,
            max_size=max_size,
            content_type=content_type,
            expires=expires,
            size=size,
            prefix=prefix,
        )

    def authorize_uploads(self, function: UploadAuthorizer) -> UploadAuthorizer:
        """Register (as a decorator) the function that decides who may upload what through the
        uploads blueprint: called with the request and the requested name (cleaned), it returns
        the name to use (possibly another) or ``None`` to refuse (raising refuses too): 403.
        Without one, the blueprint answers 401 unless ``DIRECT_UPLOADS_ANONYMOUS`` is on."""
        self.upload_authorizer = function
        return function

    def _upload_folder(self) -> str | None:
        upload_to = self.upload_to
        if not callable(upload_to):
            return upload_to
        if _takes_an_argument(upload_to):
            return upload_to(current_app._get_current_object())  # type: ignore[attr-defined,call-arg]
        return upload_to()  # type: ignore[call-arg]

    def resolve_conflict(self, target_folder: str, basename: str) -> str:
        """A free ``basename`` in ``target_folder``: ``name_1.ext``, ``name_2.ext``...

        :param target_folder: The folder, relative to the storage (``""`` for its root), or,
            on a backend with paths, its absolute path inside the storage's root.
        :param basename: The file's original basename.
        """
        folder = self._relative_folder(target_folder)
        stem, ext = posixpath.splitext(basename)
        count = 0
        while True:
            count += 1
            candidate = f"{stem}_{count}{ext}"
            if not self.exists(join_name(folder, candidate)):
                return candidate

    def _relative_folder(self, folder: str) -> str:
        """A storage-relative folder from one that may be an absolute path under the root."""
        if not (isinstance(folder, str) and os.path.isabs(folder)):
            return folder
        root = os.path.dirname(self.path("_"))  # OperationNotSupported without paths
        relative = os.path.relpath(os.path.abspath(folder), root)
        if relative == os.curdir:
            return ""
        if relative == os.pardir or relative.startswith(os.pardir + os.sep):
            raise InvalidFilename(f"{folder!r} is outside the root of storage {self.name!r}")
        return relative.replace(os.sep, "/")


def _takes_an_argument(function: Callable[..., Any]) -> bool:
    """Whether ``function`` can be called with one positional argument."""
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):  # a builtin without a signature
        return False
    try:
        signature.bind(None)
    except TypeError:
        return False
    return True

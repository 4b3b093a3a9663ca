"""The local file system backend (fs-local).

Writes are atomic: data goes to a temporary file in the target's directory, which is then
published with ``os.replace`` (overwrite allowed) or ``os.link`` (create only: the file system
refuses an existing name, so concurrent writers cannot both win). Readers never see half a file.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import secrets
import stat
import time
from collections.abc import Iterator, Mapping
from datetime import datetime, timezone
from typing import IO, Any, ClassVar, cast

from flask import send_file
from werkzeug.wrappers import Response

from flask_fs.backends import BaseBackend, Metadata
from flask_fs.errors import (
    BackendError,
    FileExists,
    FileNotFound,
    InvalidFilename,
)
from flask_fs.names import TEMPORARY_PREFIX
from flask_fs.serving import download_options, guess_mime
from flask_fs.settings import Setting
from flask_fs.streams import CHUNK_SIZE, CommittingWriter

__version__ = "1.0.0"

_TEMP_PREFIX = TEMPORARY_PREFIX


def _stat_or_none(path: str) -> os.stat_result | None:
    try:
        return os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None


class LocalBackend(BaseBackend):
    """A local file system storage.

    Expect the following settings:

    - ``root``: The file system root (default ``{FS_ROOT}/{storage name}``).
    """

    settings: ClassVar[dict[str, Setting]] = {"root": Setting(str, required=True)}

    def __init__(self, name: str, config: Mapping[str, Any]) -> None:
        super().__init__(name, config)
        self.root: str = os.path.abspath(self.config["root"])

    # -- names to paths ------------------------------------------------------------------------

    def path(self, filename: str) -> str:
        """Return the full path for a given filename in the storage.

        Symbolic links are followed: a name that leads outside the root is refused.
        """
        return self._lookup(filename)[0]

    def _lookup(self, filename: str) -> tuple[str, os.stat_result | None]:
        """The path of ``filename`` and its ``lstat`` (``None`` if it does not exist).

        Only a symlink below the root can lead out of it, so each existing component is
        lstat-ed (cheaper than resolving the whole path on every operation) and the path is
        resolved only when one of them is a link.
        """
        current = self.root
        info: os.stat_result | None = None
        missing = False
        for part in filename.split("/"):
            current += os.sep + part
            if missing:
                continue  # below a missing component nothing exists, so no link either
            try:
                info = os.lstat(current)
            except (FileNotFoundError, NotADirectoryError):
                info, missing = None, True
                continue
            if stat.S_ISLNK(info.st_mode):
                path = self.root + os.sep + filename.replace("/", os.sep)
                return self._resolved_inside(path, filename), _stat_or_none(path)
        return current, info

    def _resolved_inside(self, path: str, filename: str) -> str:
        real_root = os.path.realpath(self.root)
        real = os.path.realpath(path)
        if not real.startswith(real_root + os.sep):
            raise InvalidFilename(
                f"{filename!r} resolves outside the root of storage {self.name!r}"
            )
        return path

    def _file_path(self, filename: str) -> str:
        path = self.path(filename)
        if not os.path.isfile(path):
            raise FileNotFound(f"{filename!r} not found in storage {self.name!r}")
        return path

    # -- required operations -------------------------------------------------------------------

    def exists(self, filename: str) -> bool:
        info = self._lookup(filename)[1]
        return info is not None and stat.S_ISREG(info.st_mode)

    def open_read(self, filename: str) -> IO[bytes]:
        try:
            return open(self.path(filename), "rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise FileNotFound(f"{filename!r} not found in storage {self.name!r}") from None

    def open_write(self, filename: str, overwrite: bool = False) -> IO[bytes]:
        target, info = self._lookup(filename)
        if not overwrite and info is not None:
            # An early answer, before any data is sent; the link at commit is what enforces it.
            raise FileExists(f"{filename!r} already exists in storage {self.name!r}")
        directory = os.path.dirname(target)
        temp = os.path.join(directory, _TEMP_PREFIX + secrets.token_hex(8))
        # "xb" like open() does: the umask applies, so files get the usual permissions.
        try:
            raw = open(temp, "xb")  # noqa: SIM115 - closed by the CommittingWriter
        except FileNotFoundError:  # first file in this folder
            self._make_parents(target, filename)
            raw = open(temp, "xb")  # noqa: SIM115
        except NotADirectoryError:
            raise self._parent_is_a_file(filename) from None

        def commit() -> None:
            self._publish(temp, target, filename, overwrite)

        def discard() -> None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)

        return cast("IO[bytes]", CommittingWriter(raw, commit, discard, name=filename))

    def delete(self, filename: str) -> None:
        path = self._file_path(filename)
        try:
            os.unlink(path)
        except FileNotFoundError:
            raise FileNotFound(f"{filename!r} not found in storage {self.name!r}") from None
        self._prune_empty_parents(os.path.dirname(path))

    def list_files(self, prefix: str = "") -> Iterator[str]:
        folder, _, _ = prefix.rpartition("/")
        start = self.path(folder) if folder else self.root
        if not os.path.isdir(start):
            return
        for dirpath, dirnames, filenames in os.walk(start):
            dirnames.sort()
            rel = os.path.relpath(dirpath, self.root)
            base = "" if rel == "." else rel.replace(os.sep, "/") + "/"
            whole_folder = base.startswith(prefix)  # else only some names match the prefix
            for filename in sorted(filenames):
                if filename.startswith(_TEMP_PREFIX):
                    continue
                if whole_folder or (base + filename).startswith(prefix):
                    yield base + filename
            if not whole_folder:  # the top folder: descend only where names can match
                dirnames[:] = [d for d in dirnames if (base + d).startswith(prefix)]

    def metadata(self, filename: str) -> Metadata:
        path = self._file_path(filename)
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            stat = os.fstat(f.fileno())
            while chunk := f.read(CHUNK_SIZE):
                digest.update(chunk)
        return Metadata(
            checksum=f"sha256:{digest.hexdigest()}",
            size=stat.st_size,
            mime=guess_mime(filename),
            modified=datetime.fromtimestamp(stat.st_mtime, tz=timezone.utc),
        )

    def sweep(self, older_than: float, remove: bool = True) -> Iterator[str]:
        """Delete the temporary files of writes that died with their process."""
        cutoff = time.time() - older_than
        for dirpath, _, filenames in os.walk(self.root):
            removed = False
            for filename in filenames:
                if not filename.startswith(_TEMP_PREFIX):
                    continue
                path = os.path.join(dirpath, filename)
                try:
                    info = os.lstat(path)
                    if info.st_mtime > cutoff:
                        continue  # a write may still be running
                    if remove:
                        os.unlink(path)
                        removed = True
                except FileNotFoundError:
                    continue  # published or discarded meanwhile
                relative = os.path.relpath(path, self.root).replace(os.sep, "/")
                yield f"temporary file {relative!r} ({info.st_size} bytes)"
            if removed:
                self._prune_empty_parents(dirpath)

    # -- faster than the defaults --------------------------------------------------------------

    def move(self, filename: str, target: str, overwrite: bool = False) -> None:
        source = self._file_path(filename)
        destination = self.path(target)
        self._make_parents(destination, target)
        self._publish(source, destination, target, overwrite)
        self._prune_empty_parents(os.path.dirname(source))

    def serve(self, filename: str) -> Response:
        """Serve files for storages with direct file access (werkzeug's ``send_file``)."""
        path = self._file_path(filename)
        mime = guess_mime(filename)
        return send_file(
            path, mimetype=mime, conditional=True, etag=True, max_age=None,
            **download_options(filename, mime),
        )  # fmt: skip

    # -- helpers -------------------------------------------------------------------------------

    def _make_parents(self, target: str, filename: str) -> str:
        directory = os.path.dirname(target)
        try:
            os.makedirs(directory, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise self._parent_is_a_file(filename) from None
        return directory

    def _parent_is_a_file(self, filename: str) -> InvalidFilename:
        return InvalidFilename(f"{filename!r}: a parent folder is a file in storage {self.name!r}")

    def _publish(self, source: str, target: str, filename: str, overwrite: bool) -> None:
        """Give the finished file ``source`` the name ``target``, atomically."""
        try:
            if overwrite:
                if os.path.isdir(target):
                    raise FileExists(f"{filename!r} is a folder in storage {self.name!r}")
                os.replace(source, target)
                return
            try:
                os.link(source, target)
            except FileExistsError:
                raise FileExists(f"{filename!r} already exists in storage {self.name!r}") from None
            except OSError as exc:
                if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EXDEV, errno.EMLINK):
                    raise
                self._rename_exclusive(source, target, filename)
                return
            os.unlink(source)
        except FileExists:
            raise
        except OSError as exc:
            raise BackendError(f"storage {self.name!r}: cannot write {filename!r}: {exc}") from exc

    def _rename_exclusive(self, source: str, target: str, filename: str) -> None:
        """For file systems without hard links: claim the name with O_EXCL, then replace it."""
        try:
            os.close(os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
        except FileExistsError:
            raise FileExists(f"{filename!r} already exists in storage {self.name!r}") from None
        os.replace(source, target)

    def _prune_empty_parents(self, directory: str) -> None:
        """Remove folders left empty by a delete or a move, up to (not including) the root."""
        root = self.root
        while directory != root and directory.startswith(root + os.sep):
            try:
                os.rmdir(directory)
            except OSError:
                return
            directory = os.path.dirname(directory)

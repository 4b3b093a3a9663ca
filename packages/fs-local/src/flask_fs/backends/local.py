"""The local file system backend (fs-local).

Writes are atomic: data goes to a temporary file in the target's directory, which is then
published with ``os.replace`` (overwrite allowed) or ``os.link`` (create only: the file system
refuses an existing name, so concurrent writers cannot both win). Readers never see half a file.

Each file's SHA-256 is recorded when it is written, so ``metadata()`` does not read it (see
:mod:`flask_fs.backends.local_checksums`).

Only regular files are files: links that stay inside the root lead to one, anything else (a
FIFO, a socket, a device, a link out of the root) is neither listed nor opened. Error messages
name files by their storage name, never by their path on the server.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import random
import stat
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timezone
from importlib.metadata import version
from typing import IO, Any, ClassVar, TypeVar, cast

from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Response

from flask_fs.atomic import publish_file, temporary_path
from flask_fs.backends import BaseBackend, FileInfo, Metadata, is_stream
from flask_fs.backends.local_checksums import (
    SIDECAR_FOLDER,
    ChecksumRecords,
    HashingFile,
    Record,
)
from flask_fs.errors import (
    BackendError,
    FileExists,
    FileNotFound,
    InvalidFilename,
    NameConflict,
    describe_os_error,
)
from flask_fs.folders import check_folders as check_folders_of
from flask_fs.names import TEMPORARY_PREFIX
from flask_fs.serving import guess_mime, send_stream
from flask_fs.settings import Setting
from flask_fs.streams import CHUNK_SIZE, CommittingWriter, copy_stream, upload_stream

__version__ = version("fs-local")

_TEMP_PREFIX = TEMPORARY_PREFIX

#: How many times a write creates its folders again when a delete that emptied them removes them
#: meanwhile (each delete prunes the folders it leaves empty).
_FOLDER_ATTEMPTS = 50

#: Opening never waits: a FIFO would block ``open`` until a writer comes.
_OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY
#: Reading a whole file at once: the lookup saw no link, and none swapped in meanwhile is followed.
_READ_FLAGS = _OPEN_FLAGS | os.O_NOFOLLOW | os.O_CLOEXEC
#: A temporary file, as ``open(temp, "xb")`` makes it (``O_EXCL`` never follows a link).
_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
#: Content in memory up to this size is written in one go (:meth:`LocalBackend.write_bytes`),
#: hashed on the caller's thread; larger content goes through the writer, hashed alongside.
_SMALL_WRITE_MAX = CHUNK_SIZE

T = TypeVar("T")


def _stat_or_none(path: str) -> os.stat_result | None:
    try:
        return os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None


def _inherits(backend: BaseBackend, methods: tuple[str, ...]) -> bool:
    """Whether ``backend`` has the local backend's own ``methods``."""
    return all(getattr(type(backend), name) is getattr(LocalBackend, name) for name in methods)


def _write_all(fd: int, data: bytes) -> None:
    written = os.write(fd, data)
    if written < len(data):
        view = memoryview(data)
        while written < len(data):
            written += os.write(fd, view[written:])


def _read_all(fd: int, size: int) -> bytes:
    """Everything ``fd`` holds, ``size`` bytes as its ``fstat`` said, or more if it grew."""
    data = os.read(fd, size + 1)
    if not data:
        return data
    more = []
    while chunk := os.read(fd, CHUNK_SIZE):
        more.append(chunk)
    return data + b"".join(more) if more else data


class LocalBackend(BaseBackend):
    """A local file system storage.

    Expect the following settings:

    - ``root``: The file system root (default ``{FS_ROOT}/{storage name}``).
    """

    settings: ClassVar[dict[str, Setting]] = {"root": Setting(str, required=True)}
    #: The file system cannot hold ``f`` and ``f/x``: say so with NameConflict, before writing.
    checks_folders_by_default = True

    def __init__(self, name: str, config: Mapping[str, Any]) -> None:
        super().__init__(name, config)
        self.root: str = os.path.abspath(self.config["root"])
        self.checksums = ChecksumRecords(self.root)
        # Small writes and whole reads go around the streams, unless a subclass changes them.
        self._direct_writes = _inherits(self, ("open_write", "write", "write_bytes"))
        self._direct_reads = _inherits(self, ("open_read",))
        self._direct_saves = _inherits(self, ("save",))

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

    def _plain_path(self, filename: str, whole: bool) -> tuple[str, os.stat_result | None] | None:
        """The path of ``filename`` when none of its folders is a link or a file: each existing
        one is ``lstat``-ed, as :meth:`_lookup` does, without resolving anything. With
        ``whole``, also the name's own ``lstat`` (``None`` if it does not exist), or None for a
        link. None otherwise: the general path (:meth:`_lookup`, the folder checks) decides."""
        folders, _, base = filename.rpartition("/")
        current = self.root
        if folders:
            for part in folders.split("/"):
                current += os.sep + part
                try:
                    mode = os.lstat(current).st_mode
                except FileNotFoundError:  # below a missing folder nothing exists
                    return self.root + os.sep + filename.replace("/", os.sep), None
                except NotADirectoryError:
                    return None
                if not stat.S_ISDIR(mode):
                    return None
        path = current + os.sep + base
        if not whole:
            return path, None
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            return path, None
        except NotADirectoryError:
            return None
        return None if stat.S_ISLNK(info.st_mode) else (path, info)

    def _resolved_inside(self, path: str, filename: str) -> str:
        if not self._leads_inside(path):
            raise InvalidFilename(
                f"{filename!r} resolves outside the root of storage {self.name!r}"
            )
        return path

    def _leads_inside(self, path: str) -> bool:
        return os.path.realpath(path).startswith(os.path.realpath(self.root) + os.sep)

    def _file_path(self, filename: str) -> str:
        path = self.path(filename)
        if not os.path.isfile(path):
            raise self._not_found(filename)
        return path

    def _not_found(self, filename: str) -> FileNotFound:
        return FileNotFound.of(filename, self.name)

    def _open_regular(self, filename: str) -> tuple[IO[bytes], os.stat_result]:
        """``filename`` opened for reading, and its ``fstat``: a regular file, or FileNotFound.

        The type is checked before opening, and again on what was opened (the name may have
        been replaced meanwhile); opening is non-blocking, so a FIFO cannot hang it.
        """
        path, info = self._lookup(filename)
        fd, opened = self._open_fd(filename, path, info, _OPEN_FLAGS)
        try:
            os.set_blocking(fd, True)
            return open(fd, "rb"), opened
        except BaseException:
            os.close(fd)
            raise

    def _open_fd(
        self, filename: str, path: str, info: os.stat_result | None, flags: int
    ) -> tuple[int, os.stat_result]:
        """A descriptor of the regular file at ``path`` (``info``: what its lookup saw), and
        its ``fstat``: FileNotFound for anything else, before or after opening."""
        if info is None or not stat.S_ISREG(info.st_mode):
            raise self._not_found(filename)
        try:
            fd = os.open(path, flags)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise self._not_found(filename) from None
        try:
            opened = os.fstat(fd)
            if not stat.S_ISREG(opened.st_mode):
                raise self._not_found(filename)
        except BaseException:
            os.close(fd)
            raise
        return fd, opened

    def _failure(self, verb: str, filename: str, exc: OSError) -> BackendError:
        return BackendError(
            f"storage {self.name!r}: cannot {verb} {filename!r}: {describe_os_error(exc)}"
        )

    # -- required operations -------------------------------------------------------------------

    def folder_conflict(self, filename: str) -> str | None:
        """Two ``stat`` calls: the name's folder (one that exists has no file among its
        folders) and the name itself (a folder?); the folders are walked only if that fails."""
        folder = filename.rpartition("/")[0]
        if folder and not os.path.isdir(os.path.join(self.root, folder)):
            return super().folder_conflict(filename)
        return filename + "/" if os.path.isdir(os.path.join(self.root, filename)) else None

    def exists(self, filename: str) -> bool:
        info = self._lookup(filename)[1]
        return info is not None and stat.S_ISREG(info.st_mode)

    def open_read(self, filename: str) -> IO[bytes]:
        return self._open_regular(filename)[0]

    def open_write(self, filename: str, overwrite: bool = False) -> IO[bytes]:
        target, info = self._lookup(filename)
        self.refuse_existing(filename, overwrite, exists=info is not None)
        temp = temporary_path(target)
        try:
            # "xb" like open() does: the umask applies, so files get the usual permissions.
            raw = self._in_folder(target, filename, lambda: open(temp, "xb"))  # noqa: SIM115
        except OSError as exc:
            raise self._failure("write", filename, exc) from exc
        hashing = HashingFile(raw)

        def commit() -> None:
            # The temporary file keeps its folder from being pruned until it is published.
            try:
                sidecar = self.checksums.record_unpublished(temp, hashing.record())
                self._publish(temp, target, filename, overwrite)
            except OSError as exc:
                raise self._failure("write", filename, exc) from exc
            if sidecar is not None:
                self.checksums.store_sidecar(filename, sidecar)

        def discard() -> None:
            hashing.digest.close()
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)

        raw_stream = cast("IO[bytes]", hashing)
        return cast("IO[bytes]", CommittingWriter(raw_stream, commit, discard, name=filename))

    def read(self, filename: str) -> bytes:
        """The whole file, by one descriptor opened without following a link: the lookup saw
        none, and one swapped in meanwhile makes the general path (:meth:`open_read`) decide."""
        found = self._plain_path(filename, whole=True) if self._direct_reads else None
        if found is None:
            return super().read(filename)
        path, info = found
        try:
            fd, opened = self._open_fd(filename, path, info, _READ_FLAGS)
        except OSError as exc:
            if exc.errno != errno.ELOOP:
                raise
            return super().read(filename)
        try:
            return _read_all(fd, opened.st_size)
        finally:
            os.close(fd)

    def write_checked(
        self,
        filename: str,
        content: bytes | str | IO[bytes],
        overwrite: bool,
        check_folders: bool | None,
    ) -> None:
        """Content in memory skips the separate folder check: the lookup of the write sees a
        conflict, and gives it to the check and the general path then."""
        if is_stream(content) or not self._direct_writes:
            super().write_checked(filename, content, overwrite, check_folders)
            return
        data = content if type(content) is bytes else self.as_binary(content)
        if not self._write_small(filename, data, overwrite):
            check_folders_of(self, check_folders, filename)
            super().write_bytes(filename, data, overwrite=overwrite)

    def write_bytes(self, filename: str, data: bytes, overwrite: bool = True) -> None:
        if not self._write_small(filename, data, overwrite):
            super().write_bytes(filename, data, overwrite=overwrite)

    def save(
        self, file_or_wfs: IO[bytes] | FileStorage, filename: str, overwrite: bool = False
    ) -> str:
        """An upload that two reads exhaust, up to 1 MiB, is written as :meth:`write_bytes`
        writes it; a larger one streams through the writer, from what those reads gave. A taken
        name is refused before anything is read, as :meth:`open_write` refuses it."""
        return self._save(file_or_wfs, filename, overwrite, check_folders=False)

    def save_checked(
        self,
        file_or_wfs: IO[bytes] | FileStorage,
        filename: str,
        overwrite: bool,
        check_folders: bool | None,
    ) -> str:
        """The lookup of :meth:`save` sees a folder conflict: the separate check is made then."""
        if not self._direct_saves:
            return super().save_checked(file_or_wfs, filename, overwrite, check_folders)
        return self._save(file_or_wfs, filename, overwrite, check_folders)

    def _save(
        self,
        file_or_wfs: IO[bytes] | FileStorage,
        filename: str,
        overwrite: bool,
        check_folders: bool | None,
    ) -> str:
        direct = self._direct_writes
        target = self._small_target(filename, overwrite, whole=True) if direct else None
        if target is None:  # a link, a conflict or a taken name on the way: the general path
            check_folders_of(self, check_folders, filename)
            return super().save(file_or_wfs, filename, overwrite=overwrite)
        stream = upload_stream(file_or_wfs)
        read = getattr(stream, "read1", stream.read)
        head = read(CHUNK_SIZE)
        rest = read(CHUNK_SIZE) if head else b""
        if not rest and self._write_at(target, filename, head, overwrite):
            return filename
        with self.open_write(filename, overwrite=overwrite) as f:
            f.write(head)
            if rest:
                f.write(rest)
                copy_stream(stream, f)
        return filename

    def _write_small(self, filename: str, data: bytes, overwrite: bool) -> bool:
        """Write ``data`` in one go (:meth:`_write_at`); False, with nothing written, when it is
        large, or when a link, a conflict or a taken name needs the general path's verdict."""
        if len(data) > _SMALL_WRITE_MAX or not self._direct_writes:
            return False
        # Create-only: os.link refuses a taken name, and content in memory is no upload to spare.
        target = self._small_target(filename, overwrite, whole=overwrite)
        return target is not None and self._write_at(target, filename, data, overwrite)

    def _small_target(self, filename: str, overwrite: bool, whole: bool) -> str | None:
        """The path a write of ``filename`` may go to in one go, or None: a link or a conflict on
        the way (:meth:`_plain_path`, ``whole`` looking at the name itself too), or the name is
        taken by something a write does not replace."""
        found = self._plain_path(filename, whole)
        if found is None:
            return None
        target, info = found
        if info is None or (overwrite and stat.S_ISREG(info.st_mode)):
            return target
        return None

    def _write_at(self, target: str, filename: str, data: bytes, overwrite: bool) -> bool:
        """Publish ``data`` as ``target``: the temporary file written, recorded and closed by its
        descriptor, its folders made if missing. False, with nothing written, when publishing
        finds the name taken or a folder: the general path says which, and why."""
        temp = temporary_path(target)
        try:
            try:
                fd = os.open(temp, _CREATE_FLAGS, 0o666)
            except FileNotFoundError:  # its folders are to be made
                fd = self._in_folder(target, filename, lambda: os.open(temp, _CREATE_FLAGS, 0o666))
        except NameConflict:  # a file made where a missing folder was: the general verdict
            return False
        except OSError as exc:
            raise self._failure("write", filename, exc) from exc
        try:
            sidecar = self._fill(fd, data)
            self._publish(temp, target, filename, overwrite)
        except BaseException as exc:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
            if isinstance(exc, FileExists | NameConflict):
                return False
            if isinstance(exc, OSError):
                raise self._failure("write", filename, exc) from exc
            raise
        if sidecar is not None:
            self.checksums.store_sidecar(filename, sidecar)
        return True

    def _fill(self, fd: int, data: bytes) -> Record | None:
        """Write ``data`` into the temporary file ``fd``, record its checksum and close it;
        the record to keep as a sidecar, if the file could not hold it."""
        try:
            _write_all(fd, data)
            record = Record.of(hashlib.sha256(data).hexdigest(), os.fstat(fd))
            return self.checksums.record_unpublished(fd, record)
        finally:
            os.close(fd)

    def delete(self, filename: str) -> None:
        path = self._file_path(filename)
        try:
            os.unlink(path)
        except FileNotFoundError:
            raise self._not_found(filename) from None
        self.checksums.forget(filename)
        self._prune_empty_parents(os.path.dirname(path))

    def list_files(self, prefix: str = "") -> Iterator[str]:
        """Every regular file (or link to one inside the root) whose name starts with ``prefix``,
        folder by folder: a folder's files, then its subfolders, each in name order."""
        for name, _ in self._walk(prefix):
            yield name

    def list_details(self, prefix: str = "") -> Iterator[FileInfo]:
        """The walk of :meth:`list_files`, each file's size and time from its directory entry's
        ``stat`` (no file is opened)."""
        for name, entry in self._walk(prefix):
            try:
                info = entry.stat()  # a link's target, as metadata() describes it
            except FileNotFoundError:  # deleted since it was listed
                continue
            yield FileInfo(
                name=name,
                size=info.st_size,
                modified=datetime.fromtimestamp(info.st_mtime, tz=timezone.utc),
                mime=guess_mime(name),
            )

    def _walk(self, prefix: str) -> Iterator[tuple[str, os.DirEntry[str]]]:
        """``(name, entry)`` of every file :meth:`list_files` lists, in its order."""
        folder, _, _ = prefix.rpartition("/")
        folders = [self.path(folder) if folder else self.root]
        while folders:
            directory = folders.pop()
            try:
                with os.scandir(directory) as scan:
                    entries = sorted(scan, key=lambda entry: entry.name)
            except OSError:  # removed meanwhile, or not a folder
                continue
            rel = os.path.relpath(directory, self.root)
            base = "" if rel == "." else rel.replace(os.sep, "/") + "/"
            whole_folder = base.startswith(prefix)  # else only some names match the prefix
            below = []
            for entry in entries:
                name = base + entry.name
                if entry.name.startswith(_TEMP_PREFIX) or not (
                    whole_folder or name.startswith(prefix)
                ):
                    continue  # a write in progress, the checksum records, or not asked for
                if entry.is_dir(follow_symlinks=False):
                    below.append(entry.path)
                elif self._is_usable_file(entry):
                    yield name, entry
            folders.extend(reversed(below))

    def _is_usable_file(self, entry: os.DirEntry[str]) -> bool:
        """A regular file, or a link to one inside the root: what the other operations accept."""
        if entry.is_file(follow_symlinks=False):
            return True
        return entry.is_symlink() and self._leads_inside(entry.path) and os.path.isfile(entry.path)

    def metadata(self, filename: str) -> Metadata:
        """The checksum comes from the file's record; only a file flask-fs did not write, or one
        changed since, is read (and then recorded)."""
        stream, info = self._open_regular(filename)
        with stream:
            checksum = self.checksums.checksum(stream, info, filename)
        return Metadata(
            checksum=f"sha256:{checksum}",
            size=info.st_size,
            mime=guess_mime(filename),
            modified=datetime.fromtimestamp(info.st_mtime, tz=timezone.utc),
        )

    def sweep(self, older_than: float, remove: bool = True) -> Iterator[str]:
        """Delete the temporary files of writes that died with their process, and the checksum
        records of files deleted by other tools."""
        cutoff = time.time() - older_than
        for dirpath, dirnames, filenames in os.walk(self.root):
            if dirpath == self.root and SIDECAR_FOLDER in dirnames:
                dirnames.remove(SIDECAR_FOLDER)  # swept below, by another rule
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
        yield from self.checksums.sweep(self.list_files(), cutoff, remove)

    def diagnose(self) -> Iterator[str]:
        """Say where the checksums are kept when the file system refused extended attributes."""
        count = self.checksums.count_sidecars()
        if count:
            yield (
                f"{count} checksum record(s) kept in {SIDECAR_FOLDER!r} at the root: the file "
                "system refused extended attributes for their files"
            )

    # -- faster than the defaults --------------------------------------------------------------

    def move(self, filename: str, target: str, overwrite: bool = False) -> None:
        source = self._file_path(filename)
        destination = self.path(target)
        try:
            self._in_folder(
                destination, target, lambda: self._publish(source, destination, target, overwrite)
            )
        except FileNotFoundError as exc:
            if not os.path.lexists(source):  # deleted meanwhile
                raise self._not_found(filename) from None
            raise self._failure("move", filename, exc) from exc
        except OSError as exc:
            raise self._failure("move", filename, exc) from exc
        self.checksums.moved(filename, target)
        self._prune_empty_parents(os.path.dirname(source))

    def serve(self, filename: str) -> Response:
        """Serve the file that was opened: headers and body come from the same version."""
        stream, info = self._open_regular(filename)
        return send_stream(
            stream,
            name=filename,
            size=info.st_size,
            mime=guess_mime(filename),
            etag=f"{info.st_ino:x}-{info.st_mtime_ns:x}-{info.st_size:x}",
            modified=datetime.fromtimestamp(info.st_mtime, tz=timezone.utc),
        )

    # -- helpers -------------------------------------------------------------------------------

    def _in_folder(self, target: str, filename: str, create: Callable[[], T]) -> T:
        """``create()`` makes something in the folder of ``target``: make the folders when they
        are missing, and again when a delete that emptied them prunes them in between."""
        for attempt in range(_FOLDER_ATTEMPTS):
            try:
                return create()
            except FileNotFoundError:
                if attempt >= 2:  # threads pruning and remaking in lockstep: break the step
                    time.sleep(random.uniform(0, 0.0005 * attempt))  # noqa: S311
                self._make_parents(target, filename)
            except NotADirectoryError:
                raise self._parent_is_a_file(filename) from None
        return create()

    def _make_parents(self, target: str, filename: str) -> None:
        """Make the folders of ``target``; a concurrent prune only makes the caller try again."""
        try:
            os.makedirs(os.path.dirname(target), exist_ok=True)
        except FileNotFoundError:
            pass  # a parent was pruned while its child was made
        except (FileExistsError, NotADirectoryError):
            # Also what makedirs says of a folder pruned between its mkdir and its isdir.
            if self._has_file_as_parent(target):
                raise self._parent_is_a_file(filename) from None

    def _has_file_as_parent(self, target: str) -> bool:
        directory = os.path.dirname(target)
        while directory.startswith(self.root + os.sep):
            info = _stat_or_none(directory)  # one look: it may be pruned meanwhile
            if info is not None and not stat.S_ISDIR(info.st_mode):
                return True
            directory = os.path.dirname(directory)
        return False

    def _parent_is_a_file(self, filename: str) -> NameConflict:
        return NameConflict(f"{filename!r}: a parent folder is a file in storage {self.name!r}")

    def _publish(self, source: str, target: str, filename: str, overwrite: bool) -> None:
        """Give the finished file ``source`` the name ``target``, atomically (an ``OSError`` is
        the caller's to report)."""
        try:
            publish_file(source, target, overwrite)
        except IsADirectoryError:
            raise NameConflict(f"{filename!r} is a folder in storage {self.name!r}") from None
        except FileExistsError:
            raise FileExists.of(filename, self.name) from None

    def _prune_empty_parents(self, directory: str) -> None:
        """Remove folders left empty by a delete or a move, up to (not including) the root."""
        root = self.root
        while directory != root and directory.startswith(root + os.sep):
            try:
                os.rmdir(directory)
            except OSError:
                return
            directory = os.path.dirname(directory)

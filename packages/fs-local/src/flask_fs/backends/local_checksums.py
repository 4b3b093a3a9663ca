"""Where the local backend keeps each file's SHA-256, so that ``metadata()`` never reads it whole.

A *record* holds the checksum with the size, ``st_mtime_ns`` and inode number the file had when
it was taken; it is trusted only while the file still has all three, so a file changed in place
by another tool (a write moves its mtime) or replaced (a new inode) is hashed again, and the new
checksum recorded. Its ctime is no part of it: recording changes the ctime, and so does
publishing.

Records live in the file's extended attribute ``user.flask_fs.sha256``, set on the temporary
file before it is published, so it travels with the inode through ``os.replace``/``os.link``
and a move. Where the file system refuses user extended attributes (vfat, some NFS, overlay or
older tmpfs set-ups), or the file is not ours to annotate, the record is a *sidecar*: a file in
the root's ``.fs-tmp-checksums`` folder, named after the SHA-256 of the storage name. That
prefix is reserved (:data:`flask_fs.names.TEMPORARY_PREFIX`): it is no file's name and never
listed. Delete removes the sidecar, move moves it, ``sweep`` removes those whose file is gone.

When no record can be written (a read-only file system), the checksum is computed on each call,
never an error. A file written by another tool less than :data:`SETTLED_NS` ago is hashed but not
recorded: it may still be being written within one tick of the file system's clock, where the
mtime would not show it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import struct
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any

from flask_fs.atomic import temporary_path
from flask_fs.names import TEMPORARY_PREFIX
from flask_fs.streams import BackgroundDigest, sha256_hex

#: The extended attribute holding a file's record.
XATTR = "user.flask_fs.sha256"
#: The folder, at the root, of the records of a file system without extended attributes.
SIDECAR_FOLDER = TEMPORARY_PREFIX + "checksums"
#: A file last modified (by another tool) more recently than this is hashed, not recorded.
SETTLED_NS = 2_000_000_000
#: A record's layout: the digest, then size, mtime_ns and inode number. 56 bytes: with the
#: attribute's name, the most that fits in a 256-byte ext4 inode, where a longer value would cost
#: each file a 4 KiB block of its own.
_LAYOUT = struct.Struct("<32sQqQ")
#: Chunks at least this long are hashed on another thread while the next one is written.
_BACKGROUND_HASH_MIN = 64 * 1024


@dataclass(frozen=True)
class Record:
    """A checksum and the state of the file it was taken from."""

    sha256: str
    size: int
    mtime_ns: int
    ino: int

    @classmethod
    def of(cls, sha256: str, info: os.stat_result) -> Record:
        return cls(sha256, info.st_size, info.st_mtime_ns, info.st_ino)

    def describes(self, info: os.stat_result) -> bool:
        """Whether the file ``info`` describes is still the one this record was taken from."""
        return (self.size, self.mtime_ns, self.ino) == (
            info.st_size,
            info.st_mtime_ns,
            info.st_ino,
        )

    def encode(self) -> bytes:
        return _LAYOUT.pack(bytes.fromhex(self.sha256), self.size, self.mtime_ns, self.ino)

    @classmethod
    def decode(cls, data: bytes) -> Record | None:
        """The record ``data`` holds, or None if it is not one (another layout, damage)."""
        if len(data) != _LAYOUT.size:
            return None
        digest, size, mtime_ns, ino = _LAYOUT.unpack(data)
        return cls(digest.hex(), size, mtime_ns, ino)


class HashingFile:
    """The raw stream of a write: passes the data on to ``raw`` and hashes it meanwhile."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.digest = BackgroundDigest(inline_below=_BACKGROUND_HASH_MIN)
        self.written: os.stat_result | None = None  #: the file once closed: its mtime is final

    def write(self, data: Any) -> int:
        self.digest.update(data)
        return self.raw.write(data)

    def flush(self) -> None:
        self.raw.flush()

    def tell(self) -> int:
        return self.raw.tell()

    def close(self) -> None:
        if self.raw.closed:  # an abandoned writer, collected after its file
            return
        try:
            self.raw.flush()
            self.written = os.fstat(self.raw.fileno())
        finally:
            self.raw.close()

    def record(self) -> Record:
        """The record of what was written, once closed."""
        if self.written is None:
            raise ValueError("the file is not closed yet")
        return Record.of(self.digest.hexdigest(), self.written)


class ChecksumRecords:
    """The records of the files of one storage root."""

    def __init__(self, root: str) -> None:
        self.folder = os.path.join(root, SIDECAR_FOLDER)

    # -- writing through flask-fs --------------------------------------------------------------

    def record_unpublished(self, temp: str | int, record: Record) -> Record | None:
        """Give ``record`` to the finished temporary file ``temp`` (its path or a descriptor of
        it), before it is published.

        Returns the record when it still has to be kept as a sidecar once the file has its
        name (:meth:`store_sidecar`), None when the attribute holds it.
        """
        try:
            os.setxattr(temp, XATTR, record.encode())
        except OSError:  # ENOTSUP, EPERM, ENOSPC...: never a reason to fail the write
            return record
        return None

    def store_sidecar(self, filename: str, record: Record) -> None:
        """Keep ``record`` as the sidecar of ``filename``; without room for it, keep nothing."""
        path = self._sidecar(filename)
        temp = temporary_path(path)
        try:
            try:
                file = open(temp, "xb")  # noqa: SIM115
            except FileNotFoundError:
                os.makedirs(self.folder, exist_ok=True)
                file = open(temp, "xb")  # noqa: SIM115
            with file:
                file.write(record.encode())
            os.replace(temp, path)
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(temp)

    def moved(self, filename: str, target: str) -> None:
        """``filename`` was moved to ``target``: its sidecar follows (the attribute already did)."""
        try:
            os.replace(self._sidecar(filename), self._sidecar(target))
        except FileNotFoundError:
            self.forget(target)  # the record of the file ``target`` replaced, if any
        except OSError:
            pass

    def forget(self, filename: str) -> None:
        """``filename`` was deleted: remove its sidecar."""
        with contextlib.suppress(OSError):
            os.unlink(self._sidecar(filename))

    # -- reading -------------------------------------------------------------------------------

    def checksum(self, stream: IO[bytes], info: os.stat_result, filename: str) -> str:
        """The SHA-256 (hex) of ``stream``, the file ``filename`` opened, ``info`` its fstat:
        from its record if the file is still the one recorded, else read and then recorded."""
        fd = stream.fileno()
        recorded = self._recorded(fd, filename, info)
        if recorded is not None:
            return recorded
        sha256 = sha256_hex(stream)
        after = os.fstat(fd)
        unchanged = Record.of(sha256, info).describes(after)
        if unchanged and time.time_ns() - after.st_mtime_ns > SETTLED_NS:
            self._store(fd, filename, Record.of(sha256, after))
        return sha256

    def _recorded(self, fd: int, filename: str, info: os.stat_result) -> str | None:
        """The checksum of a record that still describes the file: the attribute's, else the
        sidecar's (a file that could not carry the attribute may have one)."""
        for read in (lambda: os.getxattr(fd, XATTR), lambda: self._read_sidecar(filename)):
            try:
                record = Record.decode(read())
            except OSError:
                continue  # no record there, or no attributes on this file system
            if record is not None and record.describes(info):
                return record.sha256
        return None

    def _read_sidecar(self, filename: str) -> bytes:
        with open(self._sidecar(filename), "rb") as sidecar:
            return sidecar.read(_LAYOUT.size + 1)  # longer is no record

    def _store(self, fd: int, filename: str, record: Record) -> None:
        try:
            os.setxattr(fd, XATTR, record.encode())
        except OSError:
            self.store_sidecar(filename, record)

    # -- sidecars ------------------------------------------------------------------------------

    def _sidecar(self, filename: str) -> str:
        return os.path.join(self.folder, hashlib.sha256(filename.encode()).hexdigest())

    def sweep(self, names: Iterable[str], cutoff: float, remove: bool) -> Iterator[str]:
        """Describe (and remove, if ``remove``) the sidecars older than ``cutoff`` (a time)
        that belong to none of ``names``, the storage's files; and the folder once empty."""
        try:
            with os.scandir(self.folder) as scan:
                entries = list(scan)
        except OSError:
            return  # no sidecars
        live = {os.path.basename(self._sidecar(name)) for name in names} if entries else set()
        for entry in entries:
            if entry.name in live:
                continue
            try:
                if entry.stat(follow_symlinks=False).st_mtime > cutoff:
                    continue  # its file may be being published
                if remove:
                    os.unlink(entry.path)
            except FileNotFoundError:
                continue
            yield f"checksum record {SIDECAR_FOLDER}/{entry.name} of a file that is gone"
        with contextlib.suppress(OSError):
            os.rmdir(self.folder)  # only when empty

    def count_sidecars(self) -> int:
        """How many sidecars the root holds."""
        try:
            with os.scandir(self.folder) as scan:
                return sum(1 for _ in scan)
        except OSError:
            return 0

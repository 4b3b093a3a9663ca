"""Atomic writes of local files: the local backend's and the CLI's, written once.

Data goes to a temporary file beside the target, which is then published under the target's
name: with ``os.replace`` when it may be replaced, with ``os.link`` when it must be created (the
file system refuses an existing name at that moment, so concurrent writers cannot both win).
Readers never see half a file; a write that fails leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
from collections.abc import Iterator
from typing import IO

from .names import TEMPORARY_PREFIX

#: What ``os.link`` says on a file system without hard links: claim the name another way.
_NO_HARD_LINKS = (errno.EPERM, errno.ENOTSUP, errno.EXDEV, errno.EMLINK)


def temporary_path(target: str) -> str:
    """A fresh temporary name in the folder of ``target`` (reserved: never a file's name)."""
    folder, sep, _ = target.rpartition(os.sep)  # os.path.dirname's, at a third of the cost
    return f"{folder}{sep}{TEMPORARY_PREFIX}{secrets.token_hex(8)}"


def publish_file(source: str, target: str, overwrite: bool) -> None:
    """Give the finished file ``source`` the name ``target``, atomically.

    :raises FileExistsError: when ``overwrite`` is False and ``target`` exists at that moment
        (``source`` is then left in place).
    :raises IsADirectoryError: when ``target`` is a folder.
    """
    if overwrite:
        if os.path.isdir(target):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), target)
        os.replace(source, target)
        return
    try:
        os.link(source, target)
    except OSError as exc:
        if exc.errno not in _NO_HARD_LINKS:
            raise
        _rename_exclusive(source, target)
        return
    os.unlink(source)


def _rename_exclusive(source: str, target: str) -> None:
    """For file systems without hard links: claim the name with O_EXCL, then replace it."""
    os.close(os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
    os.replace(source, target)


@contextlib.contextmanager
def atomic_file(path: str, overwrite: bool) -> Iterator[IO[bytes]]:
    """A binary file to write ``path`` with, published when the ``with`` block ends normally.

    Its folders are made if missing. Nothing is published if the block raises.

    :raises FileExistsError: when ``overwrite`` is False and ``path`` exists when the block
        ends: create-only is decided at publish time, never checked beforehand.
    """
    path = os.path.abspath(path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    temp = temporary_path(path)
    try:
        # "xb" like open() does: the umask applies, so files get the usual permissions.
        with open(temp, "xb") as out:
            yield out
        publish_file(temp, path, overwrite)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)

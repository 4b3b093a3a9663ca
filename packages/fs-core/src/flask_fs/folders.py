"""A name is a file or a folder, never both.

A local file system cannot hold ``f`` and ``f/x``, nor ``d`` and ``d/x``; object stores and
GridFS can. So that every backend gives the same verdict, a storage that checks folders refuses
both with :class:`~flask_fs.errors.NameConflict` before writing: writing ``f/x`` while the file
``f`` exists, and writing ``d`` while files exist under ``d/``.

The check is the storage's ``CHECK_FOLDERS`` setting (``{NAME}_FS_CHECK_FOLDERS``,
``FS_{BACKEND}_CHECK_FOLDERS`` or ``FS_CHECK_FOLDERS``); left unset, the backend decides
(:attr:`~flask_fs.backends.BaseBackend.checks_folders_by_default`): on for the local backend,
where it costs two ``stat`` calls and the file system would refuse anyway; off for S3, Swift and
GridFS, where it costs a request (or query) per folder of the name and a listing on every write
(1.3x to 2x the time of small writes, against a budget of 1.15x). It is made before writing, so
two writers racing (``f`` and ``f/x`` at once) can both pass it on those.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import NameConflict

if TYPE_CHECKING:  # the backends call check_folders: no import of them at run time
    from .backends import BaseBackend


def check_folders(backend: BaseBackend, enabled: bool | None, filename: str) -> None:
    """Refuse to write ``filename`` if it is a folder or inside a file, when ``enabled`` (the
    storage's ``CHECK_FOLDERS``; ``None``: the backend's default).

    :raises NameConflict: naming what is in the way.
    """
    if enabled is None:
        enabled = backend.checks_folders_by_default
    if not enabled:
        return
    conflict = backend.folder_conflict(filename)
    if conflict is None:
        return
    if conflict.endswith("/"):
        reason = "it is a folder"
    else:
        reason = f"{conflict!r} is a file, so it cannot be a folder"
    raise NameConflict(f"{filename!r} cannot be written in storage {backend.name!r}: {reason}")


__all__ = ["check_folders"]

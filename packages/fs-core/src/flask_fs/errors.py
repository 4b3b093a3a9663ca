"""Every error flask-fs raises derives from :class:`FSError`.

The five errors of the original Flask-FS keep their names; the others narrow down what went
wrong so that callers can catch exactly what they can handle.
"""

from __future__ import annotations


class FSError(Exception):
    """Base class for all Flask-FS exceptions."""


class FileExists(FSError):
    """Raised when trying to overwrite an existing file."""

    @classmethod
    def of(cls, filename: str, storage: str) -> FileExists:
        """The error for ``filename`` in the storage named ``storage``, worded once for all."""
        return cls(f"{filename!r} already exists in storage {storage!r}")


class NameConflict(FileExists):
    """Raised when writing a name that is a folder (``d`` while ``d/x`` exists) or inside a
    file (``f/x`` while ``f`` exists): a name is a file or a folder, never both."""


class FileNotFound(FSError):
    """Raised when trying to access a non existent file."""

    @classmethod
    def of(cls, filename: str, storage: str) -> FileNotFound:
        """The error for ``filename`` in the storage named ``storage``, worded once for all."""
        return cls(f"{filename!r} not found in storage {storage!r}")


class UploadNotAllowed(FSError):
    """Raised when trying to upload into a storage where upload is not allowed."""


class UnauthorizedFileType(UploadNotAllowed):
    """Raised when trying to upload a file type that the storage does not accept."""


class OperationNotSupported(FSError):
    """Raised when trying to perform an operation not supported by the current backend."""


class InvalidFilename(FSError):
    """Raised for a name that is not a safe storage-relative key (traversal, NUL, backslash...)."""


class ConfigurationError(FSError):
    """Raised at ``init_app`` for a setting that is unknown, missing or malformed; and when a
    link to the application's own views is built outside a request without ``SERVER_NAME``."""


class BackendNotFound(ConfigurationError):
    """Raised at ``init_app`` when a storage asks for a backend that is not installed."""


class InvalidExpiry(FSError, ValueError):
    """Raised for an ``expires`` that is not a positive number of seconds or ``timedelta``."""


class UnknownStorage(FSError):
    """Raised by :func:`flask_fs.by_name` for a name that no initialised storage has."""


class BackendError(FSError):
    """Raised when the storage backend fails (I/O error, server unreachable, ...).

    The message names the storage and the underlying cause, kept as ``__cause__``.
    """


def describe_os_error(exc: OSError) -> str:
    """What went wrong, without the path: an error message must not show where files are kept
    on the server (``"No such file or directory"``, not ``"[Errno 2] ...: '/srv/files/a'"``)."""
    if exc.filename is not None or exc.filename2 is not None:
        return exc.strerror or type(exc).__name__
    return str(exc) or type(exc).__name__


__all__ = [
    "BackendError",
    "BackendNotFound",
    "ConfigurationError",
    "FSError",
    "FileExists",
    "FileNotFound",
    "InvalidExpiry",
    "InvalidFilename",
    "NameConflict",
    "OperationNotSupported",
    "UnauthorizedFileType",
    "UnknownStorage",
    "UploadNotAllowed",
    "describe_os_error",
]

"""Flask-FS: simple and flexible file storage for Flask.

Declare :class:`Storage` objects, initialise them with :func:`init_app`, and read, write, list,
serve and delete files through one API whatever the backend (local disk, S3, GridFS, Swift...).
"""

from pkgutil import extend_path

# Other distributions (fs-images, fs-mongo, backends) add modules to this package.
__path__ = extend_path(__path__, __name__)

from . import errors
from .__about__ import __version__
from .backends import FileInfo
from .errors import *  # noqa: F403
from .extension import init_app
from .extensions import (
    ALL,
    ARCHIVES,
    AUDIO,
    DATA,
    DEFAULTS,
    DOCUMENTS,
    EXECUTABLES,
    IMAGES,
    NONE,
    SCRIPTS,
    TEXT,
    All,
    AllExcept,
)
from .state import by_name
from .storage import Storage

__all__ = [
    "ALL",
    "ARCHIVES",
    "AUDIO",
    "DATA",
    "DEFAULTS",
    "DOCUMENTS",
    "EXECUTABLES",
    "IMAGES",
    "NONE",
    "SCRIPTS",
    "TEXT",
    "All",
    "AllExcept",
    "FileInfo",
    "Storage",
    "__version__",
    "by_name",
    "errors",
    "init_app",
]

"""Direct uploads: browsers send files straight to the store (S3, Swift) or to the application
(local, GridFS and any other backend), in one body or in parts, with every guarantee of
:meth:`~flask_fs.Storage.save`: allowed types, create-only names, size limits, checksums.

- :meth:`flask_fs.Storage.upload_target` signs one upload (a ticket: :mod:`.tickets`);
- the blueprint (:mod:`.views`) speaks Uppy's ``@uppy/aws-s3`` protocol and receives bodies and
  parts for backends whose store takes none from browsers (``flask_fs.uploads.appside``);
- every upload is checked before it is reported (:mod:`.checks`,
  ``flask_fs.uploads.completion``), then announced with :data:`flask_fs.signals.upload_completed`;
- :meth:`flask_fs.Storage.sweep` removes abandoned ones (``flask_fs.uploads.cleanup``).
"""

from __future__ import annotations

from ..signals import upload_completed
from .checks import Completed, UploadRefused
from .tickets import Ticket
from .views import URL_PREFIX, bp

__all__ = ["URL_PREFIX", "Completed", "Ticket", "UploadRefused", "bp", "upload_completed"]

"""A reusable pytest conformance suite for flask-fs backends.

A backend author subclasses :class:`BackendConformance` in a test module and provides the
``fs_backend`` fixture (the entry-point name) and, usually, ``fs_settings`` (the storage-level
settings, e.g. ``{"ENDPOINT": ..., "BUCKET": ...}``)::

    import pytest
    from flask_fs.testing import BackendConformance

    class TestMyBackend(BackendConformance):
        @pytest.fixture
        def fs_backend(self):
            return "mybackend"

        @pytest.fixture
        def fs_settings(self):
            return {"URL": "https://example.com"}

Every test then runs against a fresh storage of that backend. ``fs_large_file_size`` (default
64 MiB) sets the size of the streaming tests. Needs the ``testing`` extra (pytest, hypothesis).
"""

from __future__ import annotations

import pytest

# Plain asserts in these modules should explain their failures like a test module's do.
pytest.register_assert_rewrite(
    *(
        f"flask_fs.testing.{m}"
        for m in ("basic", "copies", "details", "fixtures", "folders", "listing", "metadata")
    ),
    "flask_fs.testing.sweep",
)
pytest.register_assert_rewrite(
    *(
        f"flask_fs.testing.{m}"
        for m in ("names", "overwrite", "replacement", "serving", "signed_links", "streaming")
    )
)

from .basic import BasicOperationTests  # noqa: E402
from .copies import CopyMoveTests  # noqa: E402
from .details import ListingDetailsTests  # noqa: E402
from .fixtures import (  # noqa: E402
    ConformanceFixtures,
    count_file_operations,
    storage_config,
    temporary_storage,
    temporary_storages,
)
from .folders import FolderTests  # noqa: E402
from .listing import ListingTests  # noqa: E402
from .memory import MemoryBackend  # noqa: E402
from .metadata import MetadataTests  # noqa: E402
from .names import HostileNameTests  # noqa: E402
from .overwrite import OverwriteTests  # noqa: E402
from .replacement import ReplacementTests  # noqa: E402
from .serving import ServingTests  # noqa: E402
from .signed_links import SignedLinkTests  # noqa: E402
from .streaming import StreamingTests  # noqa: E402
from .sweep import SweepTests  # noqa: E402


class BackendConformance(
    BasicOperationTests,
    OverwriteTests,
    ListingTests,
    ListingDetailsTests,
    MetadataTests,
    CopyMoveTests,
    ServingTests,
    ReplacementTests,
    StreamingTests,
    HostileNameTests,
    SweepTests,
    FolderTests,
):
    """Every conformance test: subclass it and provide ``fs_backend`` (and ``fs_settings``)."""


__all__ = [
    "BackendConformance",
    "BasicOperationTests",
    "ConformanceFixtures",
    "CopyMoveTests",
    "FolderTests",
    "HostileNameTests",
    "ListingDetailsTests",
    "ListingTests",
    "MemoryBackend",
    "MetadataTests",
    "OverwriteTests",
    "ReplacementTests",
    "ServingTests",
    "SignedLinkTests",
    "StreamingTests",
    "SweepTests",
    "count_file_operations",
    "storage_config",
    "temporary_storage",
    "temporary_storages",
]

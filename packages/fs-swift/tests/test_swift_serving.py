"""Swift: serving a file costs one request, a create-only stream sends no HEAD first (requests
counted by a proxy in front of the server)."""

from __future__ import annotations

import contextlib
from typing import Any
from urllib.parse import quote, urlsplit

import pytest

from flask_fs.errors import FileExists
from flask_fs.testing import temporary_storage
from flask_fs.testing.faults import FaultProxy
from flask_fs.testing.serving import check_one_request_each


def test_serving_is_one_request_to_the_server(
    swift_settings: dict[str, Any], proxy: FaultProxy
) -> None:
    authurl = urlsplit(swift_settings["AUTHURL"])._replace(netloc=proxy.address).geturl()
    settings = {**swift_settings, "AUTHURL": authurl}
    with temporary_storage("swift", settings, "served", {"FS_SERVE": True}) as storage:
        path = f"/{quote(storage.backend.container)}/served.bin "  # type: ignore[attr-defined]

        def requests() -> list[str]:
            sent = proxy.requests(path)
            proxy.clear()
            return sent

        check_one_request_each(storage, requests)


@pytest.mark.parametrize("size", [1024, 3 * 1024 * 1024])  # one PUT, a Static Large Object
def test_a_create_only_stream_is_refused_at_close_and_keeps_an_existing_file(
    swift_settings: dict[str, Any], proxy: FaultProxy, size: int
) -> None:
    """Swift refuses the existing name (If-None-Match): close() raises FileExists and the file
    is intact. The pipeline sends no HEAD first: the one HEAD before the upload is
    ``SwiftService``'s, which finds the segments an overwritten manifest leaves."""
    authurl = urlsplit(swift_settings["AUTHURL"])._replace(netloc=proxy.address).geturl()
    settings = {**swift_settings, "AUTHURL": authurl, "SEGMENT_SIZE": 2 * 1024 * 1024}
    with temporary_storage("swift", settings, "stream") as storage:
        container = quote(storage.backend.container)  # type: ignore[attr-defined]
        storage.write("taken.bin", b"old")
        for name, data in (("taken.bin", b"x" * size), ("new.bin", b"y" * size)):
            proxy.clear()
            with contextlib.ExitStack() as stack:
                if name == "taken.bin":
                    stack.enter_context(pytest.raises(FileExists))
                with storage.open(name, "xb") as f:
                    f.write(data)
            sent = proxy.requests(f"/{container}/{name}")
            first_put = next(i for i, line in enumerate(sent) if line.startswith("PUT"))
            assert [line[:4] for line in sent[:first_put]] == ["HEAD"], sent
        assert storage.read("taken.bin") == b"old"
        assert storage.read("new.bin") == b"y" * size

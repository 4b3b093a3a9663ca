"""Swift: serving a file costs one request to the server (counted by a proxy in front of it)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

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

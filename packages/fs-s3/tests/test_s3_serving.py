"""S3: serving a file costs one request to the server (counted by a proxy in front of it)."""

from __future__ import annotations

from typing import Any

from flask_fs.testing import temporary_storage
from flask_fs.testing.faults import FaultProxy
from flask_fs.testing.serving import check_one_request_each


def test_serving_is_one_request_to_the_server(
    s3_settings: dict[str, Any], proxy: FaultProxy
) -> None:
    settings = {**s3_settings, "ENDPOINT": f"http://{proxy.address}"}
    with temporary_storage("s3", settings, "served", {"FS_SERVE": True}) as storage:
        key = storage.backend.key_prefix + "served.bin"  # type: ignore[attr-defined]

        def requests() -> list[str]:
            sent = proxy.requests(f"/{key} ")
            proxy.clear()
            return sent

        check_one_request_each(storage, requests)

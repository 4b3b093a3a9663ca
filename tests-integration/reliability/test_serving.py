"""Serving, on every backend: active types never inline, ``nosniff`` on every answer (errors
included), Range and conditional requests answered correctly, a Range past the end is 416."""

from __future__ import annotations

import pytest
from flask import current_app
from werkzeug.test import TestResponse

from .conftest import FIGURES, Target

FILES = {
    "page.html": b"<script>alert(document.cookie)</script>",
    "image.svg": b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
    "script.js": b"fetch('/steal')",
    "data.xml": b"<?xml version='1.0'?><x/>",
    "page.xhtml": b"<html xmlns='http://www.w3.org/1999/xhtml'><script/></html>",
    "notes.txt": b"0123456789" * 100,
    "photo.png": b"\x89PNG\r\n\x1a\n" + b"\x00" * 100,
}
ACTIVE = {"page.html", "image.svg", "script.js", "data.xml", "page.xhtml"}


def test_serving_is_safe_and_ranges_are_right(target: Target) -> None:
    checked = 0
    with target.storage("serve") as storage:
        for name, content in FILES.items():
            storage.write(name, content)
        client = current_app.test_client()

        def get(name: str, **headers: str) -> TestResponse:
            nonlocal checked
            url = storage.url(name)
            assert url is not None
            response = client.get(url, headers=headers)
            checked += 1
            assert response.headers.get("X-Content-Type-Options") == "nosniff", (name, headers)
            return response

        for name, content in FILES.items():
            response = get(name)
            assert response.status_code == 200
            assert response.get_data() == content
            disposition = response.headers.get("Content-Disposition", "")
            if name in ACTIVE:
                assert disposition.startswith("attachment"), (name, disposition)

            size = len(content)
            partial = get(name, Range="bytes=5-9")
            assert partial.status_code == 206
            assert partial.get_data() == content[5:10]
            assert partial.headers["Content-Range"] == f"bytes 5-9/{size}"
            if name in ACTIVE:
                assert partial.headers.get("Content-Disposition", "").startswith("attachment")

            past = get(name, Range=f"bytes={size + 10}-")
            assert past.status_code == 416
            assert past.headers.get("Content-Range") == f"bytes */{size}"

            etag = response.headers.get("ETag")
            assert etag
            assert get(name, **{"If-None-Match": etag}).status_code == 304

        assert get("missing.txt").status_code == 404
        base = str(storage.url("notes.txt")).removesuffix("notes.txt")
        for hostile in ("a/%2e%2e/%2e%2e/escape.txt", "..%2fescape.txt", "a%5c..%5cx", "%00"):
            response = client.get(base + hostile)
            checked += 1
            assert response.status_code == 404, hostile
            assert response.headers.get("X-Content-Type-Options") == "nosniff"
    FIGURES[f"serving/{target.name}"] = {"responses checked": checked}


@pytest.mark.parametrize("name", ["page.html", "image.svg"])
def test_a_served_active_file_cannot_run_in_the_page(target: Target, name: str) -> None:
    """Even with a forged Accept or a Range, an active file is an attachment, never a page."""
    with target.storage("active") as storage:
        storage.write(name, FILES[name])
        url = storage.url(name)
        assert url is not None
        response = current_app.test_client().get(url, headers={"Accept": "text/html"})
        assert response.headers["Content-Disposition"].startswith("attachment")
        assert response.headers["X-Content-Type-Options"] == "nosniff"

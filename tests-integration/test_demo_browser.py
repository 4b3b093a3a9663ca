"""The demo in a real browser: headless Chromium (Debian's) driven by Playwright.

Uploads an image and a text file through the page's file picker (the page's own JavaScript
sends them, with its progress bar), sees the thumbnail and the list, downloads the text file
and compares its bytes, deletes it, and saves a screenshot (its path is printed at the end of
the test run).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from PIL import Image
from playwright.sync_api import Page, expect, sync_playwright
from werkzeug.serving import make_server

CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def demo_url(demo_module: ModuleType, tmp_path: Path) -> Iterator[str]:
    app = demo_module.create_app({"FS_ROOT": str(tmp_path / "fs")})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def page(chromium: str, tmp_path: Path) -> Iterator[Page]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        context = browser.new_context(
            accept_downloads=True, viewport={"width": 1100, "height": 900}
        )
        yield context.new_page()
        browser.close()


def test_upload_see_download_delete(
    page: Page, demo_url: str, tmp_path: Path, artifacts: Path
) -> None:
    photo, notes = tmp_path / "Sunset photo.JPG", tmp_path / "notes.txt"
    picture = Image.linear_gradient("L").resize((800, 600)).convert("RGB")
    picture.save(photo, "JPEG")
    notes.write_bytes(b"flask-fs in a browser\n")

    page.goto(demo_url)
    expect(page.locator("#empty")).to_be_visible()
    page.set_input_files("#picker", [str(photo), str(notes)])  # the page uploads them by XHR
    expect(page.get_by_text("Uploaded Sunset_photo.jpg.")).to_be_visible()
    expect(page.get_by_text("Uploaded notes.txt.")).to_be_visible()

    thumbnail = page.locator(".gallery img[alt='Sunset_photo.jpg']")
    expect(thumbnail).to_be_visible()
    assert thumbnail.evaluate("img => [img.complete, img.naturalWidth]") == [True, 240]
    row = page.locator("#files tr", has_text="notes.txt")
    expect(row).to_contain_text("text/plain")

    with page.expect_download() as download:
        page.get_by_role("link", name="notes.txt").click()
    assert Path(download.value.path()).read_bytes() == b"flask-fs in a browser\n"

    screenshot = artifacts / "demo.png"
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.stat().st_size > 10_000

    page.get_by_role("button", name="Delete notes.txt").click()
    expect(page.get_by_text("Deleted notes.txt.")).to_be_visible()
    expect(page.locator("#files")).to_have_count(0)
    expect(thumbnail).to_be_visible()


def test_a_refused_upload_is_a_message_not_a_stack_trace(
    page: Page, demo_url: str, tmp_path: Path
) -> None:
    script = tmp_path / "evil.sh"
    script.write_bytes(b"#!/bin/sh\n")
    page.goto(demo_url)
    page.set_input_files("#picker", [str(script)])
    expect(page.get_by_text("evil.sh: this type of file is not allowed.")).to_be_visible()
    assert "Traceback" not in page.content()

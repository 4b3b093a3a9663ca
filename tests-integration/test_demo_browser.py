"""The demo in a real browser: headless Chromium (Debian's) driven by Playwright.

Uploads an image and a text file through the page's file picker (the page's own JavaScript
sends them, with its progress bar), sees the thumbnail and the list, downloads the text file
and compares its bytes, deletes it, and saves a screenshot (its path is printed at the end of
the test run).

Then Uppy, through the demo's direct-upload section: Uppy 5.2.4 (from npm, served by the demo:
``examples/demo/uppy_assets.py``) with its Dashboard and ``@uppy/aws-s3`` 5.1.0 pointed at
``flask_fs.uploads`` uploads a 64 MB file in 8 MB parts to the local backend (parts go to the
application) and to SeaweedFS (parts go straight to the store, another origin: the bucket's
CORS allows the demo), once straight and once with the network cut midway and restored; and
once with the page reloaded midway: Uppy's GoldenRetriever (the page uses it) restores the file,
and the Dashboard's upload button resumes it, sending only the parts the endpoint does not list.
The stored file's SHA-256 is the source's.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import tarfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from flask import Flask
from PIL import Image
from playwright.sync_api import BrowserContext, Page, Request, expect, sync_playwright
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
    yield from _serve(demo_module.create_app(_config(tmp_path)))


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


# -- Uppy: direct uploads ------------------------------------------------------------------

SIZE = 64 * 2**20
PART = 8 * 2**20


@dataclass
class Demo:
    app: Flask
    url: str
    backend: str


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A 64 MB file of random bytes and its SHA-256."""
    path = tmp_path_factory.mktemp("uppy") / "big.bin"
    data = os.urandom(SIZE)
    path.write_bytes(data)
    return path, hashlib.sha256(data).hexdigest()


def _config(tmp_path: Path, **settings: object) -> dict[str, object]:
    """The demo's files and its gallery's database under ``tmp_path``."""
    database = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    return {"FS_ROOT": str(tmp_path / "fs"), "DEMO_DATABASE_URL": database, **settings}


def _serve(app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def local_demo(demo_module: ModuleType, tmp_path: Path) -> Iterator[Demo]:
    app = demo_module.create_app(_config(tmp_path))
    for url in _serve(app):
        yield Demo(app, url, "local")


@pytest.fixture
def seaweed_demo(demo_module: ModuleType, tmp_path: Path, seaweed_s3: Any) -> Iterator[Demo]:
    app = demo_module.create_app(
        {
            "FS_ROOT": str(tmp_path / "fs"),  # the thumbnails
            "DEMO_DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
            "FILES_FS_BACKEND": "s3",
            "FILES_FS_ENDPOINT": seaweed_s3.endpoint,
            "FILES_FS_ACCESS_KEY": seaweed_s3.access_key,
            "FILES_FS_SECRET_KEY": seaweed_s3.secret_key,
            "FILES_FS_BUCKET": "flask-fs-uppy",
            "FILES_FS_PREFIX": uuid.uuid4().hex,
            "FILES_FS_CREATE_BUCKET": True,
        }
    )
    for url in _serve(app):
        with app.app_context():  # the browser (the demo's origin) PUTs parts to SeaweedFS
            demo_module.files.backend.set_cors([url])
        yield Demo(app, url, "s3")


@pytest.fixture
def context(chromium: str) -> Iterator[BrowserContext]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield browser.new_context(viewport={"width": 1100, "height": 900})
        browser.close()


@dataclass
class Sent:
    """The part requests the browser sent (part numbers), and those that failed."""

    parts: list[int]
    failed: list[int]


#: A part's request: to the application (``/parts/<ticket>/<n>``) or to S3 (``partNumber=n``).
PART_URL = re.compile(r"/parts/[^/]+/(\d+)$|[?&]partNumber=(\d+)")


def _part_number(request: Request) -> int | None:
    found = PART_URL.search(request.url) if request.method == "PUT" else None
    return int(found[1] or found[2]) if found else None


def upload_with_uppy(
    context: BrowserContext,
    demo: Demo,
    path: Path,
    digest: str,
    *,
    cut: bool = False,
    screenshot: Path | None = None,
) -> Sent:
    """Upload ``path`` with the demo's Uppy, and wait for the page to list it. With ``cut``,
    uploads are throttled (32 MB/s, so that the upload lasts a few seconds) and the network is
    cut for 10 seconds once 24 MB are sent: the parts on the way fail, Uppy sends them again
    once it is back."""
    page: Page = context.new_page()
    sent = Sent([], [])
    page.on("request", lambda r: sent.parts.append(n) if (n := _part_number(r)) else None)
    page.on("requestfailed", lambda r: sent.failed.append(n) if (n := _part_number(r)) else None)
    page.goto(demo.url)
    page.wait_for_function("() => window.uppy")
    if cut:
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        throttle = {"latency": 0, "downloadThroughput": -1, "uploadThroughput": 32 * 2**20}
        cdp.send("Network.emulateNetworkConditions", {"offline": False, **throttle})
    page.locator(".uppy-Dashboard-input").first.set_input_files(str(path))
    page.get_by_role("button", name=re.compile("Upload 1 file")).click()
    if cut:
        page.wait_for_function(
            "n => window.uppy.getFiles()[0].progress.bytesUploaded >= n", arg=3 * PART
        )
        cdp.send("Network.emulateNetworkConditions", {"offline": True, **throttle})
        time.sleep(10)  # longer than Uppy's retries (0, 1, 3, 5 s): it waits to be online
        assert page.evaluate("() => !window.uppy.getFiles()[0].progress.uploadComplete")
        if screenshot is not None:  # the Dashboard's progress bar, stopped midway
            page.screenshot(path=str(screenshot), full_page=True)
        cdp.send("Network.emulateNetworkConditions", {"offline": False, **throttle})
    message = page.get_by_text(f"Uploaded {path.name} directly (SHA-256 {digest}).")
    expect(message).to_be_visible(timeout=180_000)  # the page reloaded: the upload is done
    expect(page.locator("#files tr", has_text=path.name)).to_contain_text("64.0 MB")
    page.close()
    return sent


def stored_sha256(demo: Demo, demo_module: ModuleType, name: str) -> str:
    digest = hashlib.sha256()
    with demo.app.app_context(), demo_module.files.open(name, "rb") as stored:
        while chunk := stored.read(2**20):
            digest.update(chunk)
    return digest.hexdigest()


@pytest.mark.parametrize("cut", [False, True], ids=["straight", "network-cut"])
@pytest.mark.parametrize("where", ["local_demo", "seaweed_demo"])
def test_uppy_uploads_64_mb_in_parts(
    where: str,
    cut: bool,
    request: pytest.FixtureRequest,
    context: BrowserContext,
    source: tuple[Path, str],
    demo_module: ModuleType,
    artifacts: Path,
) -> None:
    demo: Demo = request.getfixturevalue(where)
    path, digest = source
    screenshot = artifacts / f"uppy-{demo.backend}-offline.png"
    sent = upload_with_uppy(context, demo, path, digest, cut=cut, screenshot=screenshot)
    assert set(sent.parts) == set(range(1, SIZE // PART + 1))  # 8 parts of 8 MB
    print(f"{where} cut={cut}: parts sent {sent.parts}, failed {sent.failed}")
    if cut:  # parts failed when the network went, and were sent again once it was back
        assert sent.failed
        assert all(sent.parts.count(number) >= 2 for number in sent.failed)
    else:
        assert sorted(sent.parts) == list(range(1, SIZE // PART + 1))
    assert stored_sha256(demo, demo_module, path.name) == digest
    if demo.backend == "local":  # the parts kept by the application are gone
        leftovers = Path(demo.app.config["FS_ROOT"]) / "files" / ".fs-tmp-uploads"
        assert not leftovers.exists() or not any(leftovers.rglob("*.*"))


@pytest.mark.parametrize("where", ["local_demo", "seaweed_demo"])
def test_uppy_uploads_a_small_file_in_one_body(
    where: str,
    request: pytest.FixtureRequest,
    context: BrowserContext,
    demo_module: ModuleType,
    tmp_path: Path,
) -> None:
    """A file under the demo's 8 MB part threshold goes in one body: to the application's
    ``PUT /body/<ticket>`` (local), or in a form POST to SeaweedFS, which redirects the browser
    to the application's ``/complete/<ticket>`` (another origin than the store's: the answer
    must let a page read it, as Uppy does its ``ETag``)."""
    demo: Demo = request.getfixturevalue(where)
    data = os.urandom(3 * 2**20 + 17)
    path = tmp_path / "small.bin"
    path.write_bytes(data)
    page = context.new_page()
    bodies: list[str] = []
    page.on("request", lambda r: bodies.append(r.method) if r.method in ("POST", "PUT") else None)
    page.goto(demo.url)
    page.wait_for_function("() => window.uppy")
    page.locator(".uppy-Dashboard-input").first.set_input_files(str(path))
    page.get_by_role("button", name=re.compile("Upload 1 file")).click()
    expect(page.locator("#files tr", has_text=path.name)).to_contain_text("3.0 MB", timeout=60_000)
    assert stored_sha256(demo, demo_module, path.name) == hashlib.sha256(data).hexdigest()
    assert "PUT" not in bodies if demo.backend == "s3" else "PUT" in bodies  # one body, no parts
    page.close()


#: Uppy's list-parts request (the parts stored, to resume): no part number in its path.
LIST_PARTS_URL = re.compile(r"/s3/multipart/[^/?]+\?key=")

#: Whether GoldenRetriever holds a file's bytes in IndexedDB (its ``uppy-blobs`` database).
BLOB_KEPT = """async () => {
  const db = await new Promise((resolve, reject) => {
    const opening = indexedDB.open("uppy-blobs");
    opening.onsuccess = () => resolve(opening.result);
    opening.onerror = () => reject(opening.error);
  });
  try {
    if (!db.objectStoreNames.contains("files")) return 0;
    const counting = db.transaction("files").objectStore("files").count();
    return await new Promise((resolve) => { counting.onsuccess = () => resolve(counting.result); });
  } finally {
    db.close();
  }
}"""


@dataclass
class Resumed:
    """The part numbers stored before the reload (their answer reached the browser), those the
    endpoint listed once the page was reloaded, and those sent after it."""

    stored_before: list[int]
    listed: list[int]
    sent_after: list[int]


def _wait(page: Page, condition: Callable[[], object], timeout: float = 60.0) -> None:
    """Let the page run (and Playwright deliver its events) until ``condition()`` holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        page.wait_for_timeout(50)


def upload_reloaded_with_uppy(
    context: BrowserContext, demo: Demo, path: Path, digest: str
) -> Resumed:
    """Upload ``path`` with the demo's Uppy, throttled (4 MB/s, so that keeping the file in
    IndexedDB ends long before the upload) until at least two parts are stored, then reload
    the page, as a person would, and resume it with the Dashboard's upload button,
    unthrottled; wait for the page to list the file."""
    page: Page = context.new_page()
    sent: list[int] = []
    stored: list[int] = []
    page.on("request", lambda r: sent.append(n) if (n := _part_number(r)) else None)
    page.on(
        "response",
        lambda r: stored.append(n) if r.ok and (n := _part_number(r.request)) else None,
    )
    page.goto(demo.url)
    page.wait_for_function("() => window.uppy")
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    throttled = {"offline": False, "latency": 0, "downloadThroughput": -1}
    cdp.send("Network.emulateNetworkConditions", {**throttled, "uploadThroughput": 4 * 2**20})
    page.locator(".uppy-Dashboard-input").first.set_input_files(str(path))
    page.get_by_role("button", name=re.compile("Upload 1 file")).click()
    _wait(page, lambda: len(stored) >= 2)
    _wait(page, lambda: page.evaluate(BLOB_KEPT) == 1)  # GoldenRetriever has the file's bytes
    stored_before = list(stored)
    assert page.evaluate("() => !window.uppy.getFiles()[0].progress.uploadComplete")
    page.reload()
    cdp.send("Network.emulateNetworkConditions", {**throttled, "uploadThroughput": -1})
    page.wait_for_function(  # restored: the file and its bytes, its upload started
        "() => window.uppy && window.uppy.getFiles().length === 1"
        " && window.uppy.getFiles()[0].data && window.uppy.getFiles()[0].s3Multipart"
    )
    before = len(sent)
    with page.expect_response(
        lambda r: r.request.method == "GET" and bool(LIST_PARTS_URL.search(r.url))
    ) as listing:
        page.get_by_role("button", name=re.compile("Upload 1 file")).click()
    listed = sorted(part["PartNumber"] for part in listing.value.json())
    message = page.get_by_text(f"Uploaded {path.name} directly (SHA-256 {digest}).")
    expect(message).to_be_visible(timeout=120_000)  # the page reloaded: the upload is done
    expect(page.locator("#files tr", has_text=path.name)).to_contain_text("64.0 MB")
    sent_after = sent[before:]
    page.close()
    return Resumed(stored_before, listed, sent_after)


@pytest.mark.parametrize("where", ["local_demo", "seaweed_demo"])
def test_uppy_resumes_after_a_page_reload(
    where: str,
    request: pytest.FixtureRequest,
    context: BrowserContext,
    source: tuple[Path, str],
    demo_module: ModuleType,
) -> None:
    """GoldenRetriever (the demo's page uses it) restores the file after a reload; resumed, the
    upload sends only the parts the endpoint does not list, each once."""
    demo: Demo = request.getfixturevalue(where)
    path, digest = source
    resumed = upload_reloaded_with_uppy(context, demo, path, digest)
    print(f"{where}: {resumed}")
    assert len(resumed.stored_before) >= 2
    assert set(resumed.stored_before) <= set(resumed.listed)  # kept, and listed
    missing = sorted(set(range(1, SIZE // PART + 1)) - set(resumed.listed))
    assert missing  # the reload came before the end: something was left to send
    assert sorted(resumed.sent_after) == missing  # the others, each once, and no stored one
    assert stored_sha256(demo, demo_module, path.name) == digest
    if demo.backend == "local":  # the parts kept by the application are gone
        leftovers = Path(demo.app.config["FS_ROOT"]) / "files" / ".fs-tmp-uploads"
        assert not leftovers.exists() or not any(leftovers.rglob("*.*"))


def test_without_uppy_the_demo_says_so_and_keeps_its_upload(
    demo_module: ModuleType, tmp_path: Path
) -> None:
    app = demo_module.create_app(_config(tmp_path, UPPY_DOWNLOAD=False))
    page = app.test_client().get("/").get_data(as_text=True)
    assert "Uppy is unavailable" in page
    assert 'id="picker"' in page
    assert "uppy.min.mjs" not in page
    assert app.test_client().get("/uppy/uppy.min.mjs").status_code == 404


def test_offline_the_demo_says_uppy_is_unavailable(
    demo_module: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(demo_module.uppy_assets, "TARBALL", "http://127.0.0.1:9/uppy.tgz")
    app = demo_module.create_app(_config(tmp_path, UPPY_CACHE=str(tmp_path / "cache")))
    assert "Uppy is unavailable" in app.test_client().get("/").get_data(as_text=True)


def test_a_tarball_that_is_not_the_pinned_release_is_not_extracted(
    demo_module: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    uppy_assets = demo_module.uppy_assets
    other = tmp_path / "other.tgz"
    with tarfile.open(other, "w:gz") as archive:
        for name in uppy_assets.FILES:
            archive.add(__file__, arcname=f"package/dist/{name}")
    monkeypatch.setattr(uppy_assets, "TARBALL", other.as_uri())
    assert uppy_assets.ensure(tmp_path / "cache") is None
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").rglob("*.*"))


def test_a_tarball_that_is_not_the_pinned_release_is_refused(demo_module: ModuleType) -> None:
    uppy_assets = demo_module.uppy_assets
    uppy_assets.check_integrity(b"x", "sha512-" + _b64_sha512(b"x"))
    with pytest.raises(uppy_assets.IntegrityError):
        uppy_assets.check_integrity(b"y", "sha512-" + _b64_sha512(b"x"))
    with pytest.raises(uppy_assets.IntegrityError):
        uppy_assets.check_integrity(b"x")


def _b64_sha512(data: bytes) -> str:
    return base64.b64encode(hashlib.sha512(data).digest()).decode()

"""Signed URLs to the serving view, over real HTTP: a waitress server in a thread, http.client.

Local, GridFS, fs-core's MemoryBackend (a third-party backend that signs nothing itself) and
Swift without a TempURL key (so its links are the view's, as those of its active content always
are), with ``FS_SERVE`` off: only signed requests are served.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from flask import Flask

import flask_fs as fs
from flask_fs.signing import Grant
from flask_fs.testing.fixtures import storage_config
from flask_fs.testing.serving import waitress_server
from flask_fs.testing.signed_links import SignedLinkTests, http_get

CONTENT = b"0123456789" * 100


@dataclass
class Served:
    app: Flask
    storage: fs.Storage

    def url(self, filename: str, **kwargs: Any) -> str:
        with self.app.app_context():
            url = self.storage.url(filename, external=True, **kwargs)
        assert url is not None
        return url


@dataclass
class Answer:
    status: int
    headers: Message
    body: bytes


def get(url: str, **headers: str) -> Answer:
    return Answer(*http_get(url, headers))


def _install_memory_backend(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Declare fs-core's MemoryBackend as the ``memory`` backend (an ``fs.backend`` entry
    point), as a third-party package would."""
    dist_info = tmp_path / "site" / "fs_memory_test-1.0.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: fs-memory-test\nVersion: 1.0\n"
    )
    (dist_info / "entry_points.txt").write_text(
        "[fs.backend]\nmemory = flask_fs.testing.memory:MemoryBackend\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path / "site"))


@pytest.fixture(params=["local", "memory", "gridfs", "swift"])
def served(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Served]:
    backend = request.param
    settings: dict[str, Any] = {"BACKEND": backend}
    if backend == "gridfs":
        settings.update(MONGO_URL=request.getfixturevalue("mongo_url"), MONGO_DB="fs_signed")
    if backend == "memory":
        _install_memory_backend(tmp_path, monkeypatch)
    if backend == "swift":
        server = request.getfixturevalue("swift_server")
        settings.update(
            AUTHURL=server.authurl, USER=server.user, KEY=server.key, CONTAINER="fs-signed"
        )
    app = Flask(__name__, instance_path=str(tmp_path / "instance"))
    app.config.update(SECRET_KEY="a secret", FS_SERVE=False, FS_ROOT=str(tmp_path / "fs"))
    storage = fs.Storage(f"signed{backend}", fs.ALL)
    app.config.update(storage_config(storage.name, settings))
    fs.init_app(app, storage)
    with app.app_context():
        for name, content in (
            ("doc.txt", CONTENT),
            ("other.txt", b"other"),
            ("page.html", b"<script>alert(1)</script>"),
            ("pic.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>"),
        ):
            storage.write(name, content, overwrite=True)
    try:
        with waitress_server(app, threads=2) as base:
            app.config["SERVER_NAME"] = base.removeprefix("http://")
            yield Served(app, storage)
    finally:
        with app.app_context():
            for name in list(storage.list_files()):
                storage.delete(name)


def _with_path(url: str, path: str) -> str:
    return urlsplit(url)._replace(path=path).geturl()


def _with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.update(changes)
    return parts._replace(query=urlencode(query)).geturl()


def test_a_signed_url_answers_conditional_requests(served: Served) -> None:
    url = served.url("doc.txt", expires=60)
    answer = get(url)
    assert (answer.status, answer.body) == (200, CONTENT)
    etag = answer.headers["ETag"]
    assert get(url, **{"If-None-Match": etag}).status == 304


def test_serving_off_unsigned_is_404_signed_is_200(served: Served) -> None:
    url = served.url("doc.txt", expires=60)
    assert get(url).status == 200
    assert get(url.split("?")[0]).status == 404


def test_a_signature_made_for_a_past_time_is_403(served: Served) -> None:
    """The expiry is in the signed message: a valid signature of a past time opens nothing."""
    with served.app.app_context():
        query = Grant(served.storage.name, "doc.txt", int(time.time()) - 1).query(served.app)
    url = served.url("doc.txt", expires=60)
    assert get(urlsplit(url)._replace(query=urlencode(query)).geturl()).status == 403


def test_altered_urls_are_403_and_say_nothing_of_the_file(served: Served) -> None:
    url = served.url("doc.txt", expires=60, download_name="doc.txt")
    path = urlsplit(url).path
    answers = [
        get(_with_path(url, path.replace("doc.txt", "other.txt"))),  # another file
        get(_with_path(url, path.replace("doc.txt", "missing.txt"))),  # a file that is not
        get(_with_path(url, path.replace(served.storage.name, "elsewhere"))),  # no storage
        get(_with_query(url, signature="A" + dict(parse_qsl(urlsplit(url).query))["signature"])),
        get(_with_query(url, expires=str(int(time.time()) + 10_000))),
        get(_with_query(url, download_name="other.txt")),
        get(_with_query(url, inline="0")),
    ]
    assert {a.status for a in answers} == {403}
    assert len({a.body for a in answers}) == 1  # the same answer whether the file exists or not
    assert all(CONTENT not in a.body for a in answers)


@pytest.mark.parametrize("name", ["page.html", "pic.svg"])
def test_active_content_is_never_sniffed(served: Served, name: str) -> None:
    answer = get(served.url(name, expires=60, inline=True))
    assert answer.status == 200
    assert answer.headers["X-Content-Type-Options"] == "nosniff"


class TestViewSignedLinks(SignedLinkTests):
    """flask_fs.testing's signed-link checks, on links to the serving view."""

    @pytest.fixture
    def link_storage(self, served: Served) -> Iterator[fs.Storage]:
        with served.app.app_context():
            yield served.storage

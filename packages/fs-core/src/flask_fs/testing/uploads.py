"""Direct uploads (:mod:`flask_fs.uploads`) over real HTTP: the application runs under a WSGI
server in a thread, a client speaks to it (and to the store, where the backend has
``direct_uploads()``) with ``urllib``, following what the answers say, as a browser would.

Backend-independent: a backend's tests subclass :class:`DirectUploadTests` with their
``fs_backend`` and ``fs_settings`` fixtures, as for :class:`~flask_fs.testing.BackendConformance`.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import pytest
from flask import Flask
from werkzeug.serving import make_server

from flask_fs import Storage
from flask_fs.backends.direct import STAGING_FOLDER, BodyCheck, is_record
from flask_fs.errors import FileExists, UploadNotAllowed
from flask_fs.signals import upload_completed, upload_refused
from flask_fs.uploads.tickets import Ticket

from .fixtures import ConformanceFixtures, _empty

MiB = 1024 * 1024

#: The size limit of the storages under test.
MAX_SIZE = 8 * MiB


@dataclass
class Answer:
    """An HTTP answer."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def fetch(
    method: str,
    url: str,
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    json_body: Any = None,
) -> Answer:
    """One request with ``urllib`` (redirects followed); the answer, errors included."""
    headers = dict(headers or {})
    if json_body is not None:
        body = json.dumps(json_body).encode()
        headers["Content-Type"] = "application/json"
    if body is not None and not any(key.lower() == "content-type" for key in headers):
        # a browser sends a Blob's bytes as such; urllib would say they are a form
        headers["Content-Type"] = "application/octet-stream"
    request = urllib.request.Request(url, data=body, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return Answer(response.status, dict(response.headers), response.read())
    except urllib.error.HTTPError as exc:
        return Answer(exc.code, dict(exc.headers), exc.read())


def form_data(fields: Mapping[str, str], data: bytes, content_type: str) -> tuple[bytes, str]:
    """A ``multipart/form-data`` body of ``fields`` then the file: body and content type."""
    boundary = uuid.uuid4().hex
    chunks = []
    for name, value in fields.items():
        disposition = f'Content-Disposition: form-data; name="{name}"'
        chunks.append(f"--{boundary}\r\n{disposition}\r\n\r\n{value}\r\n".encode())
    chunks.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="upload"\r\n'
        f"Content-Type: {content_type}\r\n\r\n".encode()
    )
    chunks += [data, f"\r\n--{boundary}--\r\n".encode()]
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


def send_body(target: Mapping[str, Any], data: bytes, content_type: str = "") -> Answer:
    """Send ``data`` as ``target`` (:meth:`Storage.upload_target`) says, then complete it when
    it has a ``complete`` URL and the store did not redirect there: the completing answer."""
    if target["method"] == "POST":
        body, form_type = form_data(
            target["fields"], data, content_type or "application/octet-stream"
        )
        answer = fetch(
            "POST", target["url"], body, {**target["headers"], "Content-Type": form_type}
        )
    else:
        answer = fetch("PUT", target["url"], data, target["headers"])
    if answer.status >= 300 or not target.get("complete"):
        return answer
    if answer.body[:1] == b"{" and "sha256" in answer.json():
        return answer  # the store redirected the browser to the completion URL
    return fetch("POST", target["complete"])


def send_part(form: Mapping[str, Any], data: bytes) -> Answer:
    """Send one part as its signed ``form`` says."""
    return fetch(form.get("method", "PUT"), form["url"], data, form.get("headers") or {})


@dataclass
class UploadsApp:
    """An application serving direct uploads over HTTP, with three storages of the backend
    under test: ``storage`` (an authorizer that keeps names, refuses ``secret*``, puts
    ``mine*`` under ``users/7/``), ``closed`` (no authorizer) and ``replacing`` (as
    ``storage``, overwriting); :meth:`on` gives the harness of another one."""

    app: Flask
    base: str
    storage: Storage
    closed: Storage
    replacing: Storage
    completed: list[dict[str, Any]] = field(default_factory=list)
    #: what ``upload_refused`` told: storage name, filename, status (the reason left out)
    refused: list[tuple[str, str, int]] = field(default_factory=list)

    def on(self, storage: Storage) -> UploadsApp:
        """This harness, uploading to ``storage`` (the same signals recorded)."""
        return replace(self, storage=storage)

    def endpoint(self, storage: Storage | None = None) -> str:
        """The URL Uppy's ``endpoint`` option takes for ``storage``."""
        return f"{self.base}/_uploads/{(storage or self.storage).name}"

    def params(self, filename: str, content_type: str = "", **more: Any) -> Answer:
        query = urlencode({"filename": filename, "type": content_type, **more})
        return fetch("GET", f"{self.endpoint()}/s3/params?{query}")

    def start(self, filename: str, content_type: str = "", **more: Any) -> dict[str, Any]:
        answer = fetch(
            "POST",
            f"{self.endpoint()}/s3/multipart",
            json_body={"filename": filename, "type": content_type, "metadata": {}, **more},
        )
        assert answer.status == 200, answer.body
        started: dict[str, Any] = answer.json()
        return started

    def multipart_url(self, upload: Mapping[str, Any], tail: str = "") -> str:
        upload_id = quote(upload["uploadId"], safe="")
        return f"{self.endpoint()}/s3/multipart/{upload_id}{tail}?key={quote(upload['key'])}"

    def sign_part(self, upload: Mapping[str, Any], number: int) -> Answer:
        """Ask how to send part ``number`` (``{method, url, headers, expires}``)."""
        return fetch("GET", self.multipart_url(upload, f"/{number}"))

    def put_part(self, upload: Mapping[str, Any], number: int, data: bytes) -> str:
        """Sign and send part ``number``: its ETag."""
        signed = self.sign_part(upload, number)
        assert signed.status == 200, signed.body
        answer = send_part(signed.json(), data)
        assert answer.status in (200, 201), answer.body  # S3: 200, Swift: 201 Created
        return {k.lower(): v for k, v in answer.headers.items()}["etag"]

    def parts(self, upload: Mapping[str, Any]) -> Answer:
        return fetch("GET", self.multipart_url(upload))

    def complete(self, upload: Mapping[str, Any], parts: list[tuple[int, str]]) -> Answer:
        given = [{"PartNumber": n, "ETag": etag} for n, etag in parts]
        return fetch("POST", self.multipart_url(upload, "/complete"), json_body={"parts": given})

    def staged(self) -> list[str]:
        """Whatever waits under ``STAGING_FOLDER`` in the storage, but completion records."""
        with self.app.app_context():
            listed = self.storage.backend.list_files(STAGING_FOLDER + "/")
            return [name for name in listed if not is_record(name)]

    def records(self) -> list[str]:
        """The completion records under ``STAGING_FOLDER``."""
        with self.app.app_context():
            listed = self.storage.backend.list_files(STAGING_FOLDER + "/")
            return [name for name in listed if is_record(name)]


class RefusingCheck(BodyCheck):
    """A :class:`~flask_fs.backends.direct.BodyCheck` that reads the whole body, then refuses
    it: what a :class:`~flask_fs.backends.direct.StoreUploads` must never publish over a file."""

    def sha256(self) -> str:
        super().sha256()
        raise UploadNotAllowed("refused by RefusingCheck")


def assert_kept(storage: Storage, filename: str, old: bytes | None) -> None:
    """After a refused upload: ``filename`` holds ``old`` still, or does not exist (``None``)."""
    assert storage.exists(filename) is (old is not None)
    if old is not None:
        assert storage.read(filename) == old


def _answered(answer: Answer) -> dict[str, Any]:
    """A completion's answer, but its URLs: signed ones (Swift's TempURLs) are signed anew, to
    the second, by each answer."""
    found: dict[str, Any] = answer.json()
    assert found["url"] == found["location"]
    return {key: value for key, value in found.items() if key not in ("url", "location")}


def _tamper(token: str) -> str:
    """``token`` with one character of its payload changed (every one of them counts: the last
    character of a base64 text may not)."""
    return token[:5] + ("A" if token[5] != "A" else "B") + token[6:]


def _authorize(request: Any, filename: str) -> str | None:
    if filename.startswith("secret"):
        return None
    if filename.startswith("boom"):
        raise RuntimeError("the authorizer failed")
    return f"users/7/{filename}" if filename.startswith("mine") else filename


class DirectUploadTests(ConformanceFixtures):
    """Direct uploads through the blueprint, on the backend under test."""

    @pytest.fixture
    def fs_upload_dates(self) -> bool:
        """Whether the store dates unfinished uploads truly (moto dates them all in 2010:
        every one looks abandoned to ``sweep``)."""
        return True

    @pytest.fixture
    def fs_part_size(self) -> int:
        """The size of every part but the last in the tests of uploads in parts."""
        return 5 * MiB

    @pytest.fixture
    def uploads(self, fs_app: Flask) -> Iterator[UploadsApp]:
        fs_app.config.update(
            SECRET_KEY="direct-uploads-tests",
            FS_DIRECT_UPLOADS=True,
            FS_DIRECT_UPLOADS_MAX_SIZE=MAX_SIZE,
        )
        server = make_server("127.0.0.1", 0, fs_app, threaded=True)
        fs_app.config["SERVER_NAME"] = f"127.0.0.1:{server.server_port}"
        storage = self._make_storage(fs_app, "uploads")
        storage.authorize_uploads(_authorize)
        closed = self._make_storage(fs_app, "closed")
        replacing = self._make_storage(fs_app, "replacing", overwrite=True)
        replacing.authorize_uploads(_authorize)
        base = f"http://127.0.0.1:{server.server_port}"
        harness = UploadsApp(fs_app, base, storage, closed, replacing)

        def record(sender: Flask, **kwargs: Any) -> None:
            harness.completed.append({**kwargs, "storage": kwargs["storage"].name})

        def record_refusal(sender: Flask, **kwargs: Any) -> None:
            assert kwargs["reason"]  # what the browser was told, never empty
            harness.refused.append((kwargs["storage"].name, kwargs["filename"], kwargs["status"]))

        upload_completed.connect(record, fs_app)
        upload_refused.connect(record_refusal, fs_app)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield harness
        finally:
            server.shutdown()
            thread.join()
            upload_completed.disconnect(record, fs_app)
            upload_refused.disconnect(record_refusal, fs_app)
            with fs_app.app_context():
                for each in (storage, closed, replacing):
                    each.sweep(0)
                    _empty(each)

    def _leftovers(self, uploads: UploadsApp) -> list[str]:
        """What ``sweep`` would find of any age (uploads in parts, staged bodies, parts), but
        the records of completed uploads."""
        time.sleep(1.1)  # some stores round an upload's date up to the next second
        with uploads.app.app_context():
            found = uploads.storage.sweep(0, remove=False)
        return [line for line in found if not line.startswith("record of ended upload")]

    def _assert_nothing_left(self, uploads: UploadsApp, filename: str) -> None:
        """After a refused or aborted upload of ``filename``: no file, no signal, no leftover."""
        with uploads.app.app_context():
            assert not uploads.storage.exists(filename)
        assert uploads.completed == []
        assert uploads.staged() == []
        assert self._leftovers(uploads) == []

    # -- one body --------------------------------------------------------------------------

    def test_a_simple_upload_is_stored_checked_and_announced(self, uploads: UploadsApp) -> None:
        data = b"hello, direct uploads\n" * 100
        answer = uploads.params("hello.txt", "text/plain")
        assert answer.status == 200, answer.body
        target = answer.json()
        assert target["filename"] == "hello.txt"
        assert target["max_size"] == MAX_SIZE
        assert {"method", "url", "fields", "headers", "complete", "expires"} <= set(target)
        done = send_body(target, data, "text/plain")
        assert done.status == 200, done.body
        result = done.json()
        sha256 = hashlib.sha256(data).hexdigest()
        assert (result["filename"], result["size"], result["sha256"]) == (
            "hello.txt",
            len(data),
            sha256,
        )
        headers = {k.lower(): v for k, v in done.headers.items()}
        assert headers["etag"] == f'"{sha256}"'
        if target["complete"]:  # the completion route, which a store's redirect reaches from
            # another origin (the request's origin is then "null"): any page may read it
            assert headers["access-control-allow-origin"] == "*"
            assert "ETag" in headers["access-control-expose-headers"]
        with uploads.app.app_context():
            assert uploads.storage.read("hello.txt") == data
            assert list(uploads.storage.list_files()) == ["hello.txt"]
        assert uploads.completed == [
            {
                "storage": uploads.storage.name,
                "filename": "hello.txt",
                "size": len(data),
                "sha256": sha256,
            }
        ]
        assert uploads.staged() == []

    def test_an_existing_name_is_refused_before_anything_is_sent(self, uploads: UploadsApp) -> None:
        with uploads.app.app_context():
            uploads.storage.write("taken.txt", b"first")
            with pytest.raises(FileExists):
                uploads.storage.upload_target("taken.txt", max_size=100)
        assert uploads.params("taken.txt", "text/plain").status == 409

    def test_an_oversize_body_is_refused_and_nothing_is_left(self, uploads: UploadsApp) -> None:
        with uploads.app.app_context():
            target = uploads.storage.upload_target("big.bin", max_size=1000)
        answer = send_body(target, b"x" * 5000)
        assert 400 <= answer.status < 500
        with uploads.app.app_context():
            assert not uploads.storage.exists("big.bin")
        assert uploads.staged() == []
        assert uploads.completed == []

    def test_a_declared_size_must_be_the_size(self, uploads: UploadsApp) -> None:
        target = uploads.params("sized.txt", "text/plain", size=10).json()
        assert send_body(target, b"12345", "text/plain").status == 400
        with uploads.app.app_context():
            assert not uploads.storage.exists("sized.txt")
        assert uploads.params("huge.txt", "text/plain", size=MAX_SIZE + 1).status == 413

    def test_a_body_of_another_type_is_refused_and_removed(self, uploads: UploadsApp) -> None:
        target = uploads.params("photo.png", "image/png").json()
        answer = send_body(target, b"<html><script>alert(1)</script></html>" * 20, "image/png")
        assert answer.status == 415, answer.body
        assert "error" in answer.json()
        with uploads.app.app_context():
            assert not uploads.storage.exists("photo.png")
        assert uploads.staged() == []
        assert uploads.refused == [(uploads.storage.name, "photo.png", 415)]
        assert uploads.completed == []

    def test_a_png_is_a_png(self, uploads: UploadsApp) -> None:
        png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 600
        target = uploads.params("real.png", "image/png").json()
        assert send_body(target, png, "image/png").status == 200

    def test_two_clients_racing_for_one_name_make_one_winner(self, uploads: UploadsApp) -> None:
        targets = [uploads.params("race.txt", "text/plain").json() for _ in range(2)]
        bodies = [b"first client\n" * 1000, b"second client\n" * 1000]
        answers: list[Answer] = []
        threads = [
            threading.Thread(target=lambda t=t, b=b: answers.append(send_body(t, b, "text/plain")))
            for t, b in zip(targets, bodies, strict=True)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(a.status for a in answers) == [200, 409], [a.body for a in answers]
        winner = next(a for a in answers if a.status == 200).json()
        with uploads.app.app_context():
            stored = uploads.storage.read("race.txt")
        assert hashlib.sha256(stored).hexdigest() == winner["sha256"]
        assert uploads.staged() == []

    # -- tickets and permissions ---------------------------------------------------------------

    def test_a_tampered_or_expired_ticket_is_a_403_that_says_nothing(
        self, uploads: UploadsApp
    ) -> None:
        upload = uploads.start("notes.txt", "text/plain")
        assert uploads.parts(upload).status == 200
        key = upload["key"]
        tampered = _tamper(key)
        for bad in ({**upload, "key": tampered}, {**upload, "uploadId": "another"}):
            answer = uploads.parts(bad)
            assert (answer.status, answer.body) == (403, b"")
        with uploads.app.app_context():
            fields = {
                "storage": uploads.storage.name,
                "filename": "notes.txt",
                "max_size": 10,
                "expires": int(time.time()) - 1,
                "upload_id": upload["uploadId"],
            }
            expired = Ticket(**fields).sign(uploads.app)
            other_storage = Ticket(
                **{**fields, "storage": uploads.closed.name, "expires": int(time.time()) + 60}
            ).sign(uploads.app)
        for key in (expired, other_storage):
            answer = uploads.parts({**upload, "key": key})
            assert (answer.status, answer.body) == (403, b"")
        answer = fetch("POST", f"{uploads.endpoint()}/complete/{tampered}")
        assert (answer.status, answer.body) == (403, b"")

    def test_without_an_authorizer_every_request_is_a_401(self, uploads: UploadsApp) -> None:
        endpoint = uploads.endpoint(uploads.closed)
        answer = fetch("GET", f"{endpoint}/s3/params?filename=a.txt&type=text/plain")
        assert (answer.status, answer.body) == (401, b"")
        answer = fetch("POST", f"{endpoint}/s3/multipart", json_body={"filename": "a.txt"})
        assert answer.status == 401
        # asked before the request is read any further: malformed ones are 401s too
        for query in ("", "?filename=", "?filename=../x&size=many"):
            answer = fetch("GET", f"{endpoint}/s3/params{query}")
            assert (answer.status, answer.body) == (401, b""), query
        for body in (b"not json", b"[]", b'{"filename": 7}'):
            answer = fetch("POST", f"{endpoint}/s3/multipart", body, {"Content-Type": "text/x"})
            assert (answer.status, answer.body) == (401, b""), body

    def test_the_authorizer_names_or_refuses(self, uploads: UploadsApp) -> None:
        target = uploads.params("mine.txt", "text/plain").json()
        assert target["filename"] == "users/7/mine.txt"
        assert send_body(target, b"mine", "text/plain").json()["filename"] == "users/7/mine.txt"
        assert uploads.params("secret.txt", "text/plain").status == 403
        assert uploads.params("boom.txt", "text/plain").status == 403
        answer = fetch(
            "POST", f"{uploads.endpoint()}/s3/multipart", json_body={"filename": "secret.txt"}
        )
        assert answer.status == 403
        assert uploads.start("mine.bin")["key"]

    # -- in parts ------------------------------------------------------------------------------

    def test_an_upload_in_parts_resumes_from_the_parts_stored(
        self, uploads: UploadsApp, fs_part_size: int
    ) -> None:
        first, second = b"a" * fs_part_size, b"b" * 1234
        upload = uploads.start("big.bin", "application/octet-stream")
        etag1 = uploads.put_part(upload, 1, first)
        # the page reloads: the client asks what is stored, then sends the rest
        listed = uploads.parts(upload).json()
        assert [(p["PartNumber"], p["Size"]) for p in listed] == [(1, fs_part_size)]
        assert listed[0]["ETag"].strip('"') == etag1.strip('"')
        with uploads.app.app_context():
            assert list(uploads.storage.list_files()) == []
            assert list(uploads.storage.list_files(details=True)) == []
        etag2 = uploads.put_part(upload, 2, second)
        done = uploads.complete(upload, [(1, listed[0]["ETag"]), (2, etag2)])
        assert done.status == 200, done.body
        result = done.json()
        assert result["sha256"] == hashlib.sha256(first + second).hexdigest()
        assert result["size"] == len(first + second)
        with uploads.app.app_context():
            assert uploads.storage.metadata("big.bin")["size"] == len(first + second)
            assert list(uploads.storage.list_files()) == ["big.bin"]
        assert uploads.staged() == []
        assert [c["filename"] for c in uploads.completed] == ["big.bin"]

    def test_parts_of_another_type_or_not_as_stored_are_refused(
        self, uploads: UploadsApp, fs_part_size: int
    ) -> None:
        upload = uploads.start("picture.jpg", "image/jpeg")
        etag = uploads.put_part(upload, 1, b"not a jpeg" * 100)
        answer = uploads.complete(upload, [(1, etag)])
        assert answer.status == 415, answer.body
        with uploads.app.app_context():
            assert not uploads.storage.exists("picture.jpg")
        assert uploads.refused == [(uploads.storage.name, "picture.jpg", 415)]
        upload = uploads.start("wrong.bin", "application/octet-stream")
        etag = uploads.put_part(upload, 1, b"z" * 100)
        assert uploads.complete(upload, [(1, '"0123"')]).status == 400
        assert uploads.complete(upload, [(2, etag)]).status == 400

    def test_parts_larger_together_than_the_limit_are_refused_and_removed(
        self, uploads: UploadsApp, fs_part_size: int
    ) -> None:
        """The store takes parts of any size (a signed part URL cannot bound it): parts
        larger together than ``max_size`` are refused at completion (413), and removed."""
        upload = uploads.start("over.bin", "application/octet-stream")
        first = uploads.put_part(upload, 1, b"a" * fs_part_size)
        signed = fetch("GET", uploads.multipart_url(upload, "/2")).json()
        rest = b"b" * (MAX_SIZE - fs_part_size + 1)
        answer = fetch("PUT", signed["url"], rest, signed.get("headers") or {})
        if answer.status < 300:
            etag = {k.lower(): v for k, v in answer.headers.items()}["etag"]
            done = uploads.complete(upload, [(1, first), (2, etag)])
            assert done.status == 413, done.body
        else:  # the application receives the parts: it refuses the part itself
            assert answer.status == 413
            fetch("DELETE", uploads.multipart_url(upload))
        self._assert_nothing_left(uploads, "over.bin")

    def test_an_aborted_upload_leaves_nothing(self, uploads: UploadsApp) -> None:
        upload = uploads.start("gone.bin", "application/octet-stream")
        uploads.put_part(upload, 1, b"q" * 1000)
        answer = fetch("DELETE", uploads.multipart_url(upload))
        assert answer.status == 200
        assert uploads.staged() == []

    def test_sweep_removes_abandoned_uploads_and_listings_never_show_them(
        self, uploads: UploadsApp, fs_upload_dates: bool
    ) -> None:
        upload = uploads.start("abandoned.bin", "application/octet-stream")
        uploads.put_part(upload, 1, b"p" * 1000)
        with uploads.app.app_context():
            uploads.storage.write("kept.txt", b"kept")
            assert list(uploads.storage.list_files()) == ["kept.txt"]
            assert [f.name for f in uploads.storage.list_files(details=True)] == ["kept.txt"]
            if fs_upload_dates:
                early = uploads.storage.sweep(3600, remove=False)
                assert early == [], early
            time.sleep(1.1)  # some stores round an upload's date up to the next second
            found = uploads.storage.sweep(0)
            assert found
            assert uploads.storage.sweep(0) == []
            assert uploads.storage.read("kept.txt") == b"kept"
        assert uploads.staged() == []
        answer = uploads.complete(upload, [(1, "whatever")])
        assert answer.status >= 400

    def test_an_aborted_upload_cannot_be_completed(self, uploads: UploadsApp) -> None:
        upload = uploads.start("aborted.txt", "text/plain")
        etag = uploads.put_part(upload, 1, b"hello aborted")
        assert fetch("DELETE", uploads.multipart_url(upload)).status == 200
        again = uploads.complete(upload, [(1, etag)])
        assert again.status == 404, again.body
        self._assert_nothing_left(uploads, "aborted.txt")
        assert uploads.refused == []  # a 404 refuses the request, not an upload

    def test_an_aborted_upload_takes_no_more_parts(
        self, uploads: UploadsApp, fs_part_size: int
    ) -> None:
        """Parts signed before the abort and sent after it (a request in flight, a URL still
        valid), then the completion: refused, nothing stored, on every backend."""
        upload = uploads.start("undone.txt", "text/plain")
        etag1 = uploads.put_part(upload, 1, b"a" * fs_part_size)
        late = uploads.sign_part(upload, 2)
        assert late.status == 200, late.body
        assert fetch("DELETE", uploads.multipart_url(upload)).status == 200
        assert uploads.sign_part(upload, 1).status == 404
        assert uploads.sign_part(upload, 3).status == 404
        assert uploads.parts(upload).status == 404
        sent = send_part(late.json(), b"after the abort")
        etag2 = '"0"'
        if late.json()["url"].startswith(uploads.base):  # the application's URL: refused
            assert sent.status == 404, sent.body
        elif sent.status < 300:  # a store's URL: the store may take it (Swift); not joined
            etag2 = {k.lower(): v for k, v in sent.headers.items()}["etag"]
        done = uploads.complete(upload, [(1, etag1), (2, etag2)])
        assert done.status == 404, done.body
        assert uploads.complete(upload, [(1, etag1)]).status == 404
        assert fetch("DELETE", uploads.multipart_url(upload)).status == 200  # aborted again
        assert uploads.sign_part(upload, 1).status == 404  # and still closed
        with uploads.app.app_context():
            assert not uploads.storage.exists("undone.txt")
        if late.json()["url"].startswith(uploads.base):  # the application kept nothing
            assert uploads.staged() == []
        else:  # what a store took after the abort waits for the sweep
            with uploads.app.app_context():
                uploads.storage.sweep(0)
        self._assert_nothing_left(uploads, "undone.txt")
        assert uploads.refused == []

    def test_aborting_a_completed_upload_keeps_its_file(self, uploads: UploadsApp) -> None:
        upload = uploads.start("finished.txt", "text/plain")
        etag = uploads.put_part(upload, 1, b"completed, then aborted")
        done = uploads.complete(upload, [(1, etag)])
        assert done.status == 200, done.body
        assert fetch("DELETE", uploads.multipart_url(upload)).status == 200
        again = uploads.complete(upload, [(1, etag)])
        assert again.status == 200, again.body
        assert _answered(again) == _answered(done)
        with uploads.app.app_context():
            assert uploads.storage.read("finished.txt") == b"completed, then aborted"
        assert uploads.parts(upload).status == 404
        assert len(uploads.completed) == 1

    def test_parts_named_wrongly_keep_the_upload_open(self, uploads: UploadsApp) -> None:
        """A completion naming a part not stored, or with another ETag, is a 400 that is not
        reported as a refused upload: the parts stay, and the right completion succeeds."""
        upload = uploads.start("retried.txt", "text/plain")
        etag = uploads.put_part(upload, 1, b"named wrongly first")
        for wrong in ([(1, '"0123"')], [(2, etag)], [], [(1, etag), (1, etag)]):
            answer = uploads.complete(upload, wrong)
            assert answer.status == 400, (wrong, answer.body)
        declared = uploads.start("declared.txt", "text/plain", size=100)
        short = uploads.put_part(declared, 1, b"fewer bytes than declared")
        answer = uploads.complete(declared, [(1, short)])
        assert answer.status == 400, answer.body
        assert uploads.parts(declared).status == 200  # open still: a part may be added
        assert uploads.refused == []
        assert [p["PartNumber"] for p in uploads.parts(upload).json()] == [1]
        done = uploads.complete(upload, [(1, etag)])
        assert done.status == 200, done.body
        with uploads.app.app_context():
            assert uploads.storage.read("retried.txt") == b"named wrongly first"

    def test_a_body_is_completed_once(self, uploads: UploadsApp) -> None:
        target = uploads.params("once.txt", "text/plain").json()
        done = send_body(target, b"once", "text/plain")
        assert done.status == 200, done.body
        if target.get("complete"):  # completed again (a lost reply): the same answer
            again = fetch("POST", target["complete"])
        else:  # the body sent again (a lost reply): not read, the same answer
            again = fetch("PUT", target["url"], b"twice", target["headers"])
        assert again.status == 200, again.body
        assert _answered(again) == _answered(done)
        with uploads.app.app_context():
            assert uploads.storage.read("once.txt") == b"once"
        assert len(uploads.completed) == 1

    def test_a_body_sent_again_after_its_completion_is_never_published(
        self, uploads: UploadsApp
    ) -> None:
        """The store's form (or the application's body URL) is still valid after the
        completion: a body sent to it again, then completed again, neither replaces the file
        announced on an overwriting storage nor changes the answer."""
        harness = uploads.on(uploads.replacing)
        target = harness.params("resent.txt", "text/plain").json()
        done = send_body(target, b"first body", "text/plain")
        assert done.status == 200, done.body
        again = send_body(target, b"second body", "text/plain")
        assert again.status == 200, again.body
        assert _answered(again) == _answered(done)
        with uploads.app.app_context():
            assert harness.storage.read("resent.txt") == b"first body"
        assert [c["sha256"] for c in uploads.completed] == [done.json()["sha256"]]
        other = harness.params("resent.txt", "text/plain").json()  # a new ticket: a new body
        assert send_body(other, b"third body", "text/plain").status == 200
        with uploads.app.app_context():
            assert harness.storage.read("resent.txt") == b"third body"
        assert len(uploads.completed) == 2

    def test_parts_completed_again_answer_the_same_and_are_announced_once(
        self, uploads: UploadsApp
    ) -> None:
        upload = uploads.start("again.txt", "text/plain")
        etag = uploads.put_part(upload, 1, b"completed twice")
        done = uploads.complete(upload, [(1, etag)])
        assert done.status == 200, done.body
        again = uploads.complete(upload, [(1, etag)])  # a retry after a lost reply
        assert again.status == 200, again.body
        assert _answered(again) == _answered(done)
        assert [c["filename"] for c in uploads.completed] == ["again.txt"]
        assert len(uploads.records()) == 1
        time.sleep(1.1)  # some stores round an object's date up to the next second
        with uploads.app.app_context():
            assert uploads.storage.read("again.txt") == b"completed twice"
            swept = uploads.storage.sweep(0)
        assert any(line.startswith("record of ended upload") for line in swept)
        assert uploads.records() == []

    def test_completions_racing_for_one_upload_announce_it_once(self, uploads: UploadsApp) -> None:
        upload = uploads.start("racing.txt", "text/plain")
        etag = uploads.put_part(upload, 1, b"raced\n" * 1000)
        answers: list[Answer] = []
        threads = [
            threading.Thread(target=lambda: answers.append(uploads.complete(upload, [(1, etag)])))
            for _ in range(3)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert 200 in [a.status for a in answers], [a.body for a in answers]
        assert all(a.status < 500 for a in answers), [a.body for a in answers]
        assert [c["filename"] for c in uploads.completed] == ["racing.txt"]
        with uploads.app.app_context():
            assert uploads.storage.read("racing.txt") == b"raced\n" * 1000
        assert uploads.staged() == []

    # -- overwriting storages ----------------------------------------------------------------

    def test_an_overwriting_storage_takes_a_new_version_on_either_path(
        self, uploads: UploadsApp
    ) -> None:
        replacing = uploads.on(uploads.replacing)
        with uploads.app.app_context():
            uploads.replacing.write("notes.txt", b"old notes")
            uploads.replacing.write("parts.txt", b"old parts")
        target = replacing.params("notes.txt", "text/plain").json()
        assert send_body(target, b"new notes", "text/plain").status == 200
        upload = replacing.start("parts.txt", "text/plain")
        etag = replacing.put_part(upload, 1, b"new parts")
        done = replacing.complete(upload, [(1, etag)])
        assert done.status == 200, done.body
        assert done.json()["sha256"] == hashlib.sha256(b"new parts").hexdigest()
        with uploads.app.app_context():
            assert uploads.replacing.read("notes.txt") == b"new notes"
            assert uploads.replacing.read("parts.txt") == b"new parts"
            checksum = uploads.replacing.metadata("parts.txt")["checksum"]
        assert checksum == "sha256:" + hashlib.sha256(b"new parts").hexdigest()
        assert replacing.staged() == []
        assert self._leftovers(replacing) == []

    def test_a_refused_upload_never_replaces_the_file_it_would_overwrite(
        self, uploads: UploadsApp
    ) -> None:
        replacing = uploads.on(uploads.replacing)
        png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 600
        with uploads.app.app_context():
            for name in ("body.png", "parts.png", "sized.txt"):
                uploads.replacing.write(name, png if name.endswith(".png") else b"kept")
        target = replacing.params("body.png", "image/png").json()
        assert send_body(target, b"<html>" * 200, "image/png").status == 415
        upload = replacing.start("parts.png", "image/png")
        etag = replacing.put_part(upload, 1, b"<html>" * 200)
        assert replacing.complete(upload, [(1, etag)]).status == 415
        upload = replacing.start("sized.txt", "text/plain", size=100)
        etag = replacing.put_part(upload, 1, b"not the size declared")
        assert replacing.complete(upload, [(1, etag)]).status == 400
        assert fetch("DELETE", replacing.multipart_url(upload)).status == 200  # else resumable
        with uploads.app.app_context():
            assert uploads.replacing.read("body.png") == png
            assert uploads.replacing.read("parts.png") == png
            assert uploads.replacing.read("sized.txt") == b"kept"
        assert uploads.completed == []
        assert replacing.staged() == []
        assert self._leftovers(replacing) == []

    def test_names_with_accents_spaces_and_folders(
        self, uploads: UploadsApp, fs_part_size: int
    ) -> None:
        target = uploads.params("Été 2024 ünï.txt", "text/plain").json()
        assert target["filename"] == "Été_2024_ünï.txt"
        done = send_body(target, b"ete", "text/plain")
        assert done.status == 200, done.body
        assert done.json()["filename"] == "Été_2024_ünï.txt"
        upload = uploads.start("dir/Ça va ?.txt", "text/plain")
        etag = uploads.put_part(upload, 1, b"ca va")
        done = uploads.complete(upload, [(1, etag)])
        assert done.status == 200, done.body
        name = done.json()["filename"]
        with uploads.app.app_context():
            assert uploads.storage.read(name) == b"ca va"
            assert uploads.storage.read("Été_2024_ünï.txt") == b"ete"
        assert self._leftovers(uploads) == []

    def test_empty_files_in_one_body_and_in_parts(self, uploads: UploadsApp) -> None:
        target = uploads.params("empty.txt", "text/plain").json()
        done = send_body(target, b"", "text/plain")
        assert done.status == 200, done.body
        assert done.json()["size"] == 0
        upload = uploads.start("empty2.txt", "text/plain")
        etag = uploads.put_part(upload, 1, b"")
        done = uploads.complete(upload, [(1, etag)])
        assert done.status == 200, done.body
        with uploads.app.app_context():
            assert uploads.storage.read("empty2.txt") == b""
        assert self._leftovers(uploads) == []

    def test_two_uploads_in_parts_racing_for_one_name_make_one_winner(
        self, uploads: UploadsApp
    ) -> None:
        ups = [uploads.start("race2.txt", "text/plain") for _ in range(2)]
        etags = [uploads.put_part(u, 1, f"client {i}\n".encode() * 100) for i, u in enumerate(ups)]
        answers: list[Answer] = []
        threads = [
            threading.Thread(target=lambda u=u, e=e: answers.append(uploads.complete(u, [(1, e)])))
            for u, e in zip(ups, etags, strict=True)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(a.status for a in answers) == [200, 409], [a.body for a in answers]
        assert uploads.staged() == []
        assert self._leftovers(uploads) == []

    def test_a_body_refused_for_a_taken_name_leaves_nothing(self, uploads: UploadsApp) -> None:
        targets = [uploads.params("race3.txt", "text/plain").json() for _ in range(2)]
        answers = [send_body(t, b"body %d" % i, "text/plain") for i, t in enumerate(targets)]
        assert sorted(a.status for a in answers) == [200, 409]
        assert self._leftovers(uploads) == []

    def test_a_refused_type_leaves_nothing_on_either_path(self, uploads: UploadsApp) -> None:
        target = uploads.params("photo.png", "image/png").json()
        answer = send_body(target, b"<html>" * 200, "image/png")
        assert answer.status == 415
        upload = uploads.start("pic.png", "image/png")
        etag = uploads.put_part(upload, 1, b"<html>" * 200)
        assert uploads.complete(upload, [(1, etag)]).status == 415
        with uploads.app.app_context():
            assert not uploads.storage.exists("pic.png")
        assert self._leftovers(uploads) == []

    def test_staged_bodies_and_parts_are_never_listed_nor_served(self, uploads: UploadsApp) -> None:
        upload = uploads.start("srv.bin", "application/octet-stream")
        uploads.put_part(upload, 1, b"x" * 100)
        with uploads.app.app_context():
            store = uploads.storage.backend.direct_uploads()
            if store is not None:
                form = store.sign_upload(
                    f"{STAGING_FOLDER}/0123456789abcdef",
                    max_size=100,
                    content_type=None,
                    expires=timedelta(seconds=60),
                ).as_dict()
                if form["method"] == "POST":
                    body, form_type = form_data(form["fields"], b"staged", "text/plain")
                    sent = fetch("POST", form["url"], body, {"Content-Type": form_type})
                else:
                    sent = fetch("PUT", form["url"], b"staged", form["headers"])
                assert sent.status < 300, sent.body
        with uploads.app.app_context():
            names = list(uploads.storage.backend.list_files(STAGING_FOLDER + "/"))
            listed = list(uploads.storage.list_files())
        assert listed == []
        for name in names:
            answer = fetch("GET", f"{uploads.base}/{uploads.storage.name}/{quote(name)}")
            assert answer.status in (403, 404), (name, answer.status)


class AppSideUploadTests(DirectUploadTests):
    """Direct uploads the application receives itself (a backend whose ``direct_uploads()`` is
    ``None``): the limits hold whatever the client says or does not say."""

    def _put(self, url: str, chunks: list[bytes] | None, length: int | None) -> int:
        """A ``PUT`` with ``http.client``: chunked when ``length`` is None, else with that
        ``Content-Length`` (and only the headers when ``chunks`` is None); the status."""
        parts = urlsplit(url)
        connection = http.client.HTTPConnection(parts.netloc, timeout=60)
        try:
            path = f"{parts.path}?{parts.query}" if parts.query else parts.path
            if chunks is None:
                connection.putrequest("PUT", path)
                connection.putheader("Content-Length", str(length))
                connection.endheaders()
            elif length is None:
                connection.request("PUT", path, body=iter(chunks), encode_chunked=True)
            else:
                connection.request("PUT", path, body=b"".join(chunks))
            return connection.getresponse().status
        finally:
            connection.close()

    def test_a_chunked_body_is_counted_and_refused_beyond_the_limit(
        self, uploads: UploadsApp
    ) -> None:
        with uploads.app.app_context():
            target = uploads.storage.upload_target("chunked.bin", max_size=10_000)
        assert self._put(target["url"], [b"c" * 4000] * 5, None) == 413
        with uploads.app.app_context():
            assert not uploads.storage.exists("chunked.bin")
            assert uploads.storage.sweep(0, remove=False) == []
        assert uploads.staged() == []
        assert self._put(target["url"], [b"c" * 4000] * 2, None) == 200
        with uploads.app.app_context():
            assert uploads.storage.read("chunked.bin") == b"c" * 8000

    def test_a_content_length_above_the_limit_is_refused_before_the_body(
        self, uploads: UploadsApp
    ) -> None:
        with uploads.app.app_context():
            target = uploads.storage.upload_target("huge.bin", max_size=1000)
        assert self._put(target["url"], None, 10**12) == 413
        with uploads.app.app_context():
            assert not uploads.storage.exists("huge.bin")

    def test_parts_together_stay_within_the_limit(self, uploads: UploadsApp) -> None:
        upload = uploads.start("parts.bin", "application/octet-stream")
        uploads.put_part(upload, 1, b"1" * (MAX_SIZE - 10))
        signed = fetch("GET", uploads.multipart_url(upload, "/2")).json()
        assert self._put(signed["url"], [b"2" * 100], 100) == 413
        assert [p["PartNumber"] for p in uploads.parts(upload).json()] == [1]
        assert self._put(signed["url"], [b"2" * 10], 10) == 200
        parts = [(p["PartNumber"], p["ETag"]) for p in uploads.parts(upload).json()]
        assert uploads.complete(upload, parts).json()["size"] == MAX_SIZE

    def test_a_part_sent_again_after_the_completion_is_never_published(
        self, uploads: UploadsApp
    ) -> None:
        """The part URL stays valid after the completion: a part sent to it again, then the
        upload completed again, neither replaces the file announced (on an overwriting
        storage) nor changes the answer."""
        replacing = uploads.on(uploads.replacing)
        upload = replacing.start("again.txt", "text/plain")
        etag = replacing.put_part(upload, 1, b"first parts")
        late = replacing.sign_part(upload, 1)
        assert late.status == 200, late.body
        done = replacing.complete(upload, [(1, etag)])
        assert done.status == 200, done.body
        assert replacing.sign_part(upload, 1).status == 404  # the upload is closed
        assert replacing.parts(upload).status == 404
        sent = send_part(late.json(), b"second parts")
        if late.json()["url"].startswith(uploads.base):  # the application's URL: refused
            assert sent.status == 404, sent.body
        elif sent.status < 300:  # a store's URL still valid: the store may take it
            etag = {k.lower(): v for k, v in sent.headers.items()}["etag"]
        again = replacing.complete(upload, [(1, etag)])
        assert again.status == 200, again.body
        assert _answered(again) == _answered(done)
        with uploads.app.app_context():
            assert uploads.replacing.read("again.txt") == b"first parts"
        assert [c["sha256"] for c in uploads.completed] == [done.json()["sha256"]]

    def test_a_body_url_is_for_one_body_only(self, uploads: UploadsApp) -> None:
        upload = uploads.start("one.bin", "application/octet-stream")
        body_url = f"{uploads.endpoint()}/body/{upload['key']}"
        assert fetch("PUT", body_url, b"x").status == 403
        with uploads.app.app_context():
            target = uploads.storage.upload_target("two.bin", max_size=10)
        ticket = target["url"].rsplit("/", 1)[1]
        assert fetch("PUT", f"{uploads.endpoint()}/parts/{ticket}/1", b"x").status == 403


__all__ = [
    "MAX_SIZE",
    "Answer",
    "AppSideUploadTests",
    "DirectUploadTests",
    "UploadsApp",
    "fetch",
    "form_data",
    "send_body",
    "send_part",
]

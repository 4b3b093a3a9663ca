"""Direct uploads to S3 (``S3Uploads``), sent by a real HTTP client (``http.client``, the
``multipart/form-data`` body built here) with what ``sign_upload`` and ``sign_part`` return, on
each S3 server.

What each server does was measured here, and the tests assert it, gaps included (so that they
say when a server changes):

- SeaweedFS checks a ``POST`` policy whole: size (400 ``EntityTooLarge``), ``Content-Type``,
  key and expiry (403), signature (403); it honours ``success_action_redirect`` (303), dropping
  the redirect URL's own query.
- moto checks nothing of a ``POST`` (size, type, expiry, signature, key: all stored) nor of a
  presigned ``PUT``; it honours ``success_action_redirect``. The application's completion check
  (size, type) is then what refuses a body.
- Swift's s3api has no browser ``POST`` uploads (412 "Bad URL"): with ``POST_UPLOADS = False``
  the form is a presigned ``PUT``, whose type, expiry and signature it checks (403) but whose
  size nothing bounds before the application's check.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from botocore.exceptions import ClientError

import flask_fs as fs
from flask_fs.backends.direct import STAGING_FOLDER, BodyCheck, StoredPart, UploadForm
from flask_fs.backends.objectstore import CHECKSUM_KEY
from flask_fs.backends.s3 import S3Backend
from flask_fs.backends.s3_uploads import STAGED_SEPARATOR, S3Uploads, _where
from flask_fs.errors import (
    BackendError,
    FileExists,
    FileNotFound,
    OperationNotSupported,
    UploadNotAllowed,
)
from flask_fs.testing import temporary_storage
from flask_fs.testing.faults import FaultProxy
from flask_fs.testing.uploads import RefusingCheck, assert_kept

MiB = 1024 * 1024
BUCKET = "flask-fs-tests"  # the bucket fixture's
MINUTE = timedelta(minutes=1)
#: Servers without browser POST uploads: their storages sign a PUT (``POST_UPLOADS = False``).
NO_POST = {"swift-s3api"}
#: Servers that check nothing of what a POST policy or a presigned URL says.
UNCHECKED = {"moto"}
#: Servers that honour If-None-Match on CopyObject (``CONDITIONAL_COPY``): AWS too.
CONDITIONAL_COPY = {"seaweed", "external"}

Answer = tuple[int, dict[str, str], bytes]


def send(form: UploadForm, content: bytes, **changes: str) -> Answer:
    """Send ``content`` as a browser would with ``form`` (``changes``: fields or headers
    altered): a ``multipart/form-data`` POST, the file last, or a PUT of the raw body."""
    if form.method == "POST":
        fields = {**form.fields, **changes}
        boundary = uuid.uuid4().hex
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
            for name, value in fields.items()
        ]
        head = "".join(parts) + (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            'filename="upload.bin"\r\nContent-Type: application/octet-stream\r\n\r\n'
        )
        body = head.encode() + content + f"\r\n--{boundary}--\r\n".encode()
        headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        return request("POST", form.url, body, headers)
    return request("PUT", form.url, content, {**form.headers, **changes})


def request(method: str, url: str, body: bytes, headers: dict[str, str]) -> Answer:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    try:
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        connection.request(method, target, body, headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def tampered(form: UploadForm) -> UploadForm:
    """The form with one character of its signature changed."""
    if form.method == "POST":
        signature = form.fields["x-amz-signature"]
        changed = ("0" if signature[0] != "0" else "1") + signature[1:]
        return UploadForm(form.method, form.url, {**form.fields, "x-amz-signature": changed})
    start = form.url.index("X-Amz-Signature=") + len("X-Amz-Signature=")
    digit = "0" if form.url[start] != "0" else "1"
    url = form.url[:start] + digit + form.url[start + 1 :]
    return UploadForm(form.method, url, headers=form.headers)


def accepted(server: Any) -> int:
    """The status of a body the store took: 201 for a POST (``success_action_status``)."""
    return 200 if server.name in NO_POST else 201


def staging_name() -> str:
    return f"{STAGING_FOLDER}/{uuid.uuid4().hex}"


@pytest.fixture
def storage(s3_server: Any, s3_settings: dict[str, Any]) -> Iterator[fs.Storage]:
    settings = {**s3_settings, "POST_UPLOADS": s3_server.name not in NO_POST}
    with temporary_storage("s3", settings, "direct") as storage:
        yield storage
        list(storage.backend.sweep(0))  # staged bodies and open uploads


@pytest.fixture
def uploads(storage: fs.Storage) -> S3Uploads:
    store = storage.backend.direct_uploads()
    assert isinstance(store, S3Uploads)
    return store


def stage(uploads: S3Uploads, content: bytes, **options: Any) -> str:
    """A body sent to a new staging name; that name."""
    staging = staging_name()
    options = {"max_size": MiB, "content_type": None, "expires": MINUTE, **options}
    status, _, body = send(uploads.sign_upload(staging, **options), content)
    assert status in (200, 201, 204), body
    return staging


def uploads_in_progress(s3: Any, storage: fs.Storage) -> list[Any]:
    prefix = storage.backend.key_prefix  # type: ignore[attr-defined]
    return list(s3.list_multipart_uploads(Bucket=BUCKET, Prefix=prefix).get("Uploads", []))


# -- one body ----------------------------------------------------------------------------------


def test_a_body_is_stored_then_published(
    s3_server: Any, storage: fs.Storage, uploads: S3Uploads
) -> None:
    content = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40
    staging = staging_name()
    form = uploads.sign_upload(staging, max_size=MiB, content_type="image/png", expires=MINUTE)
    assert form.method == ("PUT" if s3_server.name in NO_POST else "POST")
    status, _, _ = send(form, content)
    assert status == accepted(s3_server)
    backend = storage.backend
    assert backend.head(staging).size == len(content)  # type: ignore[attr-defined]

    uploads.publish_staged(staging, "photos/a.png", overwrite=False)
    assert storage.read("photos/a.png") == content
    meta = storage.metadata("photos/a.png")
    assert meta["checksum"] == "sha256:" + hashlib.sha256(content).hexdigest()
    assert meta["mime"] == "image/png"
    assert not backend.exists(staging)
    assert list(storage.list_files()) == ["photos/a.png"]


@pytest.mark.s3_servers(without=NO_POST)  # a PUT has no redirect: the browser calls the app
def test_the_store_redirects_after_a_post(s3_server: Any, uploads: S3Uploads) -> None:
    redirect = "http://app.example/uploads/done/TOKEN"
    staging = staging_name()
    form = uploads.sign_upload(
        staging, max_size=MiB, content_type=None, expires=MINUTE, redirect=redirect
    )
    status, headers, _ = send(form, b"hello")
    assert status == 303
    assert headers["Location"].startswith(redirect + "?")  # the store adds key, bucket, etag
    assert uploads.backend.exists(staging)


def test_an_oversize_body_is_refused_by_the_store(
    s3_server: Any, storage: fs.Storage, uploads: S3Uploads
) -> None:
    staging = staging_name()
    form = uploads.sign_upload(staging, max_size=100, content_type=None, expires=MINUTE)
    status, _, body = send(form, b"x" * 101)
    if s3_server.name in UNCHECKED or s3_server.name in NO_POST:
        # Stored whole: the application's completion check sees the size and removes it.
        assert status == accepted(s3_server)
        assert uploads.backend.head(staging).size == 101
        return
    assert status == 400
    assert b"EntityTooLarge" in body
    assert not uploads.backend.exists(staging)
    assert list(storage.list_files()) == []
    assert send(form, b"x" * 100)[0] == 201  # max_size itself is allowed


def test_another_content_type_is_refused(s3_server: Any, uploads: S3Uploads) -> None:
    staging = staging_name()
    form = uploads.sign_upload(staging, max_size=MiB, content_type="image/png", expires=MINUTE)
    assert (form.fields or form.headers)["Content-Type"] == "image/png"
    status, _, _ = send(form, b"<html>", **{"Content-Type": "text/html"})
    if s3_server.name in UNCHECKED:
        assert status == accepted(s3_server)
        assert uploads.backend.head(staging).mime == "text/html"
        return
    assert status == 403
    assert not uploads.backend.exists(staging)


def test_an_expired_form_is_refused(s3_server: Any, uploads: S3Uploads) -> None:
    staging = staging_name()
    form = uploads.sign_upload(
        staging, max_size=MiB, content_type=None, expires=timedelta(seconds=1)
    )
    time.sleep(2.2)
    status, _, body = send(form, b"late")
    if s3_server.name in UNCHECKED:
        assert status == accepted(s3_server)
        return
    assert status == 403
    assert b"expired" in body
    assert not uploads.backend.exists(staging)


def test_a_tampered_signature_is_refused(s3_server: Any, uploads: S3Uploads) -> None:
    staging = staging_name()
    form = uploads.sign_upload(staging, max_size=MiB, content_type=None, expires=MINUTE)
    status, _, body = send(tampered(form), b"forged")
    if s3_server.name in UNCHECKED:
        assert status == accepted(s3_server)
        return
    assert (status, b"SignatureDoesNotMatch" in body) == (403, True)
    assert not uploads.backend.exists(staging)


@pytest.mark.s3_servers(without=NO_POST | UNCHECKED)  # a PUT URL signs its key; moto: no policy
def test_a_form_stores_under_its_own_key_only(s3_server: Any, uploads: S3Uploads) -> None:
    form = uploads.sign_upload(staging_name(), max_size=MiB, content_type=None, expires=MINUTE)
    other = uploads.backend._key("elsewhere.txt")
    assert send(form, b"x", key=other)[0] == 403
    assert not uploads.backend.exists("elsewhere.txt")


def test_publishing_onto_a_taken_name(s3_server: Any, s3_settings: dict[str, Any]) -> None:
    _publish_onto_a_taken_name(s3_server, s3_settings, conditional_copy=False)


@pytest.mark.s3_servers(only=CONDITIONAL_COPY)  # the others ignore If-None-Match on CopyObject
def test_publishing_onto_a_taken_name_by_copy(s3_server: Any, s3_settings: dict[str, Any]) -> None:
    _publish_onto_a_taken_name(s3_server, s3_settings, conditional_copy=True)


def _publish_onto_a_taken_name(
    s3_server: Any, s3_settings: dict[str, Any], *, conditional_copy: bool
) -> None:
    settings = {
        **s3_settings,
        "POST_UPLOADS": s3_server.name not in NO_POST,
        "CONDITIONAL_COPY": conditional_copy,
    }
    with temporary_storage("s3", settings, "publish") as storage:
        uploads = storage.backend.direct_uploads()
        assert isinstance(uploads, S3Uploads)
        storage.write("taken.txt", b"old")
        staging = stage(uploads, b"new")
        with pytest.raises(FileExists):
            uploads.publish_staged(staging, "taken.txt", overwrite=False)
        assert storage.read("taken.txt") == b"old"
        assert not uploads.backend.exists(staging)

        staging = stage(uploads, b"new")
        uploads.publish_staged(staging, "taken.txt", overwrite=True)
        assert storage.read("taken.txt") == b"new"
        assert storage.metadata("taken.txt")["checksum"] == (
            "sha256:" + hashlib.sha256(b"new").hexdigest()
        )
        assert not uploads.backend.exists(staging)

        staging = stage(uploads, b"fresh")
        uploads.publish_staged(staging, "fresh.txt", overwrite=False)
        assert storage.read("fresh.txt") == b"fresh"
        assert storage.metadata("fresh.txt")["checksum"] == (
            "sha256:" + hashlib.sha256(b"fresh").hexdigest()
        )
        with pytest.raises(FileNotFound):
            uploads.publish_staged(staging, "again.txt", overwrite=False)
        list(storage.backend.sweep(0))


def test_racing_publishes_have_one_winner(storage: fs.Storage, uploads: S3Uploads) -> None:
    racers = 4
    payloads = [bytes([65 + i]) * 1000 for i in range(racers)]
    stagings = [stage(uploads, payload) for payload in payloads]
    barrier = threading.Barrier(racers)

    def publish(i: int) -> bool:
        barrier.wait()
        try:
            uploads.publish_staged(stagings[i], "race.txt", overwrite=False)
        except FileExists:
            return False
        return True

    with ThreadPoolExecutor(racers) as pool:
        won = list(pool.map(publish, range(racers)))
    assert won.count(True) == 1
    assert storage.read("race.txt") == payloads[won.index(True)]
    assert not any(uploads.backend.exists(staging) for staging in stagings)


def test_staged_bodies_are_never_listed(storage: fs.Storage, uploads: S3Uploads) -> None:
    staging = stage(uploads, b"waiting")
    storage.write("kept.txt", b"kept")
    backend = storage.backend
    assert list(storage.list_files()) == ["kept.txt"]
    assert [info.name for info in storage.list_files(details=True)] == ["kept.txt"]
    assert list(backend.list_files("")) == ["kept.txt"]
    assert [info.name for info in backend.list_details("")] == ["kept.txt"]
    assert list(backend.list_files(".fs-tmp")) == []  # a partial prefix shows nothing either
    # Asked for the reserved folder itself (the core's sweep does), the backend lists them.
    assert [info.name for info in backend.list_details(STAGING_FOLDER + "/")] == [staging]


# -- in parts ----------------------------------------------------------------------------------


def send_part(uploads: S3Uploads, name: str, upload_id: str, number: int, data: bytes) -> str:
    form = uploads.sign_part(name, upload_id, number, expires=MINUTE)
    assert (form.method, form.fields) == ("PUT", {})
    status, headers, body = send(form, data)
    assert status == 200, body
    return headers["ETag"]


def test_an_upload_in_parts_resumes_after_a_failure(
    s3_server: Any, storage: fs.Storage, uploads: S3Uploads, s3: Any
) -> None:
    source = hashlib.sha256(b"seed").digest() * (11 * MiB // 32) + b"tail"  # ~11 MiB
    chunks = [source[i : i + 5 * MiB] for i in range(0, len(source), 5 * MiB)]
    assert len(chunks) == 3
    upload_id = uploads.start_parts("big/video.mp4", content_type="video/mp4")
    assert uploads.stored_parts("big/video.mp4", upload_id) == []
    etag = send_part(uploads, "big/video.mp4", upload_id, 1, chunks[0])
    # The network fails here; the page reloads, asks what the store has, sends the rest.
    stored = uploads.stored_parts("big/video.mp4", upload_id)
    assert stored == [StoredPart(1, 5 * MiB, etag)]
    for number in range(2, 4):
        send_part(uploads, "big/video.mp4", upload_id, number, chunks[number - 1])
    parts = uploads.stored_parts("big/video.mp4", upload_id)
    assert [(p.number, p.size) for p in parts] == [(1, 5 * MiB), (2, 5 * MiB), (3, len(chunks[2]))]
    assert not storage.exists("big/video.mp4")  # nothing is a file before it is joined

    uploads.join_parts("big/video.mp4", upload_id, parts, overwrite=False)
    digest = hashlib.sha256(source).hexdigest()
    with storage.open("big/video.mp4", "rb") as f:
        assert hashlib.sha256(f.read()).hexdigest() == digest
    meta = storage.metadata("big/video.mp4")
    assert (meta["checksum"], meta["size"], meta["mime"]) == (
        f"sha256:{digest}",
        len(source),
        "video/mp4",
    )
    assert uploads_in_progress(s3, storage) == []
    if s3_server.name != "swift-s3api":  # which still lists a completed upload's parts
        with pytest.raises(FileNotFound):
            uploads.stored_parts("big/video.mp4", upload_id)


def test_the_stored_parts_are_listed_page_by_page(uploads: S3Uploads) -> None:
    upload_id = uploads.start_parts("many.bin", content_type=None)
    with ThreadPoolExecutor(6) as pool:
        list(pool.map(lambda n: send_part(uploads, "many.bin", upload_id, n, b"p"), range(1, 13)))
    events = uploads.backend.client.meta.events
    pages: list[str] = []

    def small_pages(params: dict[str, Any], **_: Any) -> None:
        params["MaxParts"] = 5
        pages.append(str(params.get("PartNumberMarker")))

    events.register("before-parameter-build.s3.ListParts", small_pages)
    try:
        parts = uploads.stored_parts("many.bin", upload_id)
    finally:
        events.unregister("before-parameter-build.s3.ListParts", small_pages)
    assert [part.number for part in parts] == list(range(1, 13))
    assert pages == ["None", "5", "10"]  # three pages of 5, each after the last part listed
    uploads.abort_parts("many.bin", upload_id)


def test_joining_onto_a_taken_name_is_refused(
    storage: fs.Storage, uploads: S3Uploads, s3: Any
) -> None:
    storage.write("taken.bin", b"old")
    upload_id = uploads.start_parts("taken.bin", content_type=None)
    send_part(uploads, "taken.bin", upload_id, 1, b"new")
    parts = uploads.stored_parts("taken.bin", upload_id)
    with pytest.raises(FileExists):
        uploads.join_parts("taken.bin", upload_id, parts, overwrite=False)
    assert storage.read("taken.bin") == b"old"
    assert uploads_in_progress(s3, storage) == []  # the parts are removed

    upload_id = uploads.start_parts("taken.bin", content_type=None)
    send_part(uploads, "taken.bin", upload_id, 1, b"new")
    parts = uploads.stored_parts("taken.bin", upload_id)
    uploads.join_parts("taken.bin", upload_id, parts, overwrite=True)
    assert storage.read("taken.bin") == b"new"
    assert storage.metadata("taken.bin")["checksum"].endswith(hashlib.sha256(b"new").hexdigest())


def staged_objects(storage: fs.Storage) -> list[str]:
    return list(storage.backend.list_files(STAGING_FOLDER + "/"))


def test_an_overwriting_upload_in_parts_is_checked_before_it_replaces_the_file(
    storage: fs.Storage, uploads: S3Uploads, s3: Any
) -> None:
    storage.write("kept.bin", b"old")
    upload_id = uploads.start_parts("kept.bin", content_type=None, overwrite=True)
    assert STAGED_SEPARATOR in upload_id  # assembled aside
    send_part(uploads, "kept.bin", upload_id, 1, b"refused")
    parts = uploads.stored_parts("kept.bin", upload_id)
    assert [part.size for part in parts] == [7]
    with pytest.raises(UploadNotAllowed):
        uploads.join_parts("kept.bin", upload_id, parts, overwrite=True, check=RefusingCheck())
    assert storage.read("kept.bin") == b"old"
    assert uploads_in_progress(s3, storage) == []
    assert staged_objects(storage) == []

    upload_id = uploads.start_parts("kept.bin", content_type=None, overwrite=True)
    send_part(uploads, "kept.bin", upload_id, 1, b"accepted")
    parts = uploads.stored_parts("kept.bin", upload_id)
    uploads.join_parts("kept.bin", upload_id, parts, overwrite=True)
    assert storage.read("kept.bin") == b"accepted"
    digest = hashlib.sha256(b"accepted").hexdigest()
    assert storage.metadata("kept.bin")["checksum"] == f"sha256:{digest}"
    assert uploads_in_progress(s3, storage) == []
    assert staged_objects(storage) == []


def test_only_our_own_tokens_make_a_staged_upload_id() -> None:
    token = "0123456789abcdef" * 2
    assert _where("f.bin", f"{token}~abc~def") == (f"{STAGING_FOLDER}/{token}", "abc~def")
    for foreign in ("abc~def", "~abc", f"{token[:-1]}~abc", f"{token.upper()}~abc"):
        assert _where("f.bin", foreign) == ("f.bin", foreign)


def test_an_aborted_overwriting_upload_in_parts_leaves_nothing(
    storage: fs.Storage, uploads: S3Uploads, s3: Any
) -> None:
    upload_id = uploads.start_parts("aside.bin", content_type=None, overwrite=True)
    send_part(uploads, "aside.bin", upload_id, 1, b"part")
    uploads.abort_parts("aside.bin", upload_id)
    assert uploads_in_progress(s3, storage) == []
    with pytest.raises(FileNotFound):
        uploads.stored_parts("aside.bin", upload_id)


@pytest.mark.parametrize("overwrite", [False, True])
def test_a_refused_staged_body_is_never_published(
    storage: fs.Storage, uploads: S3Uploads, overwrite: bool
) -> None:
    if overwrite:
        storage.write("body.txt", b"old")
    staging = stage(uploads, b"refused body")
    with pytest.raises(UploadNotAllowed):
        uploads.publish_staged(staging, "body.txt", overwrite=overwrite, check=RefusingCheck())
    assert_kept(storage, "body.txt", b"old" if overwrite else None)
    assert staged_objects(storage) == []


def test_a_body_beyond_one_copy_is_published_with_its_checksum_and_type(
    storage: fs.Storage, uploads: S3Uploads, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Beyond one ``CopyObject`` (5 GB, made small here) the staged body is copied in parts,
    with the metadata of the file (its checksum, the type its name says), not the staged
    body's."""
    monkeypatch.setattr("flask_fs.backends.s3_uploads.MAX_SINGLE_COPY", MiB)
    threshold = storage.backend.threshold  # type: ignore[attr-defined]
    content = b"big body\n" * (threshold // 9 + MiB)
    storage.write("big.txt", b"old")
    staging = stage(uploads, content, max_size=len(content))
    uploads.publish_staged(staging, "big.txt", overwrite=True)
    assert storage.read("big.txt") == content
    meta = storage.backend.head("big.txt")  # type: ignore[attr-defined]
    assert meta.metadata.get(CHECKSUM_KEY) == hashlib.sha256(content).hexdigest()
    assert (meta.mime or "").startswith("text/plain")
    assert staged_objects(storage) == []


class SendingAgain(BodyCheck):
    """A check that, once it has read the staged body, sends ``content`` to its form again: a
    body that changes between its check and its copy."""

    def __init__(self, form: UploadForm, content: bytes) -> None:
        super().__init__()
        self.form = form
        self.content = content

    def sha256(self) -> str:
        digest = super().sha256()
        status, _, body = send(self.form, self.content)
        assert status < 300, body
        return digest


def test_a_body_changed_after_its_check_is_copied_as_the_server_decides(
    s3_server: Any, storage: fs.Storage, uploads: S3Uploads
) -> None:
    """The copy over the file is of the version checked only (``CopySourceIfMatch``):
    SeaweedFS and Swift's s3api refuse it when the staged body changed meanwhile (412, raised
    as ``FileExists``), the file kept; moto ignores the condition and copies the new body,
    unchecked (a gap of moto's)."""
    storage.write("body.txt", b"old")
    staging = staging_name()
    form = uploads.sign_upload(staging, max_size=MiB, content_type=None, expires=MINUTE)
    assert send(form, b"checked body")[0] < 300
    check = SendingAgain(form, b"unchecked body")
    if s3_server.name in UNCHECKED:
        uploads.publish_staged(staging, "body.txt", overwrite=True, check=check)
        assert storage.read("body.txt") == b"unchecked body"
    else:
        with pytest.raises(FileExists):
            uploads.publish_staged(staging, "body.txt", overwrite=True, check=check)
        assert storage.read("body.txt") == b"old"


def test_racing_joins_have_one_winner(storage: fs.Storage, uploads: S3Uploads, s3: Any) -> None:
    racers = 3
    uploads_ids = [uploads.start_parts("race.bin", content_type=None) for _ in range(racers)]
    for i, upload_id in enumerate(uploads_ids):
        send_part(uploads, "race.bin", upload_id, 1, bytes([65 + i]) * 100)
    barrier = threading.Barrier(racers)

    def join(i: int) -> bool:
        parts = uploads.stored_parts("race.bin", uploads_ids[i])
        barrier.wait()
        try:
            uploads.join_parts("race.bin", uploads_ids[i], parts, overwrite=False)
        except FileExists:
            return False
        return True

    with ThreadPoolExecutor(racers) as pool:
        won = list(pool.map(join, range(racers)))
    assert won.count(True) == 1
    assert storage.read("race.bin") == bytes([65 + won.index(True)]) * 100
    assert uploads_in_progress(s3, storage) == []


def test_an_aborted_upload_leaves_nothing(
    s3_server: Any, storage: fs.Storage, uploads: S3Uploads, s3: Any
) -> None:
    upload_id = uploads.start_parts("gone.bin", content_type=None)
    send_part(uploads, "gone.bin", upload_id, 1, b"part")
    uploads.abort_parts("gone.bin", upload_id)
    assert uploads_in_progress(s3, storage) == []
    assert not storage.exists("gone.bin")
    with pytest.raises(FileNotFound):
        uploads.stored_parts("gone.bin", upload_id)
    uploads.abort_parts("gone.bin", upload_id)  # done already: no error
    # moto answers 500 to completing an unknown upload
    error = BackendError if s3_server.name in UNCHECKED else FileNotFound
    with pytest.raises(error):
        uploads.join_parts("gone.bin", upload_id, [StoredPart(1, 4, '"x"')], overwrite=False)


def test_a_part_form_is_checked_by_the_store(s3_server: Any, uploads: S3Uploads) -> None:
    upload_id = uploads.start_parts("checked.bin", content_type=None)
    form = uploads.sign_part("checked.bin", upload_id, 1, expires=timedelta(seconds=1))
    forged = send(tampered(form), b"forged")
    time.sleep(2.2)
    late = send(form, b"late")
    stored = uploads.stored_parts("checked.bin", upload_id)
    if s3_server.name in UNCHECKED:
        assert (forged[0], late[0], len(stored)) == (200, 200, 1)
    else:
        assert (forged[0], late[0], stored) == (403, 403, [])
    uploads.abort_parts("checked.bin", upload_id)


def test_bad_requests_get_clear_errors(uploads: S3Uploads) -> None:
    with pytest.raises(OperationNotSupported, match="in parts"):
        uploads.sign_upload(staging_name(), max_size=6 * 1024**3, content_type=None, expires=MINUTE)
    with pytest.raises(fs.FSError, match="part number"):
        uploads.sign_part("x.bin", "id", 0, expires=MINUTE)
    with pytest.raises(fs.FSError, match="expires"):
        uploads.sign_part("x.bin", "id", 1, expires=timedelta(0))
    with pytest.raises(FileNotFound):
        uploads.stored_parts("x.bin", "no-such-upload")
    with pytest.raises(FileNotFound):
        uploads.publish_staged(staging_name(), "x.bin", overwrite=False)


# -- sweep and CORS ----------------------------------------------------------------------------


def test_sweep_removes_abandoned_uploads(
    s3_server: Any, storage: fs.Storage, uploads: S3Uploads, s3: Any
) -> None:
    staging = stage(uploads, b"abandoned")
    upload_id = uploads.start_parts("abandoned.bin", content_type=None)
    send_part(uploads, "abandoned.bin", upload_id, 1, b"part")
    if s3_server.name not in UNCHECKED:  # moto dates every upload 2010-11-10
        assert storage.sweep(3600) == []
    time.sleep(2.2)  # Swift's s3api rounds its dates up to the second
    found = storage.sweep(1)
    assert len(found) == 2
    assert any("incomplete multipart upload of 'abandoned.bin'" in line for line in found)
    assert any(f"staged upload {staging!r}" in line for line in found)
    assert not uploads.backend.exists(staging)
    assert uploads_in_progress(s3, storage) == []
    assert storage.sweep(0) == []


def test_cors_rules_let_browsers_upload(s3_server: Any, storage: fs.Storage, s3: Any) -> None:
    backend = storage.backend
    if s3_server.name == "swift-s3api":
        with pytest.raises(OperationNotSupported, match="PutBucketCors"):
            backend.set_cors(["https://app.example"])
        return
    with contextlib.suppress(ClientError):
        s3.delete_bucket_cors(Bucket=BUCKET)
    backend.set_cors(["https://app.example", "http://localhost:5000"])
    key = backend._key("photo.png")  # type: ignore[attr-defined]
    status, headers, _ = request(
        "OPTIONS",
        f"{s3_server.endpoint}/{BUCKET}/{key}",
        b"",
        {"Origin": "https://app.example", "Access-Control-Request-Method": "PUT"},
    )
    assert status == 200
    assert headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert headers["Access-Control-Expose-Headers"] == "ETag"

    other = {"ID": "other", "AllowedOrigins": ["https://other.example"], "AllowedMethods": ["GET"]}
    rules = s3.get_bucket_cors(Bucket=BUCKET)["CORSRules"]
    s3.put_bucket_cors(Bucket=BUCKET, CORSConfiguration={"CORSRules": [*rules, other]})
    backend.set_cors(["https://app.example"])  # replaces its own rule, keeps the others
    rules = s3.get_bucket_cors(Bucket=BUCKET)["CORSRules"]
    assert [rule["AllowedOrigins"] for rule in rules] == [
        ["https://other.example"],
        ["https://app.example"],
    ]
    assert sorted(rules[1]["AllowedMethods"]) == ["GET", "POST", "PUT"]
    assert rules[1]["ExposeHeaders"] == ["ETag"]
    s3.delete_bucket_cors(Bucket=BUCKET)


def test_the_backend_offers_direct_uploads() -> None:
    backend = S3Backend("avatars", {"endpoint": "http://127.0.0.1:1"})
    assert isinstance(backend.direct_uploads(), S3Uploads)
    assert backend.config["post_uploads"] is True


def test_a_lost_reply_to_a_join_is_its_own_success(
    s3_server: Any, s3_settings: dict[str, Any], proxy: FaultProxy
) -> None:
    """The CompleteMultipartUpload landed, its reply was lost, botocore's retry met the file:
    SeaweedFS refuses that retry (412), the upload being closed the join is still its own
    success; moto and Swift's s3api answer the retry as a success themselves."""
    settings = {**s3_settings, "ENDPOINT": f"http://{proxy.address}"}
    with temporary_storage("s3", settings, "lostjoin") as storage:
        uploads = storage.backend.direct_uploads()
        assert isinstance(uploads, S3Uploads)
        upload_id = uploads.start_parts("mine.bin", content_type=None)
        send_part(uploads, "mine.bin", upload_id, 1, b"mine")
        parts = uploads.stored_parts("mine.bin", upload_id)
        key = uploads.backend._key("mine.bin")
        proxy.lose_reply(f"POST /{BUCKET}/{key}?uploadId=".encode())
        uploads.join_parts("mine.bin", upload_id, parts, overwrite=False)
        assert proxy.fired == 1
        assert storage.read("mine.bin") == b"mine"


def test_a_lost_reply_to_an_overwriting_join_is_its_own_success(
    s3_settings: dict[str, Any], proxy: FaultProxy, s3: Any
) -> None:
    """The same on a staging key (an overwriting upload in parts): the parts were assembled
    there, the reply lost, the retry met a closed upload: the assembled body is still checked
    and copied over the file."""
    settings = {**s3_settings, "ENDPOINT": f"http://{proxy.address}"}
    with temporary_storage("s3", settings, "lostjoin") as storage:
        storage.write("mine.bin", b"old")
        uploads = storage.backend.direct_uploads()
        assert isinstance(uploads, S3Uploads)
        upload_id = uploads.start_parts("mine.bin", content_type=None, overwrite=True)
        send_part(uploads, "mine.bin", upload_id, 1, b"new")
        parts = uploads.stored_parts("mine.bin", upload_id)
        proxy.lose_reply(f"?uploadId={upload_id.partition(STAGED_SEPARATOR)[2]}".encode())
        uploads.join_parts("mine.bin", upload_id, parts, overwrite=True)
        assert proxy.fired == 1
        assert storage.read("mine.bin") == b"new"
        assert staged_objects(storage) == []
        assert uploads_in_progress(s3, storage) == []

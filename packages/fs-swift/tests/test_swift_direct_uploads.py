"""Direct uploads to Swift, sent by a real HTTP client (http.client, the multipart/form-data
body built here) with what ``sign_upload`` and ``sign_part`` return.

Measured on Swift 2.38 (see docs/uploads-swift.md): a FormPost over ``max_file_size`` is
answered 400 without its redirect and stores nothing; an expired or altered form is 401; after a
success the browser is sent (303) to the redirect, its own query kept, ``status`` and
``message`` appended.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from swiftclient.client import Connection

from flask_fs.backends.direct import STAGING_FOLDER, StoredPart, UploadForm
from flask_fs.backends.swift import SwiftBackend
from flask_fs.backends.swift_uploads import SwiftUploads
from flask_fs.errors import BackendError, FileExists, FileNotFound, UploadNotAllowed
from flask_fs.storage import Storage
from flask_fs.testing import temporary_storage
from flask_fs.testing.uploads import RefusingCheck, assert_kept

ACCOUNT_KEY = "flask-fs-tempurl-key"  # the account key test_swift.py sets too
MINUTE = timedelta(minutes=1)
MiB = 1024 * 1024


class Answer:
    def __init__(self, response: http.client.HTTPResponse) -> None:
        self.status = response.status
        self.headers = {key.lower(): value for key, value in response.getheaders()}
        self.body = response.read()


def send(method: str, url: str, body: bytes, headers: dict[str, str] | None = None) -> Answer:
    """One request, redirects not followed."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    try:
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        conn.request(method, target, body, headers or {})
        return Answer(conn.getresponse())
    finally:
        conn.close()


def form_post(form: UploadForm, content: bytes, name: str = "photo.txt", **changes: str) -> Answer:
    """What a browser's form sends: the form's fields (some ``changes``\\ d), the file last."""
    assert form.method == "POST"
    boundary = uuid.uuid4().hex
    chunks = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
        for key, value in {**form.fields, **changes}.items()
    ]
    chunks.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        f"Content-Type: text/plain\r\n\r\n".encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    content_type = f"multipart/form-data; boundary={boundary}"
    return send("POST", form.url, b"".join(chunks), {"Content-Type": content_type})


def put_part(form: UploadForm, content: bytes) -> str:
    assert form.method == "PUT"
    answer = send("PUT", form.url, content, form.headers)
    assert answer.status == 201, answer.body
    return answer.headers["etag"]


def cut_part(form: UploadForm, content: bytes) -> None:
    """A part whose connection breaks halfway (its length announced, half of it sent)."""
    parts = urlsplit(form.url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    conn.putrequest("PUT", f"{parts.path}?{parts.query}")
    conn.putheader("Content-Length", str(len(content)))
    conn.endheaders()
    conn.send(content[: len(content) // 2])
    conn.close()


def segments(swift: Connection, storage: Storage) -> list[str]:
    backend = storage.backend
    assert isinstance(backend, SwiftBackend)
    try:
        return [item["name"] for item in swift.get_container(backend.segment_container)[1]]
    except Exception:  # the container does not exist: no segments
        return []


def staging() -> str:
    return f"{STAGING_FOLDER}/{uuid.uuid4().hex}"


@pytest.fixture
def storage(swift_settings: dict[str, Any], swift: Connection) -> Iterator[Storage]:
    swift.post_account(headers={"X-Account-Meta-Temp-URL-Key": ACCOUNT_KEY})
    with temporary_storage("swift", swift_settings, "direct", TEMPURL_KEY=ACCOUNT_KEY) as storage:
        yield storage
        backend = storage.backend
        assert isinstance(backend, SwiftBackend)
        for name in segments(swift, storage):
            swift.delete_object(backend.segment_container, name)


@pytest.fixture
def uploads(storage: Storage) -> SwiftUploads:
    uploads = storage.backend.direct_uploads()
    assert isinstance(uploads, SwiftUploads)
    return uploads


def upload_one(uploads: SwiftUploads, content: bytes, max_size: int | None = None) -> str:
    name = staging()
    form = uploads.sign_upload(
        name,
        max_size=len(content) if max_size is None else max_size,
        content_type=None,
        expires=MINUTE,
    )
    answer = form_post(form, content)
    assert answer.status == 201, answer.body
    return name


# -- one body ----------------------------------------------------------------------------------


@pytest.mark.usefixtures("formpost")
def test_a_form_post_is_published_under_its_name_with_its_checksum(
    storage: Storage, uploads: SwiftUploads, swift: Connection
) -> None:
    content = os.urandom(3000)
    name = upload_one(uploads, content)
    assert sorted(storage.list_files()) == []  # staged in the segments container, never listed

    uploads.publish_staged(name, "docs/report.txt", overwrite=False)

    assert storage.read("docs/report.txt") == content
    assert storage.metadata("docs/report.txt")["checksum"] == (
        "sha256:" + hashlib.sha256(content).hexdigest()
    )
    assert [info.name for info in storage.list_files(details=True)] == ["docs/report.txt"]
    with pytest.raises(FileNotFound):  # published: no longer staged
        uploads.publish_staged(name, "other.txt", overwrite=False)
    storage.delete("docs/report.txt")
    assert segments(swift, storage) == []  # the body went with its file


@pytest.mark.usefixtures("formpost")
def test_the_store_refuses_an_oversize_body_and_keeps_nothing(
    storage: Storage, uploads: SwiftUploads, swift: Connection
) -> None:
    name = staging()
    form = uploads.sign_upload(
        name, max_size=1000, content_type=None, expires=MINUTE, redirect="http://app.test/x/T"
    )
    answer = form_post(form, os.urandom(200_000))
    assert (answer.status, answer.body) == (400, b"FormPost: max_file_size exceeded")
    assert "location" not in answer.headers  # no redirect on this error
    assert segments(swift, storage) == []
    with pytest.raises(FileNotFound):
        uploads.publish_staged(name, "big.bin", overwrite=False)


@pytest.mark.usefixtures("formpost")
def test_expired_and_altered_forms_are_refused(
    storage: Storage, uploads: SwiftUploads, swift: Connection
) -> None:
    expired = uploads.sign_upload(
        staging(), max_size=10, content_type=None, expires=timedelta(seconds=-1)
    )
    answer = form_post(expired, b"x")
    assert (answer.status, answer.body) == (401, b"FormPost: Form Expired")

    form = uploads.sign_upload(staging(), max_size=10, content_type=None, expires=MINUTE)
    for changes in ({"max_file_size": "100000"}, {"max_file_count": "5"}, {"expires": "9" * 10}):
        answer = form_post(form, b"x", **changes)
        assert (answer.status, answer.body) == (401, b"FormPost: Invalid Signature")
    signature = form.fields["signature"]
    answer = form_post(form, b"x", signature=signature[:-1] + "0" if signature[-1] != "0" else "1")
    assert answer.status == 401
    assert segments(swift, storage) == []


@pytest.mark.usefixtures("formpost")
def test_the_redirect_keeps_its_path_and_query(uploads: SwiftUploads) -> None:
    redirect = "http://app.test/uploads/done/TOKEN?x=1"
    form = uploads.sign_upload(
        staging(), max_size=10, content_type=None, expires=MINUTE, redirect=redirect
    )
    answer = form_post(form, b"hello")
    assert answer.status == 303
    assert answer.headers["location"] == redirect + "&status=201&message="


@pytest.mark.usefixtures("formpost")
def test_publishing_onto_a_taken_name_is_refused_unless_overwriting(
    storage: Storage, uploads: SwiftUploads, swift: Connection
) -> None:
    storage.write("taken.txt", b"old content")
    name = upload_one(uploads, b"new content")
    with pytest.raises(FileExists):
        uploads.publish_staged(name, "taken.txt", overwrite=False)
    assert storage.read("taken.txt") == b"old content"
    assert segments(swift, storage) == []  # the staged body is gone

    # an old file in segments (a Static Large Object written by the pipeline) is replaced
    backend = storage.backend
    assert isinstance(backend, SwiftBackend)
    backend.segment_size = 1000
    storage.write("taken.txt", os.urandom(2500), overwrite=True)
    assert len(segments(swift, storage)) == 3
    name = upload_one(uploads, b"new content")
    uploads.publish_staged(name, "taken.txt", overwrite=True)
    assert storage.read("taken.txt") == b"new content"
    # one segment left: the copy of the staged body (gone), the old file's segments removed
    left = segments(swift, storage)
    assert len(left) == 1
    assert left[0].startswith("taken.txt/slo/"), left


@pytest.mark.usefixtures("formpost")
def test_an_empty_body_is_published_as_an_empty_file(
    storage: Storage, uploads: SwiftUploads, swift: Connection
) -> None:
    name = upload_one(uploads, b"", max_size=10)
    uploads.publish_staged(name, "empty.txt", overwrite=False)
    assert storage.read("empty.txt") == b""
    assert segments(swift, storage) == []


@pytest.mark.usefixtures("formpost")
def test_a_container_key_is_given_to_the_segments_container(
    swift_settings: dict[str, Any],
) -> None:
    with temporary_storage("swift", swift_settings, "ckey", SET_TEMPURL_KEY=True) as storage:
        uploads = storage.backend.direct_uploads()
        assert uploads is not None
        name = upload_one(uploads, b"content")  # type: ignore[arg-type]
        uploads.publish_staged(name, "file.txt", overwrite=False)
        assert storage.read("file.txt") == b"content"


def test_no_direct_uploads_without_a_tempurl_key(swift_settings: dict[str, Any]) -> None:
    with temporary_storage("swift", swift_settings, "nokey") as storage:
        assert storage.backend.direct_uploads() is None


# -- in parts ----------------------------------------------------------------------------------


def test_part_limits_are_the_servers(uploads: SwiftUploads, swift: Connection) -> None:
    slo = swift.get_capabilities()["slo"]
    assert uploads.min_part_size == slo["min_segment_size"]
    assert uploads.max_parts == slo["max_manifest_segments"]


def test_a_large_upload_in_parts_survives_a_network_failure(
    storage: Storage, uploads: SwiftUploads, swift: Connection
) -> None:
    content = os.urandom(11 * MiB + 12345)
    # Swift's min_segment_size is 1 byte: 1 MiB keeps the test to 12 requests
    size = max(uploads.min_part_size, MiB)
    chunks = [content[start : start + size] for start in range(0, len(content), size)]
    upload_id = uploads.start_parts("big.bin", content_type="application/octet-stream")
    sent = {}
    for number, chunk in enumerate(chunks[:5], 1):
        sent[number] = put_part(
            uploads.sign_part("big.bin", upload_id, number, expires=MINUTE), chunk
        )
    cut_part(uploads.sign_part("big.bin", upload_id, 6, expires=MINUTE), chunks[5])
    assert sorted(storage.list_files()) == []

    # resumed: what is stored is not sent again
    stored = uploads.stored_parts("big.bin", upload_id)
    assert [(part.number, part.size, part.etag) for part in stored] == [
        (number, len(chunks[number - 1]), sent[number]) for number in range(1, 6)
    ]
    for number in range(6, len(chunks) + 1):
        sent[number] = put_part(
            uploads.sign_part("big.bin", upload_id, number, expires=MINUTE), chunks[number - 1]
        )
    parts = uploads.stored_parts("big.bin", upload_id)
    uploads.join_parts("big.bin", upload_id, parts, overwrite=False)

    assert (
        storage.metadata("big.bin")["checksum"] == "sha256:" + hashlib.sha256(content).hexdigest()
    )
    assert hashlib.sha256(storage.read("big.bin")).digest() == hashlib.sha256(content).digest()
    with pytest.raises(FileNotFound):  # joined: the upload is closed
        uploads.stored_parts("big.bin", upload_id)
    uploads.abort_parts("big.bin", upload_id)  # closed: its parts are the file's now
    assert storage.read("big.bin")[:100] == content[:100]
    assert storage.sweep(0) == []  # the file's segments are no leftovers
    storage.delete("big.bin")
    assert segments(swift, storage) == []


def upload_parts(
    uploads: SwiftUploads, filename: str, chunks: list[bytes]
) -> tuple[str, list[StoredPart]]:
    upload_id = uploads.start_parts(filename, content_type=None)
    parts = [
        StoredPart(
            number,
            len(chunk),
            put_part(uploads.sign_part(filename, upload_id, number, expires=MINUTE), chunk),
        )
        for number, chunk in enumerate(chunks, 1)
    ]
    return upload_id, parts


def test_parts_of_the_smallest_size_are_joined(storage: Storage, uploads: SwiftUploads) -> None:
    small = b"x" * uploads.min_part_size
    upload_id, parts = upload_parts(uploads, "small.bin", [small, small, b"end"])
    uploads.join_parts("small.bin", upload_id, parts, overwrite=False)
    assert storage.read("small.bin") == small * 2 + b"end"


def test_joining_onto_a_taken_name_is_refused_and_removes_the_parts(
    storage: Storage, uploads: SwiftUploads, swift: Connection
) -> None:
    storage.write("taken.bin", b"old")
    upload_id, parts = upload_parts(uploads, "taken.bin", [b"new ", b"content"])
    with pytest.raises(FileExists):
        uploads.join_parts("taken.bin", upload_id, parts, overwrite=False)
    assert storage.read("taken.bin") == b"old"
    assert segments(swift, storage) == []

    upload_id, parts = upload_parts(uploads, "taken.bin", [b"new ", b"content"])
    uploads.join_parts("taken.bin", upload_id, parts, overwrite=True)
    assert storage.read("taken.bin") == b"new content"


@pytest.mark.usefixtures("formpost")
@pytest.mark.parametrize("overwrite", [False, True])
@pytest.mark.parametrize("content", [b"refused content", b""])
@pytest.mark.parametrize("path", ["staged", "parts"])
def test_a_refused_upload_never_replaces_a_file(
    storage: Storage,
    uploads: SwiftUploads,
    swift: Connection,
    overwrite: bool,
    content: bytes,
    path: str,
) -> None:
    if overwrite:
        storage.write("kept.bin", b"old")
    with pytest.raises(UploadNotAllowed):
        if path == "staged":
            name = upload_one(uploads, content, max_size=100)
            uploads.publish_staged(name, "kept.bin", overwrite=overwrite, check=RefusingCheck())
        else:
            upload_id, parts = upload_parts(uploads, "kept.bin", [content])
            uploads.join_parts(
                "kept.bin", upload_id, parts, overwrite=overwrite, check=RefusingCheck()
            )
    assert_kept(storage, "kept.bin", b"old" if overwrite else None)
    assert segments(swift, storage) == []


def test_an_aborted_upload_leaves_nothing(
    storage: Storage, uploads: SwiftUploads, swift: Connection
) -> None:
    upload_id, _ = upload_parts(uploads, "gone.bin", [b"one", b"two"])
    uploads.abort_parts("gone.bin", upload_id)
    assert segments(swift, storage) == []
    with pytest.raises(FileNotFound):
        uploads.stored_parts("gone.bin", upload_id)
    uploads.abort_parts("gone.bin", upload_id)  # done already: fine
    assert sorted(storage.list_files()) == []


def test_parts_must_be_stored_as_given(storage: Storage, uploads: SwiftUploads) -> None:
    upload_id, parts = upload_parts(uploads, "file.bin", [b"one", b"two"])
    wrong = [parts[0], StoredPart(2, 3, "0" * 32)]
    with pytest.raises(BackendError, match="part 2 is not stored as given"):
        uploads.join_parts("file.bin", upload_id, wrong, overwrite=False)
    with pytest.raises(BackendError, match="once each, in order"):
        uploads.join_parts("file.bin", upload_id, parts[::-1], overwrite=False)
    with pytest.raises(FileNotFound):
        uploads.stored_parts("file.bin", "not-an-upload")
    assert not storage.exists("file.bin")


def test_a_part_cannot_be_sent_as_a_manifest(storage: Storage, uploads: SwiftUploads) -> None:
    """``?multipart-manifest=put`` added to a part's TempURL: Swift's tempurl drops it, the
    part is a plain body (a manifest could name any object of the account)."""
    backend = storage.backend
    assert isinstance(backend, SwiftBackend)
    storage.write("private.txt", b"secret")
    upload_id = uploads.start_parts("steal.txt", content_type=None)
    form = uploads.sign_part("steal.txt", upload_id, 1, expires=MINUTE)
    manifest = json.dumps([{"path": f"/{backend.container}/private.txt"}]).encode()
    assert send("PUT", form.url + "&multipart-manifest=put", manifest).status == 201
    parts = uploads.stored_parts("steal.txt", upload_id)
    uploads.join_parts("steal.txt", upload_id, parts, overwrite=False)
    assert storage.read("steal.txt") == manifest


def test_two_racing_joins_for_one_name_have_one_winner(
    storage: Storage, uploads: SwiftUploads, swift: Connection
) -> None:
    first = upload_parts(uploads, "race.bin", [b"first ", b"body"])
    second = upload_parts(uploads, "race.bin", [b"second ", b"body"])
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def join(upload: tuple[str, list[StoredPart]], label: str) -> None:
        barrier.wait()
        try:
            uploads.join_parts("race.bin", upload[0], upload[1], overwrite=False)
            outcomes.append(label)
        except FileExists:
            outcomes.append("refused")

    threads = [
        threading.Thread(target=join, args=(upload, label))
        for upload, label in ((first, "first"), (second, "second"))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(outcomes) == 2
    assert outcomes.count("refused") == 1
    winner = next(label for label in outcomes if label != "refused")
    assert storage.read("race.bin") == f"{winner} body".encode()
    assert len(segments(swift, storage)) == 2  # the loser's parts are gone


# -- leftovers ---------------------------------------------------------------------------------


@pytest.mark.usefixtures("formpost")
def test_sweep_removes_abandoned_uploads_only(
    storage: Storage, uploads: SwiftUploads, swift: Connection
) -> None:
    published = upload_one(uploads, b"published")
    uploads.publish_staged(published, "kept.txt", overwrite=False)
    upload_id, parts = upload_parts(uploads, "joined.bin", [b"joined ", b"parts"])
    uploads.join_parts("joined.bin", upload_id, parts, overwrite=False)
    kept = set(segments(swift, storage))

    stale = upload_one(uploads, b"never published")
    abandoned, _ = upload_parts(uploads, "abandoned.bin", [b"one", b"two"])
    assert sorted(storage.list_files()) == ["joined.bin", "kept.txt"]
    assert storage.sweep(3600) == []  # too recent

    found = storage.sweep(0)
    assert len(found) == 4  # the staged body, the upload's two parts and its marker
    assert any(stale in line and "unpublished upload" in line for line in found)
    assert sum(f"abandoned.bin/direct/{abandoned}/" in line for line in found) == 3
    assert set(segments(swift, storage)) == kept
    assert storage.read("kept.txt") == b"published"
    assert storage.read("joined.bin") == b"joined parts"


# -- CORS --------------------------------------------------------------------------------------


def test_set_cors_lets_a_browser_send_parts_and_read_their_etag(
    storage: Storage, uploads: SwiftUploads
) -> None:
    backend = storage.backend
    assert isinstance(backend, SwiftBackend)
    upload_id = uploads.start_parts("cors.bin", content_type=None)
    form = uploads.sign_part("cors.bin", upload_id, 1, expires=MINUTE)
    origin = {"Origin": "https://app.example"}
    preflight = {**origin, "Access-Control-Request-Method": "PUT"}
    assert send("OPTIONS", form.url, b"", preflight).status == 401  # no CORS yet

    backend.set_cors(["https://app.example"])

    answer = send("OPTIONS", form.url, b"", preflight)
    assert answer.status == 200
    assert answer.headers["access-control-allow-origin"] == "https://app.example"
    answer = send("PUT", form.url, b"part", origin)
    assert answer.status == 201
    assert "etag" in answer.headers["access-control-expose-headers"].lower()
    uploads.abort_parts("cors.bin", upload_id)


@pytest.mark.usefixtures("formpost")
def test_a_form_sent_again_after_publishing_cannot_change_the_file(
    storage: Storage, uploads: SwiftUploads
) -> None:
    """The published file's segment is a copy of the staged body, out of the form's reach: the
    same form sent again before it expires stores another staged body, and the file reads as
    published; sweep removes that body once it is old."""
    name = staging()
    form = uploads.sign_upload(name, max_size=100, content_type=None, expires=MINUTE)
    assert form_post(form, b"first body").status == 201
    uploads.publish_staged(name, "file.txt", overwrite=False)
    assert form_post(form, b"other body").status == 201  # still a valid form

    assert storage.read("file.txt") == b"first body"
    time.sleep(1.1)
    assert storage.sweep(1.0)  # the body sent again, never published
    assert storage.read("file.txt") == b"first body"


def test_sweep_leaves_an_upload_still_receiving_parts_whole(
    storage: Storage, uploads: SwiftUploads, swift: Connection
) -> None:
    upload_id, _ = upload_parts(uploads, "slow.bin", [b"one"])
    time.sleep(1.2)
    put_part(uploads.sign_part("slow.bin", upload_id, 2, expires=MINUTE), b"two")
    assert storage.sweep(1.0) == []  # its first part is older, its last is not
    assert [part.number for part in uploads.stored_parts("slow.bin", upload_id)] == [1, 2]
    time.sleep(1.2)
    assert len(storage.sweep(1.0)) == 3  # the marker and both parts
    assert segments(swift, storage) == []


@pytest.mark.usefixtures("formpost")
def test_names_with_spaces_and_accents(storage: Storage, uploads: SwiftUploads) -> None:
    name = upload_one(uploads, b"one body")
    uploads.publish_staged(name, "docs/rapport été 2026 ✓.txt", overwrite=False)
    assert storage.read("docs/rapport été 2026 ✓.txt") == b"one body"

    upload_id, parts = upload_parts(uploads, "parts/données n°1 ✓.bin", [b"in ", b"parts"])
    uploads.join_parts("parts/données n°1 ✓.bin", upload_id, parts, overwrite=False)
    assert storage.read("parts/données n°1 ✓.bin") == b"in parts"

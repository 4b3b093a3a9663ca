"""Direct uploads: the settings, the tickets, the blueprint's registration and URL layout."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

import flask_fs as fs
from flask_fs.backends.direct import STAGING_FOLDER, is_record
from flask_fs.cli import fs_command
from flask_fs.config import (
    DEFAULT_DIRECT_UPLOADS_EXPIRES,
    DEFAULT_DIRECT_UPLOADS_MAX_SIZE,
    resolve_config,
)
from flask_fs.errors import (
    BackendError,
    ConfigurationError,
    UnauthorizedFileType,
    UploadNotAllowed,
)
from flask_fs.signals import upload_completed, upload_refused
from flask_fs.uploads import appside, completion, records
from flask_fs.uploads.tickets import Ticket, new_ticket, read_ticket


def test_direct_uploads_are_off_by_default(app: Flask) -> None:
    config = resolve_config(app, "files", "local", {})
    assert config.direct_uploads is False
    assert config.direct_uploads_anonymous is False
    assert config.direct_uploads_max_size == DEFAULT_DIRECT_UPLOADS_MAX_SIZE == 100 * 2**20
    assert config.direct_uploads_expires == DEFAULT_DIRECT_UPLOADS_EXPIRES == 3600


def test_direct_uploads_settings_cascade_and_are_coerced(app: Flask) -> None:
    app.config.update(
        FS_DIRECT_UPLOADS_MAX_SIZE="1_000",
        FILES_FS_DIRECT_UPLOADS="yes",
        FILES_FS_DIRECT_UPLOADS_ANONYMOUS="1",
        FILES_FS_DIRECT_UPLOADS_EXPIRES=timedelta(minutes=2),
    )
    config = resolve_config(app, "files", "local", {})
    assert (config.direct_uploads, config.direct_uploads_anonymous) == (True, True)
    assert (config.direct_uploads_max_size, config.direct_uploads_expires) == (1000, 120.0)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("DIRECT_UPLOADS", "maybe"),
        ("DIRECT_UPLOADS_MAX_SIZE", 0),
        ("DIRECT_UPLOADS_MAX_SIZE", "big"),
        ("DIRECT_UPLOADS_EXPIRES", -1),
    ],
)
def test_bad_direct_uploads_settings_are_refused(app: Flask, key: str, value: object) -> None:
    app.config[f"FILES_FS_{key}"] = value
    with pytest.raises(ConfigurationError, match=key):
        resolve_config(app, "files", "local", {})


def _app_with(app: Flask, *storages: fs.Storage, **config: object) -> None:
    app.config.update(SECRET_KEY="secret", **config)
    fs.init_app(app, *storages)


def test_the_blueprint_is_registered_only_when_a_storage_enables_direct_uploads(
    app: Flask,
) -> None:
    _app_with(app, fs.Storage("files"))
    assert "fs_uploads" not in app.blueprints
    _app_with(app, fs.Storage("avatars"), AVATARS_FS_DIRECT_UPLOADS=True)
    assert "fs_uploads" in app.blueprints


def test_url_layout_under_fs_prefix(app: Flask) -> None:
    _app_with(app, fs.Storage("uploads"), FS_PREFIX="/fs", UPLOADS_FS_DIRECT_UPLOADS=True)
    rules = {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("fs_uploads.")
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS")
    }
    prefix = "/fs/_uploads/<fs>"
    assert rules == {
        ("GET", f"{prefix}/s3/params"),
        ("POST", f"{prefix}/s3/multipart"),
        ("GET", f"{prefix}/s3/multipart/<upload_id>/<int:number>"),
        ("GET", f"{prefix}/s3/multipart/<upload_id>"),
        ("DELETE", f"{prefix}/s3/multipart/<upload_id>"),
        ("POST", f"{prefix}/s3/multipart/<upload_id>/complete"),
        ("PUT", f"{prefix}/body/<ticket>"),
        ("PUT", f"{prefix}/parts/<ticket>/<int:number>"),
        ("GET", f"{prefix}/complete/<ticket>"),
        ("POST", f"{prefix}/complete/<ticket>"),
    }


def test_a_storage_named_uploads_is_still_served(app: Flask) -> None:
    uploads = fs.Storage("uploads")
    _app_with(app, uploads, FS_SERVE=True, UPLOADS_FS_DIRECT_UPLOADS=True)
    with app.app_context():
        uploads.write("s3/params", b"a file")
    client = app.test_client()
    assert client.get("/uploads/s3/params").data == b"a file"
    assert client.get("/_uploads/uploads/s3/params?filename=a.txt").status_code == 401


def test_the_blueprint_answers_404_for_a_storage_without_direct_uploads(app: Flask) -> None:
    _app_with(
        app,
        fs.Storage("files"),
        fs.Storage("open"),
        OPEN_FS_DIRECT_UPLOADS=True,
        FILES_FS_DIRECT_UPLOADS_ANONYMOUS=True,
    )
    client = app.test_client()
    assert client.get("/_uploads/files/s3/params?filename=a.txt").status_code == 404
    assert client.get("/_uploads/nothing/s3/params?filename=a.txt").status_code == 404


def test_anonymous_uploads_need_no_authorizer(app: Flask) -> None:
    _app_with(
        app,
        fs.Storage("files"),
        FILES_FS_DIRECT_UPLOADS=True,
        FILES_FS_DIRECT_UPLOADS_ANONYMOUS=True,
    )
    answer = app.test_client().get("/_uploads/files/s3/params?filename=Été 1.TXT&type=text/plain")
    assert answer.status_code == 200
    assert answer.json["filename"] == "Été_1.txt"  # type: ignore[index]


def test_upload_target_applies_the_rules_of_save(app: Flask) -> None:
    images = fs.Storage("images", fs.IMAGES, upload_to="pics")
    files = fs.Storage("files")
    _app_with(app, images, files, IMAGES_FS_DIRECT_UPLOADS=True)
    with app.test_request_context():
        target = images.upload_target("cat.png", max_size=10, prefix=lambda: "2024")
        assert target["filename"] == "pics/2024/cat.png"
        assert target["method"] == "PUT"
        assert target["complete"] is None
        assert target["url"].startswith("http://myserver.com/_uploads/images/body/")
        with pytest.raises(UnauthorizedFileType):
            images.upload_target("run.exe", max_size=10)
        with pytest.raises(fs.InvalidFilename):
            images.upload_target("../x.png", max_size=10)
        with pytest.raises(UploadNotAllowed, match="FILES_FS_DIRECT_UPLOADS"):
            files.upload_target("a.txt", max_size=10)
        with pytest.raises(UploadNotAllowed):
            images.upload_target("a.png", max_size=0)
        with pytest.raises(fs.InvalidExpiry):
            images.upload_target("a.png", max_size=10, expires=0)


def test_tickets_round_trip_and_refuse_tampering_expiry_and_other_storages(app: Flask) -> None:
    app.config["SECRET_KEY"] = "secret"
    ticket = new_ticket(
        "files", "a/b.txt", max_size=10, expires=timedelta(minutes=1), content_type="text/plain"
    )
    token = ticket.sign(app)
    assert read_ticket(app, token, "files") == ticket
    assert read_ticket(app, token, "other") is None
    payload, signature = token.split(".")
    assert read_ticket(app, "A" + payload[1:] + "." + signature, "files") is None  # ey... → Ay...
    assert read_ticket(app, payload + "." + signature[:5] + "xyz" + signature[8:], "files") is None
    assert read_ticket(app, "x" + token, "files") is None
    assert read_ticket(app, "not a ticket é", "files") is None
    expired = Ticket("files", "a.txt", 10, int(time.time()) - 1)
    assert read_ticket(app, expired.sign(app), "files") is None
    app.config.update(SECRET_KEY="new", SECRET_KEY_FALLBACKS=["secret"])
    assert read_ticket(app, token, "files") == ticket  # key rotation
    app.config.update(SECRET_KEY_FALLBACKS=[])
    assert read_ticket(app, token, "files") is None


def test_a_ticket_is_not_a_signed_url(app: Flask) -> None:
    """Tickets have their own salt: a signed URL's signature is no ticket's, and back."""
    from flask_fs.signing import signer

    app.config["SECRET_KEY"] = "secret"
    token = Ticket("files", "a.txt", 10, int(time.time()) + 60).sign(app)
    payload = token.rsplit(".", 1)[0]
    forged = signer(app).sign(payload.encode()).decode()
    assert read_ticket(app, forged, "files") is None


def test_flask_fs_sweep_removes_abandoned_parts(app: Flask) -> None:
    files = fs.Storage("files")
    _app_with(app, files, FILES_FS_DIRECT_UPLOADS=True, FILES_FS_DIRECT_UPLOADS_ANONYMOUS=True)
    client = app.test_client()
    started = client.post("/_uploads/files/s3/multipart", json={"filename": "big.txt"}).json
    assert started is not None
    signed = client.get(
        f"/_uploads/files/s3/multipart/{started['uploadId']}/1",
        query_string={"key": started["key"]},
    ).json
    assert signed is not None
    assert client.put(signed["url"], data=b"part one").status_code == 200
    cli = app.test_cli_runner()
    kept = cli.invoke(fs_command, ["sweep", "files"])
    assert "files: 0 leftover(s) deleted" in kept.output
    dry = cli.invoke(fs_command, ["sweep", "files", "--older-than", "0", "--dry-run"])
    assert f"would delete files: abandoned upload '{started['uploadId']}'" in dry.output
    swept = cli.invoke(fs_command, ["sweep", "files", "--older-than", "0"])
    assert "files: 1 leftover(s) deleted" in swept.output
    listed = client.get(
        f"/_uploads/files/s3/multipart/{started['uploadId']}", query_string={"key": started["key"]}
    )
    assert listed.json == []


def test_bad_requests_to_the_blueprint_are_400s(app: Flask) -> None:
    files = fs.Storage("files")
    _app_with(app, files, FILES_FS_DIRECT_UPLOADS=True, FILES_FS_DIRECT_UPLOADS_ANONYMOUS=True)
    client = app.test_client()
    assert client.get("/_uploads/files/s3/params?filename=a.txt&size=abc").status_code == 400
    assert client.get("/_uploads/files/s3/params?filename=a.txt&size=-1").status_code == 400
    assert client.get("/_uploads/files/s3/params").status_code == 400
    answer = client.post("/_uploads/files/s3/multipart", json={"filename": "a.txt", "size": True})
    assert answer.status_code == 400
    assert answer.json == {"error": "size must be a number of bytes"}
    assert client.post("/_uploads/files/s3/multipart", data="nope").status_code == 400
    assert client.get("/_uploads/files/s3/params?filename=..").status_code == 400


def test_an_authorizer_may_answer_itself(app: Flask) -> None:
    from flask import abort

    files = fs.Storage("files")

    @files.authorize_uploads
    def login_first(request: object, filename: str) -> str:
        abort(401)

    _app_with(app, files, FILES_FS_DIRECT_UPLOADS=True)
    assert app.test_client().get("/_uploads/files/s3/params?filename=a.txt").status_code == 401


def test_only_the_completion_route_answers_every_origin(app: Flask) -> None:
    """A store redirects the browser to the completion URL from its own origin (the request's
    origin is then ``null``): that route, its preflight and its refusals are readable from any
    origin; the routes that start an upload are left to the application's own CORS policy."""
    _app_with(app, fs.Storage("files"), FILES_FS_DIRECT_UPLOADS=True)
    client = app.test_client()
    complete = "/_uploads/files/complete/not-a-ticket"
    preflight = client.options(
        complete,
        headers={
            "Origin": "null",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "x-requested-with",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert preflight.headers["Access-Control-Allow-Methods"] == "GET, POST"
    assert preflight.headers["Access-Control-Allow-Headers"] == "x-requested-with"
    refused = client.get(complete, headers={"Origin": "null"})
    assert refused.status_code == 403  # a tampered ticket: refused, and the page can tell
    assert refused.headers["Access-Control-Allow-Origin"] == "*"
    assert refused.headers["Access-Control-Expose-Headers"] == "ETag, Location"
    started = client.get("/_uploads/files/s3/params?filename=a.txt", headers={"Origin": "null"})
    assert started.status_code == 401
    assert "Access-Control-Allow-Origin" not in started.headers


def test_links_outside_a_request_need_server_name(tmp_path: Path) -> None:
    """Outside a request, without ``SERVER_NAME``, the application's URLs cannot be built: a
    ConfigurationError (an FSError) that says what to set, not Flask's RuntimeError."""
    app = Flask(__name__)
    files = fs.Storage("files")
    _app_with(app, files, FS_ROOT=str(tmp_path), FS_SERVE=True, FILES_FS_DIRECT_UPLOADS=True)
    with app.app_context():
        with pytest.raises(ConfigurationError, match="SERVER_NAME"):
            files.upload_target("a.txt", max_size=10)
        with pytest.raises(ConfigurationError, match="SERVER_NAME"):
            files.url("a.txt", external=True)
        with pytest.raises(ConfigurationError, match="SERVER_NAME"):
            files.url("a.txt", expires=60)
    app.config["SERVER_NAME"] = "files.example"
    with app.app_context():
        target = files.upload_target("a.txt", max_size=10)
        assert target["url"].startswith("http://files.example/_uploads/files/body/")
        assert files.url("a.txt", external=True) == "http://files.example/files/a.txt"


def test_max_size_is_a_default_the_application_may_raise(app: Flask) -> None:
    files = fs.Storage("files")
    _app_with(app, files, FILES_FS_DIRECT_UPLOADS=True, FILES_FS_DIRECT_UPLOADS_MAX_SIZE=100)
    with app.test_request_context():
        assert files.upload_target("a.txt")["max_size"] == 100
        assert files.upload_target("b.txt", max_size=10**9)["max_size"] == 10**9


def test_a_part_of_an_aborted_upload_is_refused_and_removed(app: Flask) -> None:
    """The application's part URL, signed before the abort, refuses the part after it."""
    files = fs.Storage("files")
    _app_with(app, files, FILES_FS_DIRECT_UPLOADS=True, FILES_FS_DIRECT_UPLOADS_ANONYMOUS=True)
    client = app.test_client()
    started = client.post("/_uploads/files/s3/multipart", json={"filename": "a.txt"}).json
    assert started is not None
    base = f"/_uploads/files/s3/multipart/{started['uploadId']}"
    key = {"key": started["key"]}
    signed = client.get(f"{base}/1", query_string=key).json
    assert signed is not None
    assert client.delete(base, query_string=key).status_code == 200
    answer = client.put(signed["url"], data=b"late part")
    assert answer.status_code == 404
    assert answer.json == {"error": "the upload of 'a.txt' is aborted"}
    with app.app_context():
        left = list(files.backend.list_files(STAGING_FOLDER + "/"))
    assert [is_record(name) for name in left] == [True], left  # the abort's record, no part


# -- how an upload in parts ends (the application keeps the parts) ------------------------------

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 200


class _Parts:
    """An upload in parts of ``files`` through the test client, and what the signals told."""

    def __init__(self, app: Flask, name: str = "a.txt", content_type: str = "") -> None:
        self.app, self.client = app, app.test_client()
        started = self.client.post(
            "/_uploads/files/s3/multipart", json={"filename": name, "type": content_type}
        ).json
        assert started is not None
        self.base = f"/_uploads/files/s3/multipart/{started['uploadId']}"
        self.key = {"key": started["key"]}
        with app.test_request_context():
            ticket = read_ticket(app, started["key"], "files")
        assert ticket is not None
        self.ticket = ticket

    def sign(self, number: int) -> Any:
        return self.client.get(f"{self.base}/{number}", query_string=self.key)

    def put(self, number: int, data: bytes) -> Any:
        signed = self.sign(number)
        assert signed.status_code == 200, signed.json
        return self.client.put(signed.json["url"], data=data)

    def complete(self, *parts: tuple[int, str]) -> Any:
        given = [{"PartNumber": n, "ETag": etag} for n, etag in parts]
        return self.client.post(
            f"{self.base}/complete", query_string=self.key, json={"parts": given}
        )

    def abort(self) -> Any:
        return self.client.delete(self.base, query_string=self.key)


@pytest.fixture
def heard(app: Flask) -> Iterator[list[tuple[str, object]]]:
    """The direct-upload storage ``files`` (anonymous), and what its signals say."""
    files = fs.Storage("files")
    _app_with(app, files, FILES_FS_DIRECT_UPLOADS=True, FILES_FS_DIRECT_UPLOADS_ANONYMOUS=True)
    told: list[tuple[str, object]] = []

    def completed(sender: Flask, **kwargs: Any) -> None:
        told.append(("completed", kwargs["filename"]))

    def refused(sender: Flask, **kwargs: Any) -> None:
        told.append(("refused", kwargs["status"]))

    upload_completed.connect(completed, app)
    upload_refused.connect(refused, app)
    yield told
    upload_completed.disconnect(completed, app)
    upload_refused.disconnect(refused, app)


def _staging(app: Flask) -> list[str]:
    with app.app_context():
        return list(fs.by_name("files").backend.list_files(STAGING_FOLDER + "/"))


def test_an_upload_refused_once_joined_is_closed(app: Flask, heard: list[Any]) -> None:
    upload = _Parts(app, "p.jpg", "image/jpeg")
    etag = upload.put(1, b"not a jpeg" * 100).json["ETag"]
    assert upload.complete((1, etag)).status_code == 415
    assert upload.sign(1).status_code == 404  # as on S3, whose refused upload id is spent
    assert upload.complete((1, etag)).status_code == 404
    assert heard == [("refused", 415)]
    with app.app_context():
        assert not fs.by_name("files").exists("p.jpg")


def test_an_abort_that_cannot_be_recorded_fails_and_removes_the_parts(
    app: Flask, heard: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    upload = _Parts(app)
    upload.put(1, b"first")
    with app.app_context():
        backend_class = type(fs.by_name("files").backend)
    real = backend_class.write_bytes

    def failing(self: Any, name: str, data: bytes, overwrite: bool = True) -> None:
        if is_record(name):
            raise BackendError("the storage failed")
        real(self, name, data, overwrite=overwrite)

    monkeypatch.setattr(backend_class, "write_bytes", failing)
    assert upload.abort().status_code == 502  # not closed: the browser may abort again
    assert _staging(app) == []
    monkeypatch.setattr(backend_class, "write_bytes", real)
    assert upload.abort().status_code == 200
    assert upload.sign(1).status_code == 404
    assert [is_record(name) for name in _staging(app)] == [True]


def test_a_damaged_record_keeps_the_upload_closed(app: Flask, heard: list[Any]) -> None:
    upload = _Parts(app)
    assert upload.abort().status_code == 200
    with app.app_context():
        backend = fs.by_name("files").backend
        backend.write_bytes(
            records.record_name(upload.ticket), b'{"filename": "a.t', overwrite=True
        )
    assert upload.sign(1).status_code == 404
    assert upload.client.get(upload.base, query_string=upload.key).status_code == 404
    assert upload.complete((1, '"x"')).status_code == 404
    with app.app_context():
        assert not fs.by_name("files").exists("a.txt")
    assert heard == []


def test_a_completion_that_loses_to_an_abort_elsewhere_is_recorded(
    app: Flask, heard: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process aborts (its own lock) while this one joins: the file is published, so it
    is announced, and its record replaces the abort's: a retry answers the same."""
    upload = _Parts(app)
    etag = upload.put(1, b"raced").json["ETag"]
    join = appside.join_parts

    def join_then_aborted_elsewhere(*args: Any, **kwargs: Any) -> Any:
        done = join(*args, **kwargs)
        completion._abort(fs.by_name("files"), upload.ticket)
        return done

    monkeypatch.setattr(appside, "join_parts", join_then_aborted_elsewhere)
    first = upload.complete((1, etag))
    monkeypatch.setattr(appside, "join_parts", join)
    assert first.status_code == 200
    again = upload.complete((1, etag))
    assert (again.status_code, again.json) == (200, first.json)
    assert heard == [("completed", "a.txt")]
    with app.app_context():
        assert fs.by_name("files").read("a.txt") == b"raced"


@pytest.mark.parametrize("ending", ["complete", "abort"])
def test_a_part_arriving_as_the_upload_ends_is_refused_and_removed(
    app: Flask, heard: list[Any], monkeypatch: pytest.MonkeyPatch, ending: str
) -> None:
    upload = _Parts(app)
    etag = upload.put(1, b"one").json["ETag"]
    late = upload.sign(2).json
    receive = appside.receive_part

    def ended_meanwhile(*args: Any) -> Any:
        part = receive(*args)
        with app.test_request_context():
            if ending == "complete":
                given = [{"PartNumber": 1, "ETag": etag}]
                completion.complete_parts(fs.by_name("files"), upload.ticket, given)
            else:
                completion.abort_upload(fs.by_name("files"), upload.ticket)
        return part

    monkeypatch.setattr(appside, "receive_part", ended_meanwhile)
    answer = upload.client.put(late["url"], data=b"two")
    assert answer.status_code == 404
    assert [is_record(name) for name in _staging(app)] == [True]  # no part left
    with app.app_context():
        assert fs.by_name("files").exists("a.txt") is (ending == "complete")

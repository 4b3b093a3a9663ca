"""A test backend whose "store" takes uploads from browsers, as S3 and Swift do, so that the
core's store paths (staged bodies, parts joined by the store) run over real HTTP here.

The store is the local disk behind a small WSGI server of its own: a form ``POST`` bounded by a
signed policy (size and type), redirecting to the application afterwards; part ``PUT``s answered
with a quoted MD5 ``ETag``; joining and publishing create-only. Its parts wait under
``.fs-tmp-store/`` (which no listing shows), swept by the backend's own ``sweep``.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from datetime import timedelta
from typing import IO, Any, cast
from urllib.parse import urlencode

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from flask_fs.backends.direct import (
    BodyCheck,
    CheckedReader,
    StoredPart,
    StoreUploads,
    UploadForm,
)
from flask_fs.backends.local import LocalBackend
from flask_fs.errors import FileNotFound

SECRET = b"store secret"
PARTS = ".fs-tmp-store"


def _sign(payload: str) -> str:
    return hmac.new(SECRET, payload.encode(), hashlib.sha256).hexdigest()


class StagingStore(StoreUploads):
    min_part_size = 1

    def __init__(self, backend: StagingStoreBackend) -> None:
        self.backend = backend

    def sign_upload(
        self,
        staging: str,
        *,
        max_size: int,
        content_type: str | None,
        expires: timedelta,
        redirect: str | None = None,
    ) -> UploadForm:
        policy = json.dumps(
            {
                "key": staging,
                "max": max_size,
                "type": content_type,
                "until": time.time() + expires.total_seconds(),
                "redirect": redirect,
            }
        )
        fields = {"key": staging, "policy": policy, "signature": _sign(policy)}
        return UploadForm("POST", self.backend.server_url() + "/", fields)

    def publish_staged(
        self, staging: str, filename: str, *, overwrite: bool, check: BodyCheck | None = None
    ) -> None:
        backend = self.backend
        try:
            with backend.open_read(staging) as body:
                checked = cast("IO[bytes]", CheckedReader(body, check or BodyCheck()))
                LocalBackend.save(backend, checked, filename, overwrite=overwrite)
        finally:
            with contextlib.suppress(FileNotFound):
                backend.delete(staging)

    def start_parts(
        self, filename: str, *, content_type: str | None, overwrite: bool = False
    ) -> str:
        upload_id = uuid.uuid4().hex
        self.backend.write(f"{PARTS}/{upload_id}/open", filename.encode())
        return upload_id

    def sign_part(
        self, filename: str, upload_id: str, number: int, *, expires: timedelta
    ) -> UploadForm:
        path = f"/parts/{upload_id}/{number}"
        query = urlencode({"sig": _sign(path)})
        return UploadForm("PUT", f"{self.backend.server_url()}{path}?{query}")

    def _check_open(self, upload_id: str) -> None:
        if not self.backend.exists(f"{PARTS}/{upload_id}/open"):
            raise FileNotFound(f"no upload {upload_id!r}")

    def stored_parts(self, filename: str, upload_id: str) -> list[StoredPart]:
        self._check_open(upload_id)
        parts = []
        for name in self.backend.list_files(f"{PARTS}/{upload_id}/"):
            number = name.rsplit("/", 1)[1]
            if number.isdigit():
                data = self.backend.read(name)
                parts.append(StoredPart(int(number), len(data), _etag(data)))
        return sorted(parts, key=lambda part: part.number)

    def join_parts(
        self,
        filename: str,
        upload_id: str,
        parts: Sequence[StoredPart],
        *,
        overwrite: bool,
        check: BodyCheck | None = None,
    ) -> None:
        self._check_open(upload_id)
        check = check or BodyCheck()
        try:
            with LocalBackend.open_write(self.backend, filename, overwrite=overwrite) as target:
                for part in parts:
                    data = self.backend.read(f"{PARTS}/{upload_id}/{part.number:05d}")
                    check.feed(data)
                    target.write(data)
                check.sha256()  # refused: the file is not published
        finally:
            self.abort_parts(filename, upload_id)

    def abort_parts(self, filename: str, upload_id: str) -> None:
        for name in list(self.backend.list_files(f"{PARTS}/{upload_id}/")):
            with contextlib.suppress(FileNotFound):
                self.backend.delete(name)


def _etag(data: bytes) -> str:
    return '"' + hashlib.md5(data).hexdigest() + '"'


class StagingStoreBackend(LocalBackend):
    """The local backend, with a store that takes uploads from browsers."""

    _server: Any = None
    _lock = threading.Lock()

    def direct_uploads(self) -> StoreUploads:
        return StagingStore(self)

    def server_url(self) -> str:
        with self._lock:
            if self._server is None:
                server = make_server("127.0.0.1", 0, self._wsgi, threaded=True)
                threading.Thread(target=server.serve_forever, daemon=True).start()
                self._server = server
        return f"http://127.0.0.1:{self._server.server_port}"

    def sweep(self, older_than: float, remove: bool = True) -> Iterator[str]:
        yield from super().sweep(older_than, remove)
        cutoff = time.time() - older_than
        old = {
            i.name.split("/")[1]
            for i in self.list_details(PARTS + "/")
            if i.modified.timestamp() <= cutoff
        }
        for upload in sorted(old):
            if remove:
                StagingStore(self).abort_parts("", upload)
            yield f"store upload {upload}"

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        return self._answer(Request(environ))(environ, start_response)

    def _answer(self, request: Request) -> Response:
        if request.method == "POST":
            return self._post(request)
        path = request.path
        if request.method == "PUT" and hmac.compare_digest(
            request.args.get("sig", ""), _sign(path)
        ):
            _, _, upload_id, number = path.split("/")
            if not self.exists(f"{PARTS}/{upload_id}/open"):
                return Response("NoSuchUpload", 404)
            data = request.get_data()
            self.write(f"{PARTS}/{upload_id}/{int(number):05d}", data)
            return Response("", 200, {"ETag": _etag(data)})
        return Response("AccessDenied", 403)

    def _post(self, request: Request) -> Response:
        policy_text = request.form.get("policy", "")
        if not hmac.compare_digest(request.form.get("signature", ""), _sign(policy_text)):
            return Response("AccessDenied", 403)
        policy = json.loads(policy_text)
        upload = request.files.get("file")
        if upload is None or policy["until"] < time.time() or request.form["key"] != policy["key"]:
            return Response("AccessDenied", 403)
        if policy["type"] and upload.mimetype != policy["type"]:
            return Response("AccessDenied: Content-Type", 403)
        data = upload.read()
        if len(data) > policy["max"]:
            return Response("EntityTooLarge", 400)
        self.write(policy["key"], data)
        if policy["redirect"]:
            target = policy["redirect"] + "?" + urlencode({"key": policy["key"]})
            return Response("", 303, {"Location": target})
        return Response("", 204, {"ETag": _etag(data)})

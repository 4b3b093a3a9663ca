"""An object store kept in a dict, as a third party would adapt one: the primitives of
ObjectStoreBackend and nothing else. "Writing a backend" (docs/backends.md) shows this file, and
fs-core's tests run the conformance suite on it."""

from __future__ import annotations

import hashlib
import io
import threading
from collections.abc import Hashable, Iterator, Mapping
from datetime import datetime, timezone
from typing import IO, ClassVar

from flask_fs.backends.objectstore import ErrorKind, ObjectBody, ObjectInfo, ObjectStoreBackend
from flask_fs.serving import guess_mime
from flask_fs.settings import Setting


class StoreError(Exception):
    """What the "server" answers instead of an object: an HTTP status."""

    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status


class _Object:
    def __init__(self, data: bytes, metadata: Mapping[str, str]) -> None:
        self.data = data
        self.etag = hashlib.md5(data, usedforsecurity=False).hexdigest()
        self.modified = datetime.now(timezone.utc)
        self.metadata = dict(metadata)


_BUCKETS: dict[str, dict[str, _Object]] = {}
_LOCK = threading.Lock()


class DictObjectStore(ObjectStoreBackend):
    """Objects in a dict shared by the process, one "bucket" per storage."""

    settings: ClassVar[Mapping[str, object]] = {
        **ObjectStoreBackend.settings,
        "bucket": Setting(str, "default"),
    }
    client_errors = (StoreError,)

    def __init__(self, name: str, config: Mapping[str, object]) -> None:
        super().__init__(name, config)
        self.objects = _BUCKETS.setdefault(f"{self.config['bucket']}/{name}", {})

    @property
    def location(self) -> str:
        return "in memory"

    @property
    def single_request_limit(self) -> int:
        return 1024 * 1024

    def claim_key(self, filename: str) -> Hashable:
        return (id(self.objects), filename)

    def error_kind(self, exc: BaseException) -> ErrorKind | None:
        status = exc.status if isinstance(exc, StoreError) else None
        if status == 404:
            return "missing"
        return "precondition" if status == 412 else None

    def _get(self, filename: str) -> _Object:
        found = self.objects.get(filename)
        if found is None:
            raise StoreError(404)
        return found

    def head_object(self, filename: str) -> ObjectInfo:
        return self._info(filename, self._get(filename))

    def _info(self, filename: str, found: _Object) -> ObjectInfo:
        return ObjectInfo(
            len(found.data), found.etag, found.modified, guess_mime(filename), found.metadata
        )

    def get_object(self, filename: str, start: int, etag: str | None) -> ObjectBody:
        found = self._get(filename)
        if etag is not None and etag != found.etag:
            raise StoreError(412)
        body = io.BytesIO(found.data)  # shares the bytes, copies nothing
        body.seek(start)
        return ObjectBody(body, max(len(found.data) - start, 0), found.etag)

    def put_object(
        self, filename: str, data: bytes, metadata: Mapping[str, str], create_only: bool
    ) -> None:
        with _LOCK:  # the server's atomic If-None-Match: *
            if create_only and filename in self.objects:
                raise StoreError(412)
            self.objects[filename] = _Object(data, metadata)

    def upload_stream(
        self, filename: str, stream: IO[bytes], metadata: Mapping[str, str], create_only: bool
    ) -> None:
        self.put_object(filename, stream.read(), metadata, create_only)

    def annotate(
        self, filename: str, values: Mapping[str, str], current: Mapping[str, str] | None
    ) -> None:
        self._get(filename).metadata.update(values)

    def delete_object(self, filename: str, info: ObjectInfo) -> None:
        with _LOCK:
            self.objects.pop(filename, None)

    def list_objects(self, prefix: str) -> Iterator[tuple[str, ObjectInfo]]:
        for name, found in sorted(self.objects.items()):
            if name.startswith(prefix):
                yield name, self._info(name, found)

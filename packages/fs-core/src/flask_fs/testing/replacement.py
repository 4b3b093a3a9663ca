"""A file replaced while it is read or served: the reader gets one version, or an error."""

from __future__ import annotations

from flask_fs import Storage
from flask_fs.errors import FileNotFound

from .fixtures import ConformanceFixtures

MiB = 1024 * 1024
OLD = b"o" * (3 * MiB)
NEW = b"N" * (3 * MiB)


class ReplacementTests(ConformanceFixtures):
    def test_a_stream_never_mixes_two_versions(self, storage: Storage) -> None:
        storage.write("v.bin", OLD)
        with storage.open("v.bin", "rb") as f:
            start = f.read(1000)
            storage.write("v.bin", NEW, overwrite=True)
            try:
                f.seek(2 * MiB)  # object stores open the rest with another (ranged) request
                rest: bytes | None = f.read()
            except FileNotFound:
                rest = None  # "replaced while read": the stream stops
        assert start == OLD[:1000]
        assert rest is None or rest == OLD[2 * MiB :]
        assert storage.read("v.bin") == NEW

    def test_a_response_never_mixes_two_versions(self, storage: Storage) -> None:
        storage.write("v.bin", OLD)
        response = storage.serve("v.bin")
        if response.status_code in (301, 302, 303, 307):
            return  # redirected to the store itself, which serves one version
        storage.write("v.bin", NEW, overwrite=True)
        body: bytes | None
        try:
            body = b"".join(response.response)  # type: ignore[arg-type]
        except FileNotFound:
            body = None
        finally:
            response.close()
        assert body is None or (body == OLD and response.content_length == len(OLD))

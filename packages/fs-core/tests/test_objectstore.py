"""The object-store pipeline (flask_fs.backends.objectstore), on the dict-backed example adapter:
the whole conformance suite, and the rules no well-behaved server exercises."""

from __future__ import annotations

import hashlib
import importlib
import io
from collections.abc import Callable, Iterator, Mapping
from datetime import timedelta
from types import ModuleType
from typing import Any, cast

import pytest
from flask import Flask

from flask_fs.backends.direct import STAGING_FOLDER
from flask_fs.backends.objectstore import ObjectAnswer, ObjectBody, ObjectInfo
from flask_fs.errors import BackendError, FileExists, FileNotFound
from flask_fs.testing import BackendConformance
from flask_fs.transfers import ReplacedWhileRead

MiB = 1024 * 1024


@pytest.fixture
def store(install_backend: Callable[[str, dict[str, str]], None]) -> ModuleType:
    """tests/dict_object_store.py, installed as a distribution declaring ``dictstore``."""
    install_backend("dict_object_store", {"dictstore": "DictObjectStore"})
    return importlib.import_module("fs_dict_object_store_test")


class TestDictObjectStore(BackendConformance):
    @pytest.fixture
    def fs_backend(self, store: ModuleType) -> str:
        return "dictstore"

    @pytest.fixture
    def fs_large_file_size(self) -> int:
        return 4 * MiB

    @pytest.fixture
    def fs_memory_limit(self) -> int:
        return 16 * MiB  # the store itself holds the file, and reads a stream whole


def _backend(cls: type[Any]) -> Any:
    backend = cls(f"pipeline{id(cls)}", {})
    backend.objects.clear()
    return backend


def test_a_lost_reply_to_a_create_is_the_writes_own_success(store: ModuleType) -> None:
    class LostReply(store.DictObjectStore):  # type: ignore[name-defined, misc]
        """The first create lands, but its reply is lost: the client's retry is refused."""

        lost = 0

        def put_object(
            self, filename: str, data: bytes, metadata: Mapping[str, str], create_only: bool
        ) -> None:
            super().put_object(filename, data, metadata, create_only)
            if create_only and not self.lost:
                self.lost += 1
                super().put_object(filename, data, metadata, create_only)  # the retry: 412

    backend = _backend(LostReply)
    backend.write_bytes("a.txt", b"mine", overwrite=False)
    assert backend.lost == 1
    assert backend.read("a.txt") == b"mine"
    with pytest.raises(FileExists):  # a create that is not its own still fails
        backend.write_bytes("a.txt", b"someone else", overwrite=False)


def test_a_refused_create_without_an_object_is_a_backend_error(store: ModuleType) -> None:
    class FolderRemains(store.DictObjectStore):  # type: ignore[name-defined, misc]
        def put_object(self, *args: Any) -> None:
            raise store.StoreError(412)

    backend = _backend(FolderRemains)
    with pytest.raises(BackendError, match="folder of that name"):
        backend.write_bytes("a.txt", b"x", overwrite=False)


def test_other_errors_name_the_storage_and_where_it_is(store: ModuleType) -> None:
    class Unavailable(store.DictObjectStore):  # type: ignore[name-defined, misc]
        def head_object(self, filename: str) -> ObjectInfo:
            raise store.StoreError(503)

    backend = _backend(Unavailable)
    with pytest.raises(BackendError, match=r"storage 'pipeline\d+' \(in memory\): HTTP 503"):
        backend.exists("a.txt")
    with pytest.raises(FileNotFound, match="not found in storage"):
        _backend(store.DictObjectStore).delete("missing.txt")


def test_a_foreign_objects_checksum_is_remembered_for_its_version(store: ModuleType) -> None:
    backend = _backend(store.DictObjectStore)
    backend.objects["foreign.txt"] = store._Object(b"first", {})
    first = hashlib.sha256(b"first").hexdigest()
    assert backend.metadata("foreign.txt")["checksum"] == f"sha256:{first}"
    stored = backend.objects["foreign.txt"].metadata
    assert stored == {"sha256": first, "sha256-etag": backend.objects["foreign.txt"].etag}
    backend.objects["foreign.txt"] = store._Object(b"second", stored)  # old metadata copied along
    second = hashlib.sha256(b"second").hexdigest()
    assert backend.metadata("foreign.txt")["checksum"] == f"sha256:{second}"


def test_streamed_uploads_attach_their_checksum(store: ModuleType) -> None:
    backend = _backend(store.DictObjectStore)
    content = b"x" * (2 * MiB)
    backend.save(io.BytesIO(content), "big.bin", overwrite=False)
    metadata = backend.objects["big.bin"].metadata
    assert metadata["sha256"] == hashlib.sha256(content).hexdigest()
    assert "write-id" in metadata  # a create-only write carries its token


def test_a_read_stream_stays_on_its_version(store: ModuleType) -> None:
    backend = _backend(store.DictObjectStore)
    backend.write_bytes("a.txt", b"first version")
    with backend.open_read("a.txt") as f:
        assert f.read(5) == b"first"
        backend.write_bytes("a.txt", b"second version")
        with pytest.raises(ReplacedWhileRead):
            f.seek(0)
            f.read()


def test_a_get_the_adapter_calls_transient_is_tried_again(store: ModuleType) -> None:
    class Busy(store.DictObjectStore):  # type: ignore[name-defined, misc]
        read_attempts = 3
        failures = 2

        def get_object(self, filename: str, start: int, etag: str | None) -> ObjectBody:
            if self.failures:
                self.failures -= 1
                raise store.StoreError(409)
            body: ObjectBody = super().get_object(filename, start, etag)
            return body

        def retry_read(self, error: BackendError) -> bool:
            return "409" in str(error)

    backend = _backend(Busy)
    backend.write_bytes("a.txt", b"content")
    assert backend.read("a.txt") == b"content"


def test_an_adapter_listing_names_only_still_lists_details(store: ModuleType) -> None:
    """An adapter written before ``list_objects``: its names, a HEAD per object for details."""

    class NamesOnly(store.DictObjectStore):  # type: ignore[name-defined, misc]
        list_objects = store.ObjectStoreBackend.list_objects
        heads = 0

        def list_names(self, prefix: str) -> Iterator[str]:
            return iter(sorted(n for n in self.objects if n.startswith(prefix)))

        def head_object(self, filename: str) -> ObjectInfo:
            self.heads += 1
            return cast(ObjectInfo, super().head_object(filename))

    backend = _backend(NamesOnly)
    backend.write_bytes("b/c.txt", b"hello")
    backend.write_bytes("a.txt", b"x")
    assert list(backend.list_files()) == ["a.txt", "b/c.txt"]
    infos = list(backend.list_details("b/"))
    assert [(i.name, i.size, i.mime) for i in infos] == [("b/c.txt", 5, "text/plain")]
    assert infos[0].checksum == "sha256:" + hashlib.sha256(b"hello").hexdigest()
    assert backend.heads == 1


def test_the_listing_names_derive_from_list_objects(store: ModuleType) -> None:
    backend = _backend(store.DictObjectStore)
    backend.write_bytes("a.txt", b"x")
    assert list(backend.list_names("")) == ["a.txt"]


def test_listings_hide_staged_uploads_and_sweep_removes_stale_ones(store: ModuleType) -> None:
    backend = _backend(store.DictObjectStore)
    staged = f"{STAGING_FOLDER}/abc"
    backend.write_bytes(staged, b"waiting")  # as a browser's direct upload leaves it
    backend.write_bytes("a/.fs-tmp-part", b"temporary")
    backend.write_bytes("a/b.txt", b"file")
    assert list(backend.list_files()) == ["a/b.txt"]
    assert list(backend.list_files("a/")) == ["a/b.txt"]
    assert [info.name for info in backend.list_details()] == ["a/b.txt"]
    assert list(backend.list_files(".fs-tmp")) == []
    # The reserved folder itself, asked for, is listed (what a sweep looks at).
    assert [info.name for info in backend.list_details(STAGING_FOLDER + "/")] == [staged]

    assert list(backend.sweep(3600)) == []  # a young staged body may be an upload running
    backend.objects[staged].modified -= timedelta(hours=2)
    assert list(backend.sweep(3600, remove=False)) == [
        f"staged upload {staged!r} of {backend.objects[staged].modified:%Y-%m-%d %H:%M:%S %Z}"
    ]
    assert backend.exists(staged)
    assert len(list(backend.sweep(3600))) == 1
    assert not backend.exists(staged)
    assert backend.exists("a/b.txt")


def test_an_adapter_without_a_listing_is_refused(store: ModuleType) -> None:
    class NoListing(store.DictObjectStore):  # type: ignore[name-defined, misc]
        list_objects = store.ObjectStoreBackend.list_objects

    with pytest.raises(TypeError, match="must implement list_objects"):
        NoListing("nolisting", {})


def _serve(backend: Any, headers: dict[str, str]) -> tuple[int, bytes]:
    with Flask(__name__).test_request_context(headers=headers):
        response = backend.serve("a.bin")
        response.direct_passthrough = False
        return response.status_code, response.get_data()


def test_a_store_answer_its_own_etag_contradicts_is_not_served(store: ModuleType) -> None:
    """The store's 304 or 412 stands only if the validators it carried agree: here they do not,
    and the file is served from a HEAD and a GET as the request deserves."""

    class Contradicted(store.DictObjectStore):  # type: ignore[name-defined, misc]
        def fetch_object(self, filename: str, byte_range: Any, conditions: Any) -> ObjectAnswer:
            if conditions.if_none_match:  # "not modified", but its ETag is another one
                return ObjectAnswer.refused(304, {"ETag": '"something-else"'})
            current = f'"{self.objects[filename].etag}"'  # "failed", but this ETag matches
            return ObjectAnswer.refused(412, {"ETag": current})

    backend = _backend(Contradicted)
    backend.write_bytes("a.bin", b"content")
    etag = f'"{backend.objects["a.bin"].etag}"'
    assert _serve(backend, {"If-None-Match": '"old"'}) == (200, b"content")
    assert _serve(backend, {"If-Match": etag, "Range": "bytes=0-2"}) == (206, b"con")
    assert _serve(backend, {"If-None-Match": etag})[0] == 304  # (a 304's body is never sent)


def test_a_store_that_ignores_the_range_is_sliced_without_another_get(store: ModuleType) -> None:
    class WholeObjects(store.DictObjectStore):  # type: ignore[name-defined, misc]
        gets = 0

        def fetch_object(self, filename: str, byte_range: Any, conditions: Any) -> ObjectAnswer:
            self.gets += 1
            info = self.head_object(filename)
            body = io.BytesIO(self.objects[filename].data)
            return ObjectAnswer(200, info, body, 0, info.size)

        def get_object(self, filename: str, start: int, etag: str | None) -> ObjectBody:
            self.gets += 1
            body: ObjectBody = super().get_object(filename, start, etag)
            return body

    backend = _backend(WholeObjects)
    content = bytes(range(256)) * 8
    backend.write_bytes("a.bin", content)
    assert _serve(backend, {"Range": "bytes=1000-1009"}) == (206, content[1000:1010])
    assert backend.gets == 1
    assert _serve(backend, {"Range": "bytes=-5"}) == (206, content[-5:])
    assert _serve(backend, {}) == (200, content)
    assert backend.gets == 3


def test_a_store_that_sent_a_range_serves_the_whole_file_when_werkzeug_says_so(
    store: ModuleType,
) -> None:
    """A 206 from the store, a 200 for the request (its If-Range does not match; a store is
    never asked a Range then, but the pipeline does not rely on it): the rest is another GET."""

    class Ranged(store.DictObjectStore):  # type: ignore[name-defined, misc]
        def fetch_object(self, filename: str, byte_range: Any, conditions: Any) -> ObjectAnswer:
            info = self.head_object(filename)
            return ObjectAnswer(206, info, io.BytesIO(self.objects[filename].data[5:]), 5, 5)

    backend = _backend(Ranged)
    backend.write_bytes("a.bin", b"0123456789")
    assert _serve(backend, {"Range": "bytes=5-", "If-Range": '"old"'}) == (200, b"0123456789")

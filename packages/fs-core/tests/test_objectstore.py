"""The object-store pipeline (flask_fs.backends.objectstore), on the dict-backed example adapter:
the whole conformance suite, and the rules no well-behaved server exercises."""

from __future__ import annotations

import hashlib
import importlib
import io
from collections.abc import Callable, Iterator, Mapping
from types import ModuleType
from typing import Any, cast

import pytest

from flask_fs.backends.objectstore import ObjectBody, ObjectInfo
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


def test_an_adapter_without_a_listing_is_refused(store: ModuleType) -> None:
    class NoListing(store.DictObjectStore):  # type: ignore[name-defined, misc]
        list_objects = store.ObjectStoreBackend.list_objects

    with pytest.raises(TypeError, match="must implement list_objects"):
        NoListing("nolisting", {})

"""``list_files(details=True)``: the listing's names, each with what ``metadata`` says of it,
at the cost of the listing alone."""

from __future__ import annotations

import types
from datetime import timedelta

from flask_fs import FileInfo, Storage
from flask_fs.backends import BaseBackend

from .fixtures import ConformanceFixtures, RequestCounter
from .listing import NAMES

#: How far a listing's modification time may be from ``metadata``'s: stores round them
#: differently (Swift's HEAD rounds up to the second, its listing has microseconds).
TIME_TOLERANCE = timedelta(seconds=2)


def _write_files(storage: Storage) -> dict[str, bytes]:
    contents = {name: name.encode() * (index + 1) for index, name in enumerate(NAMES)}
    for name, content in contents.items():
        storage.write(name, content)
    return contents


class ListingDetailsTests(ConformanceFixtures):
    def test_details_of_an_empty_storage(self, storage: Storage) -> None:
        assert list(storage.list_files(details=True)) == []

    def test_details_name_the_listed_files(self, storage: Storage) -> None:
        _write_files(storage)
        details = storage.list_files(details=True)
        assert isinstance(details, types.GeneratorType)
        infos = list(details)
        assert all(isinstance(info, FileInfo) for info in infos)
        assert [info.name for info in infos] == list(storage.list_files())

    def test_details_match_metadata(self, storage: Storage) -> None:
        contents = _write_files(storage)
        infos = {info.name: info for info in storage.list_files(details=True)}
        assert set(infos) == set(contents)
        for name, info in infos.items():
            meta = storage.metadata(name)
            assert info.size == meta["size"] == len(contents[name])
            assert info.modified.tzinfo is not None
            assert info.modified.utcoffset() == timedelta(0)
            assert abs(info.modified - meta["modified"]) <= TIME_TOLERANCE
            assert info.checksum in (None, meta["checksum"])
            assert info.mime in (None, meta["mime"])

    def test_details_follow_a_replacement(self, overwriting_storage: Storage) -> None:
        overwriting_storage.write("file.bin", b"one")
        overwriting_storage.write("file.bin", b"three")
        (info,) = overwriting_storage.list_files(details=True)
        assert (info.name, info.size) == ("file.bin", 5)

    def test_details_with_a_prefix(self, storage: Storage) -> None:
        _write_files(storage)
        for prefix in ("b/", "b", "b/d", "ünï/", "zzz"):
            names = [info.name for info in storage.list_files(prefix, details=True)]
            assert names == list(storage.list_files(prefix))
        assert sorted(i.name for i in storage.list_files("b", True)) == [
            "b/c.txt",
            "b/d/e.txt",
            "bb.txt",
        ]

    def test_details_cost_what_the_listing_costs(
        self, storage: Storage, fs_request_counter: RequestCounter
    ) -> None:
        """A backend that lists with details asks nothing per file; one that does not gets
        the default, a ``metadata`` per file."""
        _write_files(storage)
        plain = fs_request_counter(storage, lambda: list(storage.list_files()))
        detailed = fs_request_counter(storage, lambda: list(storage.list_files(details=True)))
        if type(storage.backend).list_details is BaseBackend.list_details:
            assert detailed >= plain + len(NAMES)
        else:
            assert detailed == plain

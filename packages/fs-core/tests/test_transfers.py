"""The object-store helpers: a pipe from ``open(name, "wb")`` to an uploading thread, and a
seekable reader over ranged GETs."""

from __future__ import annotations

import hashlib
import io
import os
import sys
from typing import IO, Any

import pytest

from flask_fs.errors import FileExists
from flask_fs.transfers import (
    SKIP_LIMIT,
    HashingReader,
    PipeUpload,
    RangedReader,
    UploadAborted,
    claim_name,
    read_ahead,
)


class Recorder:
    """An uploader that reads the pipe to its end, as a client library would."""

    def __init__(self, fail_with: BaseException | None = None) -> None:
        self.received = b""
        self.error: BaseException | None = None
        self.finished: str | None = None
        self.cleaned = False
        self.fail_with = fail_with

    def upload(self, reader: IO[bytes]) -> None:
        try:
            while chunk := reader.read(3000):  # reads of a size of the client's choosing
                self.received += chunk
        except UploadAborted as exc:
            self.error = exc
            raise
        if self.fail_with is not None:
            raise self.fail_with

    def pipe(self) -> Any:
        return PipeUpload(self.upload, self.finish, self.cleanup, name="x").writer()

    def finish(self, digest: str) -> None:
        self.finished = digest

    def cleanup(self) -> None:
        self.cleaned = True


def test_a_committed_pipe_delivers_everything_and_its_checksum() -> None:
    recorder = Recorder()
    data = bytes(range(256)) * 4000  # 1,024,000 bytes through a 4-chunk queue
    with recorder.pipe() as f:
        for i in range(0, len(data), 10_000):
            f.write(data[i : i + 10_000])
    assert recorder.received == data
    assert recorder.finished == hashlib.sha256(data).hexdigest()
    assert not recorder.cleaned


def test_a_discarded_pipe_aborts_the_upload_and_cleans_up() -> None:
    recorder = Recorder()
    with pytest.raises(RuntimeError), recorder.pipe() as f:
        f.write(b"partial")
        raise RuntimeError("interrupted")
    assert isinstance(recorder.error, UploadAborted)
    assert recorder.cleaned
    assert recorder.finished is None


def test_an_upload_error_surfaces_at_close() -> None:
    recorder = Recorder(fail_with=FileExists("taken"))
    with pytest.raises(FileExists, match="taken"), recorder.pipe() as f:
        f.write(b"data")
    assert recorder.finished is None


class BytesRemote(RangedReader):
    """A "remote" object in memory; counts the GETs."""

    def __init__(self, data: bytes) -> None:
        super().__init__()
        self.data = data
        self.gets: list[int] = []

    def open_body(self, start: int) -> None:
        self.gets.append(start)
        self.size = len(self.data)
        self.body = io.BytesIO(self.data[start:])


def test_ranged_reader_reads_seeks_and_reopens_only_when_needed() -> None:
    data = bytes(range(256)) * (SKIP_LIMIT // 128)  # twice the skip limit
    remote = BytesRemote(data)
    assert remote.read(10) == data[:10]
    assert remote.read(5) == data[10:15]
    assert remote.gets == [0]
    assert remote.seek(15) == 15  # where it is: nothing to do
    assert remote.seek(90) == 90  # a short way forward: read through the open body
    assert remote.read(10) == data[90:100]
    assert remote.gets == [0]
    assert remote.seek(len(data) - 10) == len(data) - 10  # far: another GET
    assert remote.read() == data[-10:]
    assert remote.gets == [0, len(data) - 10]
    assert remote.read(1) == b""
    assert remote.seek(-5, io.SEEK_END) == len(data) - 5  # backwards: another GET
    assert remote.read() == data[-5:]
    assert remote.gets == [0, len(data) - 10, len(data) - 5]
    buffered = io.BufferedReader(BytesRemote(b"abc\ndef\n"))
    assert buffered.readlines() == [b"abc\n", b"def\n"]


def test_an_attached_range_is_read_then_the_rest_is_another_get() -> None:
    data = bytes(range(100))
    remote = BytesRemote(data)
    remote.size = len(data)
    remote.attach(io.BytesIO(data[20:30]), 20, 10)  # a ranged GET's body
    assert remote.tell() == 20
    assert remote.seek(20) == 20  # werkzeug's range wrapper seeks to the start: no GET
    assert remote.read(100) == data[20:30]
    assert remote.gets == []
    assert remote.read(5) == data[30:35]  # past the range: the object again, from there
    assert remote.gets == [30]


def test_hashing_reader_hashes_a_source_read_whole_and_in_order() -> None:
    data = bytes(range(256)) * 100
    reader = HashingReader(io.BytesIO(data))
    assert reader.read(1000) + reader.read() == data
    assert reader.hexdigest() == hashlib.sha256(data).hexdigest()


def test_hashing_reader_gives_no_checksum_after_a_read_out_of_order() -> None:
    data = b"0123456789" * 100
    reread = HashingReader(io.BytesIO(data))
    reread.read(500)
    reread.seek(100)  # a client retrying a part
    reread.read()
    assert reread.hexdigest() is None
    partial = HashingReader(io.BytesIO(data))
    partial.read(10)
    assert partial.hexdigest() is None  # not read to the end


def _claim(name: str, overwrite: bool = False) -> Any:
    return claim_name(("test", name), name, "files", overwrite)


def test_a_claimed_name_refuses_a_second_creator_at_once_and_is_released_after() -> None:
    with _claim("a"):
        with pytest.raises(FileExists, match="'a' already exists in storage 'files'"), _claim("a"):
            pass
        with _claim("b"):  # another name is free
            pass
        with _claim("a", overwrite=True):  # an overwriting write claims nothing
            pass
    with _claim("a"):  # released
        pass


def test_a_claim_is_released_when_the_write_fails() -> None:
    with pytest.raises(RuntimeError), _claim("c"):
        raise RuntimeError("upload failed")
    with _claim("c"):
        pass


@pytest.mark.parametrize("size", [0, 1, 99, 100])
def test_read_ahead_gives_a_small_stream_whole(size: int) -> None:
    content, rest = read_ahead(io.BytesIO(b"x" * size), 100)
    assert rest is None
    assert content == b"x" * size


@pytest.mark.parametrize("size", [101, 5 * 1024 * 1024 + 7])
def test_read_ahead_gives_a_large_stream_back_whole(size: int) -> None:
    data = bytes(range(256)) * (size // 256) + b"z" * (size % 256)
    content, rest = read_ahead(io.BytesIO(data), 100)
    assert content == b""
    assert rest is not None
    assert rest.read() == data


class RecordingStream(io.BytesIO):
    """An upload's source that keeps what each ``read`` gave (``readinto`` is BytesIO's own)."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.given: list[bytes] = []

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        self.given.append(data)
        return data


def test_read_ahead_holds_one_buffer_and_lets_it_go() -> None:
    """One read, one buffer, freed once little of it is left; the rest of the stream is read
    straight into the reader's buffer (``readinto``), never into a copy held meanwhile."""
    limit = 3 * 1024 * 1024
    data = os.urandom(limit + 1 + 5 * 1024 * 1024)
    stream = RecordingStream(data)
    content, rest = read_ahead(stream, limit)
    assert content == b""
    assert rest is not None
    assert [len(given) for given in stream.given] == [limit + 1]
    ahead = stream.given.pop()
    held = sys.getrefcount(ahead)
    assert rest.read(limit) == data[:limit]  # one byte of the read-ahead is left
    assert sys.getrefcount(ahead) == held - 1  # the stream no longer holds it
    assert rest.read() == data[limit:]
    assert stream.given == []

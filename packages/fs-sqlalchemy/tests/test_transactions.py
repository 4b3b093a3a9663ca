"""Files follow the session's transaction, on SQLite and PostgreSQL, local disk and S3: what a
rolled-back change wrote goes, what a committed change dropped goes after the commit only."""

from __future__ import annotations

import io
import threading
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import scoped_session, sessionmaker

import flask_fs as fs
from flask_fs.sqlalchemy import FileField, ImageField

from .conftest import make_model, png_bytes

pytestmark = pytest.mark.usefixtures("app")


def _files(storage: fs.Storage) -> list[str]:
    return sorted(storage.list_files())


@pytest.fixture
def Doc(engine: Engine, files: fs.Storage) -> Any:
    return make_model(engine, unique=True, file=FileField(fs=files))


@pytest.fixture
def committed(Doc: Any, Session: sessionmaker[Any]) -> int:  # noqa: N803
    """The id of a row whose file ``a.txt`` (``b"old"``) is committed."""
    with Session() as session:
        row = Doc(title="committed")
        row.file.save(io.BytesIO(b"old"), "a.txt")
        session.add(row)
        session.commit()
        return int(row.id)


def test_a_rollback_removes_what_a_new_row_wrote(
    Doc: Any,  # noqa: N803
    Session: sessionmaker[Any],  # noqa: N803
    files: fs.Storage,
) -> None:
    with Session() as session:
        row = Doc()
        row.file.save(io.BytesIO(b"new"), "new.txt")  # before the row joins the session
        session.add(row)
        session.flush()
        assert _files(files) == ["new.txt"]
        session.rollback()
    assert _files(files) == []


def test_a_rollback_keeps_the_committed_file(
    Doc: Any,  # noqa: N803
    Session: sessionmaker[Any],  # noqa: N803
    files: fs.Storage,
    committed: int,
) -> None:
    with Session() as session:
        row = session.get(Doc, committed)
        row.file.save(io.BytesIO(b"new"), "b.txt")
        session.flush()
        row.file.save(io.BytesIO(b"newer"), "c.txt")  # b.txt was never committed: gone now
        assert _files(files) == ["a.txt", "c.txt"]
        session.rollback()
        assert row.file.filename == "a.txt"
    assert _files(files) == ["a.txt"]
    assert files.read("a.txt") == b"old"


def test_a_failed_flush_removes_the_files_written_for_it(
    Doc: Any,  # noqa: N803
    Session: sessionmaker[Any],  # noqa: N803
    files: fs.Storage,
    committed: int,
) -> None:
    with Session() as session:
        row = session.get(Doc, committed)
        row.file.save(io.BytesIO(b"new"), "b.txt")
        clash = Doc(title="committed")  # the title is unique: the flush fails
        clash.file.save(io.BytesIO(b"clash"), "clash.txt")
        session.add(clash)
        with pytest.raises(IntegrityError):
            session.commit()
        assert files.read("a.txt") == b"old"  # never removed by a failed commit
        session.rollback()
    assert _files(files) == ["a.txt"]


def test_a_replaced_file_goes_after_the_commit_only(
    Doc: Any,  # noqa: N803
    Session: sessionmaker[Any],  # noqa: N803
    files: fs.Storage,
    committed: int,
) -> None:
    with Session() as session:
        row = session.get(Doc, committed)
        row.file.save(io.BytesIO(b"new"), "b.txt")
        session.flush()
        assert files.read("a.txt") == b"old"  # other transactions still see a.txt
        session.commit()
        assert _files(files) == ["b.txt"]
        assert row.file.filename == "b.txt"


def test_the_same_name_keeps_the_committed_content_until_the_commit(
    Doc: Any,  # noqa: N803
    Session: sessionmaker[Any],  # noqa: N803
    files: fs.Storage,
    committed: int,
) -> None:
    with Session() as session:
        row = session.get(Doc, committed)
        name = row.file.save(io.BytesIO(b"new"), "a.txt")
        assert name != "a.txt"  # a fresh name: a.txt is committed
        assert name.startswith("a-")
        assert name.endswith(".txt")
        session.flush()
        assert files.read("a.txt") == b"old"
        session.rollback()
    assert _files(files) == ["a.txt"]
    with Session() as session:
        row = session.get(Doc, committed)
        name = row.file.save(io.BytesIO(b"new"), "a.txt")
        session.commit()
        assert _files(files) == [name]
        assert files.read(session.get(Doc, committed).file.filename) == b"new"


def test_a_deleted_rows_files_go_after_the_commit_only(
    engine: Engine,
    Session: sessionmaker[Any],  # noqa: N803
    images: fs.Storage,
) -> None:
    Photo = make_model(engine, image=ImageField(fs=images, max_size=100, thumbnails=[32]))  # noqa: N806
    with Session() as session:
        photo = Photo()
        photo.image.save(png_bytes(), "pic.png")
        session.add(photo)
        session.commit()
        stored = ["pic-32.png", "pic-original.png", "pic.png"]
        assert _files(images) == stored
        session.delete(photo)
        session.flush()
        session.rollback()
        assert _files(images) == stored
        session.delete(session.get(Photo, photo.id))
        session.commit()
    assert _files(images) == []


def test_closing_the_session_without_a_commit_is_a_rollback(
    Doc: Any,  # noqa: N803
    Session: sessionmaker[Any],  # noqa: N803
    files: fs.Storage,
    committed: int,
) -> None:
    session = Session()
    session.get(Doc, committed).file.save(io.BytesIO(b"new"), "b.txt")
    row = Doc()
    session.add(row)
    row.file.save(io.BytesIO(b"new"), "c.txt")  # not flushed
    session.close()
    assert _files(files) == ["a.txt"]


def test_a_scoped_session_removed_at_the_end_of_a_request(
    app: Flask,
    Doc: Any,  # noqa: N803
    Session: sessionmaker[Any],  # noqa: N803
    files: fs.Storage,
    committed: int,
) -> None:
    """As Flask-SQLAlchemy does: one session per request, removed at teardown."""
    db_session = scoped_session(Session)
    app.teardown_request(lambda exc: db_session.remove())  # the test holds the app context

    @app.post("/<int:row_id>/<name>")
    def upload(row_id: int, name: str) -> str:
        row: Any = db_session.get(Doc, row_id)
        row.file.save(io.BytesIO(b"uploaded"), name)
        if name.startswith("keep"):
            db_session.commit()
        return str(row.file.filename)

    client = app.test_client()
    assert client.post(f"/{committed}/lost.txt").status_code == 200
    assert _files(files) == ["a.txt"]
    response = client.post(f"/{committed}/keep.txt")
    assert response.text == "keep.txt"
    assert _files(files) == ["keep.txt"]


def test_assigning_a_value_drops_the_old_file_at_the_commit(
    Doc: Any,  # noqa: N803
    Session: sessionmaker[Any],  # noqa: N803
    files: fs.Storage,
    committed: int,
) -> None:
    files.write("other.txt", b"other")
    with Session() as session:
        row = session.get(Doc, committed)
        row.file = "other.txt"
        session.commit()
        assert _files(files) == ["other.txt"]
        row.file = None
        assert not row.file  # an empty reference, not None
        session.commit()
        assert _files(files) == []
        assert not session.get(Doc, committed).file


def test_expire_on_commit_off_keeps_committed_files_on_a_later_rollback(
    Doc: Any,  # noqa: N803
    engine: Engine,
    files: fs.Storage,
) -> None:
    with sessionmaker(engine, expire_on_commit=False)() as session:
        row = Doc()
        session.add(row)
        row.file.save(io.BytesIO(b"x"), "x.txt")
        session.commit()
        row.title = "changed"
        session.flush()
        session.rollback()
    assert _files(files) == ["x.txt"]


def test_two_sessions_replacing_the_same_file_leave_no_orphan(
    app: Flask,
    Doc: Any,  # noqa: N803
    Session: sessionmaker[Any],  # noqa: N803
    files: fs.Storage,
    committed: int,
) -> None:
    """Both sessions loaded the row holding a.txt. The first flushes b.txt and holds the row;
    the second, replacing with c.txt, waits at its flush, then sees b.txt as the stored file
    (READ COMMITTED re-reads the locked row) and drops it when it commits."""
    first_flushed, second_flushing = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def first() -> None:
        with app.app_context(), Session() as session:
            row = session.get(Doc, committed)
            row.file.save(io.BytesIO(b"first"), "b.txt")
            session.flush()
            first_flushed.set()
            second_flushing.wait(10)
            threading.Event().wait(0.5)  # the second is blocked at its flush meanwhile
            session.commit()

    def second() -> None:
        with app.app_context(), Session() as session:
            row = session.get(Doc, committed)
            assert row.file.filename == "a.txt"
            first_flushed.wait(10)
            row.file.save(io.BytesIO(b"second"), "c.txt")
            second_flushing.set()
            session.commit()

    def run(target: Any) -> threading.Thread:
        def guarded() -> None:
            try:
                target()
            except BaseException as exc:  # reported by the test
                errors.append(exc)

        thread = threading.Thread(target=guarded)
        thread.start()
        return thread

    for thread in [run(first), run(second)]:
        thread.join(30)
    assert errors == []
    with Session() as session:
        assert session.get(Doc, committed).file.filename == "c.txt"
    assert _files(files) == ["c.txt"]
    assert files.read("c.txt") == b"second"


def test_savepoints_keep_what_they_released_and_undo_what_they_rolled_back(
    Doc: Any,  # noqa: N803
    Session: sessionmaker[Any],  # noqa: N803
    files: fs.Storage,
    committed: int,
) -> None:
    with Session() as session:
        row = session.get(Doc, committed)
        savepoint = session.begin_nested()
        row.file.save(io.BytesIO(b"rolled back"), "b.txt")
        session.flush()
        savepoint.rollback()
        assert row.file.filename == "a.txt"
        assert _files(files) == ["a.txt"]  # b.txt went with its savepoint

        with session.begin_nested():  # released
            row.file.save(io.BytesIO(b"released"), "c.txt")
        assert _files(files) == ["a.txt", "c.txt"]  # a.txt waits for the real commit
        session.commit()
    assert _files(files) == ["c.txt"]

"""Files no row refers to: what bulk statements and killed processes leave behind, found by
``orphans()`` and ``flask fs orphans``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, delete, update
from sqlalchemy.orm import sessionmaker

import flask_fs as fs
from flask_fs.errors import FSError
from flask_fs.sqlalchemy import FileField, ImageField, orphans

from .conftest import make_model, png_bytes

pytestmark = pytest.mark.usefixtures("app")


def test_bulk_statements_leave_files_that_orphans_finds(
    engine: Engine,
    Session: sessionmaker[Any],  # noqa: N803
    images: fs.Storage,
) -> None:
    Photo = make_model(engine, image=ImageField(fs=images, thumbnails=[16]))  # noqa: N806
    Avatar = make_model(engine, image=ImageField(fs=images))  # noqa: N806
    with Session() as session:
        for name in ("a", "b", "c"):
            photo = Photo(title=name)
            photo.image.save(png_bytes((20, 20)), f"{name}.png")
            session.add(photo)
        avatar = Avatar()
        avatar.image.save(png_bytes((20, 20)), "avatar.png")
        session.add(avatar)
        session.commit()
        assert orphans(session, Photo.image, Avatar.image, older_than=0) == []

        session.execute(delete(Photo).where(Photo.title == "a"))  # bypasses the session
        session.execute(update(Photo).where(Photo.title == "b").values(image=None))
        session.commit()
        assert sorted(images.list_files())[:4] == ["a-16.png", "a.png", "avatar.png", "b-16.png"]
        found = orphans(session, Photo.image, Avatar.image, older_than=0)
        assert found == ["a-16.png", "a.png", "b-16.png", "b.png"]
        assert orphans(session, Photo.image, Avatar.image) == []  # younger than an hour

        # Forgetting a model's column makes its files look orphaned: give them all.
        assert "avatar.png" in orphans(session, Photo.image, older_than=0)

        for name in found:
            images.delete(name)
        assert sorted(images.list_files()) == ["avatar.png", "c-16.png", "c.png"]


def test_orphans_refuses_columns_of_several_storages_or_none(
    engine: Engine,
    Session: sessionmaker[Any],  # noqa: N803
    files: fs.Storage,
    images: fs.Storage,
) -> None:
    Doc = make_model(engine, file=FileField(fs=files), image=ImageField(fs=images))  # noqa: N806
    with Session() as session:
        with pytest.raises(FSError, match="one storage"):
            orphans(session, Doc.file, Doc.image)
        with pytest.raises(FSError, match="not a FileField"):
            orphans(session, Doc.title)
        with pytest.raises(FSError, match="at least one"):
            orphans(session)


APP = """
import io, json, os, sys, time

from flask import Flask
from sqlalchemy import Integer, create_engine
from sqlalchemy.orm import DeclarativeBase, mapped_column, sessionmaker

import flask_fs as fs
from flask_fs.sqlalchemy import FileField

files = fs.Storage("files", fs.ALL)


class Base(DeclarativeBase):
    pass


class Doc(Base):
    __tablename__ = "killed_doc"
    id = mapped_column(Integer, primary_key=True)
    file = mapped_column(FileField(fs=files))


app = Flask("fsapp")
app.config.update(json.loads(os.environ["FSAPP_CONFIG"]))
fs.init_app(app, files)
engine = create_engine(os.environ["FSAPP_DATABASE"])
Session = sessionmaker(engine)

if __name__ == "__main__":
    with app.app_context(), Session() as session:
        doc = Doc()
        session.add(doc)
        doc.file.save(io.BytesIO(b"never committed"), "killed.txt")
        session.flush()
        print("written", flush=True)
        time.sleep(60)
        session.commit()
"""


def test_a_process_killed_before_its_commit_leaves_an_orphan_flask_fs_orphans_finds(
    tmp_path: Path, database_url: str, backend_settings: dict[str, Any]
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "fsapp.py").write_text(APP)
    env = {
        **os.environ,
        "FSAPP_CONFIG": json.dumps(backend_settings),
        "FSAPP_DATABASE": database_url,
        "PYTHONPATH": str(project),
    }
    setup = "import fsapp; fsapp.Base.metadata.create_all(fsapp.engine)"
    subprocess.run([sys.executable, "-c", setup], env=env, check=True, cwd=project)
    writer = subprocess.Popen(
        [sys.executable, str(project / "fsapp.py")],
        env=env,
        cwd=project,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout is not None
    assert writer.stdout.readline() == "written\n"
    os.kill(writer.pid, signal.SIGKILL)  # between the file write and the commit
    writer.wait(10)

    def flask(*args: str) -> str:
        command = [sys.executable, "-m", "flask", "--app", "fsapp", "fs", "orphans", *args]
        done = subprocess.run(command, env=env, cwd=project, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return done.stdout

    column = ["fsapp:Doc.file", "--session", "fsapp:Session", "--older-than", "0"]
    assert flask(*column) == "orphan killed.txt\n"
    assert flask(*column, "--delete") == "deleted killed.txt\n"
    assert flask(*column) == ""

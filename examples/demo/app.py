"""The flask-fs demo: upload, see, download and delete files on the local backend.

Every file is a row of the ``Upload`` model (SQLAlchemy, with fs-sqlalchemy's ``FileField``),
in SQLite at ``instance/demo.sqlite3`` unless ``DEMO_DATABASE_URL`` is set: the page lists the
rows, deleting a row and committing removes its file. Images get a thumbnail (fs-images) in a
second storage and appear in a gallery; other files are listed with their size, type and date.
Downloads are served by flask-fs (Range, ETag). ``flask --app examples/demo/app.py fs orphans
app:Upload.file --session app:db_session`` lists the stored files no row refers to.

Run it with ``hatch run demo`` and open http://127.0.0.1:5000. Files go to ``instance/fs/``
next to this file unless ``FS_ROOT`` is set; any flask-fs setting can be given as an
environment variable prefixed with ``FLASK_`` (e.g. ``FLASK_FILES_FS_BACKEND=s3``).

The page also uploads straight to the storage with Uppy (``flask_fs.uploads``, in parts above
8 MB): Uppy is downloaded once from npm into ``instance/uppy/`` (``uppy_assets``); without it
(offline, ``UPPY_DOWNLOAD=False``) the page says so and keeps its classic upload.
"""

from __future__ import annotations

import hmac
import secrets
import sys
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from flask import (
    Flask,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_from_directory,
    session,
    url_for,
)
from sqlalchemy import DateTime, Engine, create_engine, select
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    mapped_column,
    scoped_session,
    sessionmaker,
)
from werkzeug.wrappers import Response

import flask_fs as fs
from flask_fs.errors import FileExists, FSError, InvalidFilename, UploadNotAllowed
from flask_fs.images import ImageError, make_thumbnail
from flask_fs.names import extension_of
from flask_fs.signals import upload_completed
from flask_fs.sqlalchemy import FileField, FileReference

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # the demo is a folder of scripts, not a package
    sys.path.append(str(HERE))
import uppy_assets  # noqa: E402

MAX_UPLOAD_BYTES = 64 * 1024 * 1024
#: The most a direct upload (Uppy) may hold: it goes in parts, none larger than 8 MB.
MAX_DIRECT_BYTES = 1024 * 1024 * 1024

files = fs.Storage("files", fs.AllExcept(fs.SCRIPTS + fs.EXECUTABLES))
thumbnails = fs.Storage("thumbnails", fs.IMAGES, overwrite=True)
THUMBNAIL_SIZE = 240
#: Images that get a thumbnail (SVG is served as an attachment, never drawn inline).
RASTER = {"jpg", "jpe", "jpeg", "png", "gif", "webp", "bmp"}


class Base(DeclarativeBase):
    pass


class Upload(Base):
    """One uploaded file: the row refers to it (fs-sqlalchemy), the bytes are in ``files``."""

    __tablename__ = "upload"

    id: Mapped[int] = mapped_column(primary_key=True)
    uploaded: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=lambda: datetime.now(timezone.utc)
    )
    file: Mapped[FileReference] = mapped_column(FileField(fs=files), nullable=True)


class AppSession(Session):
    """A session on the current app's database (the engine :func:`create_app` made)."""

    def get_bind(self, *args: Any, **kwargs: Any) -> Engine:
        return current_app.extensions["demo_database"]  # type: ignore[no-any-return]


#: The session of the current thread, removed at the end of each request (a request that did not
#: commit is rolled back).
db_session = scoped_session(sessionmaker(class_=AppSession))


def add_upload(name: str) -> None:
    """Record a file already stored under ``name`` as a new row (committed by the caller)."""
    db_session.add(Upload(file=name))


def csrf_token() -> str:
    """This session's token, which every form (and the upload script) sends back."""
    if "csrf_token" not in session:
        session["csrf_token"] = secrets.token_urlsafe(32)
    return str(session["csrf_token"])


def check_csrf() -> None:
    """Refuse a POST without this session's token: another site's form cannot know it, so it
    cannot upload or delete files in the name of someone who has the demo open. (Direct uploads
    check it in :func:`may_upload`; their later requests carry a signed ticket instead.)"""
    if request.method in ("GET", "HEAD", "OPTIONS") or request.blueprint == "fs_uploads":
        return
    sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token", "")
    expected = session.get("csrf_token")
    if not expected or not hmac.compare_digest(str(sent), str(expected)):
        abort(400, "The form has expired: reload the page and try again.")


@files.authorize_uploads
def may_upload(request: Any, filename: str) -> str | None:
    """Direct uploads (Uppy) are for this session's page: it sends the session's token in the
    ``X-CSRF-Token`` header. The file keeps its (cleaned) name."""
    sent = request.headers.get("X-CSRF-Token", "")
    expected = session.get("csrf_token")
    if not expected or not hmac.compare_digest(str(sent), str(expected)):
        return None
    return filename


def make_preview(name: str) -> None:
    """Store a thumbnail of an uploaded image; refuse (and delete) files that are not images."""
    try:
        with files.open(name, "rb") as source:
            thumbnails.write(name, make_thumbnail(source, THUMBNAIL_SIZE))
    except ImageError:
        files.delete(name)
        raise


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the demo application (``config`` overrides the defaults, for tests)."""
    app = Flask(__name__, root_path=str(HERE), instance_path=str(HERE / "instance"))
    app.config.update(
        SECRET_KEY="demo-only-not-secret",  # noqa: S106 - flash messages of a local demo
        FS_SERVE=True,
        MAX_CONTENT_LENGTH=MAX_UPLOAD_BYTES,
        SESSION_COOKIE_SAMESITE="Lax",  # not sent with other sites' POSTs, as well
        FILES_FS_DIRECT_UPLOADS=True,
        FILES_FS_DIRECT_UPLOADS_MAX_SIZE=MAX_DIRECT_BYTES,
        UPPY_DOWNLOAD=True,
    )
    app.config.from_prefixed_env()
    app.config.update(config or {})
    fs.init_app(app, files, thumbnails)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    url = app.config.get("DEMO_DATABASE_URL") or f"sqlite:///{app.instance_path}/demo.sqlite3"
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    app.extensions["demo_database"] = engine
    app.teardown_appcontext(lambda _: db_session.remove())
    app.before_request(check_csrf)
    app.jinja_env.globals["csrf_token"] = csrf_token
    uppy = None
    if app.config["UPPY_DOWNLOAD"]:
        uppy = uppy_assets.ensure(Path(app.config.get("UPPY_CACHE") or app.instance_path) / "uppy")
    app.jinja_env.globals["uppy_version"] = uppy_assets.VERSION if uppy else None

    @app.get("/uppy/<name>")
    def uppy_asset(name: str) -> Response:
        if uppy is None or name not in uppy_assets.FILES:
            abort(404)
        return send_from_directory(uppy, name, max_age=86400)

    @upload_completed.connect_via(app, weak=False)
    def preview_direct_upload(
        sender: Flask, storage: fs.Storage, filename: str, size: int, sha256: str
    ) -> None:
        """Images uploaded with Uppy get their thumbnail too (or are removed: not images)."""
        if storage is files and extension_of(filename) in RASTER:
            try:
                make_preview(filename)
            except ImageError:
                flash(f"{filename}: this is not an image that can be shown.", "error")
                return
        if storage is files:
            add_upload(filename)
            db_session.commit()
        flash(f"Uploaded {filename} directly (SHA-256 {sha256}).", "success")

    @app.get("/")
    def index() -> str:
        images, others = [], []
        previews = set(thumbnails.list_files())
        details = {info.name: info for info in files.list_files(details=True)}  # sizes, types
        for row in db_session.scalars(select(Upload).order_by(Upload.file.filename)):
            info = details.get(row.file.filename or "")
            if info is None:
                continue  # a row whose file is gone (removed outside the demo)
            name = info.name
            entry = {**asdict(info), "url": files.url(name)}
            if extension_of(name) in RASTER and name in previews:
                images.append({**entry, "thumbnail": thumbnails.url(name)})
            else:
                others.append(entry)
        return render_template(
            "index.html",
            images=images,
            files=others,
            max_mb=MAX_UPLOAD_BYTES // 2**20,
            max_direct_mb=MAX_DIRECT_BYTES // 2**20,
            uploads_endpoint=url_for("fs_uploads.params", fs="files").removesuffix("/s3/params"),
        )

    @app.post("/upload")
    def upload() -> Response:
        uploads = [f for f in request.files.getlist("files") if f.filename]
        if not uploads:
            flash("Choose at least one file to upload.", "error")
        for upload in uploads:
            try:
                name = files.save(upload)
                if extension_of(name) in RASTER:
                    make_preview(name)
                add_upload(name)
                db_session.commit()
            except ImageError:
                flash(f"{upload.filename}: this is not an image that can be shown.", "error")
            except UploadNotAllowed:
                flash(f"{upload.filename}: this type of file is not allowed.", "error")
            except FileExists:
                flash(f"{upload.filename}: a file with this name already exists.", "error")
            except InvalidFilename as exc:
                flash(f"{upload.filename}: {exc}", "error")
            else:
                flash(f"Uploaded {name}.", "success")
        if request.headers.get("X-Requested-With") == "XMLHttpRequest":
            return Response(status=204)  # the page reloads itself and shows the messages
        return redirect(url_for("index"))

    @app.post("/delete/<path:name>")
    def delete(name: str) -> Response:
        row = db_session.scalars(select(Upload).where(Upload.file.filename == name)).first()
        if row is None:
            abort(404)
        db_session.delete(row)
        db_session.commit()  # fs-sqlalchemy removes the row's file after the commit
        if thumbnails.exists(name):
            thumbnails.delete(name)
        flash(f"Deleted {name}.", "success")
        return redirect(url_for("index"))

    @app.errorhandler(413)
    def too_large(_: Exception) -> Response:
        flash(f"That upload is larger than {MAX_UPLOAD_BYTES // 2**20} MB.", "error")
        return redirect(url_for("index"))

    @app.errorhandler(FSError)
    def storage_error(exc: FSError) -> tuple[str, int]:
        # The message may name a bucket, an endpoint or a server: for the log, not the page.
        app.logger.error("storage error on %s %s", request.method, request.path, exc_info=exc)
        return render_template("error.html"), 500

    @app.template_filter("filesize")
    def filesize(size: int) -> str:
        value = float(size)
        for unit in ("B", "KB", "MB", "GB"):
            if value < 1024 or unit == "GB":
                return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
            value /= 1024
        return f"{size} B"

    return app


app = create_app()

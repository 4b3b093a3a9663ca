"""SQLAlchemy column types that keep files in a flask-fs storage (fs-sqlalchemy).

``mapped_column(FileField(fs=files))`` stores a small JSON reference in the row (the file's
name, for images the original's and the thumbnails' names, the crop box, a checksum); the bytes
live in the storage. The attribute's value is a reference (:mod:`flask_fs.fields`, the same API
as fs-mongo's), never ``None``: a new row's is empty and false.

Files follow the session's transaction:

- the files a save writes get names no committed row uses (saving under a name the row already
  has, or that another row has, picks a fresh name), so nothing committed is rewritten;
- a rolled-back transaction (or one closed without a commit, as Flask-SQLAlchemy does at the end
  of a request) removes the files written for it;
- the files a committed change no longer refers to (a replaced file, a deleted row's files) are
  removed after the commit succeeds, never before. What a row referred to is read from the
  database when the change is flushed (``SELECT ... FOR UPDATE`` where the database has it), so
  two sessions replacing the same row's file remove each other's file, not leave it behind.

Bulk ``update()``/``delete()`` statements bypass the session: :func:`orphans` (``flask fs
orphans``) finds the files no row refers to afterwards.
"""

from __future__ import annotations

import contextlib
import logging
import weakref
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from importlib import import_module
from importlib.metadata import version
from typing import Any, Generic, TypeVar, cast

import click
from flask import current_app, has_app_context
from flask.cli import with_appcontext
from sqlalchemy import JSON, ColumnElement, event, inspect, select, type_coerce, update
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import InstanceState, Mapper, Session, attributes
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.types import TypeDecorator

from flask_fs import Storage, fields
from flask_fs.backends import BaseBackend
from flask_fs.cli import fs_command
from flask_fs.errors import FileNotFound, FSError
from flask_fs.fields import NameFactory

__version__ = version("fs-sqlalchemy")

__all__ = ["FileField", "FileReference", "ImageField", "ImageReference", "orphans"]

log = logging.getLogger(__name__)

#: How old a file must be before :func:`orphans` reports it: a younger one may belong to a
#: transaction that has not committed yet.
DEFAULT_ORPHAN_AGE = timedelta(hours=1)

_LEDGER = "flask_fs.files"

T = TypeVar("T")


# -- references --------------------------------------------------------------------------------


class FileReference(fields.FileReference):
    """A file referenced by a row (see :class:`flask_fs.fields.FileReference`).

    Saving never rewrites a file the row refers to; the files it stops referring to are removed
    when the transaction commits, those it wrote when it rolls back.
    """

    replaces_in_place = False

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._fresh: set[str] = set()  # written since the last commit: removed on rollback

    def to_json(self) -> dict[str, Any] | None:
        """The column's value: ``None`` without a file."""
        if not self.filename:
            return None
        data = self.to_dict()
        if self.checksum:
            data["checksum"] = self.checksum
        return data

    def _bind(self, instance: Any, key: str) -> None:
        self._instance, self._name = instance, key
        if self._fresh:
            session = _session_of(instance)
            if session is not None:
                _ledger(session).track(self)

    def _changed(self) -> None:
        if self._instance is not None and self._name:
            flag_modified(self._instance, self._name)

    def _wrote(self, names: Iterable[str]) -> None:
        self._fresh.update(names)
        session = _session_of(self._instance)
        if session is not None:
            _ledger(session).track(self)

    def _dropped(self, names: Iterable[str]) -> None:
        """A file written in this transaction goes now (no committed row refers to it); a file
        the row refers to in the database goes after the commit (see the flush)."""
        uncommitted = set(names) & self._fresh
        self._fresh -= uncommitted
        super()._dropped(uncommitted)


class ImageReference(fields.ImageReference, FileReference):
    """An image referenced by a row (see :class:`flask_fs.fields.ImageReference`)."""


# -- the column types --------------------------------------------------------------------------


class _FieldComparator(TypeDecorator.Comparator[Any]):
    @property
    def filename(self) -> ColumnElement[str]:
        """The file name stored in the column, as an SQL string expression: compare it, sort
        by it (``Model.photo.filename == "a.png"``)."""
        expression: ColumnElement[str] = type_coerce(self.expr, JSON)["filename"].as_string()
        return expression


class _Setting(Generic[T]):
    """A field's setting, kept where every copy of the type sees it: SQLAlchemy copies a type
    for each dialect, and a setting changed afterwards (``field.max_size = 80``) must reach the
    references the copy makes."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, field: Any, owner: type) -> T:
        return cast("T", field._settings[self.name])

    def __set__(self, field: Any, value: T) -> None:
        field._settings[self.name] = value


class FileField(TypeDecorator[FileReference]):
    """A column holding a file of a storage, as JSON; its values are :class:`FileReference`.

    :param fs: the storage the files go to
    :param upload_to: a folder, or a callable taking the row and returning one
    :param basename: a name (without extension) for uploads, or a callable taking the row
    """

    impl = JSON
    cache_ok = True
    comparator_factory = _FieldComparator
    reference_class: type[FileReference] = FileReference

    fs: _Setting[Storage | None] = _Setting()
    upload_to: _Setting[NameFactory] = _Setting()
    basename: _Setting[NameFactory] = _Setting()

    def __init__(
        self, fs: Storage | None = None, upload_to: NameFactory = None, basename: NameFactory = None
    ) -> None:
        super().__init__(none_as_null=True)
        self._settings: dict[str, Any] = {}
        self.fs = fs
        self.upload_to = upload_to
        self.basename = basename

    def reference_options(self) -> dict[str, Any]:
        """What every reference of this column is made with."""
        return {"fs": self.fs, "upload_to": self.upload_to, "basename": self.basename}

    def reference(self, value: Any) -> FileReference:
        """``value`` (a reference, the stored JSON, a file name or ``None``) as a reference."""
        if isinstance(value, self.reference_class):
            return value
        if isinstance(value, fields.FileReference):
            value = value.to_dict() | ({"checksum": value.checksum} if value.checksum else {})
        if isinstance(value, str):  # a name assigned to the field: the file it names
            value = {"filename": value}
        stored = dict(value) if isinstance(value, Mapping) else {}
        return self.reference_class(**self.reference_options(), **stored)

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        return self.reference(value).to_json()

    def process_result_value(self, value: Any, dialect: Dialect) -> FileReference:
        return self.reference(value)


class ImageField(FileField):
    """A column holding an image, its thumbnails and original; values are
    :class:`ImageReference`.

    :param max_size: the main image is fitted within ``max_size``x``max_size``
    :param thumbnails: the square thumbnail sizes to make
    :param optimize: whether images are optimised (default: ``FS_IMAGES_OPTIMIZE``)
    """

    cache_ok = True
    reference_class = ImageReference
    max_size: _Setting[int | None] = _Setting()
    thumbnails: _Setting[tuple[int, ...]] = _Setting()
    optimize: _Setting[bool | None] = _Setting()

    def __init__(
        self,
        fs: Storage | None = None,
        upload_to: NameFactory = None,
        basename: NameFactory = None,
        max_size: int | None = None,
        thumbnails: Sequence[int] = (),
        optimize: bool | None = None,
    ) -> None:
        super().__init__(fs=fs, upload_to=upload_to, basename=basename)
        self.max_size = max_size
        self.thumbnails = tuple(thumbnails)
        self.optimize = optimize

    @property
    def thumbnail_sizes(self) -> list[int]:
        """The thumbnail sizes (as fs-mongo's ``ImageField`` calls them)."""
        return list(self.thumbnails)

    @thumbnail_sizes.setter
    def thumbnail_sizes(self, sizes: Sequence[int]) -> None:
        self.thumbnails = tuple(sizes)

    def reference_options(self) -> dict[str, Any]:
        return {
            **super().reference_options(),
            "max_size": self.max_size,
            "thumbnail_sizes": self.thumbnails,
            "optimize": self.optimize,
        }


# -- the attributes: references bound to their row ---------------------------------------------


_file_columns: weakref.WeakKeyDictionary[Mapper[Any], dict[str, FileField]] = (
    weakref.WeakKeyDictionary()
)


def file_columns(mapper: Mapper[Any]) -> dict[str, FileField]:
    """The attributes of a mapped class that are file columns, with their types."""
    found = _file_columns.get(mapper)
    if found is None:
        found = {
            prop.key: prop.columns[0].type
            for prop in mapper.column_attrs
            if isinstance(prop.columns[0].type, FileField)
        }
        _file_columns[mapper] = found
    return found


@event.listens_for(Mapper, "mapper_configured")
def _instrument(mapper: Mapper[Any], cls: type) -> None:
    """An assigned value (a reference, a file name, ``None``...) becomes a reference."""
    for key, column_type in file_columns(mapper).items():
        event.listen(getattr(cls, key), "set", _coercer(key, column_type), retval=True)


def _coercer(key: str, column_type: FileField) -> Any:
    def on_set(target: Any, value: Any, old: Any, initiator: Any) -> FileReference:
        reference = column_type.reference(value)
        if isinstance(old, FileReference) and old is not reference:
            old._dropped(old._fresh - reference.names())  # written for nothing: gone now
        reference._bind(target, key)
        return reference

    return on_set


@event.listens_for(Mapper, "init")
def _on_init(target: Any, args: Any, kwargs: Any) -> None:
    """A new row's file attributes hold empty references, not ``None``."""
    for key, column_type in file_columns(inspect(target).mapper).items():
        if key not in kwargs:
            reference = column_type.reference(None)
            attributes.set_committed_value(target, key, reference)
            reference._bind(target, key)


@event.listens_for(Mapper, "load")
def _on_load(target: Any, context: Any) -> None:
    _bind_all(target)


@event.listens_for(Mapper, "refresh")
@event.listens_for(Mapper, "refresh_flush")
def _on_refresh(target: Any, context: Any, attrs: Any) -> None:
    _bind_all(target)


def _bind_all(target: Any) -> None:
    """The loaded references know their row (for ``upload_to``, and to mark it modified)."""
    state = inspect(target)
    for key in file_columns(state.mapper):
        value = state.dict.get(key)
        if isinstance(value, FileReference):
            value._bind(target, key)


# -- the transaction ---------------------------------------------------------------------------


@dataclass(eq=False)
class _File:
    """A file to remove later: its storage, and the backend it had when it was noted (so that
    removing needs no application context)."""

    storage: Storage
    name: str
    backend: BaseBackend | None = None

    @classmethod
    def of(cls, storage: Storage, name: str) -> _File:
        return cls(storage, name, storage.backend if has_app_context() else None)

    @property
    def key(self) -> tuple[int, str]:
        return id(self.storage), self.name

    def remove(self) -> None:
        try:
            if self.backend is not None:
                self.backend.delete(self.name)
            else:
                self.storage.delete(self.name)
        except (FileNotFound, FileNotFoundError):
            pass  # already gone
        except Exception:  # the transaction is over: a failure here must not undo it
            log.warning("could not remove %s:%s", self.storage.name, self.name, exc_info=True)


@dataclass(eq=False)
class _Ledger:
    """The files of a session's transaction: written (removed on rollback) and dropped
    (removed after the commit)."""

    written: dict[tuple[int, str], _File] = field(default_factory=dict)
    dropped: dict[tuple[int, str], _File] = field(default_factory=dict)
    references: dict[int, FileReference] = field(default_factory=dict)  # by id: unhashable
    #: per open savepoint (by id): the files noted when it began
    savepoints: dict[int, tuple[set[tuple[int, str]], set[tuple[int, str]]]] = field(
        default_factory=dict
    )
    released: set[int] = field(default_factory=set)  # savepoints committed

    def track(self, reference: FileReference) -> None:
        self.references[id(reference)] = reference
        for name in reference._fresh:
            note = _File.of(reference.storage, name)
            self.written[note.key] = note

    def drop(self, storage: Storage, names: Iterable[str]) -> None:
        for name in names:
            note = _File.of(storage, name)
            self.dropped[note.key] = note

    def keep(self, storage: Storage, names: Iterable[str]) -> None:
        for name in names:
            self.dropped.pop((id(storage), name), None)

    def committed(self) -> None:
        for note in self.dropped.values():
            note.remove()
        for reference in list(self.references.values()):
            reference._fresh.clear()

    def savepoint_began(self, savepoint: int) -> None:
        self.savepoints[savepoint] = (set(self.written), set(self.dropped))

    def savepoint_ended(self, savepoint: int) -> None:
        """A released savepoint's files stay the transaction's; a rolled-back one's written
        files go now, and what it dropped is kept."""
        written, dropped = self.savepoints.pop(savepoint, (set(self.written), set(self.dropped)))
        if savepoint in self.released:
            self.released.discard(savepoint)
            return
        for key in set(self.written) - written:
            self.written.pop(key).remove()
        for key in set(self.dropped) - dropped:
            del self.dropped[key]

    def rolled_back(self) -> None:
        for reference in list(self.references.values()):
            self.track(reference)  # files written since the last flush too
            reference._fresh.clear()
        for note in self.written.values():
            note.remove()


def _session_of(instance: Any) -> Session | None:
    if instance is None:
        return None
    with contextlib.suppress(Exception):  # not a mapped instance
        session: Session | None = inspect(instance).session
        return session
    return None


def _ledger(session: Session) -> _Ledger:
    ledger = session.info.get(_LEDGER)
    if ledger is None:
        ledger = session.info[_LEDGER] = _Ledger()
    return ledger


def _references(state: InstanceState[Any], keys: Iterable[str]) -> Iterator[FileReference]:
    for key in keys:
        value = state.dict.get(key)
        if isinstance(value, FileReference):
            yield value


def _stored(session: Session, state: InstanceState[Any], keys: list[str]) -> list[Any]:
    """The values the database holds for the row's ``keys``, the row locked until the
    transaction ends so that a concurrent change waits for this one: ``SELECT ... FOR UPDATE``,
    and on SQLite (which has no row locks) a no-op ``UPDATE`` first, which takes the database's
    write lock before the read."""
    mapper = state.mapper
    criteria = [
        column == value
        for column, value in zip(mapper.primary_key, state.identity or (), strict=True)
    ]
    with session.no_autoflush:
        connection = session.connection(bind_arguments={"mapper": mapper})
        if connection.dialect.name == "sqlite":
            column = mapper.columns[keys[0]]
            connection.execute(update(column.table).where(*criteria).values({column: column}))
        query = select(*(getattr(mapper.class_, key) for key in keys)).where(*criteria)
        row = session.execute(query.with_for_update()).first()
    return list(row) if row is not None else []


@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, context: Any, instances: Any) -> None:
    """Note the files the flush writes (removed on rollback) and those it stops referring to
    (removed after the commit), the latter as the database has them."""
    ledger: _Ledger | None = None
    for instance in [*session.new, *session.dirty, *session.deleted]:
        state = inspect(instance)
        columns = file_columns(state.mapper)
        if not columns:
            continue
        ledger = ledger or _ledger(session)
        deleted = instance in session.deleted
        for reference in _references(state, columns):
            ledger.track(reference)
        if state.key is None:  # an insert: nothing stored yet
            for key, column_type in columns.items():
                value = state.dict.get(key)
                if column_type.fs is not None and isinstance(value, FileReference):
                    ledger.keep(column_type.fs, value.names())
            continue
        changed = [key for key in columns if deleted or state.attrs[key].history.has_changes()]
        if not changed:
            continue
        # no row (deleted meanwhile): nothing stored to drop
        for key, stored in zip(changed, _stored(session, state, changed), strict=False):
            storage = columns[key].fs
            if storage is None:
                continue
            current = state.dict.get(key)
            kept = set() if deleted or current is None else current.names()
            ledger.drop(storage, columns[key].reference(stored).names() - kept)
            if deleted and current is not None:
                ledger.drop(storage, current.names())
            ledger.keep(storage, kept)


@event.listens_for(Session, "after_attach")
def _after_attach(session: Session, instance: Any) -> None:
    """A row given files before it joined the session: its files are the transaction's."""
    state = inspect(instance)
    for reference in _references(state, file_columns(state.mapper)):
        if reference._fresh:
            _ledger(session).track(reference)


@event.listens_for(Session, "after_transaction_create")
def _after_transaction_create(session: Session, transaction: Any) -> None:
    if transaction.nested:
        _ledger(session).savepoint_began(id(transaction))


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    """The outermost transaction committed: the files it dropped go. (A savepoint released
    fires this too: its files wait for the outermost commit.)"""
    if session.in_nested_transaction():
        ledger = session.info.get(_LEDGER)
        if ledger is not None:
            ledger.released.add(id(session.get_nested_transaction()))
        return
    ledger = session.info.pop(_LEDGER, None)
    if ledger is not None:
        ledger.committed()


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: Any) -> None:
    """A savepoint ended (see :meth:`_Ledger.savepoint_ended`); or the outermost transaction
    ended without a commit (rolled back, or the session closed): the files written for it go."""
    if transaction.nested:
        ledger = session.info.get(_LEDGER)
        if ledger is not None:
            ledger.savepoint_ended(id(transaction))
        return
    if transaction.parent is not None:
        return
    ledger = session.info.pop(_LEDGER, None)
    if ledger is not None:
        ledger.rolled_back()


# -- files no row refers to --------------------------------------------------------------------


def _column_type(column: Any) -> FileField:
    column_type = getattr(getattr(column, "expression", None), "type", None)
    if not isinstance(column_type, FileField):
        raise FSError(f"{column!r} is not a FileField or ImageField column")
    return column_type


def orphans(
    session: Session,
    *columns: Any,
    older_than: float | timedelta = DEFAULT_ORPHAN_AGE,
) -> list[str]:
    """The files of the columns' storage that no row refers to, older than ``older_than``
    (seconds or a ``timedelta``; younger files may belong to a transaction still running).

    Give every column that keeps files in that storage (``orphans(session, Photo.image,
    User.avatar)``): a file another model refers to is not an orphan. Needs an application
    context (the storage's backend).

    :raises FSError: if a column is not a file column, or the columns use different storages.
    """
    if not columns:
        raise FSError("orphans() needs at least one FileField or ImageField column")
    storages = {id(t.fs): t.fs for t in map(_column_type, columns) if t.fs is not None}
    if len(storages) != 1:
        raise FSError("orphans() compares one storage: give columns of the same storage")
    (storage,) = storages.values()
    if isinstance(older_than, timedelta):
        older_than = older_than.total_seconds()
    referenced: set[str] = set()
    for column in columns:
        for (value,) in session.execute(select(column)):
            referenced |= _column_type(column).reference(value).names()
    limit = datetime.now(timezone.utc) - timedelta(seconds=older_than)
    return sorted(
        info.name
        for info in storage.list_files(details=True)
        if info.name not in referenced and info.modified <= limit
    )


def _import_path(path: str) -> Any:
    """``package.module:Name.attribute`` (or ``package.module.Name.attribute``)."""
    module_name, _, attrs = path.partition(":") if ":" in path else path.rpartition(".")
    target: Any = import_module(module_name)
    for attr in attrs.split(".") if attrs else ():
        target = getattr(target, attr)
    return target


def _flask_sqlalchemy_session() -> Any:
    extension = current_app.extensions.get("sqlalchemy")
    if extension is None:
        raise click.UsageError("--session is needed without Flask-SQLAlchemy")
    return extension.session


@fs_command.command("orphans")
@click.argument("columns", nargs=-1, required=True)
@click.option(
    "--session",
    "session_path",
    help="The session or session factory to query with (import path; default: "
    "Flask-SQLAlchemy's db.session).",
)
@click.option(
    "--older-than",
    default=DEFAULT_ORPHAN_AGE.total_seconds(),
    type=click.FloatRange(min=0),
    show_default=True,
    help="Only files older than this many seconds (younger ones may be in a transaction).",
)
@click.option("--delete", "remove", is_flag=True, help="Delete them (default: only list them).")
@with_appcontext
def orphans_command(
    columns: tuple[str, ...], session_path: str | None, older_than: float, remove: bool
) -> None:
    """List (or --delete) the files no row refers to in COLUMNS' storage.

    COLUMNS are import paths of FileField/ImageField attributes (``app.models:Photo.image``):
    all those keeping files in one storage.
    """
    factory = _import_path(session_path) if session_path else _flask_sqlalchemy_session()
    session = factory() if callable(factory) and not isinstance(factory, Session) else factory
    try:
        found = orphans(session, *map(_import_path, columns), older_than=older_than)
        storage = _column_type(_import_path(columns[0])).fs
        for name in found:
            if remove and storage is not None:
                with contextlib.suppress(FileNotFound):
                    storage.delete(name)
            click.echo(f"{'deleted' if remove else 'orphan'} {name}")
    except FSError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        if session is not factory:
            session.close()

"""The ``flask fs`` command group: look at and move the files of an application's storages.

Locations are ``storage:name``, ``storage:prefix/`` (every file under it), ``storage:`` (the
whole storage) or a local path. Copies stream, between any two backends, in bounded memory.
Exit codes: 0 success, 1 a storage operation failed, 2 bad usage.
"""

from __future__ import annotations

import os
import posixpath
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast
from urllib.parse import urlsplit

import click
from flask.cli import AppGroup

from .atomic import atomic_file
from .errors import FileExists, FSError, InvalidFilename, OperationNotSupported
from .state import by_name, get_state
from .storage import DEFAULT_SWEEP_AGE, Storage
from .streams import CHUNK_SIZE

fs_command = AppGroup("fs", help="Look at and move the files of this application's storages.")


@dataclass(frozen=True)
class Location:
    """Where files are: a name or prefix in a storage, or a local path."""

    storage: Storage | None
    path: str

    @property
    def is_folder(self) -> bool:
        if self.storage is None:
            return Path(self.path).is_dir()
        return self.path == "" or self.path.endswith("/")

    def __str__(self) -> str:
        return f"{self.storage.name}:{self.path}" if self.storage else self.path


def parse_location(text: str) -> Location:
    """``storage:path`` when ``storage`` is a storage of the application, else a local path."""
    name, colon, path = text.partition(":")
    storages = get_state().storages
    if colon and name in storages:
        return Location(storages[name].storage, path)
    return Location(None, text)


def _storage_location(text: str) -> Location:
    location = parse_location(text)
    if location.storage is None:
        names = ", ".join(sorted(get_state().storages)) or "none"
        raise click.BadParameter(f"{text!r} is not STORAGE:NAME (storages: {names})")
    return location


def _fail(message: str) -> None:
    click.secho(f"error: {message}", fg="red", err=True)
    sys.exit(1)


def _size(count: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if count < 1024 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} TB"


@fs_command.command("ls")
@click.argument("location")
@click.option("-l", "--long", "long_format", is_flag=True, help="Show size, type and date.")
def ls_command(location: str, long_format: bool) -> None:
    """List the files of STORAGE[:PREFIX]."""
    if ":" not in location:
        location += ":"
    where = _storage_location(location)
    assert where.storage is not None
    try:
        if not long_format:
            for name in where.storage.list_files(where.path or None):
                click.echo(name)
            return
        for info in where.storage.list_files(
            where.path or None, details=True
        ):  # no request per file
            modified = info.modified.strftime("%Y-%m-%d %H:%M")
            click.echo(f"{info.size:>12}  {modified}  {info.mime or '-':<28} {info.name}")
    except FSError as exc:
        _fail(str(exc))


@fs_command.command("info")
@click.argument("location")
def info_command(location: str) -> None:
    """Show a file's metadata: STORAGE:NAME."""
    where = _storage_location(location)
    assert where.storage is not None
    try:
        meta = where.storage.metadata(where.path)
        url = where.storage.url(where.path) if where.storage.has_url else None
    except FSError as exc:
        _fail(str(exc))
        return
    click.echo(f"name:     {where.path}")
    click.echo(f"storage:  {where.storage.name} ({where.storage.config.backend})")
    click.echo(f"size:     {meta['size']} ({_size(meta['size'])})")
    click.echo(f"type:     {meta['mime']}")
    click.echo(f"modified: {meta['modified'].isoformat()}")
    click.echo(f"checksum: {meta['checksum']}")
    if url:
        click.echo(f"url:      {url}")


#: The units of a duration given on the command line, in seconds.
DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _duration(ctx: click.Context, param: click.Parameter, value: str | None) -> float | None:
    """A duration: seconds (``3600``), or a number with a unit: ``45s``, ``30m``, ``1h``, ``2d``."""
    if value is None:
        return None
    text = value.strip().lower()
    factor = DURATION_UNITS.get(text[-1:])
    try:
        seconds = float(text[:-1] if factor else text) * (factor or 1)
    except ValueError:
        seconds = 0
    if not seconds > 0:
        raise click.BadParameter(f"{value!r} is not a duration such as 3600, 30m, 1h or 2d")
    return seconds


@fs_command.command("url")
@click.argument("location")
@click.option(
    "--expires", callback=_duration, help="Sign the URL for this long: 3600, 30m, 1h, 2d."
)
@click.option("--download-name", help="The name the browser saves the file under.")
@click.option(
    "--inline/--attachment",
    default=None,
    help="Show the file in the browser, or download it (active content is never shown).",
)
@click.option("--external", is_flag=True, help="An absolute URL (for the serving view).")
def url_command(
    location: str,
    expires: float | None,
    download_name: str | None,
    inline: bool | None,
    external: bool,
) -> None:
    """Print the URL of STORAGE:NAME (signed with --expires, --download-name or --inline)."""
    where = _storage_location(location)
    assert where.storage is not None
    try:
        url = where.storage.url(
            where.path, external, expires=expires, download_name=download_name, inline=inline
        )
    except FSError as exc:  # ConfigurationError: the serving view's URL without SERVER_NAME
        _fail(str(exc))
        return
    if url is None:
        _fail(
            f"storage {where.storage.name!r} has no URL: set its URL, turn FS_SERVE on, "
            "or sign one with --expires"
        )
        return
    click.echo(url)


def _sources(source: Location) -> Iterator[tuple[str, str]]:
    """(full source name or path, name relative to the source) for every file to copy."""
    if source.storage is not None:
        if source.is_folder:
            for name in source.storage.list_files(source.path or None):
                yield name, name[len(source.path) :]
        else:
            yield source.path, posixpath.basename(source.path)
        return
    root = Path(source.path)
    if root.is_dir():
        for path in sorted(_local_files(root)):
            yield str(path), path.relative_to(root).as_posix()
    elif root.is_file():
        yield str(root), root.name
    else:
        raise FSError(f"{source.path!r}: no such file or folder")


def _local_files(root: Path) -> Iterator[Path]:
    """The regular files under ``root``, links that stay inside it included.

    A link that leads out of ``root`` is skipped (copying a folder must not pick up files from
    elsewhere), and so is what is not a regular file (a FIFO would block the copy); both are
    said on stderr. Links to folders are not followed: what they lead to inside ``root`` is
    copied under its own name.
    """
    inside = root.resolve()
    for dirpath, dirnames, filenames in os.walk(root):
        folder = Path(dirpath)
        links = [folder / d for d in dirnames if (folder / d).is_symlink()]
        for path in [folder / f for f in filenames] + links:
            if path.is_symlink() and not _is_inside(path.resolve(), inside):
                _warn(f"skipped {path}: a link that leads out of {root}")
            elif path.is_file():
                yield path
            elif path not in links:
                _warn(f"skipped {path}: not a regular file")


def _is_inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _warn(message: str) -> None:
    click.secho(message, fg="yellow", err=True)


def _target(destination: Location, relative: str, many: bool) -> str:
    if destination.is_folder or many:
        if destination.storage is None:
            return os.path.join(destination.path, *relative.split("/"))
        prefix = (
            destination.path
            if destination.path.endswith("/") or not destination.path
            else destination.path + "/"
        )
        return prefix + relative
    return destination.path


def _open_source(source: Location, name: str) -> IO[bytes]:
    if source.storage is not None:
        return source.storage.open(name, "rb")
    return open(name, "rb")


def _size_of(source: Location, name: str) -> int:
    if source.storage is not None:
        return int(source.storage.metadata(name)["size"])
    return os.path.getsize(name)


def _write_local(stream: IO[bytes], path: str, overwrite: bool, progress: Any) -> None:
    """Write a local file atomically; without ``overwrite``, an existing file (even one that
    appears during the copy) is refused when the file is published, never replaced."""
    try:
        with atomic_file(path, overwrite) as out:
            while chunk := stream.read(CHUNK_SIZE):
                out.write(chunk)
                progress.update(len(chunk))
    except FileExistsError:
        raise FileExists(f"{path!r} already exists") from None


class _Counting:
    """A read stream that reports its progress."""

    def __init__(self, stream: IO[bytes], progress: Any) -> None:
        self.stream = stream
        self.progress = progress

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        self.progress.update(len(data))
        return data


Plan = list[tuple[str, str]]  # (source name or path, target)


def _same_file(storage: Storage, name: str, local: str) -> bool:
    """Whether the local path ``local`` is the file ``name`` of ``storage`` (local backends)."""
    try:
        return os.path.samefile(storage.path(name), local)
    except (OperationNotSupported, OSError):
        return False


def _refuse_onto_itself(source: Location, destination: Location, plan: Plan, verb: str) -> None:
    """A local path and a storage name can be the same file: copying it onto itself would
    truncate it, and a move would then delete it. Between two storages, :meth:`Storage.copy` and
    :meth:`Storage.move` check it."""
    for name, target in plan:
        if source.storage is None and destination.storage is not None:
            same = _same_file(destination.storage, target, name)
        elif source.storage is not None and destination.storage is None:
            same = _same_file(source.storage, name, target)
        else:
            continue
        if same:
            raise InvalidFilename(f"cannot {verb} {name!r} onto itself ({target!r})")


def _transfer_one(
    source: Location,
    destination: Location,
    step: tuple[str, str, int],
    options: tuple[bool, bool],
    progress: Any,
) -> None:
    name, target, size = step
    overwrite, move = options
    if source.storage is not None and source.storage is destination.storage:
        # Storage.copy and Storage.move: the API's checks (a file onto itself is refused) and
        # the backend's own copy or rename.
        transfer = source.storage.move if move else source.storage.copy
        transfer(name, target, overwrite=overwrite)
        progress.update(size)
        return
    with _open_source(source, name) as stream:
        if destination.storage is None:
            _write_local(stream, target, overwrite, progress)
        else:
            counted = cast("IO[bytes]", _Counting(stream, progress))
            destination.storage.write(target, counted, overwrite=overwrite)
    if move:
        if source.storage is not None:
            source.storage.delete(name)
        else:
            os.unlink(name)


def _transfer(
    source_text: str, destination_text: str, overwrite: bool, dry_run: bool, move: bool
) -> None:
    source = parse_location(source_text)
    destination = parse_location(destination_text)
    if source.storage is None and destination.storage is None:
        raise click.UsageError("one side must be STORAGE:NAME (for local copies, use cp)")
    verb = "move" if move else "copy"
    try:
        files = list(_sources(source))
        if not files:
            _fail(f"nothing to {verb} in {source}")
        many = source.is_folder
        plan = [(name, _target(destination, relative, many)) for name, relative in files]
        _refuse_onto_itself(source, destination, plan, verb)
        if dry_run:
            for name, target in plan:
                click.echo(f"would {verb} {name} -> {target}")
            return
        steps = [(name, target, _size_of(source, name)) for name, target in plan]
        total = sum(size for _, _, size in steps)
        started = time.monotonic()

        def rate(_: int | None) -> str:
            done = progress.pos
            elapsed = max(time.monotonic() - started, 1e-6)
            return f"{_size(done)} at {_size(done / elapsed)}/s"

        with click.progressbar(
            length=total, label=f"{verb} {len(steps)} file(s)", item_show_func=rate, file=sys.stderr
        ) as progress:
            for step in steps:
                _transfer_one(source, destination, step, (overwrite, move), progress)
        click.echo(f"{'moved' if move else 'copied'} {len(plan)} file(s), {_size(total)}")
    except FSError as exc:
        _fail(str(exc))


@fs_command.command("cp")
@click.argument("source")
@click.argument("destination")
@click.option("--overwrite", is_flag=True, help="Replace files that exist.")
@click.option("--dry-run", is_flag=True, help="Say what would be copied; copy nothing.")
def cp_command(source: str, destination: str, overwrite: bool, dry_run: bool) -> None:
    """Copy SOURCE to DESTINATION (STORAGE:NAME, STORAGE:PREFIX/ or a local path)."""
    _transfer(source, destination, overwrite, dry_run, move=False)


@fs_command.command("mv")
@click.argument("source")
@click.argument("destination")
@click.option("--overwrite", is_flag=True, help="Replace files that exist.")
@click.option("--dry-run", is_flag=True, help="Say what would be moved; move nothing.")
def mv_command(source: str, destination: str, overwrite: bool, dry_run: bool) -> None:
    """Move SOURCE to DESTINATION: a copy, then the source is deleted."""
    _transfer(source, destination, overwrite, dry_run, move=True)


@fs_command.command("rm")
@click.argument("locations", nargs=-1, required=True)
@click.option("--dry-run", is_flag=True, help="Say what would be deleted; delete nothing.")
def rm_command(locations: tuple[str, ...], dry_run: bool) -> None:
    """Delete STORAGE:NAME files, or every file under STORAGE:PREFIX/."""
    try:
        for text in locations:
            where = _storage_location(text)
            assert where.storage is not None
            names = list(_sources(where))
            for name, _ in names:
                if dry_run:
                    click.echo(f"would delete {where.storage.name}:{name}")
                else:
                    where.storage.delete(name)
                    click.echo(f"deleted {where.storage.name}:{name}")
    except FSError as exc:
        _fail(str(exc))


@fs_command.command("sweep")
@click.argument("storages", nargs=-1)
@click.option(
    "--older-than",
    default=DEFAULT_SWEEP_AGE,
    type=click.FloatRange(min=0),
    show_default=True,
    help="Only what is older than this many seconds (leave more than your longest upload).",
)
@click.option("--dry-run", is_flag=True, help="Say what would be deleted; delete nothing.")
def sweep_command(storages: tuple[str, ...], older_than: float, dry_run: bool) -> None:
    """Delete what interrupted uploads left behind in STORAGES (default: all of them)."""
    names = storages or tuple(sorted(get_state().storages))
    verb = "would delete" if dry_run else "deleted"
    try:
        for name in names:
            found = by_name(name).sweep(older_than, remove=not dry_run)
            for line in found:
                click.echo(f"{verb} {name}: {line}")
            click.echo(f"{name}: {len(found)} leftover(s) {'found' if dry_run else 'deleted'}")
    except FSError as exc:
        _fail(str(exc))


def _origin(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> list[str]:
    """Each ``--origin``: ``*`` or ``scheme://host[:port]``, nothing after it."""
    for value in values:
        parsed = urlsplit(value)
        if value != "*" and (
            parsed.scheme not in ("http", "https")
            or not parsed.netloc
            or value != f"{parsed.scheme}://{parsed.netloc}"
        ):
            raise click.BadParameter(
                f"{value!r} is not an origin: give scheme://host[:port] (no path) or '*'"
            )
    return list(values)


@fs_command.command("cors")
@click.argument("storage")
@click.option(
    "--origin",
    "origins",
    multiple=True,
    required=True,
    callback=_origin,
    help="A site allowed to upload and read directly (https://app.example); repeat for more.",
)
def cors_command(storage: str, origins: list[str]) -> None:
    """Let browsers on ORIGINs upload to STORAGE's store directly (direct uploads) and read
    from it: sets the store's CORS rules where its API allows."""
    try:
        by_name(storage).backend.set_cors(origins)
    except FSError as exc:
        _fail(str(exc))
        return
    click.echo(f"{storage}: CORS allows {', '.join(origins)}")


@fs_command.command("check")
def check_command() -> None:
    """Check every storage: backend, credentials, a write/read/delete round trip, and what the
    backend finds in it (files it cannot address, leftovers...)."""
    storages = get_state().storages
    if not storages:
        _fail("no storage is configured on this application")
    failed = 0
    for name, configured in sorted(storages.items()):
        storage = configured.storage
        probe = f".flask-fs-check-{uuid.uuid4().hex}"
        backend = configured.config.backend
        try:
            storage.write(probe, b"flask-fs check")
            if storage.read(probe) != b"flask-fs check":
                raise FSError("read back different content")
            storage.delete(probe)
        except FSError as exc:
            failed += 1
            click.secho(f"FAIL {name} ({backend}): {exc}", fg="red")
        else:
            click.secho(f"ok   {name} ({backend})", fg="green")
            try:
                for finding in storage.backend.diagnose():
                    click.echo(f"     {finding}")
            except FSError as exc:
                failed += 1
                click.secho(f"FAIL {name} ({backend}): {exc}", fg="red")
    if failed:
        _fail(f"{failed} of {len(storages)} storage(s) failed")

"""Per-application state: which storages an app has, configured how, with which backend.

Following Flask's convention it lives in ``app.extensions["fs"]``, so one :class:`Storage`
declared at import time serves any number of applications. :mod:`flask_fs.extension` fills it
in; this module only holds and reads it, and imports no other module of flask-fs but its errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from flask import Flask, current_app

from .errors import FSError, UnknownStorage

if TYPE_CHECKING:
    from .backends import BaseBackend
    from .config import Config
    from .storage import Storage

EXTENSION_KEY = "fs"


@dataclass
class ConfiguredStorage:
    """One storage as configured for one application."""

    storage: Storage
    config: Config
    backend: BaseBackend


@dataclass
class FSState:
    """Everything flask-fs keeps on one application."""

    storages: dict[str, ConfiguredStorage] = field(default_factory=dict)
    serving: bool = False  #: whether the view serves unsigned requests (``FS_SERVE``)
    registered: bool = False  #: whether the serving blueprint is registered
    uploads_registered: bool = False  #: whether the uploads blueprint is registered


def get_state(app: Flask | None = None) -> FSState:
    """The flask-fs state of ``app`` (default: the current application)."""
    if app is None:
        try:
            app = current_app._get_current_object()  # type: ignore[attr-defined]
        except RuntimeError:
            raise FSError(
                "flask-fs needs an application context: use it inside a request, a CLI command "
                "or `with app.app_context():`"
            ) from None
    try:
        state: FSState = app.extensions[EXTENSION_KEY]
    except KeyError:
        raise FSError(
            "flask-fs is not initialised: call flask_fs.init_app(app, *storages)"
        ) from None
    return state


def by_name(name: str) -> Storage:
    """Get a storage of the current application by its name."""
    try:
        return get_state().storages[name].storage
    except KeyError:
        raise UnknownStorage(f"no storage named {name!r} on this application") from None

"""Per-application state: which storages an app has, configured how, with which backend.

Following Flask's convention it lives in ``app.extensions["fs"]``, so one :class:`Storage`
declared at import time serves any number of applications.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from flask import Flask, current_app

from .config import set_global_defaults
from .errors import ConfigurationError, FSError, UnknownStorage

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
    serving: bool = False


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


def init_app(app: Flask, *storages: Storage) -> None:
    """Initialise storages' configuration and register the serving blueprint if needed.

    :param app: The :class:`~flask.Flask` instance to get the configuration from.
    :param storages: The :class:`Storage` instances to register and configure.
    """
    set_global_defaults(app)
    app.extensions.setdefault(EXTENSION_KEY, FSState())
    for storage in storages:
        storage.configure(app)
    state = get_state(app)
    if app.config["FS_SERVE"] and not state.serving:
        from .views import bp

        app.register_blueprint(bp, url_prefix=app.config["FS_PREFIX"])
        state.serving = True


def register(app: Flask, configured: ConfiguredStorage) -> None:
    """Record a configured storage on ``app``; two different storages may not share a name."""
    state = app.extensions.setdefault(EXTENSION_KEY, FSState())
    name = configured.storage.name
    existing = state.storages.get(name)
    if existing is not None and existing.storage is not configured.storage:
        raise ConfigurationError(f"two storages are named {name!r} on this application")
    state.storages[name] = configured


def by_name(name: str) -> Storage:
    """Get a storage of the current application by its name."""
    try:
        return get_state().storages[name].storage
    except KeyError:
        raise UnknownStorage(f"no storage named {name!r} on this application") from None

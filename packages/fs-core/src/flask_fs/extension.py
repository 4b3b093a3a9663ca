"""Setting flask-fs up on an application: :func:`init_app` owns every per-app step.

It sets the global defaults, configures each storage (its settings resolved, its backend
instantiated) into the application's :class:`~flask_fs.state.FSState`, and registers the
serving blueprint: it serves anyone when ``FS_SERVE`` is on, signed URLs only otherwise; and,
once a storage sets ``DIRECT_UPLOADS``, the uploads blueprint (:mod:`flask_fs.uploads`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Flask

from .backends import get_backend_class
from .config import backend_name_for, resolve_config, set_global_defaults
from .errors import ConfigurationError, FSError
from .state import EXTENSION_KEY, ConfiguredStorage, FSState
from .uploads.views import URL_PREFIX
from .uploads.views import bp as uploads_bp
from .views import bp

if TYPE_CHECKING:
    from .storage import Storage


def init_app(app: Flask, *storages: Storage) -> None:
    """Initialise storages' configuration and register the serving blueprint.

    :param app: The :class:`~flask.Flask` instance to get the configuration from.
    :param storages: The :class:`Storage` instances to register and configure.
    """
    set_global_defaults(app)
    state: FSState = app.extensions.setdefault(EXTENSION_KEY, FSState())
    for storage in storages:
        configure_storage(app, storage)
    if not state.registered:  # signed URLs are served even when FS_SERVE is off
        app.register_blueprint(bp, url_prefix=app.config["FS_PREFIX"])
        state.registered = True
    state.serving = state.serving or bool(app.config["FS_SERVE"])
    direct = any(c.config.get("direct_uploads") for c in state.storages.values())
    if direct and not state.uploads_registered:
        app.register_blueprint(uploads_bp, url_prefix=(app.config["FS_PREFIX"] or "") + URL_PREFIX)
        state.uploads_registered = True


def configure_storage(app: Flask, storage: Storage) -> None:
    """Resolve ``storage``'s settings on ``app``, instantiate its backend and record both.

    :raises FSError: if ``app`` never went through :func:`init_app`.
    :raises ConfigurationError: if another storage of ``app`` has the same name.
    """
    state: FSState | None = app.extensions.get(EXTENSION_KEY)
    if state is None:
        raise FSError(
            f"storage {storage.name!r}: the application is not initialised for flask-fs; "
            "call flask_fs.init_app(app, ...) (it configures the storages it is given)"
        )
    backend_name = backend_name_for(app, storage.name)
    backend_class = get_backend_class(backend_name)
    config = resolve_config(app, storage.name, backend_name, backend_class.settings)
    backend = backend_class(storage.name, config)
    existing = state.storages.get(storage.name)
    if existing is not None and existing.storage is not storage:
        raise ConfigurationError(f"two storages are named {storage.name!r} on this application")
    state.storages[storage.name] = ConfiguredStorage(storage, config, backend)

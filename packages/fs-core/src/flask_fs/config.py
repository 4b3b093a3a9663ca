"""The configuration cascade: from the Flask config to one storage's settings.

Lowest precedence first: the backend's declared defaults, then global keys (``FS_URL``,
``FS_ROOT``, ``FS_ALLOW``, ``FS_DENY``, ``FS_CHECK_FOLDERS``, ``FS_CACHE_CONTROL``,
``FS_SIGNED_URLS``, ``FS_URL_EXPIRES``, ``FS_DIRECT_UPLOADS``, ``FS_DIRECT_UPLOADS_ANONYMOUS``,
``FS_DIRECT_UPLOADS_MAX_SIZE``, ``FS_DIRECT_UPLOADS_EXPIRES``), then
backend-level keys ``FS_{BACKEND}_{KEY}``, then storage-level keys ``{NAME}_FS_{KEY}``.
Global and backend-level ``URL`` and ``ROOT`` are parents: a storage gets ``{url}/{name}/``
and ``{root}/{name}``; storage-level values are used as they are.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterable, Mapping
from datetime import timedelta
from typing import Any

from flask import Flask

from .errors import ConfigurationError
from .settings import apply_settings, coerce, declared_settings

#: Global keys and their defaults (``FS_SERVE`` defaults to ``app.debug``, ``FS_ROOT`` to the
#: instance folder: both are filled in by :func:`set_global_defaults`).
GLOBAL_DEFAULTS: dict[str, Any] = {
    "FS_SERVE": None,
    "FS_ROOT": None,
    "FS_PREFIX": None,
    "FS_URL": None,
    "FS_BACKEND": "local",
    "FS_IMAGES_OPTIMIZE": False,
}

#: Storage-level keys that fs-core itself reads, whatever the backend.
CORE_KEYS = frozenset(
    {
        "backend",
        "url",
        "allow",
        "deny",
        "check_folders",
        "cache_control",
        "signed_urls",
        "url_expires",
        "direct_uploads",
        "direct_uploads_anonymous",
        "direct_uploads_max_size",
        "direct_uploads_expires",
    }
)

#: ``URL_EXPIRES`` when nothing sets it: signed URLs work for an hour.
DEFAULT_URL_EXPIRES = 3600

#: ``DIRECT_UPLOADS_MAX_SIZE`` when nothing sets it: a direct upload may hold 100 MiB.
DEFAULT_DIRECT_UPLOADS_MAX_SIZE = 100 * 1024 * 1024

#: ``DIRECT_UPLOADS_EXPIRES`` when nothing sets it: an upload ticket works for an hour.
DEFAULT_DIRECT_UPLOADS_EXPIRES = 3600

#: Core keys and their values when neither the storage nor the global ``FS_{KEY}`` sets them.
CORE_DEFAULTS: dict[str, Any] = {
    "url_expires": DEFAULT_URL_EXPIRES,
    "direct_uploads": False,
    "direct_uploads_anonymous": False,
    "direct_uploads_max_size": DEFAULT_DIRECT_UPLOADS_MAX_SIZE,
    "direct_uploads_expires": DEFAULT_DIRECT_UPLOADS_EXPIRES,
}

#: Keys given as parents (a folder or URL under which each storage gets its own).
PARENT_KEYS = ("url", "root")


class Config(dict[str, Any]):
    """The configuration of one storage: a dict whose keys are also attributes."""

    def __getattr__(self, key: str) -> Any:
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None

    def __setattr__(self, key: str, value: Any) -> None:
        self[key] = value


def set_global_defaults(app: Flask) -> None:
    """Fill in every global ``FS_*`` key the application did not set."""
    for key, value in GLOBAL_DEFAULTS.items():
        app.config.setdefault(key, value)
    if app.config["FS_SERVE"] is None:
        app.config["FS_SERVE"] = app.debug
    if app.config["FS_ROOT"] is None:
        app.config["FS_ROOT"] = os.path.join(app.instance_path, "fs")


def config_key_prefix(storage_name: str) -> str:
    """``avatars`` → ``AVATARS_FS_``: the prefix of a storage's own keys."""
    return f"{storage_name.upper().replace('-', '_')}_FS_"


def backend_name_for(app: Flask, storage_name: str) -> str:
    """The backend a storage uses: ``{NAME}_FS_BACKEND``, else ``FS_BACKEND``."""
    name = app.config.get(config_key_prefix(storage_name) + "BACKEND") or app.config["FS_BACKEND"]
    if not isinstance(name, str):
        raise ConfigurationError(f"storage {storage_name!r}: BACKEND must be a str, not {name!r}")
    return name


def _prefixed(config: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    return {k[len(prefix) :].lower(): v for k, v in config.items() if k.startswith(prefix)}


def _as_parent(value: str, name: str, *, url: bool) -> str:
    if url:
        return value.rstrip("/") + f"/{name}/"
    return os.path.join(value, name)


def resolve_config(
    app: Flask,
    storage_name: str,
    backend_name: str,
    backend_settings: Mapping[str, Any],
    parent_keys: Iterable[str] = PARENT_KEYS,
) -> Config:
    """Compute one storage's settings from the application config.

    ``backend_settings`` are the backend's declared settings (see :mod:`flask_fs.settings`):
    their defaults are filled in and the values coerced. Any other key set for this storage or
    its backend is a :class:`~flask_fs.errors.ConfigurationError`, unless the backend declares
    no settings at all (as 0.4.0 backends did): it then receives every key.
    """
    cfg = app.config
    allowed = CORE_KEYS | set(backend_settings)
    result = Config()
    backend_level = _prefixed(cfg, f"FS_{backend_name.upper()}_")
    storage_level = _prefixed(cfg, config_key_prefix(storage_name))

    for level, values in (
        ("FS_" + backend_name.upper(), backend_level),
        ("storage", storage_level),
    ):
        unknown = sorted(set(values) - allowed) if backend_settings else []
        if unknown:
            keys = ", ".join(k.upper() for k in unknown)
            known = ", ".join(sorted(k.upper() for k in allowed))
            raise ConfigurationError(
                f"storage {storage_name!r} ({backend_name} backend): unknown setting(s) {keys} "
                f"at {level} level; known settings are {known}"
            )

    for key in parent_keys:
        if key not in allowed:
            continue
        parent = backend_level.pop(key, None) or cfg.get(f"FS_{key.upper()}")
        if parent:
            result[key] = _as_parent(str(parent), storage_name, url=key == "url")
    result.update(backend_level)
    result.update(storage_level)
    result.setdefault("url", None)
    result.setdefault("allow", cfg.get("FS_ALLOW") or ())  # the global FS_ALLOW / FS_DENY
    result.setdefault("deny", cfg.get("FS_DENY") or ())
    _apply_aliases(storage_name, backend_settings, result)
    for key, check in _GLOBAL_CORE_KEYS.items():  # unset: the global FS_{KEY}, else None
        value = result.get(key)
        value = cfg.get(f"FS_{key.upper()}") if value is None else value
        result[key] = None if value is None else check(storage_name, key, value)
    for key, default in CORE_DEFAULTS.items():
        if result[key] is None:
            result[key] = default
    result["backend"] = backend_name
    return Config(apply_settings(storage_name, backend_settings, result))


def _apply_aliases(
    storage_name: str, backend_settings: Mapping[str, Any], result: dict[str, Any]
) -> None:
    """Give a core key the value of the deprecated backend setting that is its alias
    (``Setting(alias_of=...)``), when the core key is not set itself; with a warning."""
    for key, setting in declared_settings(backend_settings).items():
        if setting.alias_of is None or result.get(key) is None:
            continue
        warnings.warn(
            f"storage {storage_name!r}: {key.upper()} is deprecated, use "
            f"{setting.alias_of.upper()} (e.g. {config_key_prefix(storage_name)}"
            f"{setting.alias_of.upper()})",
            DeprecationWarning,
            stacklevel=5,  # the init_app() call
        )
        if result.get(setting.alias_of) is None:
            result[setting.alias_of] = result[key]


def _bool(storage: str, key: str, value: Any) -> bool:
    return bool(coerce(storage, key, value, bool))


def _header_value(storage: str, key: str, value: Any) -> str:
    """A header value: a str on one line."""
    if not isinstance(value, str) or "\r" in value or "\n" in value:
        raise ConfigurationError(
            f"storage {storage!r}: {key.upper()} must be a header value on one line, such as "
            f"'public, max-age=3600', not {value!r}"
        )
    return value


def _positive_seconds(storage: str, key: str, value: Any) -> float:
    """A duration in seconds, more than zero (a ``timedelta`` is accepted)."""
    if isinstance(value, timedelta):
        value = value.total_seconds()
    seconds = coerce(storage, key, value, float)
    if seconds <= 0:
        raise ConfigurationError(
            f"storage {storage!r}: {key.upper()} must be a number of seconds above 0, not {value!r}"
        )
    return float(seconds)


def _positive_int(storage: str, key: str, value: Any) -> int:
    """A count (of bytes), more than zero."""
    number = coerce(storage, key, value, int)
    if number <= 0:
        raise ConfigurationError(
            f"storage {storage!r}: {key.upper()} must be an int above 0, not {value!r}"
        )
    return int(number)


#: Core keys that a global ``FS_{KEY}`` gives every storage, and how their values are checked.
_GLOBAL_CORE_KEYS: dict[str, Callable[[str, str, Any], Any]] = {
    "check_folders": _bool,
    "cache_control": _header_value,
    "signed_urls": _bool,
    "url_expires": _positive_seconds,
    "direct_uploads": _bool,
    "direct_uploads_anonymous": _bool,
    "direct_uploads_max_size": _positive_int,
    "direct_uploads_expires": _positive_seconds,
}

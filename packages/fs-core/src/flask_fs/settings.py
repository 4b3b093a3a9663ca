"""Backend settings: each backend declares its keys once (type, default, required); fs-core fills
in the defaults and coerces and checks the values, whether the backend is built by
:func:`~flask_fs.init_app` or directly (``S3Backend("files", {...})``).

A backend's ``settings`` maps each key (lower case) to a :class:`Setting`, or, in the plain form
third-party backends may keep, to its default value (any type accepted).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import ConfigurationError


class _StorageName:
    """The default of a setting named after its storage (a bucket, a container...)."""

    def __repr__(self) -> str:
        return "STORAGE_NAME"


#: Default of a setting that takes the storage's name, e.g. ``Setting(str, STORAGE_NAME)``.
STORAGE_NAME: Any = _StorageName()

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})


@dataclass(frozen=True)
class Setting:
    """One backend setting: the type of its values, its default, and whether it is required.

    ``None`` is accepted for any type unless the setting is ``required``. Values given as
    strings (from environment variables) are converted to ``int``, ``float`` and ``bool``.
    """

    type: type | None = None  #: ``str``, ``int``, ``float``, ``bool``, ``dict``... or any
    default: Any = None
    required: bool = False
    doc: str = ""
    #: A deprecated setting kept for the core key named here (``"url_expires"``): when set, it
    #: gives that key its value, with a :class:`DeprecationWarning`.
    alias_of: str | None = None


def declared_settings(settings: Mapping[str, Any]) -> dict[str, Setting]:
    """A backend's ``settings``, each plain default turned into an untyped :class:`Setting`."""
    return {
        key: value if isinstance(value, Setting) else Setting(default=value)
        for key, value in settings.items()
    }


def apply_settings(
    storage: str, settings: Mapping[str, Any], values: Mapping[str, Any]
) -> dict[str, Any]:
    """``values`` with every declared key present: defaults filled in, values coerced.

    A declared key that is missing or ``None`` takes its default. Keys the backend does not
    declare are kept as they are.

    :raises ~flask_fs.errors.ConfigurationError: for a required setting that is missing or a
        value of the wrong type; the message names the storage, the key and the type expected.
    """
    result = dict(values)
    for key, setting in declared_settings(settings).items():
        value = result.get(key)
        if value is None:
            value = setting.default
        if value is STORAGE_NAME:
            value = storage
        if value is None or (setting.required and value == ""):
            if setting.required:
                raise ConfigurationError(f"storage {storage!r}: {key.upper()} is required")
            result[key] = None
            continue
        result[key] = coerce(storage, key, value, setting.type)
    return result


def coerce(storage: str, key: str, value: Any, expected: type | None) -> Any:
    """``value`` as an ``expected``; a :class:`~flask_fs.errors.ConfigurationError` if it is not
    one and cannot be read as one."""
    if expected is None:
        return value
    try:
        return _COERCERS.get(expected, _isinstance_of(expected))(value)
    except (TypeError, ValueError):
        raise ConfigurationError(
            f"storage {storage!r}: {key.upper()} must be {_describe(expected)}, not {value!r}"
        ) from None


def _to_str(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, os.PathLike):
        return os.fspath(value)  # type: ignore[no-any-return]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)  # AUTH_VERSION = 3
    raise TypeError


def _to_int(value: Any) -> int:
    if isinstance(value, bool):
        raise TypeError
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        return int(value.strip().replace("_", ""))
    raise TypeError


def _to_float(value: Any) -> float:
    if isinstance(value, bool):
        raise TypeError
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        return float(value.strip())
    raise TypeError


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise TypeError


def _to_dict(value: Any) -> dict[str, Any]:
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError


def _isinstance_of(expected: type) -> Any:
    def check(value: Any) -> Any:
        if not isinstance(value, expected):
            raise TypeError
        return value

    return check


_COERCERS: dict[type, Any] = {
    str: _to_str,
    int: _to_int,
    float: _to_float,
    bool: _to_bool,
    dict: _to_dict,
}

_NAMES = {str: "a str", int: "an int", float: "a number", bool: "a bool", dict: "a dict"}


def _describe(expected: type) -> str:
    return _NAMES.get(expected, f"a {expected.__name__}")


__all__ = ["STORAGE_NAME", "Setting", "apply_settings", "coerce", "declared_settings"]

"""Settings are declared once per backend (type, default, required); fs-core fills in the
defaults and coerces and checks the values (issue 14, item 1)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import pytest
from flask import Flask

import flask_fs as fs
from flask_fs.backends.local import LocalBackend
from flask_fs.errors import ConfigurationError
from flask_fs.settings import STORAGE_NAME, Setting, apply_settings

SETTINGS: dict[str, Any] = {
    "endpoint": Setting(str),
    "bucket": Setting(str, STORAGE_NAME),
    "parts": Setting(int, 4),
    "timeout": Setting(float, 30.0),
    "verify": Setting(bool, True),
    "options": Setting(dict, {}),
    "secret": Setting(str, required=True),
    "anything": "plain default",  # the plain form third-party backends may keep
}


def test_defaults_fill_what_the_caller_omitted() -> None:
    config = apply_settings("files", SETTINGS, {"secret": "s", "extra": 1})
    assert config == {
        "endpoint": None,
        "bucket": "files",
        "parts": 4,
        "timeout": 30.0,
        "verify": True,
        "options": {},
        "secret": "s",
        "anything": "plain default",
        "extra": 1,
    }


def test_a_none_value_takes_the_default() -> None:
    assert apply_settings("files", SETTINGS, {"secret": "s", "bucket": None})["bucket"] == "files"


@pytest.mark.parametrize(
    ("key", "given", "expected"),
    [
        ("parts", "8", 8),
        ("parts", 8.0, 8),
        ("timeout", "2.5", 2.5),
        ("timeout", 3, 3.0),
        ("verify", "false", False),
        ("verify", "1", True),
        ("verify", 0, False),
        ("endpoint", Path("/x"), "/x"),
        ("bucket", 3, "3"),
        ("anything", [1, 2], [1, 2]),
    ],
)
def test_values_are_coerced(key: str, given: Any, expected: Any) -> None:
    config = apply_settings("files", SETTINGS, {"secret": "s", key: given})
    assert config[key] == expected
    assert type(config[key]) is type(expected)


@pytest.mark.parametrize(
    ("key", "given", "message"),
    [
        ("parts", "four", "PARTS must be an int, not 'four'"),
        ("parts", True, "PARTS must be an int, not True"),
        ("timeout", "soon", "TIMEOUT must be a number"),
        ("verify", "maybe", "VERIFY must be a bool"),
        ("options", ["a"], "OPTIONS must be a dict"),
        ("endpoint", 3j, "ENDPOINT must be a str"),
    ],
)
def test_a_wrong_type_names_the_key_and_the_type(key: str, given: Any, message: str) -> None:
    with pytest.raises(ConfigurationError, match=f"storage 'files': {message}"):
        apply_settings("files", SETTINGS, {"secret": "s", key: given})


def test_a_required_setting() -> None:
    for missing in ({}, {"secret": None}, {"secret": ""}):
        with pytest.raises(ConfigurationError, match="storage 'files': SECRET is required"):
            apply_settings("files", SETTINGS, missing)


def test_init_app_coerces_too(app: Flask) -> None:
    app.config.update(FILES_FS_BACKEND="local", FS_LOCAL_ROOT=123)
    files = fs.Storage("files")
    fs.init_app(app, files)
    with app.app_context():
        assert files.config.root == "123/files"


class _Typed(LocalBackend):
    settings: ClassVar[dict[str, Any]] = {**LocalBackend.settings, "depth": Setting(int, 2)}


def test_a_backend_built_directly_gets_its_defaults_and_checks(tmp_path: Path) -> None:
    backend = _Typed("files", {"root": tmp_path})
    assert backend.config["depth"] == 2
    assert backend.root == str(tmp_path)
    with pytest.raises(ConfigurationError, match="DEPTH must be an int, not 'four'"):
        _Typed("files", {"root": tmp_path, "depth": "four"})
    with pytest.raises(ConfigurationError, match="ROOT is required"):
        LocalBackend("files", {})

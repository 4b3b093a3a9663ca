"""A name is a file or a folder, never both (issue 15, item 14): the setting and its defaults.

The verdicts themselves are in the conformance suite (flask_fs.testing.folders), on every backend.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

import flask_fs as fs
from flask_fs.errors import ConfigurationError, NameConflict


def test_the_local_backend_refuses_both_by_default(app: Flask) -> None:
    files = fs.Storage("files")
    fs.init_app(app, files)
    with app.app_context():
        files.write("f", b"file")
        with pytest.raises(NameConflict, match="'f' is a file"):
            files.write("f/x", b"x", overwrite=True)  # was an InvalidFilename
        files.write("d/x", b"x")
        with pytest.raises(NameConflict, match=r"'d' .* it is a folder"):
            files.write("d", b"d", overwrite=True)  # was a plain FileExists
        assert files.read("d/x") == b"x"


@pytest.fixture
def memory(app: Flask, install_backend: Any) -> Flask:
    """An app whose storages use a backend of the newer contract that does not check folders by
    default, as the object stores."""
    install_backend("memory", {"memory": "flask_fs.testing.memory:MemoryBackend"})
    app.config["FS_BACKEND"] = "memory"
    return app


def _both_written(storage: fs.Storage) -> bool:
    storage.write("f", b"file")
    storage.write("d/x", b"x")
    try:
        storage.write("f/x", b"x")
        storage.write("d", b"d")
    except NameConflict:
        return False
    return True


def test_other_backends_check_when_asked(memory: Flask) -> None:
    memory.config["FS_CHECK_FOLDERS"] = True
    unchecked, checked = fs.Storage("unchecked"), fs.Storage("checked")
    memory.config["UNCHECKED_FS_CHECK_FOLDERS"] = "false"  # the storage's own key wins
    fs.init_app(memory, unchecked, checked)
    with memory.app_context():
        assert unchecked.backend.checks_folders_by_default is False
        assert _both_written(unchecked)
        assert not _both_written(checked)
        assert checked.config.check_folders is True


def test_the_backend_level_key_applies(memory: Flask) -> None:
    memory.config["FS_MEMORY_CHECK_FOLDERS"] = "yes"
    files = fs.Storage("files")
    fs.init_app(memory, files)
    with memory.app_context():
        assert not _both_written(files)


def test_a_malformed_value_is_a_configuration_error(app: Flask) -> None:
    app.config["FILES_FS_CHECK_FOLDERS"] = "sometimes"
    with pytest.raises(ConfigurationError, match="CHECK_FOLDERS must be"):
        fs.init_app(app, fs.Storage("files"))

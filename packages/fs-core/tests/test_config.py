"""The configuration cascade, global keys and the spec's sample configuration."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from flask import Flask

import flask_fs as fs
from flask_fs import backends
from flask_fs.config import Config
from flask_fs.errors import BackendNotFound, ConfigurationError


def test_global_defaults(tmp_path: Path) -> None:
    app = Flask(__name__, instance_path=str(tmp_path))
    fs.init_app(app)
    assert app.config["FS_SERVE"] is False  # DEBUG is off
    assert app.config["FS_ROOT"] == os.path.join(str(tmp_path), "fs")
    assert app.config["FS_PREFIX"] is None
    assert app.config["FS_URL"] is None
    assert app.config["FS_BACKEND"] == "local"
    assert app.config["FS_IMAGES_OPTIMIZE"] is False


def test_serve_defaults_to_debug(tmp_path: Path) -> None:
    app = Flask(__name__, instance_path=str(tmp_path))
    app.debug = True
    fs.init_app(app)
    assert app.config["FS_SERVE"] is True


def test_each_storage_has_its_own_root_under_fs_root(app: Flask) -> None:
    files = fs.Storage("files")
    fs.init_app(app, files)
    with app.app_context():
        assert files.config.root == os.path.join(app.config["FS_ROOT"], "files")
        assert files.backend.root == files.config.root  # type: ignore[attr-defined]


def test_storage_root_override(app: Flask, tmp_path: Path) -> None:
    avatars = fs.Storage("avatars", fs.IMAGES)
    app.config["AVATARS_FS_ROOT"] = str(tmp_path / "somewhere")
    fs.init_app(app, avatars)
    with app.app_context():
        assert avatars.config.root == str(tmp_path / "somewhere")
        assert avatars.path("a.png") == str(tmp_path / "somewhere" / "a.png")


def test_precedence_lowest_first(app: Flask, tmp_path: Path) -> None:
    app.config["FS_URL"] = "https://global.example.com/"
    first = fs.Storage("first")
    second = fs.Storage("second")
    third = fs.Storage("third")
    app.config["FS_LOCAL_URL"] = "https://backend.example.com"
    app.config["THIRD_FS_URL"] = "https://third.example.com/"
    app.config["FS_LOCAL_ROOT"] = str(tmp_path / "local-root")
    app.config["SECOND_FS_ROOT"] = str(tmp_path / "second")
    fs.init_app(app, first, second, third)
    with app.app_context():
        assert first.config.url == "https://backend.example.com/first/"
        assert third.config.url == "https://third.example.com/"
        assert first.config.root == str(tmp_path / "local-root" / "first")
        assert second.config.root == str(tmp_path / "second")


def test_global_url_when_nothing_else(app: Flask) -> None:
    app.config["FS_URL"] = "https://static.mydomain.com/"
    files = fs.Storage("files")
    fs.init_app(app, files)
    with app.app_context():
        assert files.config.url == "https://static.mydomain.com/files/"
        assert files.url("a/b.txt") == "https://static.mydomain.com/files/a/b.txt"


def test_spec_sample_configuration(app: Flask) -> None:
    """The "Sample configuration" section, with its s3 storages switched to a backend we have."""
    files = fs.Storage("files")
    avatars = fs.Storage("avatars", fs.IMAGES)
    images = fs.Storage("images", fs.IMAGES)
    app.config.update(
        FS_LOCAL_URL="https://s3.somewhere.com/",
        IMAGES_FS_URL="https://images.somewhere.com/",
        FILES_FS_URL="https://files.somewhere.com/",
    )
    fs.init_app(app, files, avatars, images)
    with app.app_context():
        assert files.base_url == "https://files.somewhere.com/"
        assert avatars.base_url == "https://s3.somewhere.com/avatars/"
        assert images.base_url == "https://images.somewhere.com/"
        assert images.url("a.png") == "https://images.somewhere.com/a.png"


def test_unknown_setting_is_an_error(app: Flask) -> None:
    app.config["FILES_FS_ROOOT"] = "/typo"
    with pytest.raises(ConfigurationError, match=r"unknown setting\(s\) ROOOT.*ROOT"):
        fs.init_app(app, fs.Storage("files"))


def test_unknown_backend_level_setting_is_an_error(app: Flask) -> None:
    app.config["FS_LOCAL_BUCKET"] = "nope"
    with pytest.raises(ConfigurationError, match="BUCKET"):
        fs.init_app(app, fs.Storage("files"))


def test_settings_of_unused_backends_are_ignored(app: Flask) -> None:
    app.config.update(FS_S3_ENDPOINT="https://s3.example.com", FS_S3_REGION="eu-west-2")
    fs.init_app(app, fs.Storage("files"))


def test_missing_backend_names_the_extra(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    installed = backends._entry_points()
    without_s3 = {name: ep for name, ep in installed.items() if name != "s3"}
    monkeypatch.setattr(backends, "_entry_points", lambda: without_s3)  # as if fs-s3 were absent
    app.config["AVATARS_FS_BACKEND"] = "s3"
    with pytest.raises(BackendNotFound) as info:
        fs.init_app(app, fs.Storage("avatars"))
    message = str(info.value)
    assert "'s3' is not installed" in message
    assert "local" in message  # the installed ones
    assert "pip install flask-fs[s3]" in message


def test_unknown_third_party_backend(app: Flask) -> None:
    app.config["FS_BACKEND"] = "nosuch"
    with pytest.raises(BackendNotFound, match=r"'nosuch' is not installed.*fs\.backend"):
        fs.init_app(app, fs.Storage("files"))


def test_invalid_storage_names() -> None:
    for name in ("", "a/b", "../x", "a b", "-lead"):
        with pytest.raises(ConfigurationError):
            fs.Storage(name)


def test_two_storages_cannot_share_a_name(app: Flask) -> None:
    with pytest.raises(ConfigurationError, match="two storages"):
        fs.init_app(app, fs.Storage("files"), fs.Storage("files"))


def test_config_is_an_object_dict() -> None:
    config = Config(root="/x")
    assert config.root == "/x"
    config.url = "u"
    assert config["url"] == "u"
    with pytest.raises(AttributeError):
        _ = config.missing


def test_one_storage_serves_several_apps(tmp_path: Path) -> None:
    files = fs.Storage("files")
    apps = []
    for label in ("one", "two"):
        app = Flask(label, instance_path=str(tmp_path / label))
        fs.init_app(app, files)
        apps.append(app)
    for app in apps:
        with app.app_context():
            files.write("who.txt", app.name)
    for app in apps:
        with app.app_context():
            assert files.read("who.txt") == app.name.encode()

"""``flask fs url``: a file's URL, signed on demand."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from werkzeug.http import parse_options_header

import flask_fs as fs
from flask_fs.cli import fs_command


@pytest.fixture
def cli(app: Flask) -> FlaskCliRunner:
    app.config["SECRET_KEY"] = "secret"
    files = fs.Storage("files", fs.ALL)
    fs.init_app(app, files)
    with app.app_context():
        files.write("a.txt", b"hello")
    return app.test_cli_runner()


def run(cli: FlaskCliRunner, *args: str, code: int = 0) -> str:
    result = cli.invoke(fs_command, list(args))
    assert result.exit_code == code, result.output
    return str(result.output).strip()


@pytest.mark.parametrize(
    ("expires", "seconds"), [("3600", 3600), ("30m", 1800), ("1h", 3600), ("2d", 172800)]
)
def test_expires(cli: FlaskCliRunner, expires: str, seconds: int) -> None:
    url = run(cli, "url", "files:a.txt", "--expires", expires)
    assert url.startswith("/files/a.txt?")
    until = int(parse_qs(urlsplit(url).query)["expires"][0])
    assert abs(until - (time.time() + seconds)) < 3


def test_a_printed_url_serves_the_file(cli: FlaskCliRunner, app: Flask) -> None:
    url = run(
        cli, "url", "files:a.txt", "--expires", "1h", "--download-name", "x.pdf", "--attachment"
    )
    response = app.test_client().get(url)
    assert response.data == b"hello"
    kind, options = parse_options_header(response.headers["Content-Disposition"])
    assert (kind, options["filename"]) == ("attachment", "x.pdf")


def test_external_and_inline(cli: FlaskCliRunner) -> None:
    url = run(cli, "url", "files:a.txt", "--expires", "60", "--inline", "--external")
    assert url.startswith("http://myserver.com/files/a.txt?")
    assert parse_qs(urlsplit(url).query)["inline"] == ["1"]


def test_without_signature_nor_serving_there_is_no_url(cli: FlaskCliRunner) -> None:
    assert "has no URL" in run(cli, "url", "files:a.txt", code=1)


@pytest.mark.parametrize("expires", ["soon", "0", "-1h", "h"])
def test_bad_durations_are_usage_errors(cli: FlaskCliRunner, expires: str) -> None:
    assert "is not a duration" in run(cli, "url", "files:a.txt", "--expires", expires, code=2)


def test_without_secret_key(cli: FlaskCliRunner, app: Flask) -> None:
    app.config["SECRET_KEY"] = None
    assert "SECRET_KEY" in run(cli, "url", "files:a.txt", "--expires", "1h", code=1)

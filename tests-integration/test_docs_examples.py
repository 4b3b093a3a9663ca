"""The manual's code examples run: the Python blocks of the quick start, the configuration, the
backend and the direct uploads pages, executed in order in one namespace, inside an application
context."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask

REPO = Path(__file__).resolve().parent.parent


def _blocks(page: str) -> list[str]:
    text = (REPO / "docs" / page).read_text()
    return list(re.findall(r"```python\n(.*?)```", text, re.S))


def test_quickstart_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # Flask puts the instance folder (FS_ROOT) under the cwd
    namespace: dict[str, object] = {"__name__": "docs_quickstart"}
    first, *rest = _blocks("quickstart.md")
    exec(compile(first, "quickstart.md", "exec"), namespace)
    app = namespace["app"]
    assert isinstance(app, Flask)
    with app.test_request_context():
        for block in rest:
            exec(compile(block, "quickstart.md", "exec"), namespace)
    store_root = tmp_path / "instance" / "fs"
    assert (store_root / "images" / "moved.file").read_bytes() == b"new content"
    assert not (store_root / "store" / "my.file").exists()


@pytest.mark.parametrize("page", ["configuration.md", "backends.md", "uploads.md"])
def test_other_examples_run(page: str) -> None:
    namespace: dict[str, object] = {"__name__": f"docs_{page}"}
    exec("import flask_fs as fs", namespace)
    for block in _blocks(page):
        exec(compile(block, page, "exec"), namespace)


@pytest.mark.usefixtures("mongoengine_db")
def test_images_and_mongoengine_examples_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    from PIL import Image
    from werkzeug.datastructures import FileStorage

    monkeypatch.chdir(tmp_path)
    picture = io.BytesIO()
    Image.linear_gradient("L").resize((400, 400)).convert("RGB").save(picture, "PNG")
    (tmp_path / "some_image.png").write_bytes(picture.getvalue())
    namespace: dict[str, object] = {
        "__name__": "docs_images",
        "upload": FileStorage(io.BytesIO(picture.getvalue()), "photo.png"),
        "data": picture.getvalue(),
        "some_image": str(tmp_path / "some_image.png"),
        "stream": io.BytesIO(b"from a client"),
    }
    for block in _blocks("images.md"):
        exec(compile(block, "images.md", "exec"), namespace)
    root = tmp_path / "instance" / "fs"
    assert (root / "files" / "prefix" / "basename.file").read_bytes() == b"from a client"
    assert sorted(p.name for p in (root / "images").iterdir()) == [
        "test-100.png", "test-32.png", "test-original.png", "test.png"
    ]  # fmt: skip


def test_links_examples_run(tmp_path: Path) -> None:
    """docs/links.md: its blocks run, and the links it shows are the ones given."""
    import flask_fs as fs

    app = Flask("docs_links", instance_path=str(tmp_path))
    app.config.update(SECRET_KEY="secret", FS_SERVE=True, SERVER_NAME="example.com")
    avatars, invoices = fs.Storage("avatars", fs.ALL), fs.Storage("invoices", fs.ALL)
    namespace: dict[str, object] = {"app": app, "avatars": avatars, "invoices": invoices}
    fs.init_app(app, avatars, invoices)
    with app.test_request_context():
        for block in _blocks("links.md"):
            exec(compile(block, "links.md", "exec"), namespace)
        for line in _blocks("links.md")[0].splitlines():
            expression, _, shown = line.partition("  # ")
            assert eval(expression, namespace) == shown.split()[0].strip("'")
        fs.init_app(app, invoices)  # the settings the last block set
        url = invoices.url("2024/0042.pdf")
    assert url is not None
    assert "signature=" in url

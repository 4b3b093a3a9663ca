"""The manual's code examples run: the Python blocks of the quick start, the configuration and
the backend pages, executed in order in one namespace, inside an application context."""

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


@pytest.mark.parametrize("page", ["configuration.md", "backends.md"])
def test_other_examples_run(page: str) -> None:
    namespace: dict[str, object] = {"__name__": f"docs_{page}"}
    exec("import flask_fs as fs", namespace)
    for block in _blocks(page):
        exec(compile(block, page, "exec"), namespace)

"""The README's tour runs as written, and its outputs are what its comments say."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _tour() -> str:
    blocks = re.findall(r"```python\n(.*?)```", (REPO / "README.md").read_text(), re.S)
    assert blocks, "the README has no python block"
    return str(blocks[0])


def test_the_tour_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # Flask puts the instance folder (FS_ROOT) under the cwd
    namespace: dict[str, object] = {"__name__": "readme_tour"}
    exec(compile(_tour(), "README.md", "exec"), namespace)
    uploads = namespace["uploads"]
    with namespace["app"].test_request_context():  # type: ignore[attr-defined]
        assert sorted(uploads.list_files()) == ["big.bin", "copy.bin"]  # type: ignore[attr-defined]
    assert (tmp_path / "instance" / "fs" / "uploads" / "big.bin").read_bytes() == b"..."


def test_the_two_setup_commands() -> None:
    readme = (REPO / "README.md").read_text()
    commands = re.findall(r"```\n(pip install hatch && hatch run [^\n]+)\n```", readme)
    assert commands == [
        "pip install hatch && hatch run demo",
        "pip install hatch && hatch run test:all",
    ]
    assert commands[1] in (REPO / ".ci" / "run").read_text()

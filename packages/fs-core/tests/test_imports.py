"""fs-core's modules import each other without a cycle, and each imports alone."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SOURCE = Path(__file__).parents[1] / "src"
PACKAGE = SOURCE / "flask_fs"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SOURCE).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imported(module: str, path: Path) -> set[str]:
    """The fs-core modules ``module`` imports when it runs: at the top, in functions (lazy
    imports), anywhere but under ``if TYPE_CHECKING:``."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for statement in node.orelse:
                visit(statement)
            return
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.add(candidate if candidate in MODULES else base)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text()))
    return {name for name in found if name in MODULES and name != module}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph``, or None."""
    done: set[str] = set()
    stack: list[str] = []

    def walk(node: str) -> list[str] | None:
        if node in stack:
            return [*stack[stack.index(node) :], node]
        if node in done:
            return None
        stack.append(node)
        for target in sorted(graph[node]):
            if cycle := walk(target):
                return cycle
        stack.pop()
        done.add(node)
        return None

    for node in sorted(graph):
        if cycle := walk(node):
            return cycle
    return None


def _graph() -> dict[str, set[str]]:
    """Who imports whom; a package's ``__init__`` re-exports, so importing ``flask_fs.x``
    (which runs ``flask_fs/__init__``) is not counted as importing ``flask_fs``."""
    graph = {name: _imported(name, path) for name, path in MODULES.items()}
    for name, imported in graph.items():
        for package in ("flask_fs", "flask_fs.testing"):
            if name != package and name.startswith(package + "."):
                imported.discard(package)
    return graph


def test_fs_core_has_no_import_cycle() -> None:
    assert _cycle(_graph()) is None


def test_the_state_is_a_leaf() -> None:
    assert _graph()["flask_fs.state"] <= {"flask_fs.errors"}


def test_the_checker_finds_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


@pytest.mark.slow
@pytest.mark.parametrize("module", sorted(MODULES))
def test_each_module_imports_alone(module: str) -> None:
    """In a fresh interpreter, importing any module first works (no cycle hides behind an
    import order that happens to work)."""
    subprocess.run([sys.executable, "-c", f"import {module}"], check=True)

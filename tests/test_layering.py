"""The package's shape: no import circle, a core that imports no host, small modules."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[1] / "nbstate"
HOSTS = ("jupyter", "server", "managers")
"""Subpackages above the core (README's architecture): they may import the core, never the
reverse."""
FOREIGN = ("IPython", "ipykernel", "ipywidgets", "anywidget", "traitlets", "comm",
           "jupyter_server", "jupyter_client", "starlette", "uvicorn", "redis", "sqlalchemy",
           "tornado", "marimo")
"""Host, server and database libraries the core must not import."""
SIDE = {"testing", "db", "__main__"}
"""Side modules and the entry point: they may import the core, the core never imports them."""


def _modules() -> dict[str, Path]:
    return {".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
            .removesuffix(".__init__"): path for path in PACKAGE.rglob("*.py")}


def _imports(name: str, path: Path) -> set[str]:
    """Every module ``name`` imports, anywhere in its body (function-level and TYPE_CHECKING
    imports included: a circle through them is still a circle)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - node.level + 1]
                base = ".".join([*parts, base]) if base else ".".join(parts)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: {m for m in _imports(name, path) if m in modules and m != name}
            for name, path in modules.items()}


def _core(name: str) -> bool:
    parts = name.split(".")
    return name != "nbstate" and parts[1] not in HOSTS and parts[1] not in SIDE


def test_the_graph_is_read_from_the_code() -> None:
    graph = _graph()
    assert "nbstate.session" in graph["nbstate.inbox"]
    assert "nbstate.state" in graph["nbstate.session"]
    assert "nbstate.session" in graph["nbstate.jupyter.host"]


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    done: set[str] = set()
    stack: list[str] = []
    on_stack: set[str] = set()

    def visit(node: str) -> list[str] | None:
        stack.append(node)
        on_stack.add(node)
        for dep in sorted(graph[node]):
            if dep in on_stack:
                return [*stack[stack.index(dep):], dep]
            if dep not in done:
                found = visit(dep)
                if found:
                    return found
        stack.pop()
        on_stack.discard(node)
        done.add(node)
        return None

    for node in sorted(graph):
        if node not in done:
            found = visit(node)
            if found:
                return found
    return None


def test_no_import_circle_in_the_package() -> None:
    graph = {name: {d for d in deps if d != "nbstate"} for name, deps in _graph().items()}
    cycle = _cycle(graph)
    assert cycle is None, "import circle: " + " → ".join(cycle or [])


def test_the_cycle_finder_finds_one() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_the_core_imports_no_host_server_or_database_library() -> None:
    modules = _modules()
    bad = []
    for name, path in modules.items():
        if not _core(name):
            continue
        for imported in _imports(name, path):
            top = imported.split(".")[0]
            inside = imported.split(".")[1] if imported.startswith("nbstate.") else ""
            if top in FOREIGN or inside in HOSTS or inside in SIDE:
                bad.append(f"{name} imports {imported}")
    assert not bad, bad


def test_importing_nbstate_loads_no_host_library() -> None:
    code = ("import sys, nbstate; bad = sorted(m for m in sys.modules if m.split('.')[0] in "
            f"{FOREIGN!r}); print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: p.name)
def test_modules_and_classes_stay_small(path: Path) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 400, f"{path.name} has {len(lines)} lines; split it by concept"
    for node in ast.walk(ast.parse("\n".join(lines))):
        if isinstance(node, ast.ClassDef):
            size = (node.end_lineno or node.lineno) - node.lineno + 1
            assert size <= 250, f"class {node.name} in {path.name} has {size} lines"

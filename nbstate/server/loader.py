"""Finding the state class ``nbstate serve TARGET:STATE`` names.

TARGET is a ``.py`` file, an importable module (``myapp``, ``pkg.app``) or a notebook
(``.ipynb``) whose code cells are run once, in order, at start-up, as the module
``__nbstate_app__``. In a notebook, display calls are inert (``ns.show``, IPython's ``display``,
a cell's last expression), IPython magics and shell lines (``%…``, ``!…``) are skipped, and top-
level ``await`` works. A cell that fails stops the start with the cell's number and its error.
"""

from __future__ import annotations

import ast
import asyncio
import importlib
import importlib.util
import sys
import types
from pathlib import Path
from typing import Any

from ..state import State

__all__ = ["TargetError", "load_state"]

APP_MODULE = "__nbstate_app__"


class TargetError(Exception):
    """TARGET:STATE names nothing that can be served; the message says what and why."""


def load_state(spec: str) -> type[State]:
    """The state class named by ``"TARGET:STATE"``.

    Raises:
        TargetError: a malformed spec, a missing file or module, a failing notebook cell, or
            no state class of that name in the target.
    """
    target, sep, name = spec.rpartition(":")
    if not sep or not target or not name:
        raise TargetError(f"{spec!r}: write TARGET:STATE, e.g. notebooks/todo.ipynb:Todo, "
                          "myapp.py:Todo or myapp:Todo")
    if target.endswith(".ipynb"):
        namespace = _run_notebook(Path(target))
    elif target.endswith(".py"):
        namespace = _run_file(Path(target))
    else:
        try:
            namespace = vars(importlib.import_module(target))
        except ImportError as exc:
            raise TargetError(f"cannot import {target!r}: {exc}") from exc
    found = namespace.get(name)
    if not (isinstance(found, type) and issubclass(found, State) and found is not State):
        states = sorted(k for k, v in namespace.items() if isinstance(v, type)
                        and issubclass(v, State) and v is not State)
        raise TargetError(f"{target} has no state class {name!r}; its state classes: "
                          f"{', '.join(states) or 'none'}")
    return found


def _module() -> types.ModuleType:
    module = types.ModuleType(APP_MODULE)
    sys.modules[APP_MODULE] = module
    return module


def _run_file(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise TargetError(f"no file {str(path)!r}")
    spec = importlib.util.spec_from_file_location(APP_MODULE, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[APP_MODULE] = module
    sys.path.insert(0, str(path.parent.resolve()))
    spec.loader.exec_module(module)
    return vars(module)


def _run_notebook(path: Path) -> dict[str, Any]:
    import json

    if not path.is_file():
        raise TargetError(f"no notebook {str(path)!r}")
    cells = [c for c in json.loads(path.read_text(encoding="utf-8")).get("cells", [])
             if c.get("cell_type") == "code"]
    module = _module()
    namespace = vars(module)
    sys.path.insert(0, str(path.parent.resolve()))
    with _inert_display():
        for number, cell in enumerate(cells, start=1):
            source = cell.get("source", "")
            source = "".join(source) if isinstance(source, list) else source
            lines = [line for line in source.splitlines()
                     if not line.lstrip().startswith(("%", "!"))]
            try:
                _run_cell("\n".join(lines), namespace, f"<{path.name} cell {number}>")
            except Exception as exc:
                raise TargetError(f"{path}: code cell {number} failed: "
                                  f"{type(exc).__name__}: {exc}") from exc
    return namespace


def _run_cell(source: str, namespace: dict[str, Any], filename: str) -> None:
    tree = ast.parse(source, filename)
    code = compile(tree, filename, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    result = eval(code, namespace)  # the notebook's own cell, as a kernel would run it
    if asyncio.iscoroutine(result):
        asyncio.run(result)


class _inert_display:
    """Make the display calls a notebook makes do nothing while it runs at start-up."""

    def __enter__(self) -> None:
        import nbstate

        self._saved: list[tuple[Any, str, Any]] = [(nbstate, "show", nbstate.show)]
        try:
            import IPython.display
        except ImportError:  # pragma: no cover - IPython is optional for the server
            pass
        else:
            self._saved.append((IPython.display, "display", IPython.display.display))
        for owner, name, _ in self._saved:
            setattr(owner, name, _nothing)

    def __exit__(self, *exc: object) -> None:
        for owner, name, original in reversed(self._saved):
            setattr(owner, name, original)


def _nothing(*args: Any, **kwargs: Any) -> None:
    return None

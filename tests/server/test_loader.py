"""TARGET:STATE: a .py file, a module, a notebook run once with display calls inert."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import nbstate as ns
from nbstate.server.loader import TargetError, load_state


def _notebook(path: Path, *cells: str) -> Path:
    path.write_text(json.dumps({"cells": [
        {"cell_type": "markdown", "source": "# an app"},
        *({"cell_type": "code", "source": c, "metadata": {}, "outputs": []} for c in cells)],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return path


def test_a_notebook_runs_once_with_display_calls_inert(tmp_path: Path) -> None:
    nb = _notebook(tmp_path / "app.ipynb",
                   "%matplotlib inline\nimport asyncio\nimport nbstate as ns",
                   "class LdApp(ns.State):\n    n: int = 0",
                   "ns.show(LdApp)\nfrom IPython.display import display\ndisplay('x')",
                   "await asyncio.sleep(0)\nLdApp")
    cls = load_state(f"{nb}:LdApp")
    assert issubclass(cls, ns.State) and cls.__nbstate_path__ == "ld_app"
    assert ns.show.__name__ == "show"  # put back


def test_a_failing_cell_stops_the_start_with_its_number(tmp_path: Path) -> None:
    nb = _notebook(tmp_path / "bad.ipynb", "x = 1", "raise RuntimeError('no database')")
    with pytest.raises(TargetError, match=r"code cell 2 failed: RuntimeError: no database"):
        load_state(f"{nb}:Anything")


def test_a_python_file_and_a_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = tmp_path / "ld_file_app.py"
    app.write_text("import nbstate as ns\nclass LdFile(ns.State):\n    n: int = 0\n")
    assert load_state(f"{app}:LdFile").__name__ == "LdFile"
    (tmp_path / "ld_module_app.py").write_text(
        "import nbstate as ns\nclass LdModule(ns.State):\n    n: int = 0\n"
        "class LdOther(ns.State):\n    n: int = 0\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert load_state("ld_module_app:LdModule").__name__ == "LdModule"
    with pytest.raises(TargetError, match="its state classes: LdModule, LdOther"):
        load_state("ld_module_app:Nope")


@pytest.mark.parametrize(("spec", "words"), [
    ("no-colon", "write TARGET:STATE"),
    ("missing.py:X", "no file"),
    ("missing.ipynb:X", "no notebook"),
    ("no_such_module_here:X", "cannot import"),
])
def test_what_cannot_be_served_is_named(spec: str, words: str) -> None:
    with pytest.raises(TargetError, match=words):
        load_state(spec)

"""Every example notebook runs top to bottom in a fresh kernel and shows live views."""

from __future__ import annotations

import json
import pathlib
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

pytestmark = pytest.mark.kernel

NOTEBOOKS = sorted((pathlib.Path(__file__).parents[1] / "notebooks").glob("*.ipynb"))
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
# the last cell a test appends: the session document, for comparison with the saved state
PRINT_DOCUMENT = "import json as _json\nprint(_json.dumps(ns.default_session().snapshot()))"


def _execute(nb: nbformat.NotebookNode, path: pathlib.Path) -> dict[str, Any]:
    """Run ``nb`` with a last cell that prints the session document; return that document."""
    nb.cells.append(nbformat.v4.new_code_cell(PRINT_DOCUMENT))
    NotebookClient(nb, timeout=60, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    printed = "".join(o["text"] for o in nb.cells[-1]["outputs"] if o["output_type"] == "stream")
    document: dict[str, Any] = json.loads(printed)
    return document


def _saved_vars(nb: nbformat.NotebookNode) -> dict[str, dict[str, Any]]:
    """Each state's vars as the notebook's saved widget state holds them, by state path (what
    a page opened without a kernel can show)."""
    saved: dict[str, dict[str, Any]] = {}
    for model in nb.metadata["widgets"][WIDGET_STATE]["state"].values():
        state = model["state"]
        spec = state.get("_nb_spec")
        if spec:
            saved[spec["path"]] = {v["name"]: state.get(v.get("trait", v["name"]), "<missing>")
                                   for v in spec["vars"]}
    return saved


def test_there_are_example_notebooks() -> None:
    assert {p.name for p in NOTEBOOKS} >= {"todo.ipynb", "counter.ipynb"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_and_shows_views(path: pathlib.Path) -> None:
    nb = nbformat.read(path, as_version=4)
    document = _execute(nb, path)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o["output_type"] == "error"]
    views = [o for o in outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert views, f"{path.name} displays no live view"
    state = nb.metadata["widgets"][WIDGET_STATE]["state"]
    shown = views[0]["data"]["application/vnd.jupyter.widget-view+json"]["model_id"]
    assert "_nb_spec" in state[shown]["state"]
    assert document  # every state of the session, with every var's value, is in the saved state
    assert _saved_vars(nb) == document


@pytest.mark.parametrize("change", [
    'todo.draft = "milk"',
    # a patch message nbclient does not record; the trait travels whole after the cell
    'todo.items.append("tea")',
    'todo.items.append("tea")\ntodo.items.clear()',
], ids=["assignment", "in-place", "in-place-then-back"])
def test_saved_widget_state_holds_what_a_cell_changed(change: str) -> None:
    path = next(p for p in NOTEBOOKS if p.name == "todo.ipynb")
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(change))
    document = _execute(nb, path)
    assert _saved_vars(nb) == document


def test_todo_notebook_state_changes_from_a_cell() -> None:
    path = next(p for p in NOTEBOOKS if p.name == "todo.ipynb")
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell('todo.items.append("tea")\nns.get_state(Filters).matches'))
    NotebookClient(nb, timeout=60, kernel_name="python3").execute()
    last = nb.cells[-1]["outputs"][-1]
    assert last["data"]["text/plain"] == "['tea']"


def test_a_state_as_the_last_expression_shows_its_live_view() -> None:
    path = next(p for p in NOTEBOOKS if p.name == "todo.ipynb")
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("todo"))
    NotebookClient(nb, timeout=60, kernel_name="python3").execute()
    data = nb.cells[-1]["outputs"][-1]["data"]
    shown = nb.cells[2]["outputs"][-1]["data"]  # the `ns.show(Todo)` cell
    view = "application/vnd.jupyter.widget-view+json"
    assert data[view]["model_id"] == shown[view]["model_id"]


def test_show_displays_once_and_returns_the_widget() -> None:
    path = next(p for p in NOTEBOOKS if p.name == "todo.ipynb")
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(
        "import ipywidgets\nshown = ns.show(Todo)\nshown"))
    nb.cells.append(nbformat.v4.new_code_cell(
        "box = ipywidgets.VBox([ns.show(Todo, display=False)])\n"
        "print(box.children[0] is shown, type(shown).__name__)\nbox"))
    NotebookClient(nb, timeout=60, kernel_name="python3").execute()
    view = "application/vnd.jupyter.widget-view+json"
    shown_once, boxed = nb.cells[-2]["outputs"], nb.cells[-1]["outputs"]
    assert [o["output_type"] for o in shown_once] == ["display_data"]
    assert shown_once[0]["data"][view]["model_id"]
    assert boxed[0]["text"] == "True TodoWidget\n"
    assert [o["output_type"] for o in boxed[1:]] == ["execute_result"]
    assert view in boxed[1]["data"]


def test_sales_notebook_outputs_are_in_the_saved_state() -> None:
    path = next(p for p in NOTEBOOKS if p.name == "sales.ipynb")
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell('ns.get_state(Sales).region = "south"'))
    document = _execute(nb, path)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if "image/png" in o.get("data", {})]  # no stray figure
    saved = _saved_vars(nb)
    assert saved["sales"]["chart"]["image/png"] == document["sales"]["chart"]["image/png"]
    assert "<table" in saved["sales"]["table"]["text/html"]
    assert saved["output-summary"]["summary"]["text/markdown"].startswith("**south**: ")

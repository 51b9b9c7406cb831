"""Every example notebook runs top to bottom in a fresh kernel and shows live views."""

from __future__ import annotations

import pathlib

import nbformat
import pytest
from nbclient import NotebookClient

pytestmark = pytest.mark.kernel

NOTEBOOKS = sorted((pathlib.Path(__file__).parents[1] / "notebooks").glob("*.ipynb"))


def test_there_are_example_notebooks() -> None:
    assert {p.name for p in NOTEBOOKS} >= {"todo.ipynb", "counter.ipynb"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_and_shows_views(path: pathlib.Path) -> None:
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=60, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o["output_type"] == "error"]
    views = [o for o in outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert views, f"{path.name} displays no live view"
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    shown = {views[0]["data"]["application/vnd.jupyter.widget-view+json"]["model_id"]}
    models = [state[m]["state"] for m in shown]
    assert all("_nb_spec" in m for m in models)


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

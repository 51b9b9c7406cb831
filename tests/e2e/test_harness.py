"""The harness itself, proven on a plain anywidget counter (no nbstate involved)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest
from playwright.sync_api import Page, expect

from . import harness

pytestmark = pytest.mark.browser

COUNTER_SOURCE = '''\
import anywidget
import traitlets


class Counter(anywidget.AnyWidget):
    _esm = """
    function render({ model, el }) {
        const button = document.createElement("button");
        button.className = "counter-button";
        button.textContent = "add one";
        const shown = document.createElement("span");
        shown.className = "counter-value";
        const show = () => { shown.textContent = String(model.get("value")); };
        button.addEventListener("click", () => {
            model.set("value", model.get("value") + 1);
            model.save_changes();
        });
        model.on("change:value", show);
        show();
        el.append(button, shown);
    }
    export default { render };
    """
    value = traitlets.Int(0).tag(sync=True)


w = Counter()
w
'''


def write_counter_notebook(directory: Path) -> Path:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(COUNTER_SOURCE)]
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    path = directory / "counter.ipynb"
    nbformat.write(notebook, path)
    return path


def wait_for_kernel_text(page: Page, expression: str, expected: str, timeout: float) -> None:
    # The ipywidgets frontend holds trait updates back while one is in flight, so the cell
    # that reads the value can overtake the last click's update: read until it has landed.
    deadline = time.monotonic() + timeout
    seen = harness.kernel_value(page, expression)
    while seen != expected and time.monotonic() < deadline:
        time.sleep(0.2)
        seen = harness.kernel_value(page, expression)
    assert seen == expected, f"kernel says {expression} == {seen}, expected {expected}"


def test_jupyterlab_counter_round_trip(
    lab: Callable[..., harness.Server],
    page: Page,
    screenshot: Callable[[Page, str], Path],
    tmp_path: Path,
) -> None:
    root = tmp_path / "root"
    root.mkdir()
    write_counter_notebook(root)
    server = lab(root)

    harness.open_notebook(page, server, "counter.ipynb")
    harness.run_all_cells(page)
    value = page.locator(".counter-value")
    expect(value).to_have_text("0")

    button = page.locator(".counter-button")
    for _ in range(3):
        button.click()
    expect(value).to_have_text("3")

    wait_for_kernel_text(page, "w.value", "3", timeout=10)
    assert harness.last_output_text(page) == "3"
    assert screenshot(page, "counter-at-3").stat().st_size > 0


def test_voila_counter_click(
    voila: Callable[..., harness.Server],
    page: Page,
    screenshot: Callable[[Page, str], Path],
    tmp_path: Path,
) -> None:
    server = voila(write_counter_notebook(tmp_path))

    page.goto(server.url)
    value = page.locator(".counter-value")
    expect(value).to_have_text("0")
    page.locator(".counter-button").click()
    expect(value).to_have_text("1")
    assert screenshot(page, "counter-at-1").stat().st_size > 0

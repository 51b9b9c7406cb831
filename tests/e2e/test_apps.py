"""The example apps, live in real JupyterLab, Notebook 7 and Voila, driven by Debian's Chromium."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from . import harness

pytestmark = pytest.mark.browser

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"

# Records every text the todo's status var shows, so a transient "saving…" cannot be missed.
WATCH_STATUS = """() => {
    window.__statusSeen = [];
    const el = document.querySelector('.nbstate-view[data-nb-path="todo"] [data-nb-var="status"]');
    const record = () => window.__statusSeen.push(el.textContent.trim());
    new MutationObserver(record).observe(el, {subtree: true, childList: true, characterData: true});
    record();
}"""


# Notebook 7's own start-up race (jupyter/notebook#7862): its keyboard-shortcuts plugin reads
# `registry.plugins[shortcuts.id].schema` before that plugin's settings are loaded. It is
# raised while the page loads, before any nbstate code runs, and is the only error allowed.
NOTEBOOK7_SHORTCUTS_RACE = re.compile(r"^Cannot read properties of undefined \(reading 'schema'\)$")


def _copy_notebooks(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    shutil.copytree(NOTEBOOKS, root)
    return root


def _use_todo(page: Page) -> None:
    """Add two items through the default view, checking the yield's intermediate state."""
    todo = page.locator('.nbstate-view[data-nb-path="todo"]').first
    expect(todo).to_be_visible(timeout=30_000)
    status = todo.locator('[data-nb-var="status"]').first
    expect(status).to_contain_text("0 item(s)")
    page.evaluate(WATCH_STATUS)

    draft = todo.locator('input[data-nb-var="draft"]').first
    add = todo.locator('[data-nb-handler="add"]').first
    items = todo.locator('[data-nb-var="items"] .nbstate-item')

    draft.fill("buy milk")
    add.click()
    expect(items).to_have_text(["buy milk"])
    expect(status).to_contain_text("1 item(s)")
    assert "saving…" in page.evaluate("window.__statusSeen"), "the yield's delta never showed"
    expect(draft).to_have_value("")

    draft.fill("call mom")
    add.click()
    expect(items).to_have_text(["buy milk", "call mom"])
    expect(status).to_contain_text("2 item(s)")

    # an empty draft: the handler raises, the view says why, nothing changes
    add.click()
    expect(todo.locator("[data-nb-error]").first).to_contain_text("type an item first")
    expect(items).to_have_text(["buy milk", "call mom"])

    # the substate's computed var follows its own var and its parent's list
    filters = page.locator('.nbstate-view[data-nb-path="todo.filters"]').first
    query = filters.locator('input[data-nb-var="query"]').first
    query.fill("milk")
    query.press("Enter")
    expect(filters.locator('[data-nb-var="matches"] .nbstate-item')).to_have_text(["buy milk"])


def test_todo_in_jupyterlab(lab: Callable[..., harness.Server], page: Page,
                            screenshot: Callable[[Page, str], Path], tmp_path: Path) -> None:
    server = lab(_copy_notebooks(tmp_path))
    harness.open_notebook(page, server, "todo.ipynb")
    harness.run_all_cells(page)
    _use_todo(page)
    screenshot(page, "todo-jupyterlab")
    assert harness.kernel_value(page, "ns.get_state(Todo).items") == "['buy milk', 'call mom']"
    assert harness.kernel_value(page, "ns.get_state(Filters).matches") == "['buy milk']"


@pytest.mark.allow_page_errors  # only Notebook 7's own start-up race; checked below
def test_todo_in_notebook7(notebook7: Callable[..., harness.Server], page: Page,
                           screenshot: Callable[[Page, str], Path], tmp_path: Path) -> None:
    server = notebook7(_copy_notebooks(tmp_path))
    harness.open_notebook(page, server, "todo.ipynb")
    assert page.url == f"{server.url}notebooks/todo.ipynb"
    harness.run_all_cells(page)
    _use_todo(page)
    screenshot(page, "todo-notebook7")
    assert harness.kernel_value(page, "ns.get_state(Todo).items") == "['buy milk', 'call mom']"
    assert harness.kernel_value(page, "ns.get_state(Filters).matches") == "['buy milk']"
    errors = harness.record_of(page).errors
    assert [e for e in errors if not NOTEBOOK7_SHORTCUTS_RACE.match(e)] == [], errors


def test_todo_in_voila(voila: Callable[..., harness.Server], page: Page,
                       screenshot: Callable[[Page, str], Path], tmp_path: Path) -> None:
    server = voila(_copy_notebooks(tmp_path) / "todo.ipynb")
    page.goto(server.url)
    _use_todo(page)
    screenshot(page, "todo-voila")


def test_counter_custom_view_in_jupyterlab(
        lab: Callable[..., harness.Server], page: Page,
        screenshot: Callable[[Page, str], Path], tmp_path: Path) -> None:
    server = lab(_copy_notebooks(tmp_path))
    harness.open_notebook(page, server, "counter.ipynb")
    harness.run_all_cells(page)
    button = page.locator(".counter-button")
    expect(button).to_have_text("count is 0", timeout=30_000)
    for _ in range(3):
        button.click()
    expect(button).to_have_text("count is 3")
    step = page.locator(".counter-step")
    step.fill("5")
    step.press("Enter")
    button.click()  # the step set travels before this event: one ordered path
    expect(button).to_have_text("count is 8")
    screenshot(page, "counter-jupyterlab")
    assert harness.kernel_value(page, "ns.get_state(Counter).count") == "8"
    # a change made by cell code reaches the custom view
    harness.run_code_in_new_cell(page, "ns.get_state(Counter).count = 100", expect_output=False)
    expect(button).to_have_text("count is 100")

"""The default view in real JupyterLab and Voila, driven by Debian's Chromium as a visitor would.

The shop (``view_shop.SHOP``) has a var of every kind the view knows; its computed ``summary``
and ``catalogue`` are how a test reads the kernel's values back in Voila, where no cell can
be run. The todo notebook is the one users run (``notebooks/todo.ipynb``).
"""

from __future__ import annotations

import os
import shutil
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from . import harness
from .view_page import open_in_lab
from .view_shop import SHOP, write_notebook

pytestmark = pytest.mark.browser

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
SHOP_VIEW = '.nbstate-view[data-nb-path="shop"]'
RENDERED_MS = 30_000
SUMMARY = ("Hardware (medium, tools): 2 lines, 15 units, opens 2024-05-01 09:00, "
           "audit 2024-06-30, Oslo")


def _shop(tmp_path: Path) -> Path:
    return write_notebook(tmp_path / "shop.ipynb", SHOP + "\nns.show(Shop)\n")


def _use_shop(page: Page) -> None:
    """Every kind of control, edited as a visitor would; the kernel's answers read back."""
    root = page.locator(SHOP_VIEW)
    values = root.locator(".nbstate-vars")
    summary = values.locator('[data-nb-var="summary"]')
    expect(summary).to_have_text(SUMMARY, timeout=RENDERED_MS)

    # labels from pydantic's titles or the names in plain words; help text; hidden and
    # read-only vars
    min_stock = values.get_by_role("spinbutton", name="Min stock", exact=True)
    expect(min_stock).to_have_accessible_description("Items below this are restocked")
    expect(values.get_by_role("checkbox", name="Open now")).to_be_checked()
    expect(root.locator('[data-nb-var="notes"]')).to_have_count(0)
    for var in ("progress", "restocks"):
        expect(root.locator(f'output[data-nb-var="{var}"]')).to_have_text("0")
        row = root.locator(f'[data-nb-row="{var}"]')
        expect(row.locator("input, select, button")).to_have_count(0)

    # text goes to the kernel as it is typed (no Enter, no blur), and an echo of an earlier
    # keystroke never takes a later one back: keys ~1 debounce apart, so echoes land mid-typing
    name = values.get_by_role("textbox", name="Name", exact=True)
    name.select_text()
    name.press_sequentially("Tools & Garden Supplies", delay=105)
    expect(summary).to_contain_text("Tools & Garden Supplies (medium, tools)")
    expect(name).to_have_value("Tools & Garden Supplies")
    expect(name).to_be_focused()

    # bounds → slider + number box; the slider works from the keyboard; a refused value is
    # shown, reverted, and its error goes when the var is edited again
    slider = values.get_by_role("slider", name="Min stock")
    min_stock.fill("14")
    low = values.locator('[data-nb-var="low"] .nbstate-item')
    expect(low).to_have_text(["hammer", "rake"])
    expect(slider).to_have_value("14")
    slider.focus()
    slider.press("ArrowLeft")
    expect(min_stock).to_have_value("13")
    expect(low).to_have_text(["rake"])
    min_stock.fill("99")
    error = root.locator('[data-nb-error-for="shop.min_stock"]')
    expect(error).to_contain_text("shop.min_stock must be ≤ 50")
    expect(min_stock).to_have_value("13")
    min_stock.fill("20")
    expect(error).to_have_count(0)

    # the browser's date-time and date pickers; selects for an Enum and a Literal
    values.get_by_label("Opens at", exact=True).fill("2024-05-02T10:30")
    values.get_by_label("Audit day", exact=True).fill("2024-07-01")
    values.get_by_label("Category", exact=True).select_option("garden")
    values.get_by_label("Size", exact=True).select_option("large")
    expect(summary).to_contain_text("(large, garden): 2 lines, 15 units, opens 2024-05-02 10:30, "
                                    "audit 2024-07-01")

    # list[Item] → a table: edit a cell, remove a row, add one
    items = values.locator('table[data-nb-var="items"]')
    items.get_by_role("spinbutton", name="Qty, row 2").fill("30")
    expect(summary).to_contain_text("2 lines, 43 units")
    items.get_by_role("button", name="Remove row 1").click()
    expect(summary).to_contain_text("1 lines, 30 units")
    values.get_by_role("button", name="Add a row to Items").click()
    items.get_by_role("textbox", name="Name, row 2").fill("saw")
    expect(low).to_have_text(["saw"])

    # dict[str, float] → a key/value table; a nested model → a fieldset
    prices = values.locator('table[data-nb-var="prices"]')
    prices.get_by_role("spinbutton", name="Prices: rake").fill("15")
    prices.get_by_role("textbox", name="New key of Prices").fill("saw")
    value = prices.get_by_role("spinbutton", name="Value of the new key of Prices")
    value.fill("21")
    value.press("Enter")
    catalogue = values.locator('[data-nb-var="catalogue"]')
    expect(catalogue).to_have_text("hammer 9.5, rake 15, saw 21")
    values.get_by_role("group", name="Address").get_by_label("City", exact=True).fill("Bergen")
    expect(summary).to_contain_text("Bergen")

    # a handler's model param gets the same fieldset; Enter submits; the form clears
    add_item = root.locator('form[data-nb-handler="add_item"]')
    item_name = add_item.get_by_label("Name", exact=True)
    item_name.fill("drill")
    add_item.get_by_role("spinbutton", name="Qty").fill("4")
    item_name.press("Enter")
    expect(summary).to_contain_text("3 lines, 34 units")
    expect(item_name).to_have_value("")

    # a list param: Enter in its add box adds, the submit button runs the handler
    tag = root.locator('form[data-nb-handler="tag"]')
    new_label = tag.get_by_label("New Labels item")
    new_label.fill("sale")
    new_label.press("Enter")
    expect(tag.locator('[name="labels"] .nbstate-item')).to_have_text(["sale"])
    tag.get_by_role("textbox", name="New key of Reprice").fill("drill")
    tag.get_by_role("spinbutton", name="Value of the new key of Reprice").fill("30")
    tag.get_by_role("button", name="Add", exact=True).last.click()
    tag.get_by_role("button", name="Tag").click()
    expect(catalogue).to_have_text("hammer 9.5, rake 15, saw 21, drill 30")
    expect(tag.locator('[name="labels"] .nbstate-item')).to_have_count(0)

    _run_once_while_running(page, root)
    _errors(root, summary)


def _run_once_while_running(page: Page, root: Locator) -> None:
    """A running handler's button is disabled: a quick second click starts no second run."""
    restock = root.get_by_role("button", name="Restock")
    restock.evaluate("(button) => { button.click(); button.click(); }")
    expect(restock).to_have_attribute("aria-disabled", "true")
    expect(restock).to_be_disabled()
    progress = root.locator('output[data-nb-var="progress"]')
    expect(progress).not_to_have_text("0")  # the handler's yields reach the page
    restocks = root.locator('output[data-nb-var="restocks"]')
    expect(restocks).to_have_text("1")
    expect(restock).not_to_have_attribute("aria-disabled", "true")
    time.sleep(1.5)  # a second run (4 × 0.25 s) would have finished by now
    expect(restocks).to_have_text("1")
    expect(progress).to_have_text("0")


def _errors(root: Locator, summary: Locator) -> None:
    """A handler's error shows; it can be dismissed from the keyboard; its success clears it."""
    rename = root.locator('form[data-nb-handler="rename"]')
    field = rename.get_by_label("Name", exact=True)
    error = root.locator('[data-nb-error-for="shop.rename"]')
    field.fill("  ")
    field.press("Enter")
    expect(error).to_contain_text("shop.rename: ValueError: a shop needs a name")
    expect(field).to_have_value("  ")  # kept after a failure, to be fixed
    dismiss = error.get_by_role("button", name="Dismiss this error")
    dismiss.focus()
    dismiss.press("Enter")
    expect(error).to_have_count(0)
    field.press("Enter")
    expect(error).to_have_count(1)
    field.fill("Hardware Co")
    field.press("Enter")
    expect(error).to_have_count(0)
    expect(summary).to_contain_text("Hardware Co (large")
    expect(field).to_have_value("")


def test_shop_in_voila(voila: Callable[..., harness.Server], page: Page,
                       tmp_path: Path) -> None:
    page.goto(voila(_shop(tmp_path)).url)
    _use_shop(page)


def test_shop_in_jupyterlab(lab: Callable[..., harness.Server], page: Page,
                            tmp_path: Path) -> None:
    _shop(tmp_path)
    open_in_lab(page, lab(tmp_path), "shop.ipynb")
    _use_shop(page)
    shop = "s = ns.get_state(Shop); (s.name, s.min_stock, s.opens_at.isoformat(), s.prices)"
    assert " ".join(harness.kernel_value(page, shop).split()) == (
        "('Hardware Co', 20, '2024-05-02T10:30:00', {'hammer': 9.5, 'rake': 15.0, 'saw': 21.0, "
        "'drill': 30.0})")


# --- the todo notebook ----------------------------------------------------------------------


def _todo(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    root.mkdir()
    shutil.copy(NOTEBOOKS / "todo.ipynb", root / "todo.ipynb")
    return root


def use_todo(page: Page) -> None:
    """Add two items; the search filters as the query is typed; saving and items are read-only."""
    todo = page.locator('.nbstate-view[data-nb-path="todo"]').first
    expect(todo.locator('[data-nb-var="status"]')).to_have_text("0 item(s)", timeout=RENDERED_MS)
    saving = todo.locator('input[data-nb-var="saving"]')
    expect(saving).to_be_disabled()
    items = todo.locator('[data-nb-var="items"]')
    draft = todo.get_by_role("textbox", name="Draft")
    for text in ("buy milk", "walk the dog"):
        draft.fill(text)
        todo.get_by_role("button", name="Add", exact=True).click()
        expect(draft).to_have_value("")
    expect(items.locator(".nbstate-item")).to_have_text(["buy milk", "walk the dog"])
    # no control of the list's own bypasses the `add` handler
    expect(todo.locator('[data-nb-add="items"], [data-nb-var="items"] button')).to_have_count(0)
    expect(saving).not_to_be_checked()

    filters = page.locator('.nbstate-view[data-nb-path="todo.filters"]')
    query = filters.get_by_role("textbox", name="Query")
    query.press_sequentially("dog", delay=60)  # no Enter, no blur
    expect(filters.locator('[data-nb-var="matches"] .nbstate-item')).to_have_text(["walk the dog"])
    expect(query).to_be_focused()


def test_todo_filters_as_you_type_in_voila(voila: Callable[..., harness.Server], page: Page,
                                           tmp_path: Path) -> None:
    page.goto(voila(_todo(tmp_path) / "todo.ipynb").url)
    use_todo(page)


def test_todo_filters_as_you_type_in_jupyterlab(lab: Callable[..., harness.Server], page: Page,
                                                tmp_path: Path) -> None:
    open_in_lab(page, lab(_todo(tmp_path)), "todo.ipynb")
    use_todo(page)
    assert harness.kernel_value(page, "ns.get_state(Filters).query") == "'dog'"
    # the kernel refuses a client set of a read-only var, wherever it comes from
    refused = harness.kernel_value(
        page, "import asyncio\ntry:\n    await ns.default_session().set_var('todo', 'saving', "
              "True)\nexcept ns.ReadOnlyVarError as e:\n    print(e)")
    assert refused.startswith("todo.saving is read-only for clients")


# --- no kernel to talk to -------------------------------------------------------------------


def _click_without_kernel(root: Locator) -> None:
    root.get_by_role("button", name="Restock").click()
    error = root.locator('[data-nb-error-for="connection"]')
    expect(error).to_contain_text("Not connected to the kernel")
    expect(error).to_contain_text("restart the kernel and run the notebook's cells again")
    expect(error).to_contain_text("in Voila, reload the page")
    expect(root.get_by_role("button", name="Restock")).not_to_have_attribute("aria-busy", "true")


def test_not_connected_after_a_kernel_restart_in_jupyterlab(
        lab: Callable[..., harness.Server], page: Page, tmp_path: Path) -> None:
    _shop(tmp_path)
    open_in_lab(page, lab(tmp_path), "shop.ipynb")
    root = page.locator(SHOP_VIEW)
    expect(root.locator('[data-nb-var="summary"]')).to_have_text(SUMMARY, timeout=RENDERED_MS)
    page.evaluate("async () => { await window.jupyterapp.shell.currentWidget.sessionContext"
                  ".session.kernel.restart(); }")
    harness.wait_for_kernel_idle(page)
    _click_without_kernel(root)


def test_not_connected_when_the_kernel_died_in_voila(
        voila: Callable[..., harness.Server], page: Page, tmp_path: Path) -> None:
    server = voila(_shop(tmp_path))
    page.goto(server.url)
    root = page.locator(SHOP_VIEW)
    expect(root.locator('[data-nb-var="summary"]')).to_have_text(SUMMARY, timeout=RENDERED_MS)
    kernels = harness._descendants(server.process.pid)
    assert kernels, "Voila started no kernel"
    for pid in kernels:
        os.kill(pid, signal.SIGKILL)
    # Voila restarts the kernel; once the page hears of that, the old comms are gone (a click
    # before that goes out on the dying connection and is never answered)
    deadline = time.monotonic() + 30
    while not any("Kernel: restarting" in line or "Kernel: autorestarting" in line
                  for line in harness.record_of(page).console):
        assert time.monotonic() < deadline, "the page never heard of the new kernel"
        page.wait_for_timeout(100)
    _click_without_kernel(root)

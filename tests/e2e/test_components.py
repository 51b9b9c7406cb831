"""Component state in real JupyterLab: two counters from one class count on their own, and a
cell that runs again leaves its old counters behind, removed from the session."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from . import harness
from .view_page import open_in_lab, view_screenshot
from .view_shop import write_notebook

pytestmark = pytest.mark.browser

COUNTER = '''\
import nbstate as ns


class Counter(ns.ComponentState):
    """A counter of its own."""

    count: int = 0

    def increment(self):
        self.count += 1
'''
SHOW = "ns.show(Counter.create(), Counter.create(count=10))"
VIEWS = '.nbstate-view[data-nb-path^="counter-"]'
COUNTS = ("sorted((p, s.count) for p, s in ns.default_session().states().items() "
          "if p.startswith('counter-'))")

RERUN_SECOND_CELL = """async () => {
    const app = window.jupyterapp;
    app.shell.currentWidget.content.activeCellIndex = 1;
    await app.commands.execute('notebook:run-cell');
}"""


def test_two_counters_count_on_their_own_and_a_rerun_drops_the_old_ones(
        lab: Callable[..., harness.Server], page: Page, tmp_path: Path,
        output_dir: Path) -> None:
    write_notebook(tmp_path / "counters.ipynb", COUNTER, SHOW)
    open_in_lab(page, lab(tmp_path), "counters.ipynb")
    views = page.locator(VIEWS)
    expect(views).to_have_count(2, timeout=30_000)
    first, second = views.nth(0), views.nth(1)
    expect(second.locator('input[data-nb-var="count"]')).to_have_value("10")
    for _ in range(2):
        first.get_by_role("button", name="Increment").click()
    expect(first.locator('input[data-nb-var="count"]')).to_have_value("2")
    expect(second.locator('input[data-nb-var="count"]')).to_have_value("10")
    second.get_by_role("button", name="Increment").click()
    expect(second.locator('input[data-nb-var="count"]')).to_have_value("11")
    expect(first.locator('input[data-nb-var="count"]')).to_have_value("2")
    view_screenshot(page, ".jp-Cell:nth-child(2) .jp-OutputArea", output_dir, "two-counters")
    before = harness.kernel_value(page, COUNTS)
    assert [count for _, count in eval(before)] == [2, 11], before

    page.evaluate(RERUN_SECOND_CELL)
    harness.wait_for_kernel_idle(page)
    expect(views).to_have_count(2)
    expect(views.nth(0).locator('input[data-nb-var="count"]')).to_have_value("0")
    after = eval(harness.kernel_value(page, COUNTS))
    assert [count for _, count in after] == [0, 10]
    assert not {p for p, _ in after} & {p for p, _ in eval(before)}  # the old ones are gone

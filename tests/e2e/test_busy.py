"""The default view's busy marks in a real browser: set at once, styled only for slow handlers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest
from playwright.sync_api import Page, expect

from . import harness

pytestmark = pytest.mark.browser

APP = """\
import asyncio
import nbstate as ns


class Work(ns.State):
    done: int = 0

    @ns.computed
    def label(self) -> str:
        return f"{self.done} done"

    def quick(self):
        self.done += 1

    async def slow(self):
        await asyncio.sleep(0.6)
        self.done += 1


ns.show(Work)
"""

VIEW = '.nbstate-view[data-nb-path="work"]'

# Click `name`'s button; resolve with how long until `label` shows the next value, whether the
# root ever got `.nbstate-busy-shown` meanwhile, and whether the button was aria-busy at once.
CLICK = """async ([view, name]) => {
    const root = document.querySelector(view);
    const button = root.querySelector(`[data-nb-handler="${name}"]`);
    const done = root.querySelector('[data-nb-var="label"]');
    const before = done.textContent;
    let shown = false;
    const watch = new MutationObserver(() => {
        shown ||= root.classList.contains('nbstate-busy-shown');
    });
    watch.observe(root, { attributes: true, attributeFilter: ['class'] });
    const start = performance.now();
    button.click();
    const busyAtOnce = button.getAttribute('aria-busy') === 'true'
        && button.dataset.nbRunning === 'true';
    await new Promise((resolve) => {
        const poll = () => done.textContent !== before ? resolve() : requestAnimationFrame(poll);
        poll();
    });
    const took = performance.now() - start;
    watch.disconnect();
    return { took, shown, busyAtOnce };
}"""

DELAY_MS = 100  # BUSY_STYLE_DELAY_MS in js/src/view/default_view.ts


def test_busy_style_only_for_slow_handlers(
        voila: Callable[..., harness.Server], page: Page,
        screenshot: Callable[[Page, str], Path], tmp_path: Path) -> None:
    notebook = tmp_path / "work.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(APP)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, notebook)
    page.goto(voila(notebook).url)
    root = page.locator(VIEW)
    expect(root.locator('[data-nb-var="label"]')).to_have_text("0 done", timeout=30_000)

    quick = page.evaluate(CLICK, [VIEW, "quick"])
    assert quick["busyAtOnce"], "the button was not marked busy when its event was sent"
    if quick["took"] < DELAY_MS:  # on a loaded machine the round trip may take longer
        assert not quick["shown"], f"a {quick['took']:.1f} ms handler was styled busy"

    slow = page.evaluate(CLICK, [VIEW, "slow"])
    assert slow["busyAtOnce"]
    assert slow["shown"], "a 600 ms handler was never styled busy"
    button = root.locator('[data-nb-handler="slow"]')
    expect(root).not_to_contain_class("nbstate-busy-shown")
    expect(button).not_to_have_attribute("aria-busy", "true")
    assert button.evaluate("(el) => getComputedStyle(el).opacity") == "1"
    screenshot(page, "busy-voila")

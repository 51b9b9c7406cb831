"""The default view's busy marks in a real browser: set at once, styled only for slow handlers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

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
        await asyncio.sleep(1.0)
        self.done += 1


ns.show(Work)
"""

VIEW = '.nbstate-view[data-nb-path="work"]'

# Click `name`'s button and wait until the view saw the handler end (the root loses
# `.nbstate-busy`). Resolve with how long that took (`took`), when the root got
# `.nbstate-busy-shown` (`shownAt`, null if never; both ms after the click) and the button's
# opacity then, whether the button was aria-busy at once and no longer at the end, and whether
# `label` then showed the next value.
CLICK = """async ([view, name]) => {
    const root = document.querySelector(view);
    const button = root.querySelector(`[data-nb-handler="${name}"]`);
    const label = root.querySelector('[data-nb-var="label"]');
    const before = label.textContent;
    let shownAt = null;
    let shownOpacity = null;
    let ended;
    const end = new Promise((resolve) => { ended = resolve; });
    const watch = new MutationObserver(() => {
        const now = performance.now() - start;
        if (shownAt === null && root.classList.contains('nbstate-busy-shown')) {
            shownAt = now;
            shownOpacity = getComputedStyle(button).opacity;
        }
        if (!root.classList.contains('nbstate-busy')) ended(now);
    });
    watch.observe(root, { attributes: true, attributeFilter: ['class'] });
    const start = performance.now();
    button.click();
    const busyAtOnce = button.getAttribute('aria-busy') === 'true'
        && button.dataset.nbRunning === 'true';
    const took = await end;
    watch.disconnect();
    return { took, shownAt, shownOpacity, busyAtOnce, cleared: !button.hasAttribute('aria-busy'),
             changed: label.textContent !== before };
}"""

DELAY_MS = 100  # BUSY_STYLE_DELAY_MS in js/src/view/default_view.ts
SLOW_S = 1.0  # Work.slow's sleep: far past the delay, even for a late timer on a loaded machine
QUICK_TRIES = 10  # a Voila round trip takes a few ms; on a loaded machine some may pass the delay


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

    quick: list[dict[str, Any]] = []
    for _ in range(QUICK_TRIES):
        quick.append(page.evaluate(CLICK, [VIEW, "quick"]))
        if quick[-1]["took"] < DELAY_MS:
            break
    for click in quick:
        assert click["busyAtOnce"], "the button was not marked busy when its event was sent"
        assert click["cleared"] and click["changed"], click
        # a handler is styled busy only once it has run for the delay, however long it runs
        assert click["shownAt"] is None or click["shownAt"] >= DELAY_MS - 1, click
    answered = quick[-1]
    assert answered["took"] < DELAY_MS, (
        f"no quick handler answered within {DELAY_MS} ms in {QUICK_TRIES} tries: {quick}")
    assert answered["shownAt"] is None, f"a {answered['took']:.1f} ms handler was styled busy"

    slow = page.evaluate(CLICK, [VIEW, "slow"])
    assert slow["busyAtOnce"]
    assert slow["took"] >= SLOW_S * 1000
    assert slow["shownAt"] is not None, f"a {slow['took']:.0f} ms handler was never styled busy"
    assert DELAY_MS - 1 <= slow["shownAt"] < slow["took"], slow
    assert slow["shownOpacity"] == "0.6", "the running button was not dimmed"
    assert slow["cleared"] and slow["changed"], slow
    button = root.locator('[data-nb-handler="slow"]')
    expect(root).not_to_contain_class("nbstate-busy-shown")
    expect(button).not_to_have_attribute("aria-busy", "true")
    assert button.evaluate("(el) => getComputedStyle(el).opacity") == "1"
    screenshot(page, "busy-voila")

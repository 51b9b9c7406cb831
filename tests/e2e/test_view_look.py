"""How the default view looks and reads: screenshots in light and dark themes, and axe-core.

For the todo notebook and the shop (a var of every kind), in JupyterLab (its Light and Dark
themes) and Voila (``?theme=dark``): a screenshot of each view in each theme, kept in
``tests/e2e/output/<test>/``, and axe-core run in the page over the views, which must have no
serious or critical violation (every violation found is kept beside the screenshots as JSON).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, ViewportSize, expect

from . import harness
from .test_view import RENDERED_MS, SHOP_VIEW, SUMMARY, _shop, _todo, use_todo
from .view_page import (
    accessibility_violations,
    lab_theme,
    open_in_lab,
    record_violations,
    serious,
    view_screenshot,
)

pytestmark = pytest.mark.browser

TODO_VIEW = '.nbstate-view[data-nb-path="todo"]'
TALL: ViewportSize = {"width": 1280, "height": 2000}  # whole views in one screenshot


def _look(page: Page, selector: str, out_dir: Path, name: str) -> list[str]:
    """Screenshot the view; return axe-core's serious and critical violations in it."""
    expect(page.locator(selector).first).to_be_visible()
    page.evaluate("() => document.activeElement?.blur()")  # no focus ring in the picture
    view_screenshot(page, selector, out_dir, name)
    found = accessibility_violations(page, selector)
    record_violations(out_dir, name, found)
    return [f"{name}: {v['id']} ({v['impact']}): {v['help']}: {v['nodes']}" for v in serious(found)]


def _shop_ready(page: Page) -> None:
    expect(page.locator(f'{SHOP_VIEW} [data-nb-var="summary"]')).to_have_text(
        SUMMARY, timeout=RENDERED_MS)


def test_look_in_jupyterlab(lab: Callable[..., harness.Server], page: Page, tmp_path: Path,
                            output_dir: Path) -> None:
    root = _todo(tmp_path)
    _shop(root)
    server = lab(root)
    page.set_viewport_size(TALL)
    problems: list[str] = []

    open_in_lab(page, server, "todo.ipynb")
    use_todo(page)
    lab_theme(page, dark=False)
    problems += _look(page, TODO_VIEW, output_dir, "todo-jupyterlab-light")
    lab_theme(page, dark=True)
    problems += _look(page, TODO_VIEW, output_dir, "todo-jupyterlab-dark")

    open_in_lab(page, server, "shop.ipynb")
    _shop_ready(page)
    problems += _look(page, SHOP_VIEW, output_dir, "shop-jupyterlab-dark")
    lab_theme(page, dark=False)
    problems += _look(page, SHOP_VIEW, output_dir, "shop-jupyterlab-light")
    assert problems == []


def test_look_in_voila(voila: Callable[..., harness.Server], new_page: Callable[[], Page],
                       tmp_path: Path, output_dir: Path) -> None:
    todo = voila(_todo(tmp_path) / "todo.ipynb")
    shop = voila(_shop(tmp_path))
    problems: list[str] = []
    for theme in ("light", "dark"):
        query = "?theme=dark" if theme == "dark" else ""
        page = new_page()
        page.set_viewport_size(TALL)
        page.goto(todo.url + query)  # each visit is a fresh kernel
        use_todo(page)
        problems += _look(page, TODO_VIEW, output_dir, f"todo-voila-{theme}")
        page.goto(shop.url + query)
        _shop_ready(page)
        problems += _look(page, SHOP_VIEW, output_dir, f"shop-voila-{theme}")
        assert page.evaluate("() => document.body.dataset.jpThemeLight") == str(
            theme == "light").lower()
    assert problems == []

    # the check can fail: an input with no name, put in the view, is found
    page.locator(SHOP_VIEW).evaluate("(view) => view.append(document.createElement('input'))")
    found = accessibility_violations(page, SHOP_VIEW)
    assert [v["id"] for v in serious(found)] == ["label"], found

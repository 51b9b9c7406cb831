"""nbstate in the other places notebooks open: marimo edit and run (two visitors at once),
ipywidgets containers in JupyterLab and Notebook 7, and nbconvert's HTML opened from a file."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest
from playwright.sync_api import Page, Route, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from . import harness
from .test_apps import NOTEBOOK7_SHORTCUTS_RACE, _copy_notebooks, _use_todo

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
TODO_VIEW = '.nbstate-view[data-nb-path="todo"]'


def _marimo_app(tmp_path: Path) -> Path:
    app = tmp_path / "app" / "todo_marimo.py"
    app.parent.mkdir()
    shutil.copy(ROOT / "notebooks" / "todo_marimo.py", app)
    return app


def _add(page: Page, item: str, count: int) -> None:
    """Type a draft and add it through the default view; the yield's "saving…" must show."""
    todo = page.locator(TODO_VIEW).first
    # on the element itself: marimo renders views in a shadow root, out of querySelector's reach
    todo.locator('[data-nb-var="status"]').first.evaluate(WATCH_STATUS_OF)
    todo.locator('input[data-nb-var="draft"]').first.fill(item)
    todo.locator('[data-nb-handler="add"]').first.click()
    expect(todo.locator('[data-nb-var="status"]').first).to_contain_text(f"{count} item(s)")
    assert "saving…" in page.evaluate("window.__statusSeen"), "the yield's delta never showed"


WATCH_STATUS_OF = """(el) => {
    window.__statusSeen = [];
    const record = () => window.__statusSeen.push(el.textContent.trim());
    new MutationObserver(record).observe(el, {subtree: true, childList: true, characterData: true});
    record();
}"""


def _items(page: Page) -> list[str]:
    return page.locator(f'{TODO_VIEW} [data-nb-var="items"] .nbstate-item').all_text_contents()


def _poke(page: Page) -> None:
    """The app's marimo button appends to the list from kernel code outside any handler."""
    page.get_by_role("button", name="poke").click()


def test_todo_in_marimo_edit(marimo: Callable[..., harness.Server], page: Page,
                             screenshot: Callable[[Page, str], Path], tmp_path: Path) -> None:
    server = marimo(_marimo_app(tmp_path), "edit")
    page.goto(server.url + server.notebook_route)
    # "run all stale cells"; a click before the kernel is connected does nothing, so retry
    view = page.locator(TODO_VIEW).first
    for _ in range(6):
        page.locator('[data-testid="run-button"]').last.click()
        try:
            view.wait_for(timeout=10_000)
            break
        except PlaywrightTimeoutError:
            continue
    expect(view).to_be_visible()
    expect(page.locator(f"{TODO_VIEW} .nbstate-title")).to_have_count(1)  # shown once
    _add(page, "buy milk", 1)
    expect(page.locator(f'{TODO_VIEW} [data-nb-var="draft"]').first).to_have_value("")
    _poke(page)
    expect(page.locator(f'{TODO_VIEW} [data-nb-var="items"] .nbstate-item')).to_have_text(
        ["buy milk", "from the kernel"])
    screenshot(page, "todo-marimo-edit")


def test_two_marimo_run_visitors_have_their_own_sessions(
        marimo: Callable[..., harness.Server], new_page: Callable[[], Page],
        screenshot: Callable[[Page, str], Path], tmp_path: Path) -> None:
    server = marimo(_marimo_app(tmp_path), "run")
    first, second = new_page(), new_page()
    for page in (first, second):
        page.goto(server.url)
        expect(page.locator(TODO_VIEW).first).to_be_visible(timeout=60_000)
    _add(first, "first's item", 1)
    _add(second, "second's item", 1)
    _poke(second)
    expect(second.locator(f'{TODO_VIEW} [data-nb-var="items"] .nbstate-item')).to_have_text(
        ["second's item", "from the kernel"])
    assert _items(first) == ["first's item"]
    # a third visitor starts from the defaults, not from anyone's list
    third = new_page()
    third.goto(server.url)
    expect(third.locator(f'{TODO_VIEW} [data-nb-var="status"]').first).to_contain_text(
        "0 item(s)", timeout=60_000)
    assert _items(third) == []
    screenshot(first, "marimo-run-first")
    screenshot(second, "marimo-run-second")


def _boxed_notebook(root: Path) -> str:
    """todo.ipynb with its `ns.show(Todo)` cell replaced by the view inside an ipywidgets box."""
    nb = nbformat.read(root / "todo.ipynb", as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.source.strip() == "ns.show(Todo)":
            cell.source = ("import ipywidgets\n"
                           "ipywidgets.VBox([ipywidgets.HTML('<b>boxed</b>'), "
                           "ns.show(Todo, display=False)])")
            break
    else:
        raise AssertionError("todo.ipynb has no `ns.show(Todo)` cell")
    nbformat.write(nb, root / "boxed.ipynb")
    return "boxed.ipynb"


@pytest.mark.allow_page_errors  # only Notebook 7's own start-up race; checked below
@pytest.mark.parametrize("app", ["lab", "notebook7"])
def test_todo_inside_an_ipywidgets_box(
        app: str, request: pytest.FixtureRequest, page: Page,
        screenshot: Callable[[Page, str], Path], tmp_path: Path) -> None:
    root = _copy_notebooks(tmp_path)
    server = request.getfixturevalue(app)(root)
    harness.open_notebook(page, server, _boxed_notebook(root))
    harness.run_all_cells(page)
    expect(page.locator(".widget-vbox").first).to_contain_text("boxed", timeout=30_000)
    expect(page.locator(f".widget-vbox {TODO_VIEW}").first).to_be_visible()
    _use_todo(page)
    screenshot(page, f"todo-boxed-{app}")
    assert harness.kernel_value(page, "ns.get_state(Todo).items") == "['buy milk', 'call mom']"
    errors = harness.record_of(page).errors
    assert [e for e in errors if not NOTEBOOK7_SHORTCUTS_RACE.match(e)] == [], errors


# What nbconvert's HTML fetches from CDNs, served from the same packages installed here.
NODE_MODULES = ROOT / "js" / "node_modules"
CDN = {
    "/@jupyter-widgets/html-manager@":
        NODE_MODULES / "@jupyter-widgets/html-manager/dist/embed-amd.js",
    "/require.js/": NODE_MODULES / "requirejs/require.js",
    "/anywidget@": Path(sys.prefix) / "share/jupyter/nbextensions/anywidget/index.js",
}


def _serve_cdn(route: Route) -> None:
    url = route.request.url
    for marker, path in CDN.items():
        if marker in url and url.endswith(".js"):
            route.fulfill(path=str(path), content_type="text/javascript")
            return
    route.abort()


def test_html_export_shows_the_last_values_without_a_kernel(
        page: Page, screenshot: Callable[[Page, str], Path], tmp_path: Path) -> None:
    for path in CDN.values():
        assert path.is_file(), f"{path} is missing (cd js && npm ci; pip install anywidget)"
    root = _copy_notebooks(tmp_path)
    nb = nbformat.read(root / "todo.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(
        'todo.items.extend(["saved", "for later"])\ntodo.draft = "unsent"'))
    nbformat.write(nb, root / "todo.ipynb")
    subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "html", "--execute",
                    str(root / "todo.ipynb")], check=True, cwd=root, capture_output=True)
    html = root / "todo.html"
    state = json.loads(html.read_text().split(
        '<script type="application/vnd.jupyter.widget-state+json">')[1].split("</script>")[0])
    runtimes = [m for m in state["state"].values() if "source" in m["state"]]
    assert len(runtimes) == 1, "the runtime is saved once per page, not once per state"
    page.context.unroute("https://**/*")
    page.context.route("https://**/*", _serve_cdn)
    page.goto(html.as_uri())
    todo = page.locator(TODO_VIEW).first
    expect(todo).to_be_visible(timeout=30_000)
    expect(todo.locator('[data-nb-var="items"] .nbstate-item')).to_have_text(["saved", "for later"])
    expect(todo.locator('input[data-nb-var="draft"]').first).to_have_value("unsent")
    expect(todo.locator('[data-nb-var="status"]').first).to_contain_text("2 item(s)")
    note = page.locator(".nbstate-offline").first
    expect(note).to_contain_text("kernel is not connected", timeout=10_000)
    expect(todo.locator('input[data-nb-var="draft"]').first).to_be_disabled()
    expect(todo.locator('[data-nb-handler="add"]').first).to_be_disabled()
    assert "Loading nbstate" not in page.locator("body").inner_text()
    screenshot(page, "todo-html-export")

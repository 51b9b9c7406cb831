"""Outputs in real JupyterLab, Voila and ``nbstate serve``, in Debian's Chromium: the sales
notebook's chart, table and Markdown summary follow the slider and the select; nbconvert's HTML
shows them without a kernel.

Screenshots of each host go to ``tests/e2e/output/<test>/``.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import nbformat
import pytest
from playwright.sync_api import Page, expect

from . import harness
from .test_hosts import _serve_cdn
from .view_page import open_in_lab, view_screenshot

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
SALES = '.nbstate-view[data-nb-path="sales"]'
SUMMARY = '[data-nb-path="output-summary"] [data-nb-output="summary"]'
RENDERED_MS = 30_000
PNG = re.compile(r"^data:image/png;base64,iVBORw0KGgo")


def _root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    root.mkdir()
    shutil.copy(REPO / "notebooks" / "sales.ipynb", root / "sales.ipynb")
    return root


def use_sales(page: Page, out_dir: Path, host: str, *, summary: bool = True) -> None:
    """Move the slider and pick a region; the chart, the table and the summary follow."""
    sales = page.locator(SALES).first
    chart = sales.locator('[data-nb-output="chart"] img')
    expect(chart).to_have_attribute("src", PNG, timeout=RENDERED_MS)
    first = chart.get_attribute("src")
    table = sales.locator('[data-nb-output="table"] table')
    expect(table.locator("tbody tr")).to_have_count(6)
    expect(table.locator("tbody tr").last.locator("th")).to_have_text("12")
    text = page.locator(SUMMARY)
    if summary:
        expect(text.locator("strong")).to_have_text("north")
        expect(text).to_contain_text("over 12 months")
    view_screenshot(page, SALES, out_dir, f"{host}-sales-12-months")

    slider = sales.locator('.nbstate-range input[type="range"]')
    slider.fill("20")
    expect(chart).not_to_have_attribute("src", first or "", timeout=10_000)
    expect(chart).to_have_attribute("src", PNG)
    expect(table.locator("tbody tr").last.locator("th")).to_have_text("20")
    if summary:
        expect(text).to_contain_text("over 20 months")
    sales.locator('select[data-nb-var="region"]').select_option("south")
    if summary:
        expect(text.locator("strong")).to_have_text("south")
    expect(sales.locator('[data-nb-output="chart"] [role="alert"]')).to_have_count(0)
    view_screenshot(page, SALES, out_dir, f"{host}-sales-south-20-months")
    if summary:
        view_screenshot(page, SUMMARY, out_dir, f"{host}-summary")

    # back where it started: the very same image, so the chart shows the final value
    sales.locator('select[data-nb-var="region"]').select_option("north")
    slider.fill("12")
    expect(chart).to_have_attribute("src", first or "", timeout=10_000)
    if summary:
        expect(text).to_contain_text("over 12 months")


def test_sales_in_voila(voila: Callable[..., harness.Server], page: Page, tmp_path: Path,
                        output_dir: Path) -> None:
    page.goto(voila(_root(tmp_path) / "sales.ipynb").url)
    use_sales(page, output_dir, "voila")


def test_sales_in_jupyterlab(lab: Callable[..., harness.Server], page: Page, tmp_path: Path,
                             output_dir: Path) -> None:
    open_in_lab(page, lab(_root(tmp_path)), "sales.ipynb")
    use_sales(page, output_dir, "lab")
    assert harness.kernel_value(page, "import matplotlib.pyplot as _plt\n_plt.get_fignums()") \
        == "[]"


@contextlib.contextmanager
def _serve(log: Path) -> Iterator[harness.Server]:
    port = harness.free_port()
    argv = [sys.executable, "-m", "nbstate", "serve", "notebooks/sales.ipynb:Sales", "--port",
            str(port)]
    with harness._serve("nbstate serve", argv, port=port, probe_path="_nbstate/runtime.js",
                        cwd=REPO, env={**os.environ, "PYTHONUNBUFFERED": "1"},
                        log_path=log, timeout=60) as server:
        yield server


def test_sales_served_over_the_websocket_adapter(page: Page, output_dir: Path) -> None:
    with _serve(output_dir / "server.log") as server:
        page.goto(server.url)
        use_sales(page, output_dir, "served", summary=False)


MARIMO_APP = '''\
import marimo

app = marimo.App()


@app.cell
def _():
    import nbstate as ns

    CODE
    return Sales, ns, summary


@app.cell
def _(Sales, ns):
    ns.show(Sales)
    return


@app.cell
def _(ns, summary):
    ns.show(summary)
    return
'''


def _marimo_app(tmp_path: Path) -> Path:
    """The sales notebook's code as a marimo app: one cell of definitions, one per view."""
    nb = nbformat.read(REPO / "notebooks" / "sales.ipynb", as_version=4)
    code = "\n\n".join(c.source for c in nb.cells if c.cell_type == "code")
    code = "\n".join(line for line in code.splitlines()
                     if line.strip() not in ("ns.show(Sales)", "summary", "import nbstate as ns"))
    app = tmp_path / "app" / "sales_marimo.py"
    app.parent.mkdir()
    app.write_text(MARIMO_APP.replace("CODE", textwrap.indent(code, "    ").strip()))
    return app


def test_sales_in_marimo_run(marimo: Callable[..., harness.Server], page: Page,
                             tmp_path: Path, output_dir: Path) -> None:
    page.goto(marimo(_marimo_app(tmp_path), "run").url)
    use_sales(page, output_dir, "marimo")


def test_html_export_shows_the_outputs_without_a_kernel(page: Page, tmp_path: Path,
                                                        output_dir: Path) -> None:
    root = _root(tmp_path)
    nb = nbformat.read(root / "sales.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell('ns.get_state(Sales).region = "east"'))
    nbformat.write(nb, root / "sales.ipynb")
    subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "html", "--execute",
                    str(root / "sales.ipynb")], check=True, cwd=root, capture_output=True)
    page.context.unroute("https://**/*")
    page.context.route("https://**/*", _serve_cdn)
    page.goto((root / "sales.html").as_uri())
    sales = page.locator(SALES).first
    expect(sales.locator('[data-nb-output="chart"] img')).to_have_attribute(
        "src", PNG, timeout=30_000)
    expect(sales.locator('[data-nb-output="table"] table tbody tr')).to_have_count(6)
    expect(page.locator(SUMMARY).locator("strong")).to_have_text("east")
    view_screenshot(page, SALES, output_dir, "html-export-sales")

"""Driving the default view in a real page: JupyterLab's theme, axe-core, screenshots."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

from . import harness

AXE = Path(__file__).resolve().parents[2] / "js" / "node_modules" / "axe-core" / "axe.min.js"

_AXE_RUN = """async (selector) => {
    const result = await window.axe.run({ include: [[selector]] }, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({
        id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.map((n) => `${n.target.join(' ')}: ${n.failureSummary}`),
    }));
}"""

_LAB_THEME = """async (theme) => {
    await window.jupyterapp.commands.execute('apputils:change-theme', { theme });
}"""


def open_in_lab(page: Page, server: harness.Server, notebook: str) -> None:
    """Open ``notebook`` in JupyterLab and run all its cells."""
    harness.open_notebook(page, server, notebook)
    harness.run_all_cells(page)


def lab_theme(page: Page, dark: bool) -> None:
    """Switch JupyterLab's theme and wait until the page has it."""
    page.evaluate(_LAB_THEME, "JupyterLab Dark" if dark else "JupyterLab Light")
    page.wait_for_selector(f"body[data-jp-theme-light={'false' if dark else 'true'}]",
                           state="attached")


def accessibility_violations(page: Page, selector: str) -> list[dict[str, Any]]:
    """axe-core's violations inside ``selector`` (every element it matches), run in the page.

    axe-core comes from ``js/node_modules`` (``cd js && npm ci``), injected into the page.
    """
    if not AXE.exists():
        raise RuntimeError(f"{AXE} is missing: run `cd js && npm ci`")
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE))
    found: list[dict[str, Any]] = page.evaluate(_AXE_RUN, selector)
    return found


def serious(violations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [v for v in violations if v["impact"] in ("serious", "critical")]


def view_screenshot(page: Page, selector: str, out_dir: Path, name: str) -> Path:
    """A PNG of the element ``selector`` (the whole view, scrolled into sight)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{harness.safe_name(name)}.png"
    page.locator(selector).first.screenshot(path=str(path), animations="disabled")
    return path


def record_violations(out_dir: Path, name: str, violations: list[dict[str, Any]]) -> None:
    """Keep every violation (minor ones too) beside the screenshots."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"axe-{harness.safe_name(name)}.json").write_text(json.dumps(violations, indent=1))

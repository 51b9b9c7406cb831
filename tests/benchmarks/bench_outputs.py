"""Outputs benchmark: a slider change → the new chart PNG in the page, nbstate against
``ipywidgets.interact``, in real Voila (and JupyterLab with ``--lab``) in Debian's Chromium.

Run: ``python tests/benchmarks/bench_outputs.py [--n 40] [--lab]`` (needs
``pip install -e ".[test]"`` and Debian's chromium). One notebook holds both versions of the
same matplotlib chart (the same drawing function, ``figsize=(6, 3)``):

- nbstate: ``Sales`` with ``@ns.output def chart`` and its default view (a range slider);
- interact: ``ipywidgets.interact(show_chart, region=[...], months=IntSlider(...))``, the
  figure shown by ``plt.show()`` in interact's output widget (its defaults:
  ``continuous_update=True``, one re-run per value the kernel receives; the ipywidgets frontend
  keeps one update in flight and sends only the latest value after it).

Two figures, measured in the same page, in turns:

1. **latency**: one slider step (nbstate: the range input's ``input`` and ``change`` events;
   interact: an arrow key on the slider handle, which moves it one step) → the page shows a
   new PNG. Steps are ``PAUSE_MS`` apart, longer than nbstate's ``min_interval``, so this is
   the plain round trip.
2. **a 100-step drag**: 100 slider values, one every ``DRAG_STEP_MS`` (a 60 Hz drag), back and
   forth (nbstate: ``input`` events, ``change`` on the last; interact: arrow keys); counted
   are the PNGs that reach the page until it is still for ``SETTLE_MS``, and the
   time from the last step to the last PNG (how far the chart lags behind the hand).

Prints medians, p95s and the ratios nbstate/interact.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import nbformat
from playwright.sync_api import Page, sync_playwright

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.e2e import harness  # noqa: E402

OUTPUT = Path(__file__).resolve().parent / "output" / "bench_outputs"

SETUP = '''\
import math
from typing import Annotated, Literal

import matplotlib.pyplot as plt
from pydantic import Field

import nbstate as ns


def load(region):
    base, phase = {"north": (120.0, 0.0), "south": (90.0, 1.5)}[region]
    return [base + 25 * math.sin(m / 1.9 + phase) + 2.5 * m for m in range(24)]


def draw(region, months):
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.plot(range(1, months + 1), load(region)[:months], marker="o")
    ax.set_title(f"{region}, {months} months")
    return fig
'''

NBSTATE = '''\
class Sales(ns.State):
    region: Literal["north", "south"] = "north"
    months: Annotated[int, Field(ge=2, le=24)] = 12

    @ns.output
    def chart(self):
        return draw(self.region, self.months)


ns.show(Sales)
'''

INTERACT = '''\
import ipywidgets as widgets


def show_chart(region="north", months=12):
    draw(region, months)
    plt.show()


shown = widgets.interact(show_chart, region=["north", "south"],
                         months=widgets.IntSlider(value=12, min=2, max=24))
shown.widget.add_class("bench-interact")
'''

NB_ROOT = '.nbstate-view[data-nb-path="sales"]'
NB_OUT = f'{NB_ROOT} [data-nb-output="chart"]'
IA_ROOT = ".bench-interact"
IA_OUT = f"{IA_ROOT} .widget-output"

# In the page: `step(value)` moves the widget's slider to `value`; returns how.
STEPPERS = """
window.benchStep = {
  nbstate(value, release = true) {
    const range = document.querySelector('NB_ROOT .nbstate-range input[type=range]');
    range.value = String(value);
    range.dispatchEvent(new Event("input", { bubbles: true }));
    if (release) range.dispatchEvent(new Event("change", { bubbles: true }));
  },
  interact(value) {
    const handle = document.querySelector('IA_ROOT .noUi-handle');
    const now = Number(handle.getAttribute("aria-valuenow"));
    const key = value > now ? "ArrowRight" : "ArrowLeft";
    for (let i = 0; i < Math.abs(value - now); i++) {
      handle.dispatchEvent(new KeyboardEvent("keydown", { key, bubbles: true }));
    }
  },
};
window.benchImage = (sel) => {
  const img = document.querySelector(`${sel} img`);
  return img ? img.getAttribute("src") : null;
};
""".replace("NB_ROOT", NB_ROOT).replace("IA_ROOT", IA_ROOT)

LATENCY = """async ([widget, out, values, pauseMs, timeoutMs]) => {
    const times = [];
    for (const value of values) {
        const container = document.querySelector(out);
        const before = window.benchImage(out);
        let observer, timer;
        const changed = new Promise((resolve, reject) => {
            observer = new MutationObserver(() => {
                const now = window.benchImage(out);
                if (now && now !== before) resolve(performance.now());
            });
            observer.observe(container, { subtree: true, childList: true, attributes: true });
            timer = setTimeout(() => reject(new Error(`no new PNG in ${out}`)), timeoutMs);
        });
        const start = performance.now();
        try {
            window.benchStep[widget](value);
            times.push((await changed) - start);
        } finally {
            observer.disconnect();
            clearTimeout(timer);
        }
        await new Promise((r) => setTimeout(r, pauseMs));
    }
    return times;
}"""

DRAG = """async ([widget, out, values, stepMs, settleMs]) => {
    const container = document.querySelector(out);
    let last = window.benchImage(out);
    let renders = 0, lastAt = 0;
    const observer = new MutationObserver(() => {
        const now = window.benchImage(out);
        if (now && now !== last) { renders += 1; last = now; lastAt = performance.now(); }
    });
    observer.observe(container, { subtree: true, childList: true, attributes: true });
    const start = performance.now();
    for (let i = 0; i < values.length; i++) {
        // a drag: the range input's `input` events, and its `change` on release
        window.benchStep[widget](values[i], i === values.length - 1);
        await new Promise((r) => setTimeout(r, stepMs));
    }
    const dragged = performance.now();
    while (performance.now() - Math.max(lastAt, dragged) < settleMs) {
        await new Promise((r) => setTimeout(r, 20));
    }
    observer.disconnect();
    return { renders, drag_ms: dragged - start, lag_ms: Math.max(0, lastAt - dragged) };
}"""

PAUSE_MS = 250
DRAG_STEP_MS = 16
SETTLE_MS = 1500
TIMEOUT_MS = 20_000
WIDGETS = {"nbstate": NB_OUT, "interact": IA_OUT}


def write_notebook(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in (SETUP, NBSTATE, INTERACT)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    path = directory / "bench_outputs.ipynb"
    nbformat.write(nb, path)
    return path


def open_app(page: Page, kind: str, server: harness.Server) -> None:
    if kind == "lab":
        harness.open_notebook(page, server, "bench_outputs.ipynb")
        harness.run_all_cells(page)
    else:
        page.goto(server.url)
    for out in WIDGETS.values():
        page.wait_for_selector(f"{out} img", timeout=60_000, state="attached")
    page.wait_for_selector(f"{IA_ROOT} .noUi-handle", timeout=60_000, state="attached")
    page.evaluate(STEPPERS)


def steps(n: int) -> list[int]:
    """``n`` slider values, one step apart, back and forth between 12 and 13 (latency)."""
    return [13 if i % 2 == 0 else 12 for i in range(n)]


def drag_values(n: int = 100) -> list[int]:
    """``n`` values of a drag from 12 up to 24, down to 2 and up again, one step apart."""
    values, value, up = [], 12, True
    for _ in range(n):
        if value == 24:
            up = False
        elif value == 2:
            up = True
        value += 1 if up else -1
        values.append(value)
    return values


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def reset(page: Page, widget: str) -> None:
    """Back to 12 and still, so every measurement starts alike."""
    page.evaluate("([w]) => window.benchStep[w](12)", [widget])
    page.wait_for_timeout(SETTLE_MS)


def run(kinds: list[str], n: int, block: int, drags: int) -> dict[str, dict[str, Any]]:
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw, ExitStack() as stack:
        browser = harness.launch_browser(pw)
        stack.callback(browser.close)
        for kind in kinds:
            base = Path(tmp) / kind
            notebook = write_notebook(base / "root")
            state = base / "state"
            state.mkdir()
            log = base / "server.log"
            server = stack.enter_context(
                harness.jupyter_lab(notebook.parent, state, log) if kind == "lab"
                else harness.voila(notebook, state, log))
            page = harness.new_page(browser, timeout_ms=60_000)
            try:
                open_app(page, kind, server)
                results[kind] = measure(page, n, block, drags)
            except Exception:
                harness.screenshot(page, OUTPUT, kind)
                OUTPUT.mkdir(parents=True, exist_ok=True)
                (OUTPUT / f"{kind}.server.log").write_text(server.log())
                print(f"{kind} failed; evidence in {OUTPUT}", file=sys.stderr)
                raise
            harness.screenshot(page, OUTPUT, f"{kind}-end")
    return results


def measure(page: Page, n: int, block: int, drags: int) -> dict[str, Any]:
    times: dict[str, list[float]] = {w: [] for w in WIDGETS}
    dragged: dict[str, list[dict[str, float]]] = {w: [] for w in WIDGETS}
    for widget, out in WIDGETS.items():  # warm-up
        page.evaluate(LATENCY, [widget, out, steps(4), PAUSE_MS, TIMEOUT_MS])
    for index in range(math.ceil(n / block)):
        order = list(WIDGETS) if index % 2 == 0 else list(reversed(WIDGETS))
        for widget in order:
            size = min(block, n - index * block)
            times[widget] += page.evaluate(
                LATENCY, [widget, WIDGETS[widget], steps(size), PAUSE_MS, TIMEOUT_MS])
    for index in range(drags):
        order = list(WIDGETS) if index % 2 == 0 else list(reversed(WIDGETS))
        for widget in order:
            reset(page, widget)
            dragged[widget].append(page.evaluate(
                DRAG, [widget, WIDGETS[widget], drag_values(), DRAG_STEP_MS, SETTLE_MS]))
    errors = harness.record_of(page).errors
    if errors:
        print(f"warning: page errors: {errors}", file=sys.stderr)
    return {"times": times, "drags": dragged}


def report(results: dict[str, dict[str, Any]], n: int, seconds: float) -> None:
    print(f"outputs: slider step → new PNG in the page (n={n} each, {seconds:.0f} s, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f})")
    for kind, result in results.items():
        times, drags = result["times"], result["drags"]
        print(f"  {kind}")
        print(f"    {'widget':9s} {'median ms':>9s} {'p95 ms':>8s} {'renders/100-step drag':>22s} "
              f"{'lag after drag ms':>18s}")
        med, renders, lags = {}, {}, {}
        for widget in WIDGETS:
            med[widget] = statistics.median(times[widget])
            renders[widget] = statistics.median(d["renders"] for d in drags[widget])
            lags[widget] = statistics.median(d["lag_ms"] for d in drags[widget])
            drag_ms = statistics.median(d["drag_ms"] for d in drags[widget])
            print(f"    {widget:9s} {med[widget]:9.1f} {p95(times[widget]):8.1f} "
                  f"{renders[widget]:22.0f} {lags[widget]:18.0f}   (drag took {drag_ms:.0f} ms)")
        print(f"    ratios nbstate / interact: latency {med['nbstate'] / med['interact']:.2f}, "
              f"renders per drag {renders['nbstate'] / max(renders['interact'], 1):.2f}, "
              f"lag after the drag {lags['nbstate'] / max(lags['interact'], 1):.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=40, help="slider steps per latency figure")
    parser.add_argument("--block", type=int, default=10, help="steps per turn")
    parser.add_argument("--drags", type=int, default=3, help="100-step drags per widget")
    parser.add_argument("--lab", action="store_true", help="also measure in JupyterLab")
    args = parser.parse_args()
    kinds = ["voila", "lab"] if args.lab else ["voila"]
    started = time.monotonic()
    results = run(kinds, args.n, args.block, args.drags)
    report(results, args.n, time.monotonic() - started)


if __name__ == "__main__":
    main()

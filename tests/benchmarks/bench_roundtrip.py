"""Browser round-trip benchmark: click → kernel → DOM updated, in JupyterLab and Voila.

Run: ``python tests/benchmarks/bench_roundtrip.py [--n 120] [--lab-no-subshells]`` (needs
``pip install -e ".[test]"`` and Debian's chromium). On 127.0.0.1 it measures, in one run and in
the same pages:

(a) a raw anywidget custom-message echo (click → ``model.send`` → the kernel echoes → the
    button's text changes) on stock servers (nbstate's TCP_NODELAY extension switched off);
(b) the same echo with the extension on (the default once nbstate is installed);
(c) an nbstate event with the extension on: click on the default view's handler button →
    handler runs in the kernel → delta → the computed var's text changes.

and prints medians, p95s and the ratios the targets are about: (c) ≤ 0.25×(a) and
(c) ≤ 1.5×(b), in JupyterLab and in Voila; plus nbstate against the raw echo in the same page.
``--lab-no-subshells`` adds a JupyterLab with the extension and comms over kernel subshells
turned off (``@jupyterlab/apputils-extension:kernels-settings`` ``commsOverSubshells``).

Robustness: every server runs at once, each with its own root and Jupyter directories, and the
clicks are taken in short blocks that rotate over servers and widgets, so a burst of load on
the machine (it matters on a 2-core box) lands on every figure alike instead of on one. Every
round trip has a timeout; a page that does not render or stops answering fails the run with a
screenshot, the page's console and the server log under ``tests/benchmarks/output/``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from playwright.sync_api import Browser, Page, sync_playwright

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.e2e import harness  # noqa: E402

OUTPUT = Path(__file__).resolve().parent / "output"

ECHO = '''\
import anywidget


class Echo(anywidget.AnyWidget):
    _esm = """
    export default {
      render({ model, el }) {
        const button = document.createElement("button");
        button.className = "echo-button";
        button.textContent = "echo 0";
        let sent = 0;
        model.on("msg:custom", (msg) => { button.textContent = `echo ${msg.n}`; });
        button.addEventListener("click", () => { sent += 1; model.send({ n: sent }); });
        el.append(button);
      },
    };
    """

    def __init__(self):
        super().__init__()
        self.on_msg(lambda widget, content, buffers: widget.send(content))


Echo()
'''

BENCH = '''\
import nbstate as ns


class Bench(ns.State):
    count: int = 0

    @ns.computed
    def label(self) -> str:
        return f"bumped {self.count} times"

    def bump(self):
        self.count += 1


ns.show(Bench)
'''

# Click `click`, resolve when `watch`'s text changes; `n` times, a short pause between. The
# elements are looked up on every click, so a view that re-renders is still measured, and a
# round trip that never shows rejects instead of hanging the run.
MEASURE = """async ([clickSel, watchSel, n, pauseMs, timeoutMs]) => {
    const times = [];
    for (let i = 0; i < n; i++) {
        const click = document.querySelector(clickSel);
        const watch = document.querySelector(watchSel);
        if (!click || !watch) throw new Error(`not on the page: ${click ? watchSel : clickSel}`);
        const before = watch.textContent;
        let observer;
        let timer;
        const changed = new Promise((resolve, reject) => {
            observer = new MutationObserver(() => {
                if (watch.textContent !== before) resolve(performance.now());
            });
            observer.observe(watch, { subtree: true, childList: true, characterData: true });
            const late = `no change of ${watchSel} within ${timeoutMs} ms of clicking ${clickSel}`;
            timer = setTimeout(() => reject(new Error(late)), timeoutMs);
        });
        const start = performance.now();
        try {
            click.click();
            times.push((await changed) - start);
        } finally {
            observer.disconnect();
            clearTimeout(timer);
        }
        await new Promise((r) => setTimeout(r, pauseMs));
    }
    return times;
}"""

PAUSE_MS = 30
TIMEOUT_MS = 10_000
WARMUP = 10

ECHO_SEL = (".echo-button", ".echo-button")
NB_SEL = ('.nbstate-view[data-nb-path="bench"] [data-nb-handler="bump"]',
          '.nbstate-view[data-nb-path="bench"] [data-nb-var="label"]')
WIDGETS = {"echo": ECHO_SEL, "nbstate": NB_SEL}


@dataclass(frozen=True)
class Config:
    """One server: ``kind`` is ``lab`` or ``voila``; ``label`` names it in the output."""

    label: str
    kind: str
    nodelay: bool
    subshells: bool = True


@dataclass
class Running:
    config: Config
    server: harness.Server
    page: Page
    times: dict[str, list[float]] = field(default_factory=lambda: {w: [] for w in WIDGETS})


def write_notebook(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(ECHO), nbformat.v4.new_code_cell(BENCH)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    path = directory / "bench.ipynb"
    nbformat.write(nb, path)
    return path


def start(config: Config, work: Path, stack: ExitStack) -> harness.Server:
    """Start ``config``'s server with its own root (two Labs on one file would fight over it)."""
    base = work / config.label
    notebook = write_notebook(base / "root")
    state = base / "state"
    state.mkdir()
    args = () if config.nodelay else ("--NbStateNoDelay.enabled=False",)
    if not config.subshells:
        settings = state / "lab-settings" / "@jupyterlab" / "apputils-extension"
        settings.mkdir(parents=True)
        (settings / "kernels-settings.jupyterlab-settings").write_text(
            json.dumps({"commsOverSubshells": "disabled"}))
    log = base / "server.log"
    if config.kind == "lab":
        return stack.enter_context(harness.jupyter_lab(notebook.parent, state, log,
                                                       extra_args=args))
    return stack.enter_context(harness.voila(notebook, state, log, extra_args=args))


def open_app(page: Page, kind: str, srv: harness.Server) -> None:
    if kind == "lab":
        harness.open_notebook(page, srv, "bench.ipynb")
        harness.run_all_cells(page)
    else:
        page.goto(srv.url)
    page.wait_for_selector(ECHO_SEL[0], timeout=60_000)
    page.wait_for_selector(NB_SEL[1], timeout=60_000)


def measure(page: Page, widget: str, n: int) -> list[float]:
    page.bring_to_front()
    times: list[float] = page.evaluate(MEASURE, [*WIDGETS[widget], n, PAUSE_MS, TIMEOUT_MS])
    return times


def keep_evidence(run: Running, error: BaseException) -> None:
    """Screenshot, console and server log of a failed page, while its server still runs."""
    out = OUTPUT / "bench_roundtrip"
    name = run.config.label
    try:
        harness.screenshot(run.page, out, name)
        harness.save_page_record(run.page, out, name)
    except Exception as exc:  # the page itself may be gone; the server log still helps
        print(f"  (no screenshot of {name}: {exc})", file=sys.stderr)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.server.log").write_text(run.server.log())
    print(f"{name} failed: {error}\n  evidence in {out}", file=sys.stderr)


def p95(values: list[float]) -> float:
    """Nearest-rank 95th percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def run(configs: list[Config], n: int, block: int) -> dict[str, Running]:
    runs: dict[str, Running] = {}
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw, ExitStack() as stack:
        work = Path(tmp)
        browser: Browser = harness.launch_browser(pw)
        stack.callback(browser.close)
        for config in configs:
            server = start(config, work, stack)
            page = harness.new_page(browser, timeout_ms=60_000)
            runs[config.label] = current = Running(config, server, page)
            try:
                open_app(page, config.kind, server)
                for widget in WIDGETS:
                    measure(page, widget, WARMUP)
            except Exception as exc:
                keep_evidence(current, exc)
                raise
        blocks = math.ceil(n / block)
        for index in range(blocks):
            size = min(block, n - index * block)
            # Rotate the order of servers and of the two widgets from block to block.
            shift = index % len(configs)
            for config in configs[shift:] + configs[:shift]:
                current = runs[config.label]
                order = list(WIDGETS) if index % 2 == 0 else list(reversed(WIDGETS))
                for widget in order:
                    try:
                        current.times[widget] += measure(current.page, widget, size)
                    except Exception as exc:
                        keep_evidence(current, exc)
                        raise
        for current in runs.values():
            errors = harness.record_of(current.page).errors
            if errors:
                print(f"warning: page errors in {current.config.label}: {errors}",
                      file=sys.stderr)
    return runs


def report(runs: dict[str, Running], n: int, seconds: float, loads: tuple[float, float]) -> None:
    print(f"round trips, ms: click → DOM changed (n={n} each, {seconds:.0f} s; "
          f"load average {loads[0]:.1f} before, {loads[1]:.1f} after, {os.cpu_count()} CPUs)")
    print(f"  {'server':18s} {'widget':8s} {'median':>7s} {'p95':>7s}")
    med: dict[tuple[str, str], float] = {}
    for label, current in runs.items():
        for widget, times in current.times.items():
            med[(label, widget)] = statistics.median(times)
            print(f"  {label:18s} {widget:8s} {med[(label, widget)]:7.2f} {p95(times):7.2f}")
    print("ratios of medians")

    def line(name: str, value: float, target: float) -> None:
        verdict = "ok" if value <= target else "MISSED"
        print(f"  {name:52s} {value:5.2f}  (target ≤ {target}: {verdict})")

    for kind in ("lab", "voila"):
        stock, ext = f"{kind} stock", f"{kind} nodelay"
        if (stock, "echo") not in med or (ext, "echo") not in med:
            continue
        a, b, c = med[(stock, "echo")], med[(ext, "echo")], med[(ext, "nbstate")]
        line(f"{kind}: (c) nbstate+ext / (a) echo stock", c / a, 0.25)
        line(f"{kind}: (c) nbstate+ext / (b) echo+ext", c / b, 1.5)
        line(f"{kind}: nbstate / echo in the same page, stock", med[(stock, "nbstate")] / a, 1.5)
    if ("lab nodelay nosub", "echo") in med:
        for widget in WIDGETS:
            ratio = med[("lab nodelay nosub", widget)] / med[("lab nodelay", widget)]
            print(f"  {'lab: ' + widget + ' without / with comms over subshells':52s} {ratio:5.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=120, help="round trips per figure")
    parser.add_argument("--block", type=int, default=10,
                        help="round trips per block before moving to the next server/widget")
    parser.add_argument("--lab-no-subshells", action="store_true",
                        help="also measure JupyterLab with comms over subshells disabled")
    args = parser.parse_args()
    configs = [
        Config("lab stock", "lab", nodelay=False),
        Config("lab nodelay", "lab", nodelay=True),
        Config("voila stock", "voila", nodelay=False),
        Config("voila nodelay", "voila", nodelay=True),
    ]
    if args.lab_no_subshells:
        configs.append(Config("lab nodelay nosub", "lab", nodelay=True, subshells=False))
    load_before = os.getloadavg()[0]
    started = time.monotonic()
    runs = run(configs, args.n, args.block)
    report(runs, args.n, time.monotonic() - started, (load_before, os.getloadavg()[0]))


if __name__ == "__main__":
    main()

"""Browser round-trip benchmark: click → kernel → DOM updated, in JupyterLab and Voila.

Run: ``python tests/benchmarks/bench_roundtrip.py [--n 60]`` (needs ``pip install -e ".[test]"``
and Debian's chromium). In one run, on 127.0.0.1, it measures in the same page:

(a) a raw anywidget custom-message echo (click → ``model.send`` → the kernel echoes → the
    button's text changes) on stock servers (nbstate's TCP_NODELAY extension switched off);
(b) the same echo with the extension on (the default once nbstate is installed);
(c) an nbstate event with the extension on: click on the default view's handler button →
    handler runs in the kernel → delta → the computed var's text changes.

and prints medians, p95s and the ratios the targets are about: (c) ≤ 0.25×(a) and
(c) ≤ 1.5×(b), in JupyterLab and in Voila; plus (c) on stock servers against (a), the
nbstate-against-raw-echo ratio in the same page.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import nbformat
from playwright.sync_api import Page, sync_playwright

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.e2e import harness  # noqa: E402

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

# Click `click`, resolve when `watch`'s text changes; `n` times, a short pause between.
MEASURE = """async ([clickSel, watchSel, n]) => {
    const click = document.querySelector(clickSel);
    const watch = document.querySelector(watchSel);
    const times = [];
    for (let i = 0; i < n; i++) {
        const before = watch.textContent;
        const changed = new Promise((resolve) => {
            const observer = new MutationObserver(() => {
                if (watch.textContent !== before) { observer.disconnect(); resolve(performance.now()); }
            });
            observer.observe(watch, { subtree: true, childList: true, characterData: true });
        });
        const start = performance.now();
        click.click();
        times.push((await changed) - start);
        await new Promise((r) => setTimeout(r, 30));
    }
    return times;
}"""

ECHO_SEL = (".echo-button", ".echo-button")
NB_SEL = ('.nbstate-view[data-nb-path="bench"] [data-nb-handler="bump"]',
          '.nbstate-view[data-nb-path="bench"] [data-nb-var="label"]')


def write_notebook(root: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(ECHO), nbformat.v4.new_code_cell(BENCH)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    path = root / "bench.ipynb"
    nbformat.write(nb, path)
    return path


@contextlib.contextmanager
def server(kind: str, nodelay: bool, work: Path) -> Iterator[harness.Server]:
    state = work / f"{kind}-{nodelay}"
    state.mkdir()
    args = () if nodelay else ("--NbStateNoDelay.enabled=False",)
    if kind == "lab":
        with harness.jupyter_lab(work, state, state / "server.log", extra_args=args) as s:
            yield s
    else:
        with harness.voila(work / "bench.ipynb", state, state / "server.log",
                           extra_args=args) as s:
            yield s


def open_app(page: Page, kind: str, srv: harness.Server) -> None:
    if kind == "lab":
        harness.open_notebook(page, srv, "bench.ipynb")
        harness.run_all_cells(page)
    else:
        page.goto(srv.url)
    page.wait_for_selector(ECHO_SEL[0], timeout=60_000)
    page.wait_for_selector(NB_SEL[1], timeout=60_000)


def measure(page: Page, selectors: tuple[str, str], n: int) -> list[float]:
    page.evaluate(MEASURE, [*selectors, 5])  # warm up
    times: list[float] = page.evaluate(MEASURE, [*selectors, n])
    return times


def p95(values: list[float]) -> float:
    return sorted(values)[max(0, round(0.95 * len(values)) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=60, help="round trips per measure")
    n = parser.parse_args().n
    results: dict[tuple[str, str], list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        work = Path(tmp)
        write_notebook(work)
        browser = harness.launch_browser(pw)
        for kind in ("lab", "voila"):
            for nodelay in (False, True):
                with server(kind, nodelay, work) as srv:
                    page = harness.new_page(browser, timeout_ms=60_000)
                    open_app(page, kind, srv)
                    tag = "ext" if nodelay else "stock"
                    results[(kind, f"echo {tag}")] = measure(page, ECHO_SEL, n)
                    results[(kind, f"nbstate {tag}")] = measure(page, NB_SEL, n)
                    page.close()
        browser.close()
    print(f"round trips, ms (n={n} each; median / p95)")
    for (kind, what), times in results.items():
        print(f"  {kind:6s} {what:14s} {statistics.median(times):7.2f} / {p95(times):7.2f}")
    print("ratios of medians")
    for kind in ("lab", "voila"):
        med = {what: statistics.median(t) for (k, what), t in results.items() if k == kind}
        a, b, c = med["echo stock"], med["echo ext"], med["nbstate ext"]
        print(f"  {kind:6s} (c) nbstate+ext / (a) echo stock = {c / a:5.2f}  (target ≤ 0.25)")
        print(f"  {kind:6s} (c) nbstate+ext / (b) echo+ext   = {c / b:5.2f}  (target ≤ 1.5)")
        print(f"  {kind:6s} nbstate stock / echo stock      = "
              f"{med['nbstate stock'] / a:5.2f}  (same page, target ≤ 1.5)")


if __name__ == "__main__":
    main()

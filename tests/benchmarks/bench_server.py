"""WebSocket adapter benchmark: nbstate's event round trip against a raw Starlette echo.

Run: ``python tests/benchmarks/bench_server.py [--seconds 3]`` (needs ``pip install -e
".[test]"``; the click → DOM row also needs Debian's chromium). On 127.0.0.1, in one run, with
the same Python WebSocket client:

1. one client, then 50 concurrent clients, each sending as fast as answers come back: p50/p99
   of the round trip and events per second, for a plain Starlette WebSocket echo server and for
   ``nbstate serve`` (event → handler → delta + done);
2. 1,000 connections at 200 events/s in all (open loop): p50/p99;
3. memory per idle session at 1,000 sessions (server RSS growth / 1,000), beside the RSS of one
   Voila visitor's kernel after running ``notebooks/todo.ipynb``;
4. click → DOM in Chromium on the served page (``--browser``).

Targets: one-client p50 ≤ 1.5× the echo; 50 clients ≥ 0.5× the echo's events/s; 1,000
connections p99 ≤ 50 ms; ≤ 20 KB per idle session.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbstate as ns

REPO = Path(__file__).resolve().parents[2]


class BsCounter(ns.State):
    """The app nbstate serves here: one handler that changes one var."""

    count: int = 0
    label: str = ""

    def bump(self) -> None:
        self.count += 1


class BsClicks(ns.State):
    """The page the click → DOM row clicks: a handler button and a computed text it changes."""

    count: int = ns.var(0, read_only=True)

    @ns.computed
    def shown(self) -> str:
        return f"clicked {self.count} times"

    def bump(self) -> None:
        self.count += 1


VOILA_CLICK_MS = 6.7
"""README: an nbstate event clicked in Voila with TCP_NODELAY (bench_roundtrip.py, median)."""

# Click the handler button, resolve at the DOM change of the computed text (a MutationObserver
# callback runs right after the change), then wait until the view has the `done` (the button
# takes no second click while its event runs).
_CLICKS_JS = """async (n) => {
  const button = document.querySelector('button[data-nb-handler="bump"]');
  const out = document.querySelector('output[data-nb-var="shown"]');
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const times = [];
  for (let i = 0; i < n; i++) {
    const before = out.textContent;
    let observer;
    const changed = new Promise((resolve) => {
      observer = new MutationObserver(() => {
        if (out.textContent !== before) resolve(performance.now());
      });
      observer.observe(out, { childList: true, characterData: true, subtree: true });
    });
    const t0 = performance.now();
    button.click();
    const t1 = await changed;
    observer.disconnect();
    times.push(t1 - t0);
    while (button.closest('[aria-busy="true"]') || button.getAttribute("aria-disabled")) {
      await sleep(1);
    }
    await sleep(5);
  }
  return times;
}"""


def click_to_dom(clicks: int) -> list[float]:
    """Milliseconds from a click on the served page to the DOM change, in Chromium."""
    sys.path.insert(0, str(REPO))
    from playwright.sync_api import sync_playwright

    from tests.e2e import harness

    here = Path(__file__).resolve()
    served = Process([sys.executable, "-m", "nbstate", "serve", f"{here}:BsClicks"])
    try:
        with sync_playwright() as playwright:
            browser = harness.launch_browser(playwright)
            try:
                page = harness.new_page(browser)
                page.goto(f"http://127.0.0.1:{served.port}/")
                page.wait_for_selector('output[data-nb-var="shown"]:has-text("clicked 0")')
                page.evaluate(_CLICKS_JS, 10)  # warm up
                times: list[float] = page.evaluate(_CLICKS_JS, clicks)
                errors = harness.record_of(page).errors
                if errors:
                    raise RuntimeError(f"page errors: {errors}")
                return times
            finally:
                browser.close()
    finally:
        served.stop()


def echo_app() -> object:
    """A plain Starlette WebSocket echo: what any WebSocket server costs, nothing more."""
    from starlette.applications import Starlette
    from starlette.routing import WebSocketRoute
    from starlette.websockets import WebSocket

    async def echo(ws: WebSocket) -> None:
        await ws.accept()
        while True:
            try:
                text = await ws.receive_text()
            except Exception:
                return
            message = json.loads(text)
            await ws.send_text(json.dumps({"type": "done", "id": message.get("id")}))

    return Starlette(routes=[WebSocketRoute("/_nbstate/ws", echo)])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Process:
    def __init__(self, args: list[str]) -> None:
        self.port = _free_port()
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - closed by stop()
        self.process = subprocess.Popen([*args, "--port", str(self.port)], stdout=self.log,
                                        stderr=subprocess.STDOUT, cwd=REPO)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.5).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("server did not start")

    def rss_kb(self) -> int:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError("no VmRSS")

    def stop(self) -> None:
        os.kill(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.log.close()


async def _client(url: str) -> object:
    from websockets.asyncio.client import connect

    ws = await connect(url, max_size=None)
    await ws.send(json.dumps({"type": "hello", "protocol": 1, "token": None, "rev": None,
                              "done_in_delta": True}))
    return ws


async def _round_trip(ws: object, msg_id: int) -> float:
    t0 = time.perf_counter()
    await ws.send(json.dumps({"type": "event", "id": msg_id,  # type: ignore[attr-defined]
                              "handler": "bs_counter.bump", "payload": {}}))
    while True:
        frame = json.loads(await ws.recv())  # type: ignore[attr-defined]
        if frame.get("id") == msg_id or frame.get("done") == msg_id:
            return time.perf_counter() - t0


async def _drain_welcome(ws: object, nbstate: bool) -> None:
    if nbstate:
        for _ in range(2):  # welcome, snapshot
            await ws.recv()  # type: ignore[attr-defined]


async def closed_loop(url: str, clients: int, seconds: float, nbstate: bool) -> dict[str, float]:
    sockets = [await _client(url) for _ in range(clients)]
    for ws in sockets:
        await _drain_welcome(ws, nbstate)
    latencies: list[float] = []
    stop = time.perf_counter() + seconds

    async def run(ws: object) -> None:
        msg_id = 0
        while time.perf_counter() < stop:
            msg_id += 1
            latencies.append(await _round_trip(ws, msg_id))

    t0 = time.perf_counter()
    await asyncio.gather(*(run(ws) for ws in sockets))
    elapsed = time.perf_counter() - t0
    for ws in sockets:
        await ws.close()  # type: ignore[attr-defined]
    return _summary(latencies, elapsed)


async def open_loop(url: str, clients: int, rate: float, seconds: float,
                    nbstate: bool) -> dict[str, float]:
    sockets = []
    for _ in range(clients):
        sockets.append(await _client(url))
    for ws in sockets:
        await _drain_welcome(ws, nbstate)
    latencies: list[float] = []
    per_client = rate / clients
    t0 = time.perf_counter()

    async def run(index: int, ws: object) -> None:
        await asyncio.sleep(index / rate)  # spread the start
        msg_id = 0
        next_at = time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            msg_id += 1
            latencies.append(await _round_trip(ws, msg_id))
            next_at += 1 / per_client
            await asyncio.sleep(max(0.0, next_at - time.perf_counter()))

    await asyncio.gather(*(run(i, ws) for i, ws in enumerate(sockets)))
    elapsed = time.perf_counter() - t0
    for ws in sockets:
        await ws.close()  # type: ignore[attr-defined]
    return _summary(latencies, elapsed)


def _summary(latencies: list[float], elapsed: float) -> dict[str, float]:
    ordered = sorted(latencies)
    return {"p50": statistics.median(ordered) * 1e3,
            "p99": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1e3,
            "rate": len(ordered) / elapsed, "n": len(ordered)}


async def idle_sessions(server: Process, url: str, count: int) -> float:
    """KB of server RSS per idle session: connect, hello, leave (sessions stay for the TTL)."""
    from websockets.asyncio.client import connect

    async def visit() -> None:
        async with connect(url) as ws:
            await ws.send(json.dumps({"type": "hello", "protocol": 1, "token": None,
                                      "rev": None}))
            await ws.recv()
            await ws.recv()

    for _ in range(50):  # warm up: imports, first allocations
        await visit()
    before = server.rss_kb()
    for start in range(0, count, 50):
        await asyncio.gather(*(visit() for _ in range(min(50, count - start))))
    await asyncio.sleep(0.5)
    return (server.rss_kb() - before) / count


def voila_kernel_rss_kb() -> int:
    """RSS of a kernel that ran notebooks/todo.ipynb (what one Voila visitor costs)."""
    import nbformat
    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name="python3")
    try:
        notebook = nbformat.read(REPO / "notebooks" / "todo.ipynb", as_version=4)
        for cell in notebook.cells:
            if cell.cell_type == "code":
                kc.execute_interactive(cell.source, timeout=60, output_hook=lambda m: None)
        pid = km.provisioner.pid  # type: ignore[union-attr]
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError("no VmRSS")
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def _row(name: str, ours: str, peer: str, ratio: str, target: str) -> None:
    print(f"| {name} | {ours} | {peer} | {ratio} | {target} |", flush=True)


def _browser_row(clicks: int) -> None:
    times = sorted(click_to_dom(clicks))
    p50 = statistics.median(times)
    p95 = times[min(len(times) - 1, int(0.95 * len(times)))]
    _row(f"click → DOM in Chromium, {clicks} clicks: p50 / p95 ms (peer: nbstate in Voila, "
         "README)", f"{p50:.2f} / {p95:.2f}", f"{VOILA_CLICK_MS:.1f}",
         f"{p50 / VOILA_CLICK_MS:.2f}× p50", "≤ 0.5×")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--echo-server", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--browser", action="store_true",
                        help="also measure click → DOM in Chromium on the served page")
    parser.add_argument("--only-browser", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--clicks", type=int, default=100)
    args = parser.parse_args()
    if args.only_browser:
        _browser_row(args.clicks)
        return
    if args.echo_server:
        import uvicorn

        uvicorn.run(echo_app(), host="127.0.0.1", port=args.port, log_level="warning")  # type: ignore[arg-type]
        return
    here = Path(__file__).resolve()
    echo = Process([sys.executable, str(here), "--echo-server"])
    served = Process([sys.executable, "-m", "nbstate", "serve", f"{here}:BsCounter"])
    try:
        echo_url = f"ws://127.0.0.1:{echo.port}/_nbstate/ws"
        nb_url = f"ws://127.0.0.1:{served.port}/_nbstate/ws"
        run = asyncio.run
        print("| measure | nbstate | raw Starlette echo | ratio | target |")
        print("|---|---|---|---|---|")
        for clients in (1, 50):
            theirs = run(closed_loop(echo_url, clients, args.seconds, nbstate=False))
            ours = run(closed_loop(nb_url, clients, args.seconds, nbstate=True))
            _row(f"{clients} client(s): p50 / p99 ms", f"{ours['p50']:.2f} / {ours['p99']:.2f}",
                 f"{theirs['p50']:.2f} / {theirs['p99']:.2f}",
                 f"{ours['p50'] / theirs['p50']:.2f}× p50",
                 "p50 ≤ 1.5×" if clients == 1 else "")
            _row(f"{clients} client(s): events/s", f"{ours['rate']:,.0f}",
                 f"{theirs['rate']:,.0f}", f"{ours['rate'] / theirs['rate']:.2f}×",
                 "≥ 0.5×" if clients == 50 else "")
        ours = run(open_loop(nb_url, 1000, 200, args.seconds * 2, nbstate=True))
        theirs = run(open_loop(echo_url, 1000, 200, args.seconds * 2, nbstate=False))
        _row("1,000 connections, 200 events/s: p50 / p99 ms",
             f"{ours['p50']:.2f} / {ours['p99']:.2f}",
             f"{theirs['p50']:.2f} / {theirs['p99']:.2f}",
             f"{ours['p99'] / theirs['p99']:.2f}× p99", "p99 ≤ 50 ms")
        per_session = asyncio.run(idle_sessions(served, nb_url, 1000))
        kernel = voila_kernel_rss_kb()
        _row("memory per idle session (1,000 sessions) vs one Voila visitor's kernel",
             f"{per_session:.1f} KB", f"{kernel / 1024:.0f} MB",
             f"{per_session / kernel:.5f}×", "≤ 20 KB")
        if args.browser:
            _browser_row(args.clicks)
    finally:
        echo.stop()
        served.stop()


if __name__ == "__main__":
    main()

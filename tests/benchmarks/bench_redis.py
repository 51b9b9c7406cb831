"""Redis manager benchmark: nbstate's manager vs Reflex 0.10's ``StateManagerRedis``, in one run
against one throwaway ``redis-server``.

Run (Reflex lives in its own venv, never in the project's)::

    cd /tmp && PYTHONPATH=/work/main /tmp/bench/venv/bin/python \\
        /work/main/tests/benchmarks/bench_redis.py [--events 400] [--seconds 4]

The ``redis-server`` is started on a free port of 127.0.0.1 (as the tests do,
:mod:`tests.redisserver`) and stopped by its pid. Per event, in-process:

- **nbstate**: one event through a Redis-stored session's inbox, as the WebSocket adapter hands
  it over (take the lock and read the stored revision; run the handler; flush; store the changed
  states, the delta and the answer; publish; release), until its ``done``;
- **nbstate, other process**: the same, alternating between two managers (two processes'
  worth), so every event finds the session last changed elsewhere;
- **Reflex**: ``async with manager.modify_state(BaseStateToken(ident, cls=Target))``, the
  change, then ``root.get_delta()`` and ``root._clean()`` (what an event does to the state
  besides running the handler).

Two apps: a todo-like state (a list of 20 items, a draft, a computed count; two substates, one
with a computed filter), the event appends an item; and a large one (a root with 100
substates, each with an int and a list of 10 strings), the event changes one substate's int.

Round trips are counted by wrapping redis-py's asyncio connection (each request written is one
round trip, a pipeline is one), the same for both. Then events/s over the WebSocket: clients
in two client processes sending increments as fast as answers come, to one ``nbstate serve``
process, then spread over two (all with ``--manager redis://…``).

Targets: time ≤ 0.5× Reflex's, round trips ≤ half Reflex's.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import multiprocessing
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

import reflex as rx  # noqa: E402
from redis.asyncio import Redis  # noqa: E402
from reflex.istate.manager.redis import StateManagerRedis  # noqa: E402
from reflex.istate.manager.token import BaseStateToken  # noqa: E402

import nbstate as ns  # noqa: E402
from nbstate.managers.redis import RedisManager  # noqa: E402
from tests.redisserver import RoundTrips, _free_port, redis_server  # noqa: E402

ITEMS = [f"item {i}" for i in range(20)]
SUBSTATES = 100

# ----------------------------------------------------------------- the apps, both frameworks


class BrTodo(ns.State):
    items: list[str] = ITEMS
    draft: str = "tea"
    saving: bool = False
    _api_calls: int = 0

    @ns.computed
    def remaining(self) -> int:
        return len(self.items)

    def add(self) -> None:
        self.items.append(self.draft)


class BrFilters(BrTodo):
    query: str = ""

    @ns.computed
    def matches(self) -> list[str]:
        return [t for t in self.items if self.query in t]


class BrSettings(BrTodo):
    theme: str = "light"
    page: int = 0


class BrBig(ns.State):
    title: str = "big"


def _bump(self: Any) -> None:
    self.x += 1


_SUB_VARS: dict[str, Any] = {"__annotations__": {"x": int, "notes": list[str]}, "x": 0,
                              "notes": [f"n{k}" for k in range(10)], "__module__": __name__}
BIG_SUBS: list[type[ns.State]] = [type(f"BrBigSub{j}", (BrBig,), {**_SUB_VARS, "bump": _bump})
                                  for j in range(SUBSTATES)]


class RxTodo(rx.State):  # type: ignore[misc]
    items: list[str] = ITEMS
    draft: str = "tea"
    saving: bool = False

    @rx.var  # type: ignore[untyped-decorator]
    def remaining(self) -> int:
        return len(self.items)


class RxFilters(RxTodo):
    query: str = ""

    @rx.var  # type: ignore[untyped-decorator]
    def matches(self) -> list[str]:
        return [t for t in self.items if self.query in t]


class RxSettings(RxTodo):
    theme: str = "light"
    page: int = 0


class RxBig(rx.State):  # type: ignore[misc]
    title: str = "big"


RX_BIG_SUBS: list[Any] = [type(f"RxBigSub{j}", (RxBig,), dict(_SUB_VARS))
                          for j in range(SUBSTATES)]
globals().update({cls.__name__: cls for cls in [*BIG_SUBS, *RX_BIG_SUBS]})  # for pickle

# ----------------------------------------------------------------- measuring

ROWS: list[tuple[str, ...]] = []
HEADER = ("measure", "nbstate", "Reflex", "ratio", "target")


def report(measure: str, ours: float, theirs: float, unit: str, target: str,
           met: bool) -> None:
    ratio = ours / theirs if theirs else float("inf")
    verdict = "" if target == "(none)" else " met" if met else " NOT met"
    ROWS.append((measure, f"{ours:.3g} {unit}", f"{theirs:.3g} {unit}", f"{ratio:.2f}×",
                 f"{target}{verdict}"))


Run = Callable[[int], Awaitable[None]]


async def _timed(runs: dict[str, Run], events: int) -> dict[str, tuple[float, float]]:
    """For each run: the median seconds per event over blocks of 20, and round trips per
    event. The runs take turns block by block, so load on the machine lands on all alike."""
    counters = {name: RoundTrips() for name in runs}
    times: dict[str, list[float]] = {name: [] for name in runs}
    for run in runs.values():
        for i in range(20):
            await run(i)  # warm: scripts loaded, caches made
    for block in range(events // 20):
        for name, run in runs.items():
            with counters[name].counting():
                t0 = time.perf_counter()
                for i in range(20):
                    await run(block * 20 + i)
                times[name].append((time.perf_counter() - t0) / 20)
    return {name: (statistics.median(times[name]), counters[name].count / (events // 20 * 20))
            for name in runs}


class _Null:
    def on_delta(self, delta: Any) -> None:
        pass

    def on_error(self, error: Any) -> None:
        pass

    def resync(self, document: Any, revision: int) -> None:
        pass


def _prepare(root: type[ns.State]) -> Callable[[ns.Session], None]:
    def prepare(session: ns.Session) -> None:
        session.get_state(root)

    return prepare


async def _nb_event(entry: Any, path: str, handler: str, ids: itertools.count[int]) -> None:
    done: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
    msg_id = next(ids)

    def reply(frame: dict[str, Any]) -> None:
        if frame.get("id") == msg_id and not done.done():
            done.set_result(frame)

    entry.inbox.receive(reply, path, {"type": "event", "id": msg_id, "handler": handler,
                                      "payload": {}})
    answer = await done
    assert answer["type"] == "done", answer


async def _nb_runs(url: str, root: type[ns.State], path: str, handler: str,
                   managers: list[RedisManager]) -> dict[str, Run]:
    one, two = RedisManager(url, prefix="bench"), RedisManager(url, prefix="bench")
    managers += [one, two]
    ids = itertools.count(1)
    token, same = await one.open(None, _prepare(root))
    await one.attach(token, same, _Null(), None)
    # a second session, whose events alternate between the two managers
    token, first = await one.open(None, _prepare(root))
    await one.attach(token, first, _Null(), None)
    token, second = await two.open(token, _prepare(root))
    await two.attach(token, second, _Null(), None)
    pair = (first, second)

    async def served_last(i: int) -> None:
        await _nb_event(same, path, handler, ids)

    async def elsewhere(i: int) -> None:
        await _nb_event(pair[i % 2], path, handler, ids)

    return {"nbstate": served_last, "nbstate elsewhere": elsewhere}


def _rx_run(manager: StateManagerRedis, target: type[rx.State],
            change: Callable[[Any], None]) -> Run:
    token = BaseStateToken(ident=f"rx-{time.monotonic_ns()}", cls=target)
    path = target.get_full_name().split(".")

    async def run(i: int) -> None:
        async with manager.modify_state(token) as root:
            change(root.get_substate(path))
            root.get_delta()
            root._clean()

    return run


async def bench_managers(url: str, events: int) -> None:
    def add(state: Any) -> None:
        state.items.append(state.draft)

    def bump(state: Any) -> None:
        state.x += 1

    cases = [("todo-like", BrTodo, "br_todo", "add", RxTodo, add),
             (f"large ({SUBSTATES} substates)", BrBig, BIG_SUBS[42].__nbstate_path__, "bump",
              RX_BIG_SUBS[42], bump)]
    for name, root, path, handler, rx_target, change in cases:
        managers: list[RedisManager] = []
        reflex = StateManagerRedis(redis=Redis.from_url(url))
        try:
            runs = await _nb_runs(url, root, path, handler, managers)
            runs["Reflex"] = _rx_run(reflex, rx_target, change)
            got = await _timed(runs, events)
        finally:
            for manager in managers:
                await manager.aclose()
            await reflex.close()
        (ours, our_trips), (other, other_trips) = got["nbstate"], got["nbstate elsewhere"]
        theirs, their_trips = got["Reflex"]
        report(f"{name}: time per event", ours * 1e3, theirs * 1e3, "ms", "≤ 0.5×",
               ours <= 0.5 * theirs)
        report(f"{name}: time per event, session last changed by another process",
               other * 1e3, theirs * 1e3, "ms", "(none)", True)
        report(f"{name}: Redis round trips per event", our_trips, their_trips, "",
               "≤ 0.5×", our_trips <= 0.5 * their_trips)
        report(f"{name}: round trips, session last changed by another process", other_trips,
               their_trips, "", "≤ 3", other_trips <= 3)

# ----------------------------------------------------------------- over the WebSocket


APP = REPO / "tests" / "server" / "redis_app.py"


def _serve(url: str) -> tuple[subprocess.Popen[bytes], int]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "nbstate", "serve", f"{APP}:RsCounter", "--port", str(port),
         "--manager", url], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(REPO)})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1).close()
            return process, port
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("nbstate serve did not start")


def _client_process(urls: list[str], clients: int, seconds: float, out: Any) -> None:
    from websockets.asyncio.client import connect

    from nbstate.protocol import PROTOCOL_VERSION

    async def one(url: str, stop: float) -> int:
        count = 0
        async with connect(url, max_size=None) as ws:
            await ws.send(json.dumps({"type": "hello", "protocol": PROTOCOL_VERSION,
                                      "token": None, "rev": None}))
            while json.loads(await ws.recv())["type"] != "snapshot":
                pass
            msg_id = 0
            while time.monotonic() < stop:
                msg_id += 1
                await ws.send(json.dumps({"type": "event", "id": msg_id,
                                          "handler": "rs_counter.inc", "payload": {"k": 1}}))
                while True:
                    frame = json.loads(await ws.recv())
                    if frame.get("id") == msg_id:
                        break
                count += 1
        return count

    async def main() -> int:
        stop = time.monotonic() + seconds
        counts = await asyncio.gather(*(one(urls[i % len(urls)], stop)
                                        for i in range(clients)))
        return sum(counts)

    out.put(asyncio.run(main()))


def _events_per_second(urls: list[str], seconds: float, processes: int = 2,
                       clients: int = 20) -> float:
    queue: Any = multiprocessing.get_context("spawn").Queue()
    workers = [multiprocessing.get_context("spawn").Process(
        target=_client_process, args=(urls[i % len(urls):] + urls[:i % len(urls)], clients,
                                      seconds, queue)) for i in range(processes)]
    for worker in workers:
        worker.start()
    total = sum(queue.get(timeout=seconds + 60) for _ in workers)
    for worker in workers:
        worker.join()
    return float(total) / seconds


def bench_websocket(url: str, seconds: float) -> None:
    servers = [_serve(url), _serve(url)]
    try:
        ws = [f"ws://127.0.0.1:{port}/_nbstate/ws" for _, port in servers]
        single = _events_per_second(ws[:1], seconds)
        double = _events_per_second(ws, seconds)
    finally:
        for process, _ in servers:
            os.kill(process.pid, signal.SIGTERM)
            process.wait(10)
    ROWS.append((f"events/s over the WebSocket (40 clients; {os.cpu_count()} CPUs for clients, "
                 "servers and Redis): two processes vs one",
                 f"{double:.0f} /s", f"{single:.0f} /s (one process)",
                 f"{double / single:.2f}×", "more with two (scale-out)"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=400)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--no-websocket", action="store_true")
    args = parser.parse_args()
    os.chdir(tempfile.mkdtemp(prefix="nbstate-bench-"))  # Reflex reads ./rxconfig.py if any
    with redis_server() as server:
        asyncio.run(bench_managers(server.url, args.events))
        if not args.no_websocket:
            bench_websocket(server.url, args.seconds)
    widths = [max(len(r[i]) for r in [*ROWS, HEADER]) for i in range(5)]
    for row in [HEADER, tuple("-" * w for w in widths), *ROWS]:
        print(" | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)))


if __name__ == "__main__":
    main()

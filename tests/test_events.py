"""Running handlers: the four kinds, flush points, chaining, rollback and background tasks."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pydantic
import pytest

import nbstate as ns
from nbstate.events import error_info
from nbstate.testing import StateClient


class EvItem(pydantic.BaseModel):
    name: str
    done: bool = False
    tags: list[str] = []


@dataclasses.dataclass
class EvStats:
    runs: int = 0
    notes: dict[str, str] = dataclasses.field(default_factory=dict)


class EvOther(ns.State):
    loaded: list[int] = []

    def load(self, ident: int) -> None:
        self.loaded.append(ident)

    def fail(self) -> None:
        raise KeyError("missing")


class EvBoard(ns.State):
    n: int = 0
    items: list[str] = []
    meta: dict[str, Any] = {}
    models: list[EvItem] = []
    stats: EvStats = EvStats()
    saved: int = 0
    _calls: int = 0

    def sync_handler(self) -> None:
        self.n += 1

    async def async_handler(self, by: int = 1) -> None:
        await asyncio.sleep(0)
        self.n += by

    def gen_handler(self):  # type: ignore[no-untyped-def]
        self.n = 1
        yield
        self.n = 2
        yield
        self.items.append("x")

    async def agen_handler(self, steps: int):  # type: ignore[no-untyped-def]
        for i in range(steps):
            self.n = i + 1
            yield

    async def tight_loop(self, steps: int):  # type: ignore[no-untyped-def]
        for i in range(steps):
            self.n = i + 1
            yield

    async def sleepy_loop(self, steps: int):  # type: ignore[no-untyped-def]
        for i in range(steps):
            self.n = i + 1
            yield
            await asyncio.sleep(0.001)

    async def yield_then_wait(self):  # type: ignore[no-untyped-def]
        self.n = 1
        yield
        self.items.append("not yet")  # after the yield: not part of its flush
        await asyncio.sleep(0.15)
        self.n = 2

    def save(self) -> None:
        self.saved += 1

    def chain_by_yield(self):  # type: ignore[no-untyped-def]
        self.items.append("first")
        yield EvBoard.save
        self.items.append("second")
        # chaining through the class: the runtime makes `load` a handler reference there, but
        # type checkers see the plain method
        yield EvOther.load(42)  # type: ignore[call-arg, func-returns-value, arg-type]

    def chain_by_return(self) -> Any:
        self.items.append("r")
        return [EvBoard.save, EvOther.load(7)]  # type: ignore[call-arg, func-returns-value, arg-type]

    async def chain_async_return(self) -> Any:
        return EvOther.load(ident=9)  # type: ignore[call-arg]

    def chain_to_failure(self) -> Any:
        self.n = 5
        return [EvOther.fail, EvBoard.save]

    def bad_yield(self):  # type: ignore[no-untyped-def]
        self.n = 99
        yield "not an event"

    def mutate_all_then_fail(self) -> None:
        self.n = 10
        self.items.append("a")
        self.items.insert(0, "b")
        self.items.sort()
        self.meta["k"] = {"deep": [1]}
        self.meta["k"]["deep"].append(2)
        self.models.append(EvItem(name="m"))
        self.models[0].tags.append("t")
        self.models[0].done = True
        self.stats.runs += 1
        self.stats.notes["a"] = "b"
        self._calls += 1
        raise RuntimeError("bad things")

    async def yield_then_fail(self):  # type: ignore[no-untyped-def]
        self.n = 1
        self.items.append("kept")
        yield
        self.n = 2
        self.items.append("lost")
        self.meta["lost"] = True
        raise ValueError("after the yield")

    async def get_other(self) -> None:
        other = await self.get_state(EvOther)
        other.loaded.append(self.n)


@pytest.fixture
def client() -> StateClient:
    return StateClient(EvBoard, EvOther)


def consistent(client: StateClient) -> None:
    assert client.document == client.session.snapshot()


@pytest.mark.parametrize(("handler", "payload", "n"), [
    ("sync_handler", {}, 1), ("async_handler", {"by": 3}, 3), ("gen_handler", {}, 2),
    ("agen_handler", {"steps": 4}, 4)])
async def test_handler_kinds(client: StateClient, handler: str, payload: dict[str, Any],
                             n: int) -> None:
    await client.dispatch(f"ev_board.{handler}", payload)
    assert not client.errors
    assert client.document["ev_board"]["n"] == n
    consistent(client)


async def test_sync_and_async_handlers_send_one_delta(client: StateClient) -> None:
    await client.dispatch("ev_board.sync_handler")
    await client.dispatch("ev_board.async_handler")
    assert [d["ops"] for d in client.deltas] == [
        [{"op": "replace", "path": "/ev_board/n", "value": 1}],
        [{"op": "replace", "path": "/ev_board/n", "value": 2}]]
    start = client.deltas[0]["rev"] - 1
    assert [d["rev"] for d in client.deltas] == [start + 1, start + 2]


async def test_each_yield_flushes() -> None:
    client = StateClient(EvBoard, flush_interval=0)
    await client.dispatch("ev_board.gen_handler")
    assert [d["ops"] for d in client.deltas] == [
        [{"op": "replace", "path": "/ev_board/n", "value": 1}],
        [{"op": "replace", "path": "/ev_board/n", "value": 2}],
        [{"op": "add", "path": "/ev_board/items/-", "value": "x"}]]
    client.deltas.clear()
    await client.dispatch("ev_board.agen_handler", {"steps": 5})
    assert [d["ops"][0].get("value") for d in client.deltas] == [1, 2, 3, 4, 5]
    consistent(client)


async def test_listener_sees_each_yield_before_the_handler_continues() -> None:
    seen: list[int] = []

    class Probe:
        def on_delta(self, delta: Any) -> None:
            seen.append(session.get_state(EvBoard).n)

        def on_error(self, error: Any) -> None:
            pass

        def resync(self, document: Any, revision: int) -> None:
            seen.append(-revision)  # a delivery failed: never expected here

    session = ns.Session(flush_interval=0)
    session.get_state(EvBoard)
    session.subscribe(Probe())
    await session.dispatch("ev_board.agen_handler", {"steps": 3})
    assert seen == [1, 2, 3]


async def test_tight_yield_loop_is_coalesced(client: StateClient) -> None:
    await client.dispatch("ev_board.tight_loop", {"steps": 10_000})
    assert client.document["ev_board"]["n"] == 10_000
    assert client.session.get_state(EvBoard).n == 10_000
    assert 1 <= len(client.deltas) < 200
    assert [(op["path"], op.get("value")) for op in client.deltas[-1]["ops"]] == [
        ("/ev_board/n", 10_000)]
    consistent(client)


async def test_deferred_yield_flush_arrives_without_the_next_flush_point() -> None:
    client = StateClient(EvBoard, flush_interval=0.05)
    client.session.flush()  # a flush just happened: the yield has to wait for the interval
    task = asyncio.ensure_future(client.dispatch("ev_board.yield_then_wait"))
    await asyncio.sleep(0.01)
    assert client.deltas == []  # too soon after the last flush
    await asyncio.sleep(0.08)
    assert not task.done()
    assert [d["ops"] for d in client.deltas] == [
        [{"op": "replace", "path": "/ev_board/n", "value": 1}]]  # only what preceded the yield
    await task
    assert client.document["ev_board"]["n"] == 2
    assert client.document["ev_board"]["items"] == ["not yet"]
    consistent(client)


async def test_sleepy_loop_sends_several_but_coalesced_deltas() -> None:
    client = StateClient(EvBoard, flush_interval=0.02)
    await client.dispatch("ev_board.sleepy_loop", {"steps": 100})
    assert client.document["ev_board"]["n"] == 100
    assert 2 <= len(client.deltas) < 100
    consistent(client)


async def test_chaining_by_yield(client: StateClient) -> None:
    await client.dispatch("ev_board.chain_by_yield")
    assert not client.errors
    assert client.document["ev_board"]["items"] == ["first", "second"]
    assert client.document["ev_board"]["saved"] == 1
    assert client.document["ev_other"]["loaded"] == [42]
    # the chained events ran after the handler, in order
    paths = [op["path"] for d in client.deltas for op in d["ops"]]
    assert paths.index("/ev_board/saved") > paths.index("/ev_board/items/-")
    assert paths.index("/ev_other/loaded/-") > paths.index("/ev_board/saved")
    consistent(client)


async def test_chaining_by_return(client: StateClient) -> None:
    await client.dispatch("ev_board.chain_by_return")
    await client.dispatch("ev_board.chain_async_return")
    assert client.document["ev_board"]["saved"] == 1
    assert client.document["ev_other"]["loaded"] == [7, 9]
    consistent(client)


async def test_failure_in_a_chained_event(client: StateClient) -> None:
    await client.dispatch("ev_board.chain_to_failure")
    assert client.errors == [{"handler": "ev_other.fail", "type": "KeyError",
                              "message": "'missing'"}]
    assert client.document["ev_board"]["n"] == 5  # the first handler finished
    assert client.document["ev_board"]["saved"] == 0  # later chained events did not run
    consistent(client)


async def test_bad_yield_is_an_error_and_rolls_back(client: StateClient) -> None:
    await client.dispatch("ev_board.bad_yield")
    assert client.errors[0]["type"] == "PayloadError"
    assert client.errors[0]["handler"] == "ev_board.bad_yield"
    assert client.session.get_state(EvBoard).n == 0


async def test_rollback_of_everything_a_handler_changed(client: StateClient) -> None:
    board = client.session.get_state(EvBoard)
    before = client.session.snapshot()
    await client.dispatch("ev_board.mutate_all_then_fail")
    assert client.errors == [{"handler": "ev_board.mutate_all_then_fail",
                              "type": "RuntimeError", "message": "bad things"}]
    assert client.session.snapshot() == before
    assert client.deltas == []
    assert board.n == 0
    assert board.items == []
    assert board.meta == {}
    assert board.models == []
    assert board.stats == EvStats()
    assert board._calls == 0
    # later events run normally, and the restored values are still tracked
    await client.dispatch("ev_board.sync_handler")
    board.stats.notes["x"] = "y"
    client.session.flush()
    assert client.document["ev_board"]["n"] == 1
    assert client.document["ev_board"]["stats"] == {"runs": 0, "notes": {"x": "y"}}
    consistent(client)


@pytest.mark.parametrize("interval", [0, 1000])
async def test_rollback_to_the_last_yield(interval: float) -> None:
    """With interval 0 the yield flushed; with 1000 it only marked where a flush would cut."""
    client = StateClient(EvBoard, flush_interval=interval)
    client.session.flush()  # the last flush is now: with 1000 the yield cannot flush at once
    await client.dispatch("ev_board.yield_then_fail")
    assert client.errors == [{"handler": "ev_board.yield_then_fail", "type": "ValueError",
                              "message": "after the yield"}]
    board = client.session.get_state(EvBoard)
    assert board.n == 1
    assert board.items == ["kept"]
    assert board.meta == {}
    assert client.document["ev_board"]["n"] == 1
    assert client.document["ev_board"]["items"] == ["kept"]
    assert len(client.deltas) == 1
    consistent(client)


async def test_get_state_across_states(client: StateClient) -> None:
    await client.dispatch("ev_board.async_handler", {"by": 4})
    await client.dispatch("ev_board.get_other")
    assert client.document["ev_other"]["loaded"] == [4]


def test_error_info() -> None:
    assert error_info("a.b", ValueError("v")) == {"handler": "a.b", "type": "ValueError",
                                                  "message": "v"}
    wrapped = ns.EventHandlerError("x.y", KeyError("k"))
    assert error_info("ignored", wrapped) == {"handler": "x.y", "type": "KeyError",
                                              "message": "'k'"}
    assert "rolled back" in str(wrapped)


async def test_dispatch_raises_event_handler_error(client: StateClient) -> None:
    with pytest.raises(ns.EventHandlerError) as info:
        await client.session.dispatch("ev_board.mutate_all_then_fail")
    assert info.value.handler == "ev_board.mutate_all_then_fail"
    assert info.value.error_type == "RuntimeError"
    assert isinstance(info.value.__cause__, RuntimeError)


# --------------------------------------------------------------------------- background


@dataclasses.dataclass
class EvRow:
    name: str
    done: bool = False


class EvWorker(ns.State):
    count: int = 0
    items: list[int] = []
    rows: list[EvRow] = [EvRow("a")]
    phase: str = ""

    @ns.event(background=True)
    async def increment(self, times: int) -> None:
        for _ in range(times):
            async with self:
                self.count += 1
            await asyncio.sleep(0)

    @ns.event(background=True)
    async def increment_slowly(self, times: int) -> None:
        for _ in range(times):
            async with self:
                seen = self.count
                await asyncio.sleep(0)  # other blocks would run here if they did not wait
                self.count = seen + 1
            await asyncio.sleep(0)

    async def add_slowly(self, times: int) -> None:
        for _ in range(times):
            seen = self.count
            await asyncio.sleep(0)
            self.count = seen + 1

    @ns.event(background=True)
    async def outside(self) -> None:
        self.count = 100

    @ns.event(background=True)
    async def outside_container(self) -> None:
        self.items.append(1)

    @ns.event(background=True)
    async def outside_row(self) -> None:
        self.rows[0].done = True

    @ns.event(background=True)
    async def outside_row_unchanged(self) -> None:
        self.rows[0].done = False  # what it already is: still refused, as any change

    @ns.event(background=True)
    async def nested(self) -> None:
        async with self:
            self.count = 7
            async with self:
                self.count = 8

    @ns.event(background=True)
    async def fail_inside(self) -> None:
        async with self:
            self.phase = "first"
        async with self:
            self.phase = "second"
            self.items.append(2)
            raise RuntimeError("inside")

    @ns.event(background=True)
    async def read_outside(self) -> Any:
        total = self.count + len(self.items)  # reads are fine
        async with self:
            self.phase = f"read {total}"
        return EvWorker.finish

    def finish(self) -> None:
        self.phase += " done"

    @ns.event(background=True)
    async def stepwise(self) -> None:
        async with self:
            self.phase = "start"
        await asyncio.sleep(0.05)
        async with self:
            self.phase = "end"

    def with_block(self) -> None:
        pass

    async def misuse(self) -> None:
        async with self:
            self.count = 1


async def test_concurrent_background_handlers_are_exact() -> None:
    client = StateClient(EvWorker)
    # read, await, write: a block that did not hold the session lock would lose updates
    await asyncio.gather(*(client.dispatch("ev_worker.increment_slowly", {"times": 25})
                           for _ in range(8)),
                         *(client.dispatch("ev_worker.add_slowly", {"times": 25})
                           for _ in range(2)))
    await client.session.drain()
    assert client.session.get_state(EvWorker).count == 250
    assert client.document["ev_worker"]["count"] == 250
    assert not client.errors
    consistent(client)


async def test_dispatch_returns_before_a_background_handler_ends() -> None:
    client = StateClient(EvWorker)
    await client.dispatch("ev_worker.stepwise")
    await asyncio.sleep(0.01)
    assert client.document["ev_worker"]["phase"] == "start"
    await client.session.drain()
    assert client.document["ev_worker"]["phase"] == "end"


@pytest.mark.parametrize("handler", ["outside", "outside_container", "outside_row",
                                     "outside_row_unchanged"])
async def test_mutation_outside_the_block(handler: str) -> None:
    client = StateClient(EvWorker)
    await client.dispatch(f"ev_worker.{handler}")
    await client.session.drain()
    assert len(client.errors) == 1
    assert client.errors[0]["handler"] == f"ev_worker.{handler}"
    assert client.errors[0]["type"] == "BackgroundMutationError"
    assert "async with self" in client.errors[0]["message"]
    worker = client.session.get_state(EvWorker)
    assert worker.count == 0
    assert worker.items == []
    assert worker.rows == [EvRow("a")]
    assert client.deltas == []


async def test_nested_block_raises_and_rolls_back() -> None:
    client = StateClient(EvWorker)
    await client.dispatch("ev_worker.nested")
    await client.session.drain()
    assert client.errors[0]["type"] == "BackgroundMutationError"
    assert "nested" in client.errors[0]["message"]
    assert client.session.get_state(EvWorker).count == 0
    assert client.document["ev_worker"]["count"] == 0
    # the lock was released: other events still run
    await client.dispatch("ev_worker.increment", {"times": 2})
    await client.session.drain()
    assert client.document["ev_worker"]["count"] == 2


async def test_failure_inside_a_block_rolls_back_that_block() -> None:
    client = StateClient(EvWorker)
    await client.dispatch("ev_worker.fail_inside")
    await client.session.drain()
    assert client.errors == [{"handler": "ev_worker.fail_inside", "type": "RuntimeError",
                              "message": "inside"}]
    worker = client.session.get_state(EvWorker)
    assert worker.phase == "first"
    assert worker.items == []
    assert client.document["ev_worker"] == {"count": 0, "items": [], "phase": "first",
                                            "rows": [{"name": "a", "done": False}]}
    consistent(client)


async def test_background_handler_chains() -> None:
    client = StateClient(EvWorker)
    await client.dispatch("ev_worker.read_outside")
    await client.session.drain()
    assert client.document["ev_worker"]["phase"] == "read 0 done"
    assert not client.errors


async def test_async_with_outside_a_background_handler() -> None:
    client = StateClient(EvWorker)
    await client.dispatch("ev_worker.misuse")
    assert client.errors[0]["type"] == "BackgroundMutationError"
    assert "background handlers" in client.errors[0]["message"]
    assert client.session.get_state(EvWorker).count == 0


async def test_background_blocks_wait_for_a_running_handler() -> None:
    client = StateClient(EvWorker, EvBoard)
    order: list[str] = []

    class Probe:
        def on_delta(self, delta: Any) -> None:
            order.extend(op["path"] for op in delta["ops"])

        def on_error(self, error: Any) -> None:
            pass

        def resync(self, document: Any, revision: int) -> None:
            order.append(f"resync {revision}")  # a delivery failed: never expected here

    client.session.subscribe(Probe())
    await client.dispatch("ev_worker.increment", {"times": 1})
    await client.dispatch("ev_board.async_handler")  # holds the lock across an await
    await client.session.drain()
    # the background block waited for the handler that held the lock across its await
    assert order == ["/ev_board/n", "/ev_worker/count"]
    assert client.document["ev_worker"]["count"] == 1
    consistent(client)


class EvCleanup(ns.State):
    n: int = 0
    busy: bool = False
    cleaned: int = 0

    @ns.computed
    def checked(self) -> int:
        if self.n == 3:
            raise ValueError("three")
        return self.n

    async def work(self):  # type: ignore[no-untyped-def]
        self.busy = True
        try:
            yield
            self.n = 3  # the next flush fails on the computed var
            yield
            self.n = 4
        finally:
            self.busy = False
            self.cleaned += 1

    def bad_item(self):  # type: ignore[no-untyped-def]
        try:
            self.n = 1
            yield 42
        finally:
            self.cleaned += 1


async def test_generator_is_closed_inside_the_failed_handler() -> None:
    client = StateClient(EvCleanup, flush_interval=0)
    await client.dispatch("ev_cleanup.work")
    state = client.session.get_state(EvCleanup)
    assert [e["type"] for e in client.errors] == ["ComputedVarError"]
    # the cleanup ran within the handler, and was rolled back with the rest after the yield
    assert (state.n, state.busy, state.cleaned) == (0, True, 0)
    assert client.document["ev_cleanup"] == {"n": 0, "busy": True, "cleaned": 0, "checked": 0}
    await client.dispatch("ev_cleanup.bad_item")
    assert client.errors[-1]["type"] == "PayloadError"
    assert state.cleaned == 0
    assert state.n == 0
    consistent(client)


class EvStop(ns.State):
    n: int = 0
    items: list[int] = []

    def interrupted(self) -> None:
        self.n = 5
        self.items.append(1)
        raise KeyboardInterrupt

    def exits(self) -> None:
        self.n = 6
        raise SystemExit(3)

    def bump(self) -> None:
        self.n += 1

    async def slow(self) -> None:
        self.n = 7
        self.items.append(7)
        await asyncio.sleep(10)

    async def steps(self) -> Any:
        self.n = 1
        yield
        self.n = 2
        await asyncio.sleep(10)


@pytest.mark.parametrize(("handler", "error"), [("ev_stop.interrupted", KeyboardInterrupt),
                                                 ("ev_stop.exits", SystemExit)])
async def test_an_interrupted_handler_is_undone_and_the_exception_goes_on(
        handler: str, error: type[BaseException]) -> None:
    client = StateClient(EvStop)
    with pytest.raises(error):
        await client.session.dispatch(handler)
    assert client.session.snapshot()["ev_stop"] == {"n": 0, "items": []}
    assert client.document == client.session.snapshot()
    assert not client.session.lock.locked()
    await client.dispatch("ev_stop.bump")  # the session goes on
    assert client.document["ev_stop"]["n"] == 1


async def test_a_timed_out_handler_is_undone_to_its_last_flush() -> None:
    client = StateClient(EvStop, flush_interval=0)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(client.session.dispatch("ev_stop.steps"), 0.05)
    assert client.session.snapshot()["ev_stop"]["n"] == 1  # the yield was a flush point
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(client.session.dispatch("ev_stop.slow"), 0.05)
    assert client.session.snapshot()["ev_stop"] == {"n": 1, "items": []}
    assert client.document == client.session.snapshot()


async def test_a_cancelled_handler_is_undone() -> None:
    client = StateClient(EvStop)
    task = asyncio.ensure_future(client.session.dispatch("ev_stop.slow"))
    await asyncio.sleep(0.02)
    assert client.session.get_state(EvStop).n == 7
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert client.session.snapshot()["ev_stop"] == {"n": 0, "items": []}
    assert client.session.get_state(EvStop).items == []

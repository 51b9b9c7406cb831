"""Sessions: revisions, listeners, routing of events and var sets, free-code flushes."""

from __future__ import annotations

import asyncio
import json
from typing import Any, cast

import pytest

import nbstate as ns
from nbstate.lock import SessionLock
from nbstate.protocol import Delta, ErrorInfo
from nbstate.testing import StateClient


class SeNotes(ns.State):
    items: list[str] = []
    title: str = ""
    size: int = 0
    _secret: str = "s"

    @ns.computed
    def count(self) -> int:
        return len(self.items)

    def add(self, text: str) -> None:
        self.items.append(text)

    async def slow_add(self, text: str) -> None:
        await asyncio.sleep(0.01)
        self.items.append(text)

    def _private(self) -> None:
        self.title = "private"

    @staticmethod
    def static() -> None:
        pass


class SeNotesTab(SeNotes):
    open: bool = False


class Recorder:
    def __init__(self) -> None:
        self.deltas: list[Delta] = []
        self.errors: list[ErrorInfo] = []
        self.resyncs: list[int] = []

    def on_delta(self, delta: Delta) -> None:
        self.deltas.append(delta)

    def on_error(self, error: ErrorInfo) -> None:
        self.errors.append(error)

    def resync(self, document: dict[str, dict[str, Any]], revision: int) -> None:
        self.resyncs.append(revision)


def test_creation_is_a_delta() -> None:
    session = ns.Session()
    recorder = Recorder()
    assert session.subscribe(recorder) == ({}, 0)
    session.get_state(SeNotes)
    assert session.revision == 1
    assert recorder.deltas == [{"rev": 1, "ops": [
        {"op": "add", "path": "/se_notes", "value": {"items": [], "title": "", "size": 0,
                                                     "count": 0}},
        {"op": "add", "path": "/se_notes.se_notes_tab", "value": {"open": False}}]}]
    session.get_state(SeNotesTab)  # already there: nothing new
    assert session.revision == 1


class Replaying:
    """A transport that replays deltas to clients that reconnect (as the WebSocket one does)."""

    replays = True

    def on_delta(self, delta: Delta) -> None:
        pass

    def on_error(self, error: ErrorInfo) -> None:
        pass

    def resync(self, document: dict[str, dict[str, Any]], revision: int) -> None:
        pass


async def test_revisions_and_history() -> None:
    probe = StateClient(SeNotes)
    await probe.session.dispatch("se_notes.add", {"text": "0"})
    one = len(json.dumps(probe.deltas[-1], separators=(",", ":")))  # each add's delta
    session = ns.Session(history_bytes=3 * one)
    session.get_state(SeNotes)
    session.subscribe(Replaying())
    for i in range(5):
        await session.dispatch("se_notes.add", {"text": str(i)})
    assert session.revision == 6
    assert [d["rev"] for d in session.history] == [4, 5, 6]
    assert session.deltas_since(6) == []
    assert [d["rev"] for d in session.deltas_since(4) or []] == [5, 6]
    assert [d["rev"] for d in session.deltas_since(3) or []] == [4, 5, 6]
    assert session.deltas_since(2) is None  # too old: the client needs a snapshot
    assert session.deltas_since(7) is None  # from the future


async def test_no_history_without_a_transport_that_replays() -> None:
    session = ns.Session()
    session.get_state(SeNotes)
    StateClient(SeNotes, session=session)  # it does not replay, as the Jupyter host does not
    await session.dispatch("se_notes.add", {"text": "x"})
    assert list(session.history) == []
    assert session.deltas_since(session.revision - 1) is None  # a snapshot instead
    assert session.deltas_since(session.revision) == []


async def test_no_op_flush_does_not_bump_the_revision() -> None:
    session = ns.Session()
    state = session.get_state(SeNotes)
    rev = session.revision
    assert session.flush() is None
    state.title = ""
    assert session.flush() is None
    state._secret = "t"
    assert session.flush() is None
    assert session.revision == rev


def test_snapshot_is_a_copy() -> None:
    session = ns.Session()
    session.get_state(SeNotes)
    snap = session.snapshot()
    snap["se_notes"]["items"].append("x")
    assert session.snapshot()["se_notes"]["items"] == []


async def test_subscribe_and_unsubscribe() -> None:
    session = ns.Session()
    session.get_state(SeNotes)
    recorder = Recorder()
    document, revision = session.subscribe(recorder)
    assert document == session.snapshot()
    assert revision == session.revision
    await session.dispatch("se_notes.add", {"text": "a"})
    session.unsubscribe(recorder)
    session.unsubscribe(recorder)  # twice is fine
    await session.dispatch("se_notes.add", {"text": "b"})
    assert len(recorder.deltas) == 1


async def test_delta_values_are_not_shared_with_the_document() -> None:
    session = ns.Session()
    session.get_state(SeNotes)
    recorder = Recorder()
    session.subscribe(recorder)
    state = session.get_state(SeNotes)
    state.items = ["a"]
    session.flush()
    op = recorder.deltas[-1]["ops"][0]
    assert op["op"] == "replace"
    op["value"].append("tampered")
    assert session.snapshot()["se_notes"]["items"] == ["a"]


@pytest.mark.parametrize(("handler", "error", "fragment"), [
    ("nope.add", ns.UnknownStateError, "no state class has the path 'nope'"),
    ("add", ns.UnknownHandlerError, "must name '<state path>.<handler>'"),
    ("se_notes.nope", ns.UnknownHandlerError, "se_notes has no event handler 'nope'"),
    ("se_notes._private", ns.UnknownHandlerError, "no event handler '_private'"),
    ("se_notes.count", ns.UnknownHandlerError, "no event handler 'count'"),
    ("se_notes.static", ns.UnknownHandlerError, "no event handler 'static'"),
    ("se_notes.get_state", ns.UnknownHandlerError, "no event handler 'get_state'"),
    ("se_notes.__init__", ns.UnknownHandlerError, "no event handler '__init__'"),
    ("se_notes.items", ns.UnknownHandlerError, "its handlers are: add, slow_add"),
])
async def test_unknown_targets(handler: str, error: type[Exception], fragment: str) -> None:
    client = StateClient(SeNotes)
    with pytest.raises(error) as info:
        await client.session.dispatch(handler, {})
    assert fragment in str(info.value)
    assert isinstance(info.value, KeyError)
    assert client.session.get_state(SeNotes).title == ""
    await client.dispatch(handler, {})
    assert client.errors[0]["type"] == error.__name__
    assert client.errors[0]["handler"] == handler


async def test_substate_by_path_is_made_on_demand() -> None:
    session = ns.Session()
    await session.dispatch("se_notes.se_notes_tab.add", {"text": "x"})
    assert session.snapshot()["se_notes"]["items"] == ["x"]


class SeTally(ns.State):
    n: int = 0

    async def bump(self, times: int) -> None:
        for _ in range(times):
            seen = self.n
            await asyncio.sleep(0)  # another event would run here if events were not serialised
            self.n = seen + 1


async def test_events_are_serialised() -> None:
    client = StateClient(SeNotes, SeTally)
    await asyncio.gather(*(client.dispatch("se_tally.bump", {"times": 20}) for _ in range(10)))
    assert client.document["se_tally"]["n"] == 200  # no read-await-write lost an update
    assert [[(op["path"], op.get("value")) for op in d["ops"]] for d in client.deltas] == [
        [("/se_tally/n", 20 * k)] for k in range(1, 11)]  # one handler's whole work at a time
    await asyncio.gather(*(client.dispatch("se_notes.slow_add", {"text": str(i)})
                           for i in range(5)))
    assert client.document["se_notes"]["items"] == ["0", "1", "2", "3", "4"]  # arrival order
    assert client.document == client.session.snapshot()


# --------------------------------------------------------------------------- set_var


async def test_set_var_from_a_client() -> None:
    client = StateClient(SeNotes)
    await client.set_var("se_notes", "title", "hello")
    await client.set_var("se_notes", "size", "12")
    await client.set_var("se_notes.se_notes_tab", "open", True)
    assert not client.errors
    assert client.document["se_notes"]["title"] == "hello"
    assert client.document["se_notes"]["size"] == 12
    assert client.document["se_notes.se_notes_tab"]["open"] is True
    assert len(client.deltas) == 3
    assert client.document == client.session.snapshot()


@pytest.mark.parametrize(("path", "name", "value", "error"), [
    ("se_notes", "size", "big", ns.VarTypeError),
    ("se_notes", "count", 3, ns.ReadOnlyVarError),
    ("se_notes", "_secret", "x", ns.ReadOnlyVarError),
    ("se_notes", "nope", 1, ns.UnknownVarError),
    ("se_notes", "add", 1, ns.UnknownVarError),
    ("se_notes", "__class__", 1, ns.UnknownVarError),
    ("nope", "x", 1, ns.UnknownStateError),
])
async def test_set_var_refusals(path: str, name: str, value: Any, error: type[Exception]) -> None:
    client = StateClient(SeNotes)
    before = client.session.snapshot()
    with pytest.raises(error):
        await client.session.set_var(path, name, value)
    await client.set_var(path, name, value)
    assert client.errors[0]["type"] == error.__name__
    assert client.session.snapshot() == before
    assert client.session.get_state(SeNotes)._secret == "s"


async def test_set_var_waits_for_a_running_handler() -> None:
    client = StateClient(SeNotes)
    await asyncio.gather(client.dispatch("se_notes.slow_add", {"text": "a"}),
                         client.set_var("se_notes", "title", "t"))
    assert client.document["se_notes"]["items"] == ["a"]
    assert client.document["se_notes"]["title"] == "t"
    assert client.deltas[0]["ops"][0]["path"] == "/se_notes/items/-"


# --------------------------------------------------------------------------- free code


def test_free_code_without_a_loop_flushes_when_asked() -> None:
    session = ns.Session(flush_interval=1000)
    state = session.get_state(SeNotes)
    session.flush()
    state.title = "a"
    state.items.append("x")
    assert session.snapshot()["se_notes"]["title"] == ""
    session.flush()
    assert session.snapshot()["se_notes"]["title"] == "a"
    assert session.snapshot()["se_notes"]["items"] == ["x"]


class SeStrict(ns.State):
    n: int = 0

    @ns.computed
    def checked(self) -> int:
        if self.n == 3:
            raise ValueError("three is not allowed")
        return self.n


@pytest.mark.parametrize("due", [True, False], ids=["flush-due", "flush-deferred"])
def test_free_code_that_breaks_a_computed_var(due: bool) -> None:
    session = ns.Session(flush_interval=0 if due else 3600)
    state = session.get_state(SeStrict)
    session.flush()
    if due:  # flushed at once, so the cell that assigned sees the error
        with pytest.raises(ns.ComputedVarError, match=r"se_strict\.checked"):
            state.n = 3
    else:  # not due yet: with no running loop, the next flush is the caller's
        state.n = 3
    with pytest.raises(ns.ComputedVarError, match="three is not allowed"):
        session.flush()  # never publishes n=3 beside a stale checked
    assert session.snapshot()["se_strict"] == {"n": 0, "checked": 0}
    state.n = 4
    session.flush()
    assert session.snapshot()["se_strict"] == {"n": 4, "checked": 4}


async def test_free_code_flushes_when_the_loop_is_free() -> None:
    client = StateClient(SeNotes)
    state = client.session.get_state(SeNotes)
    for i in range(100):  # like a loop in a notebook cell
        state.items.append(str(i))
    await asyncio.sleep(0)
    assert client.document["se_notes"]["items"] == [str(i) for i in range(100)]
    assert client.document["se_notes"]["count"] == 100
    assert len(client.deltas) <= 2
    assert client.document == client.session.snapshot()


async def test_free_code_during_a_handler_goes_out_with_it() -> None:
    client = StateClient(SeNotes)
    state = client.session.get_state(SeNotes)

    async def cell() -> None:
        await asyncio.sleep(0.002)
        state.title = "from a cell"

    await asyncio.gather(client.dispatch("se_notes.slow_add", {"text": "h"}), cell())
    await asyncio.sleep(0)
    assert client.document["se_notes"]["title"] == "from a cell"
    assert client.document["se_notes"]["items"] == ["h"]
    assert client.document == client.session.snapshot()


async def test_drain_without_background_work() -> None:
    await ns.Session().drain()


def test_default_session_is_a_singleton() -> None:
    assert ns.default_session() is ns.default_session()
    state = ns.get_state(SeNotes)
    assert state is ns.default_session().get_state(SeNotes)


# --------------------------------------------------------------------------- misuse and failures


class SeGuard(ns.State):
    n: int = 0
    text: str = ""
    ratio: float = 0.5

    async def calls_itself(self) -> None:
        self.n = 1
        await cast(ns.Session, self._nb_session).dispatch("se_guard.bump")

    async def sets_itself(self) -> None:
        self.n = 2
        await cast(ns.Session, self._nb_session).set_var("se_guard", "text", "x")

    def bump(self) -> None:
        self.n += 1

    def takes(self, k: int = 0) -> None:
        self.n = k


@pytest.mark.parametrize("handler", ["se_guard.calls_itself", "se_guard.sets_itself"])
async def test_awaiting_its_own_session_is_an_error_not_a_deadlock(handler: str) -> None:
    client = StateClient(SeGuard)
    await asyncio.wait_for(client.dispatch(handler), 2)
    assert client.errors[0]["type"] == "EventReentryError"
    assert "chain the event instead" in client.errors[0]["message"]
    assert client.document["se_guard"]["n"] == 0  # rolled back
    await asyncio.wait_for(client.dispatch("se_guard.bump"), 2)  # the lock was released
    assert client.document["se_guard"]["n"] == 1


@pytest.mark.parametrize(("call", "error"), [
    (lambda s: s.dispatch(None), ns.UnknownHandlerError),
    (lambda s: s.dispatch(42), ns.UnknownHandlerError),
    (lambda s: s.set_var("se_guard", None, 1), ns.UnknownVarError),
    (lambda s: s.set_var(None, "n", 1), ns.UnknownStateError),
    (lambda s: s.dispatch("se_guard.takes", 0), ns.PayloadError),
    (lambda s: s.dispatch("se_guard.takes", ""), ns.PayloadError),
    (lambda s: s.dispatch("se_guard.takes", False), ns.PayloadError),
    (lambda s: s.dispatch("se_guard.takes", []), ns.PayloadError),
])
async def test_misuse_raises_the_fitting_error(call: Any, error: type[Exception]) -> None:
    session = ns.Session()
    session.get_state(SeGuard)
    with pytest.raises(error):
        await call(session)
    assert session.snapshot()["se_guard"]["n"] == 0


@pytest.mark.parametrize(("name", "value"), [
    ("text", "a\ud800b"), ("ratio", float("nan")), ("ratio", float("inf")), ("ratio", "-inf"),
    ("ratio", "nan"),
])
async def test_values_with_no_json_form_are_refused_everywhere(name: str, value: Any) -> None:
    client = StateClient(SeGuard)
    state = client.session.get_state(SeGuard)
    with pytest.raises(ns.VarTypeError, match=f"se_guard.{name}"):
        setattr(state, name, value)  # cell code
    await client.set_var("se_guard", name, value)  # a client
    assert client.errors[-1]["type"] == "VarTypeError"
    assert client.session.snapshot() == client.document
    assert client.document["se_guard"] == {"n": 0, "text": "", "ratio": 0.5}


class Failing:
    """A transport whose first send fails."""

    def __init__(self) -> None:
        self.calls = 0
        self.resynced: list[tuple[dict[str, Any], int]] = []

    def on_delta(self, delta: Delta) -> None:
        self.calls += 1
        if self.calls == 1:
            raise UnicodeEncodeError("utf-8", "", 0, 1, "cannot send")

    def on_error(self, error: ErrorInfo) -> None:
        raise RuntimeError("cannot report either")

    def resync(self, document: dict[str, Any], revision: int) -> None:
        self.resynced.append((document, revision))


async def test_a_failing_listener_is_resynced_and_fails_nothing_else() -> None:
    client = StateClient(SeGuard)
    failing = Failing()
    client.session.subscribe(failing)
    await client.dispatch("se_guard.bump")  # the failing send is not the handler's failure
    assert not client.errors
    assert client.document["se_guard"]["n"] == 1  # the other listener got the delta
    assert failing.resynced == [(client.session.snapshot(), client.session.revision)]
    await client.dispatch("se_guard.bump")
    assert client.document["se_guard"]["n"] == 2 and failing.calls == 2
    client.session.report({"handler": "se_guard.bump", "type": "X", "message": "m"})
    assert client.errors[-1]["type"] == "X"  # reported to the others despite the raise


def test_the_current_session_is_bound_per_context() -> None:
    import threading

    from nbstate.session import bind_session, current_session

    visitors = {name: ns.Session() for name in ("one", "two")}
    seen: dict[str, ns.Session] = {}

    def visit(name: str) -> None:  # a thread starts with a context of its own
        bind_session(visitors[name])
        ns.get_state(SeGuard).n = 5 if name == "one" else 7
        seen[name] = current_session()

    threads = [threading.Thread(target=visit, args=(name,)) for name in visitors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == visitors
    assert visitors["one"].get_state(SeGuard).n == 5
    assert visitors["two"].get_state(SeGuard).n == 7
    assert current_session() not in visitors.values()  # this context binds neither


async def test_an_idle_session_keeps_little_of_its_own() -> None:
    one, two = ns.Session(), ns.Session()
    for session in (one, two):
        session.get_state(SeNotes)
        session.flush()
    assert one._dispatcher is None  # made on the first event
    assert not one.history.kept
    assert one.document.data["se_notes"] is two.document.data["se_notes"]  # shared until changed
    assert one.computed.deps.graph is two.computed.deps.graph
    await one.dispatch("se_notes.add", {"text": "x"})
    assert one._dispatcher is not None
    assert one.document.data["se_notes"] is not two.document.data["se_notes"]
    assert two.snapshot()["se_notes"]["items"] == []


async def test_the_lock_is_replaced_only_before_the_first_event() -> None:
    session = ns.Session()
    session.get_state(SeTally)
    own = SessionLock()
    session.use_lock(own)
    assert session.lock is own
    await session.dispatch("se_tally.bump", {"times": 2})
    assert session.get_state(SeTally).n == 2
    with pytest.raises(RuntimeError, match="before the first event"):
        session.use_lock(SessionLock())
    assert session.lock is own

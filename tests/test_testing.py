"""StateClient, driven the way the public contract describes it."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import nbstate as ns
from nbstate.patch import apply_patch
from nbstate.testing import StateClient


class Todo(ns.State):
    items: list[str] = []
    draft: str = ""
    saving: bool = False
    _api_calls: int = 0

    @ns.computed
    def remaining(self) -> int:
        return len(self.items)

    def set_draft(self, value: str) -> None:
        self.draft = value

    async def add(self, text: str = ""):  # type: ignore[no-untyped-def]
        self.saving = True
        yield
        await asyncio.sleep(0)
        self.items.append(text or self.draft)
        self._api_calls += 1
        self.draft, self.saving = "", False

    def remove(self, index: int) -> None:
        del self.items[index]

    def explode(self) -> None:
        self.items.append("half")
        raise RuntimeError("exploded")

    @ns.event(background=True)
    async def import_many(self, n: int) -> None:
        for i in range(n):
            async with self:
                self.items.append(f"item {i}")


class Filters(Todo):
    query: str = ""

    @ns.computed
    def matches(self) -> list[str]:
        return [t for t in self.items if self.query in t]

    def set_query(self, value: str) -> None:
        self.query = value


def replay(client: StateClient, first: dict[str, Any]) -> dict[str, Any]:
    doc = first
    for delta in client.deltas:
        doc = apply_patch(doc, delta["ops"])
    return doc


async def test_public_contract() -> None:
    session = ns.Session()
    todo = session.get_state(Todo)
    await session.dispatch("todo.add", {"text": "x"})
    await session.drain()
    assert todo.items == ["x"]
    assert session.snapshot()["todo"] == {"items": ["x"], "draft": "", "saving": False,
                                          "remaining": 1}

    client = StateClient(Todo, Filters)
    first = client.session.snapshot()
    assert first["todo.filters"] == {"query": "", "matches": []}
    await client.dispatch("todo.add", {"text": "apple"})
    await client.dispatch("todo.add", {"text": "banana"})
    await client.dispatch("todo.filters.set_query", {"value": "a"})
    assert client.document == client.session.snapshot()
    assert client.document["todo.filters"]["matches"] == ["apple", "banana"]
    await client.dispatch("todo.filters.set_query", {"value": "pp"})
    assert client.deltas[-1]["ops"] == [
        {"op": "replace", "path": "/todo.filters/query", "value": "pp"},
        {"op": "remove", "path": "/todo.filters/matches/1"}]  # "banana" left the filtered list
    assert all(set(d) == {"rev", "ops"} for d in client.deltas)
    assert [d["rev"] for d in client.deltas] == list(
        range(client.deltas[0]["rev"], client.deltas[0]["rev"] + len(client.deltas)))
    assert replay(client, first) == client.session.snapshot()
    assert client.errors == []


async def test_errors_are_recorded() -> None:
    client = StateClient(Todo)
    await client.dispatch("todo.explode")
    await client.dispatch("todo.nope")
    await client.dispatch("todo.remove", {"index": "x"})
    await client.dispatch("todo.remove", {"index": 3})
    assert client.errors[:3] == [
        {"handler": "todo.explode", "type": "RuntimeError", "message": "exploded"},
        {"handler": "todo.nope", "type": "UnknownHandlerError",
         "message": "todo has no event handler 'nope'; its handlers are: add, explode, "
                    "import_many, remove, set_draft"},
        {"handler": "todo.remove", "type": "PayloadError",
         "message": "todo.remove.index must be an integer, got 'x'"},
    ]
    # the handler's own exception, as Python words it
    assert client.errors[3]["handler"] == "todo.remove"
    assert client.errors[3]["type"] == "IndexError"
    assert "index out of range" in client.errors[3]["message"]
    assert len(client.errors) == 4
    assert client.document["todo"]["items"] == []
    assert client.document == client.session.snapshot()


async def test_document_tracks_every_operation() -> None:
    client = StateClient(Todo, Filters, flush_interval=0)
    steps: list[tuple[str, dict[str, Any]]] = [
        ("todo.set_draft", {"value": "d"}), ("todo.add", {}), ("todo.add", {"text": "e"}),
        ("todo.filters.set_query", {"value": "e"}), ("todo.remove", {"index": 0}),
        ("todo.explode", {}), ("todo.import_many", {"n": 3}),
    ]
    for handler, payload in steps:
        await client.dispatch(handler, payload)
        await client.session.drain()
        assert client.document == client.session.snapshot(), handler
    await client.set_var("todo", "draft", "typed")
    await client.set_var("todo", "remaining", 3)
    assert client.document == client.session.snapshot()
    assert client.document["todo"]["items"] == ["e", "item 0", "item 1", "item 2"]
    assert client.document["todo"]["draft"] == "typed"
    assert client.document["todo.filters"]["matches"] == ["e", "item 0", "item 1", "item 2"]
    assert [e["type"] for e in client.errors] == ["RuntimeError", "ReadOnlyVarError"]
    assert client.errors[1]["handler"] == "todo.remaining"


async def test_saving_flag_is_seen_at_the_yield() -> None:
    client = StateClient(Todo, flush_interval=0)
    await client.dispatch("todo.add", {"text": "x"})
    assert client.deltas[0]["ops"] == [{"op": "replace", "path": "/todo/saving", "value": True}]
    assert {op["path"] for op in client.deltas[1]["ops"]} == {
        "/todo/items/-", "/todo/saving", "/todo/remaining", "/todo.filters/matches/-"}
    assert "_api_calls" not in client.document["todo"]


async def test_background_errors_reach_the_client() -> None:
    client = StateClient(Todo)
    await client.dispatch("todo.import_many", {"n": "many"})
    assert client.errors[0]["type"] == "PayloadError"


async def test_existing_session_and_close() -> None:
    session = ns.Session()
    session.get_state(Todo)
    client = StateClient(session=session)
    assert client.session is session
    assert client.document == session.snapshot()
    client.close()
    await session.dispatch("todo.set_draft", {"value": "after close"})
    assert client.deltas == []


def test_a_gap_is_detected() -> None:
    client = StateClient(Todo)
    client.on_delta({"rev": client.revision + 2, "ops": []})
    with pytest.raises(AssertionError, match="a gap"):
        client.check()


async def test_a_gap_fails_the_next_dispatch() -> None:
    client = StateClient(Todo)
    client.revision -= 1  # as if one delta never arrived
    with pytest.raises(AssertionError, match="a gap"):
        await client.dispatch("todo.set_draft", {"value": "x"})


def test_public_names() -> None:
    for name in ("State", "computed", "event", "Session", "NbStateError", "VarTypeError",
                 "UnknownVarError", "ReadOnlyVarError", "ComputedVarError", "UnknownStateError",
                 "UnknownHandlerError", "PayloadError", "EventHandlerError",
                 "BackgroundMutationError", "DuplicateStateError", "ProtocolError"):
        assert hasattr(ns, name), name
        assert name in ns.__all__
    for error in ns.__all__:
        obj = getattr(ns, error)
        if (isinstance(obj, type) and issubclass(obj, Exception)
                and not issubclass(obj, Warning) and obj is not ns.NbStateError):
            assert issubclass(obj, ns.NbStateError)
            assert len(obj.__mro__) > 4, f"{error} inherits no built-in besides Exception"
    assert all(hasattr(ns, name) for name in ns.__all__)

"""Computed vars: only the stale ones recomputed, only changed values sent, JSON only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import nbstate as ns
from nbstate.testing import StateClient


class RcState(ns.State):
    n: int = 0
    label: str = "x"
    calls: int = 0

    @ns.computed
    def parity(self) -> str:
        return "even" if self.n % 2 == 0 else "odd"

    @ns.computed
    def shout(self) -> str:
        return self.parity.upper()

    @ns.computed
    def ratio(self) -> float:
        return float("nan") if self.label == "nan" else 1.0

    def set_n(self, n: int) -> None:
        self.n = n

    def set_label(self, label: str) -> None:
        self.n += 1
        self.label = label


async def test_only_changed_values_go_out_transitively() -> None:
    client = StateClient(RcState)
    await client.dispatch("rc_state.set_n", {"n": 2})  # parity stays "even"
    assert client.deltas[-1]["ops"] == [{"op": "replace", "path": "/rc_state/n", "value": 2}]
    await client.dispatch("rc_state.set_n", {"n": 3})
    assert {op["path"] for op in client.deltas[-1]["ops"]} == {
        "/rc_state/n", "/rc_state/parity", "/rc_state/shout"}


async def test_a_computed_value_json_cannot_carry_fails_the_handler_and_changes_nothing() -> None:
    client = StateClient(RcState)
    await client.dispatch("rc_state.set_label", {"label": "nan"})
    assert client.errors[-1]["type"] == "ComputedVarError"
    assert "rc_state.ratio" in client.errors[-1]["message"]
    assert "NaN" in client.errors[-1]["message"]
    assert client.document["rc_state"]["n"] == 0 and client.document["rc_state"]["label"] == "x"
    assert client.document == client.session.snapshot()
    await client.dispatch("rc_state.set_label", {"label": "ok"})  # and the next one works
    assert client.document["rc_state"]["label"] == "ok"


class RcList(ns.State):
    items: list[str] = []
    query: str = ""
    flag: bool = False

    @ns.computed
    def matches(self) -> list[str]:
        return [t for t in self.items if self.query in t]

    @ns.computed
    def table(self) -> dict[str, Any]:
        return {"rows": [{"n": i, "even": i % 2 == 0} for i in range(len(self.items))],
                "flag": self.flag}

    @ns.computed
    def branchy(self) -> str:
        return self.query if self.flag else "off"

    @ns.computed
    def marks(self) -> list[Any]:
        return [1 if self.flag else True, 0]

    def set_flag(self, value: bool) -> None:
        self.flag = value


async def _changed(setup: Callable[[RcList], None],
                   change: Callable[[RcList], None]) -> tuple[StateClient, list[dict[str, Any]]]:
    client = StateClient(RcList)
    state = client.session.get_state(RcList)
    setup(state)
    client.session.flush()
    change(state)
    client.session.flush()
    assert client.document == client.session.snapshot()
    return client, [dict(op) for op in client.deltas[-1]["ops"]]


def _many(s: RcList) -> None:
    s.items = [f"item {i}" for i in range(200)]


def _many_filtered(s: RcList) -> None:
    _many(s)
    s.query = "item"


@pytest.mark.parametrize(("setup", "change", "sent"), [
    pytest.param(_many, lambda s: s.items.append("item 200"),
                 [{"op": "add", "path": "/rc_list/items/-", "value": "item 200"},
                  {"op": "add", "path": "/rc_list/matches/-", "value": "item 200"},
                  {"op": "add", "path": "/rc_list/table/rows/-",
                   "value": {"n": 200, "even": True}}], id="a filtered list gains one item"),
    pytest.param(_many, lambda s: s.items.pop(5),
                 [{"op": "remove", "path": "/rc_list/items/5"},
                  {"op": "remove", "path": "/rc_list/matches/5"},
                  {"op": "remove", "path": "/rc_list/table/rows/199"}], id="one item leaves"),
    pytest.param(_many_filtered, lambda s: s.items.__setitem__(7, "other"),
                 [{"op": "replace", "path": "/rc_list/items/7", "value": "other"},
                  {"op": "remove", "path": "/rc_list/matches/7"}], id="a filter drops one"),
    pytest.param(_many, lambda s: setattr(s, "flag", True),
                 [{"op": "replace", "path": "/rc_list/flag", "value": True},
                  {"op": "replace", "path": "/rc_list/table/flag", "value": True},
                  {"op": "replace", "path": "/rc_list/branchy", "value": ""},
                  {"op": "replace", "path": "/rc_list/marks/0", "value": 1}],
                 id="a member deep in a dict; True is not 1"),
    pytest.param(_many, lambda s: setattr(s, "query", "item 1"),
                 None, id="most of a list gone: one replace"),
])
async def test_a_computed_value_that_changed_a_little_sends_the_smallest_patch(
        setup: Callable[[RcList], None], change: Callable[[RcList], None],
        sent: list[dict[str, Any]] | None) -> None:
    client, ops = await _changed(setup, change)
    if sent is not None:
        assert ops == sent
    else:
        matches = [op for op in ops if op["path"].startswith("/rc_list/matches")]
        assert matches == [{"op": "replace", "path": "/rc_list/matches",
                            "value": client.document["rc_list"]["matches"]}]


async def test_sessions_share_one_dependency_graph() -> None:
    one, two = StateClient(RcList), StateClient(RcList)
    assert one.session.computed.deps.graph is two.session.computed.deps.graph
    await one.dispatch("rc_list.set_flag", {"value": True})  # branchy now reads query too
    await one.session.drain()
    graph = one.session.computed.deps.graph
    assert graph is not two.session.computed.deps.graph
    assert ("rc_list", "query") in graph.reads[("rc_list", "branchy")]
    two.session.get_state(RcList).flag = True
    two.session.flush()
    assert two.session.computed.deps.graph is graph  # the same change: the same graph
    # and it still works: a change of query reaches branchy in both
    for client in (one, two):
        client.session.get_state(RcList).query = "q"
        client.session.flush()
        assert client.document["rc_list"]["branchy"] == "q"

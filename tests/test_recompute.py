"""Computed vars: only the stale ones recomputed, only changed values sent, JSON only."""

from __future__ import annotations

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

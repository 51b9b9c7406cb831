"""The state the tests of the mutation log and of tracked values share.

``ChBox`` holds one var of each kind a value can be tracked as; ``run`` dispatches an action on
it as an event handler and checks the client, the session document and the Python values agree.
The tables of ``(name, action, expected ops)`` live with the module each case tests
(test_changes, test_tracking, test_models, test_containers, test_sets); :func:`assert_ops` and
:func:`assert_rolls_back` are the two checks every case gets.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pydantic
import pytest

import nbstate as ns
from nbstate.plain import untrack
from nbstate.protocol import encode
from nbstate.testing import StateClient

Case = tuple[str, Callable[[Any], Any], list[dict[str, Any]]]


class ChInner(pydantic.BaseModel):
    tags: list[str] = []
    n: int = 0


class ChOuter(pydantic.BaseModel):
    inner: ChInner = ChInner()
    by_name: dict[str, ChInner] = {}


@dataclasses.dataclass
class ChPair:
    left: int = 0
    inner: ChInner = dataclasses.field(default_factory=ChInner)
    notes: list[str] = dataclasses.field(default_factory=list)


class ChStrict(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(validate_assignment=True)
    values: list[int] = []


@dataclasses.dataclass(slots=True)
class ChSlotted:
    a: int = 0


ACTION: list[Callable[[Any], Any]] = []


class ChBox(ns.State):
    items: list[str] = ["a", "b", "c"]
    nums: list[int] = [3, 1, 2]
    d: dict[str, int] = {"x": 1, "y": 2}
    tags: set[str] = {"p"}
    model: ChOuter = ChOuter()
    pair: ChPair = ChPair()
    rows: list[dict[str, int]] = [{"n": 1}, {"n": 2}]
    groups: dict[str, list[int]] = {"a": [1]}
    anything: Any = None
    strict: ChStrict = ChStrict()
    slotted: ChSlotted = ChSlotted()
    _secret: list[int] = []

    def apply(self) -> None:
        ACTION[0](self)

    def apply_then_fail(self) -> None:
        ACTION[0](self)
        raise RuntimeError("boom")


SYNCED = [n for n, v in ChBox.__nbstate_vars__.items() if v.synced]


def values(box: ChBox) -> dict[str, Any]:
    """Plain deep copies of every var's Python value."""
    return {name: untrack(box._nb_values[name]) for name in ChBox.__nbstate_vars__}


def check_consistent(client: StateClient) -> None:
    box = client.session.get_state(ChBox)
    snapshot = client.session.snapshot()
    assert client.document == snapshot
    for name in SYNCED:
        assert snapshot["ch_box"][name] == encode(getattr(box, name)), name


async def run(action: Callable[[Any], Any]) -> tuple[StateClient, list[dict[str, Any]]]:
    client = StateClient(ChBox)
    ACTION[:] = [action]
    await client.session.dispatch("ch_box.apply")
    assert not client.errors
    check_consistent(client)
    ops = [dict[str, Any](op) for d in client.deltas for op in d["ops"]]
    return client, ops


P = "/ch_box"


def _ops_match(actual: list[dict[str, Any]], expected: list[dict[str, Any]]) -> bool:
    if len(actual) != len(expected):
        return False
    for a, e in zip(actual, expected, strict=True):
        if {k: v for k, v in a.items() if k != "value"} != {
                k: v for k, v in e.items() if k != "value"}:
            return False
        if "value" in e and a.get("value") != e["value"]:
            return False
    return True


def with_ops(cases: list[Case]) -> list[Any]:
    """``cases`` as parameters ``(action, expected)`` named by the case."""
    return [pytest.param(a, e, id=n) for n, a, e in cases]


def actions(cases: list[Case]) -> list[Any]:
    """The actions of ``cases`` as parameters named by the case."""
    return [pytest.param(a, id=n) for n, a, _ in cases]


async def assert_ops(action: Callable[[Any], Any], expected: list[dict[str, Any]]) -> None:
    """``action`` sends exactly the ``expected`` ops (a ``value`` left out is not compared)."""
    _, ops = await run(action)
    assert _ops_match(ops, expected), ops


async def assert_rolls_back(action: Callable[[Any], Any]) -> None:
    """A handler that makes ``action`` and raises leaves no trace, and the values stay tracked."""
    client = StateClient(ChBox)
    box = client.session.get_state(ChBox)
    before_snapshot, before_values = client.session.snapshot(), values(box)
    ACTION[:] = [action]
    await client.dispatch("ch_box.apply_then_fail")
    assert client.errors == [
        {"handler": "ch_box.apply_then_fail", "type": "RuntimeError", "message": "boom"}]
    assert client.session.snapshot() == before_snapshot
    assert values(box) == before_values
    assert client.document == before_snapshot
    # the values are still tracked: the same action now reaches the client
    await client.dispatch("ch_box.apply")
    check_consistent(client)

"""The tree of tracked nodes: each change is found at its node's current place; a node that
leaves the tree is on its own; values that look equal but differ in JSON are changes."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

import nbstate as ns
from nbstate import tracking
from nbstate.protocol import encode
from nbstate.testing import StateClient
from tests.boxes import (
    ACTION,
    Case,
    ChBox,
    ChInner,
    ChOuter,
    ChPair,
    P,
    actions,
    assert_ops,
    assert_rolls_back,
    run,
    with_ops,
)

CASES: list[Case] = [
    ("list of dicts moved", lambda s: (s.rows.insert(0, {"n": 0}), s.rows[2].update(m=1)), [
        {"op": "add", "path": f"{P}/rows/0", "value": {"n": 0}},
        {"op": "add", "path": f"{P}/rows/2/m", "value": 1}]),
    ("list of dicts after sort", lambda s: (s.rows.reverse(), s.rows[0].__setitem__("n", 7)), [
        {"op": "replace", "path": f"{P}/rows", "value": [{"n": 2}, {"n": 1}]},
        {"op": "replace", "path": f"{P}/rows/0/n", "value": 7}]),
    ("move an item", lambda s: s.rows.append(s.rows.pop(0)), [
        {"op": "remove", "path": f"{P}/rows/0"},
        {"op": "add", "path": f"{P}/rows/-", "value": {"n": 1}}]),
    ("pop and edit", lambda s: s.rows.pop(0).__setitem__("n", 9),
     [{"op": "remove", "path": f"{P}/rows/0"}]),
    ("replace and edit the old",
     lambda s: (s.pair.notes.append("n"), s.__setattr__("pair", ChPair()),
                s.pair.notes.append("new")), [
        {"op": "replace", "path": f"{P}/pair", "value": {"left": 0, "inner": {"tags": [], "n": 0},
                                                          "notes": []}},
        {"op": "add", "path": f"{P}/pair/notes/-", "value": "new"}]),
    ("any var nested",
     lambda s: (s.__setattr__("anything", {"k": [1]}), s.anything["k"].append(2)), [
        {"op": "replace", "path": f"{P}/anything", "value": {"k": [1]}},
        {"op": "add", "path": f"{P}/anything/k/-", "value": 2}]),
    ("backend var", lambda s: s._secret.append(1), []),
]


@pytest.mark.parametrize(("action", "expected"), with_ops(CASES))
async def test_mutation_ops(action: Callable[[Any], Any], expected: list[dict[str, Any]]) -> None:
    await assert_ops(action, expected)


@pytest.mark.parametrize("action", actions(CASES))
async def test_mutation_rolls_back(action: Callable[[Any], Any]) -> None:
    await assert_rolls_back(action)


async def test_detached_node_is_no_longer_tracked() -> None:
    def action(s: ChBox) -> None:
        row = s.rows.pop(0)
        row["n"] = 100  # left the tree: a plain change
        s.groups.pop("a").append(9)
        old_inner = s.model.inner
        s.model.inner = ChInner(n=1)
        old_inner.n = 5

    _, ops = await run(action)
    assert [op["path"] for op in ops] == [f"{P}/rows/0", f"{P}/groups/a", f"{P}/model/inner"]


def test_defaults_are_not_shared_or_mutated() -> None:
    a = ns.Session().get_state(ChBox)
    b = ns.Session().get_state(ChBox)
    assert a.rows is not b.rows
    assert a.model.inner is not b.model.inner
    a.rows[0]["n"] = 99
    a.model.inner.tags.append("x")
    a.pair.notes.append("y")
    assert b.rows == [{"n": 1}, {"n": 2}]
    assert b.model.inner.tags == []
    assert b.pair.notes == []
    assert ChBox.__nbstate_vars__["model"].default == ChOuter()
    assert ChBox.__nbstate_vars__["pair"].default == ChPair()


class ChOpaque:
    """A value with no JSON form."""


@pytest.mark.parametrize("action", [
    lambda s: s.__setattr__("anything", ChOpaque()),
    lambda s: (s.__setattr__("anything", [1]), s.anything.append(ChOpaque())),
    lambda s: (s.__setattr__("anything", {}), s.anything.__setitem__("k", ChOpaque())),
    lambda s: (s.__setattr__("anything", [1]), s.anything.insert(0, ChOpaque())),
    lambda s: (s.__setattr__("anything", [1]), s.anything.__setitem__(slice(None), [ChOpaque()])),
])
async def test_value_without_json_form_changes_nothing(action: Callable[[Any], Any]) -> None:
    client = StateClient(ChBox)
    box = client.session.get_state(ChBox)
    ACTION[:] = [action]
    await client.dispatch("ch_box.apply")
    assert client.errors[0]["type"] == "VarTypeError"
    assert "a ChOpaque has no JSON form" in client.errors[0]["message"]
    assert box.anything is None
    assert client.document == client.session.snapshot()
    box.anything = [0]
    with pytest.raises(ns.VarTypeError, match=r"ch_box\.anything\[1\]: a ChOpaque has no JSON"):
        box.anything.append(ChOpaque())
    assert box.anything == [0]


async def test_a_moved_node_is_the_same_object() -> None:
    client = StateClient(ChBox)
    box = client.session.get_state(ChBox)
    box.anything = [{"n": 1}, {"n": 2}]  # typed items would be validated into a copy
    client.session.flush()
    first = box.anything[0]
    ACTION[:] = [lambda s: s.anything.append(s.anything.pop(0))]
    await client.dispatch("ch_box.apply")
    assert box.anything[1] is first
    first["n"] = 5  # still tracked at its new place
    client.session.flush()
    assert client.document["ch_box"]["anything"] == [{"n": 2}, {"n": 5}]


async def test_a_removed_node_edited_later_is_restored_as_it_was() -> None:
    client = StateClient(ChBox)
    box = client.session.get_state(ChBox)
    kept: list[Any] = []

    def action(s: ChBox) -> None:
        kept.append(s.rows.pop(0))
        kept[0]["n"] = 100
        kept[0]["extra"] = 1
        old_model = s.model
        s.model = ChOuter(by_name={"k": ChInner()})
        old_model.inner.tags.append("lost")

    ACTION[:] = [action]
    await client.dispatch("ch_box.apply_then_fail")
    assert [e["type"] for e in client.errors] == ["RuntimeError"]
    assert box.rows == [{"n": 1}, {"n": 2}]
    assert box.rows[0] is kept[0]
    assert box.model == ChOuter()
    assert client.document == client.session.snapshot()
    # once the removal is flushed, the node is on its own
    await client.dispatch("ch_box.apply")
    assert len(client.errors) == 1
    kept[-1]["n"] = 7
    client.session.flush()
    assert box.rows == [{"n": 2}]
    assert client.document["ch_box"]["rows"] == [{"n": 2}]


@pytest.mark.parametrize(("before", "after"), [
    ([1], [True]), ({"a": 0}, {"a": False}), ([1], [1.0]), ([[0]], [[False]]), (1, True),
    (0, 0.0)])
async def test_equal_in_python_but_not_in_json_is_a_change(before: Any, after: Any) -> None:
    client = StateClient(ChBox)
    box = client.session.get_state(ChBox)
    box.anything = before
    client.session.flush()
    box.anything = after
    client.session.flush()
    assert json.dumps(client.document["ch_box"]["anything"]) == json.dumps(after)
    assert json.dumps(encode(box.anything)) == json.dumps(after)


async def test_scalar_over_a_container_detaches_the_container() -> None:
    client = StateClient(ChBox)
    box = client.session.get_state(ChBox)
    box.anything = [1]
    client.session.flush()
    old = box.anything
    box.anything = 5
    old.append(2)
    client.session.flush()
    assert client.document["ch_box"]["anything"] == 5
    assert client.document == client.session.snapshot()


class TrRows(ns.State):
    rows: list[dict[str, Any]] = []


async def test_indices_a_list_change_moved_are_found_again_once(
        monkeypatch: pytest.MonkeyPatch) -> None:
    scans: list[int] = []
    reindex = tracking._reindex

    def counted(parent: list[Any], node: Any) -> int | None:
        scans.append(len(parent))
        return reindex(parent, node)

    monkeypatch.setattr(tracking, "_reindex", counted)
    client = StateClient(TrRows)
    state = client.session.get_state(TrRows)
    state.rows = [{"n": i} for i in range(50)]
    client.session.flush()
    state.rows.insert(0, {"n": -1})
    for row in state.rows:
        row["n"] += 100  # every row after the insert has moved
    assert scans == [51]  # one scan finds them all again: linear, not n²
    del state.rows[10]
    for row in state.rows[10:]:
        row["n"] += 100
    client.session.flush()
    assert scans == [51, 50]
    assert client.document["tr_rows"]["rows"] == [
        {"n": n + 100} for n in [-1, *range(9)]] + [{"n": n + 200} for n in range(10, 50)]
    ops = client.deltas[-1]["ops"]
    assert ops[:3] == [{"op": "add", "path": "/tr_rows/rows/0", "value": {"n": -1}},
                       {"op": "replace", "path": "/tr_rows/rows/0/n", "value": 99},
                       {"op": "replace", "path": "/tr_rows/rows/1/n", "value": 100}]

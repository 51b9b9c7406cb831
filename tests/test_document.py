"""The session document: commits, revisions, history, reading values."""

from __future__ import annotations

import pytest

from nbstate.document import SessionDocument


def _doc() -> SessionDocument:
    doc = SessionDocument(history=3)
    doc.commit([{"op": "add", "path": "/todo", "value": {"items": [], "n": 0}}])
    return doc


def test_each_commit_is_the_next_revision() -> None:
    doc = _doc()
    delta = doc.commit([{"op": "add", "path": "/todo/items/-", "value": "a"},
                        {"op": "replace", "path": "/todo/n", "value": 1}])
    assert delta["rev"] == doc.revision == 2
    assert doc.data == {"todo": {"items": ["a"], "n": 1}}
    assert doc.value("todo", "n") == 1
    with pytest.raises(KeyError):
        doc.value("todo", "nope")


def test_whole_values_are_copied_in() -> None:
    doc = _doc()
    value = ["x"]
    doc.commit([{"op": "replace", "path": "/todo/items", "value": value}])
    value.append("changed later")
    assert doc.data["todo"]["items"] == ["x"]


def test_snapshot_shares_nothing() -> None:
    doc = _doc()
    snap = doc.snapshot()
    snap["todo"]["items"].append("x")
    assert doc.data["todo"]["items"] == []


def test_history_is_bounded_and_replays_what_it_holds() -> None:
    doc = _doc()
    for n in range(1, 6):
        doc.commit([{"op": "replace", "path": "/todo/n", "value": n}])
    assert doc.revision == 6
    assert [d["rev"] for d in doc.history] == [4, 5, 6]
    assert [d["rev"] for d in doc.deltas_since(3) or []] == [4, 5, 6]
    assert doc.deltas_since(6) == []
    assert doc.deltas_since(2) is None  # no longer held: send a snapshot
    assert doc.deltas_since(9) is None  # from the future

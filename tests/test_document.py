"""The session document: commits, revisions, history, reading values."""

from __future__ import annotations

import json
from typing import Any

import pytest

from nbstate.document import DEFAULT_HISTORY_BYTES, SessionDocument
from nbstate.jsondiff import SPLICE
from nbstate.patch import JsonPatchError, apply_patch


def _doc(history_bytes: int = DEFAULT_HISTORY_BYTES) -> SessionDocument:
    doc = SessionDocument(history_bytes)
    doc.commit([{"op": "add", "path": "/todo", "value": {"items": [], "n": 0}}])
    return doc


def _size(delta: Any) -> int:
    return len(json.dumps(delta, separators=(",", ":")))


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


def test_history_is_kept_only_once_asked_for() -> None:
    doc = _doc()
    doc.commit([{"op": "replace", "path": "/todo/n", "value": 1}])
    assert list(doc.history) == [] and not doc.history.kept
    assert doc.deltas_since(1) is None  # nothing held: the client gets a snapshot
    doc.history.keep()
    doc.commit([{"op": "replace", "path": "/todo/n", "value": 2}])
    assert [d["rev"] for d in doc.deltas_since(2) or []] == [3]


def test_history_is_bounded_by_bytes_and_replays_what_it_holds() -> None:
    one = _size({"rev": 2, "ops": [{"op": "replace", "path": "/todo/n", "value": 1}]})
    doc = _doc(3 * one)
    doc.history.keep()
    for n in range(1, 6):
        doc.commit([{"op": "replace", "path": "/todo/n", "value": n}])
    assert doc.revision == 6
    assert [d["rev"] for d in doc.history] == [4, 5, 6]
    assert doc.history.size == 3 * one
    assert [d["rev"] for d in doc.deltas_since(3) or []] == [4, 5, 6]
    assert doc.deltas_since(6) == []
    assert doc.deltas_since(2) is None  # no longer held: send a snapshot
    assert doc.deltas_since(9) is None  # from the future


def test_a_delta_larger_than_the_bound_empties_the_history() -> None:
    doc = _doc(200)
    doc.history.keep()
    doc.commit([{"op": "replace", "path": "/todo/n", "value": 1}])
    doc.commit([{"op": "replace", "path": "/todo/items", "value": ["x" * 300]}])
    assert list(doc.history) == [] and doc.history.size == 0
    assert doc.deltas_since(2) is None  # no replay can step over the big one
    doc.commit([{"op": "replace", "path": "/todo/n", "value": 2}])
    assert [d["rev"] for d in doc.deltas_since(3) or []] == [4]


def test_the_fast_paths_apply_as_the_general_applier() -> None:
    doc = _doc()
    ops: list[dict[str, Any]] = [
        {"op": "add", "path": "/todo/items/-", "value": {"k": [1]}},
        {"op": "add", "path": "/todo/items/0", "value": "first"},
        {"op": "replace", "path": "/todo/items/1/k/0", "value": 2},
        {"op": "add", "path": "/todo/items/1/new", "value": [True]},
        {"op": "remove", "path": "/todo/items/0"},
        {"op": "add", "path": "/todo/a~1b", "value": 1},
        {"op": "copy", "from": "/todo/a~1b", "path": "/todo/c"},
    ]
    expected = apply_patch({"todo": {"items": [], "n": 0}}, ops)
    delta = doc.commit(ops)
    assert doc.data == expected
    assert delta["ops"] == ops
    ops[0]["value"]["k"].append("changed later")  # the document shares nothing with an op
    assert doc.data == expected


def test_scalar_sets_between_moves_land_where_each_path_points() -> None:
    doc = _doc()
    doc.commit([{"op": "replace", "path": "/todo/items",
                 "value": [{"done": False, "tags": ["a"]} for _ in range(4)]}])
    ops: list[dict[str, Any]] = [
        {"op": "replace", "path": "/todo/items/1/done", "value": True},
        {"op": "replace", "path": "/todo/items/2/tags/0", "value": "b"},
        {"op": "remove", "path": "/todo/items/0"},  # every row moves up one
        {"op": "replace", "path": "/todo/items/1/done", "value": 1.5},  # was row 2
        {"op": "replace", "path": "/todo/items/1", "value": {"done": None, "tags": []}},
        {"op": "replace", "path": "/todo/items/1/done", "value": "new row"},
        {"op": "replace", "path": "/todo/n", "value": 7},
        {"op": "replace", "path": "/todo/items/2", "value": None},  # a list item
    ]
    expected = apply_patch(doc.snapshot(), ops)
    doc.commit(ops)
    assert doc.data == expected
    assert doc.data["todo"]["items"][0]["done"] is True
    assert doc.data["todo"]["items"][1] == {"done": "new row", "tags": []}


@pytest.mark.parametrize("path", ["/todo/items/0", "/todo/n/x", "/todo/items/00"])
def test_a_scalar_set_where_nothing_is_raises_the_appliers_error(path: str) -> None:
    doc = _doc()
    doc.commit([{"op": "replace", "path": "/todo/items", "value": [[0]]}])
    with pytest.raises(JsonPatchError):
        doc.commit([{"op": "replace", "path": "/todo/items/1", "value": 1},
                    {"op": "replace", "path": path + "/1", "value": 1}])


def test_a_scalar_set_in_a_shared_entry_copies_it_first() -> None:
    one, two = SessionDocument(), SessionDocument()
    for doc in (one, two):
        doc.commit([{"op": "add", "path": "/doc_scalars", "value": {"v": [{"x": 1}]}}])
    one.commit([{"op": "replace", "path": "/doc_scalars/v/0/x", "value": 2}])
    assert one.data["doc_scalars"]["v"][0]["x"] == 2
    assert two.data["doc_scalars"]["v"][0]["x"] == 1


@pytest.mark.parametrize(("op", "error"), [
    ({"op": "replace", "path": "/todo/missing", "value": 1}, "does not exist"),
    ({"op": "remove", "path": "/todo/items/0"}, "out of range"),
    ({"op": "add", "path": "/todo/items/01", "value": 1}, "not a non-negative integer"),
    ({"op": "add", "path": "/todo/items/5", "value": 1}, "out of range"),
    ({"op": "replace", "path": "/nope/x", "value": 1}, "does not exist"),
])
def test_an_op_that_does_not_apply_raises_the_appliers_error(op: dict[str, Any],
                                                             error: str) -> None:
    with pytest.raises(JsonPatchError, match=error):
        _doc().commit([op])


@pytest.mark.parametrize(("before", "op", "after", "sent"), [
    # one item added to a long list: its add, not the list
    (list(range(100)), {"op": SPLICE, "path": "/todo/items", "at": 100, "remove": 0,
                        "value": [100], "scalars": True},
     list(range(101)), [{"op": "add", "path": "/todo/items/-", "value": 100}]),
    # many items added to a short list: the list, not the adds
    ([0], {"op": SPLICE, "path": "/todo/items", "at": 1, "remove": 0,
           "value": list(range(1, 50)), "scalars": True},
     list(range(50)), [{"op": "replace", "path": "/todo/items", "value": list(range(50))}]),
    # a slice in the middle of a long list: replaces, then an insert
    (list(range(100)), {"op": SPLICE, "path": "/todo/items", "at": 10, "remove": 1,
                        "value": ["a", "b"]},
     [*range(10), "a", "b", *range(11, 100)],
     [{"op": "replace", "path": "/todo/items/10", "value": "a"},
      {"op": "add", "path": "/todo/items/11", "value": "b"}]),
    # items removed from a long list
    (list(range(100)), {"op": SPLICE, "path": "/todo/items", "at": 3, "remove": 2,
                        "value": []},
     [0, 1, 2, *range(5, 100)],
     [{"op": "remove", "path": "/todo/items/3"}, {"op": "remove", "path": "/todo/items/3"}]),
])
def test_a_splice_is_sent_in_its_smaller_form(before: list[Any], op: dict[str, Any],
                                             after: list[Any], sent: list[dict[str, Any]]) -> None:
    doc = _doc()
    doc.commit([{"op": "replace", "path": "/todo/items", "value": before}])
    delta = doc.commit([op])
    assert delta["ops"] == sent
    assert doc.data["todo"]["items"] == after
    assert apply_patch({"todo": {"items": before, "n": 0}}, sent)["todo"]["items"] == after


def _entry(name: str) -> dict[str, Any]:
    return {"items": ["a", {"k": [1]}], "n": 0, "name": name}


def test_documents_share_an_entry_that_is_the_same_json_until_one_changes_it() -> None:
    one, two, three = SessionDocument(), SessionDocument(), SessionDocument()
    for doc in (one, two):
        doc.commit([{"op": "add", "path": "/doc_shared", "value": _entry("x")}])
    three.commit([{"op": "add", "path": "/doc_shared", "value": _entry("other")}])
    assert one.data["doc_shared"] is two.data["doc_shared"]  # one copy for both
    assert three.data["doc_shared"] is not one.data["doc_shared"]  # not the same JSON
    one.commit([{"op": "add", "path": "/doc_shared/items/1/k/-", "value": 2}])
    assert one.data["doc_shared"]["items"][1]["k"] == [1, 2]
    assert two.data["doc_shared"] == _entry("x")  # copied on write: the other is untouched
    two.commit([{"op": "move", "from": "/doc_shared/n", "path": "/doc_shared/m"}])
    assert "m" in two.data["doc_shared"]  # the general applier copies on write too
    fresh = SessionDocument()
    fresh.commit([{"op": "add", "path": "/doc_shared", "value": _entry("x")}])
    assert fresh.data["doc_shared"] == _entry("x")  # the shared entry never changed


def test_a_splice_into_a_shared_entry_copies_it_first() -> None:
    one, two = SessionDocument(), SessionDocument()
    for doc in (one, two):
        doc.commit([{"op": "add", "path": "/doc_spliced", "value": {"v": [1, 2, 3]}}])
    one.commit([{"op": SPLICE, "path": "/doc_spliced/v", "at": 3, "remove": 0,
                 "value": [4], "scalars": True}])
    assert one.data["doc_spliced"]["v"] == [1, 2, 3, 4]
    assert two.data["doc_spliced"]["v"] == [1, 2, 3]

"""Undoing container changes: the values put back exactly, and tracked where they were."""

from __future__ import annotations

from typing import Any

import nbstate as ns
from nbstate import undo
from nbstate.testing import StateClient
from nbstate.tracking import _MISSING, _link_of


class UnBox(ns.State):
    rows: list[Any] = [{"n": 0}, {"n": 1}, {"n": 2}]
    d: dict[str, Any] = {"a": [1], "b": [2], "c": [3]}


def _box() -> tuple[StateClient, UnBox]:
    client = StateClient(UnBox)
    return client, client.session.get_state(UnBox)


def test_list_cut_takes_out_and_unlinks_what_an_extend_added() -> None:
    _, box = _box()
    added = {"n": 9}
    box.rows.extend([added, 5])
    node = box.rows[3]
    undo.list_cut(box.rows, 3, 2)
    assert box.rows == [{"n": 0}, {"n": 1}, {"n": 2}]
    assert _link_of(node) == (None, None)


def test_list_unsplice_puts_the_removed_back_and_relinks_them_where_they_were() -> None:
    client, box = _box()
    first, second = box.rows[0], box.rows[1]
    box.rows[0:2] = [second, {"n": 7}, first]  # `first` and `second` move
    new = box.rows[1]
    undo.list_unsplice(box.rows, 0, 3, [first, second])
    assert box.rows == [{"n": 0}, {"n": 1}, {"n": 2}]
    assert box.rows[0] is first and box.rows[1] is second
    assert _link_of(first) == (box.rows, 0) and _link_of(second) == (box.rows, 1)
    assert _link_of(new) == (None, None)
    client.session.mutations.take()  # the splice undone by hand: its entry is dropped
    first["n"] = 10  # tracked where it was put back
    client.session.flush()
    assert client.document["un_box"]["rows"][0] == {"n": 10}


def test_dict_restore_sets_each_key_back_to_its_first_value() -> None:
    _, box = _box()
    a = box.d["a"]
    olds = [("a", a), ("z", _MISSING), ("a", [5])]  # "a" changed twice, "z" added
    dict.__setitem__(box.d, "a", [6])
    dict.__setitem__(box.d, "z", [0])
    undo.dict_restore(box.d, olds)
    assert box.d == {"a": [1], "b": [2], "c": [3]}
    assert box.d["a"] is a and _link_of(a) == (box.d, "a")


def test_dict_refill_and_insert_restore_the_order() -> None:
    _, box = _box()
    items = list(dict.items(box.d))
    dict.clear(box.d)
    undo.dict_refill(box.d, items)
    assert list(box.d) == ["a", "b", "c"]
    b = dict.pop(box.d, "b")
    undo.dict_insert(box.d, undo.position({"a": 1, "b": 2, "c": 3}, "b"), "b", b)
    assert list(box.d) == ["a", "b", "c"]
    assert _link_of(b) == (box.d, "b")

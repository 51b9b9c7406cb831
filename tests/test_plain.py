"""Plain values: the user's class behind a tracked value, deep plain copies, and which new values
change nothing a client sees."""

from __future__ import annotations

import copy
from typing import Any

import pytest

import nbstate as ns
from nbstate.containers import TrackedList
from nbstate.plain import is_tracked_object, plain_type, same_value, untrack
from tests.boxes import ChBox, ChInner, ChOuter, ChPair


def test_the_users_class_behind_a_tracked_value() -> None:
    box = ns.Session().get_state(ChBox)
    assert is_tracked_object(box.model)
    assert type(box.model) is not ChOuter
    assert plain_type(box.model) is ChOuter
    assert plain_type(box.pair) is ChPair
    assert not is_tracked_object(ChOuter())
    assert plain_type(ChOuter()) is ChOuter
    assert not is_tracked_object(box.items)  # containers are builtin subclasses, not marked
    assert plain_type(5) is int


def test_untrack_makes_deep_plain_copies() -> None:
    box = ns.Session().get_state(ChBox)
    box.model.inner.tags.append("t")
    box.model.by_name["k"] = ChInner(n=2)
    plain = untrack(box.model)
    assert type(plain) is ChOuter
    assert type(plain.inner) is ChInner
    assert type(plain.inner.tags) is list
    assert type(plain.by_name) is dict
    assert plain == box.model
    assert plain.model_fields_set == box.model.model_fields_set
    plain.inner.tags.append("u")  # nothing shared
    assert box.model.inner.tags == ["t"]
    rows = untrack(box.rows)
    assert rows == [{"n": 1}, {"n": 2}]
    assert [type(r) for r in rows] == [dict, dict]
    assert type(untrack(box.tags)) is set
    assert type(untrack(TrackedList([1]))) is list
    assert untrack(box.pair) == ChPair()
    assert type(untrack(box.pair)) is ChPair
    value = object()
    assert untrack(value) is value  # not the user's tracked class: kept as it is


@pytest.mark.parametrize(("old", "new", "same"), [
    (1, 1, True), (1, True, False), (1, 1.0, False), (0.0, 0, False), ("a", "a", True),
    ([1, [2]], [1, [2]], True), ([1, [2]], [1, [2.0]], False), ({"a": [1]}, {"a": [True]}, False),
    ({"a": 1}, {"a": 1}, True), ({1, 2}, {2, 1}, True), ([1], (1,), False),
    (ChInner(n=1), ChInner(n=1), True), (ChInner(n=1), ChInner(n=2), False), (None, None, True),
])
def test_same_value_means_the_same_json(old: Any, new: Any, same: bool) -> None:
    assert same_value(old, new) is same


def test_a_tracked_model_is_the_same_value_as_its_plain_copy() -> None:
    box = ns.Session().get_state(ChBox)
    assert same_value(box.model, copy.deepcopy(box.model))
    assert same_value(box.pair, ChPair())
    assert not same_value(box.pair, ChPair(left=1))

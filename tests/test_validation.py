"""Item validation: a value put into a tracked node is checked against the shape of its place,
and an error names the var and the place inside it."""

from __future__ import annotations

from typing import Any

import pytest

import nbstate as ns
from nbstate.containers import TrackedList, wrap
from nbstate.shapes import ANY, shape_of
from nbstate.tracking import _locate
from nbstate.validation import item_shape, validate_item, validate_key
from tests.boxes import ChBox

LONE = "a\udc00"


def test_item_shapes_come_from_the_var() -> None:
    box = ns.Session().get_state(ChBox)
    nums: Any = box.nums  # a TrackedList, typed as the var's list[int]
    tags: Any = box.tags
    group: Any = box.groups["a"]
    assert item_shape(nums) is shape_of(int)
    assert item_shape(group) is shape_of(int)
    assert item_shape(tags) is shape_of(str)
    assert item_shape(TrackedList([1])) is ANY  # out of every var


@pytest.mark.parametrize(("node", "key", "value", "message"), [
    (lambda b: b.nums, 3, "x", "ch_box.nums[3] must be an integer, got 'x'"),
    (lambda b: b.groups["a"], 0, "x", "ch_box.groups.a[0] must be an integer, got 'x'"),
    (lambda b: b.tags, "-", 1, "an item of ch_box.tags must be a string, got 1"),
    (lambda b: b.items, 0, LONE, "ch_box.items[0]: contains a lone surrogate"),
    (lambda b: b._secret, 0, "x", "ch_box._secret[0] must be an integer, got 'x'"),
])
def test_errors_name_the_var_and_the_place(node: Any, key: Any, value: Any,
                                           message: str) -> None:
    target = node(ns.Session().get_state(ChBox))
    with pytest.raises(ns.VarTypeError) as info:
        validate_item(item_shape(target), value, target, key, _locate(target))
    assert str(info.value).startswith(message)
    assert info.value.detail


def test_values_that_stay_on_the_server_are_not_checked_for_json() -> None:
    box = ns.Session().get_state(ChBox)
    assert validate_item(shape_of(str), LONE, box._secret, 0, _locate(box._secret)) == LONE
    loose = wrap([], shape_of(list[str]), None, None)
    assert validate_item(item_shape(loose), LONE, loose, 0, _locate(loose)) == LONE
    with pytest.raises(ns.VarTypeError, match=r"^a value\[0\] must be a string"):
        validate_item(item_shape(loose), 1, loose, 0, _locate(loose))


def test_dict_keys_that_reach_a_client_must_be_valid_unicode() -> None:
    box = ns.Session().get_state(ChBox)
    validate_key("é", box.d, _locate(box.d))
    validate_key(3, box.d, _locate(box.d))
    with pytest.raises(ns.VarTypeError, match=r"^ch_box\.d: a key contains a lone surrogate"):
        validate_key(LONE, box.d, _locate(box.d))
    box_secret = box._secret  # a backend var's list: its keys never reach a client
    validate_key(LONE, box_secret, _locate(box_secret))

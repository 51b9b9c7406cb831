"""Smallest patches: splices and merges in their smaller form, computed values diffed; every
result applies exactly (as JSON: ``True`` is not ``1``) and is never larger than the
alternatives."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nbstate.jsondiff import MERGE, SPLICE, diff, expand, json_size, same
from nbstate.patch import apply_patch

PATH = "/s/v"

leaves = (st.none() | st.booleans() | st.integers(-2, 2) | st.sampled_from([0.0, 1.0, 2.5])
          | st.text("ab~/é", max_size=3))
values = st.recursive(leaves, lambda inner: st.lists(inner, max_size=6)
                      | st.dictionaries(st.text("ab~/", max_size=2), inner, max_size=5),
                      max_leaves=25)


def text(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":")))


def per_item(at: int, remove: int, new: list[Any], n: int) -> list[dict[str, Any]]:
    """A splice's one-op-per-item form, written out plainly."""
    shared = min(remove, len(new))
    ops: list[dict[str, Any]] = [{"op": "replace", "path": f"{PATH}/{at + i}", "value": new[i]}
                                 for i in range(shared)]
    tail = at + remove == n
    ops += [{"op": "add", "path": f"{PATH}/{'-' if tail else at + i}", "value": new[i]}
            for i in range(shared, len(new))]
    ops += [{"op": "remove", "path": f"{PATH}/{at + len(new)}"}
            for _ in range(remove - len(new))]
    return ops


@settings(max_examples=300, deadline=None)
@given(old=st.lists(leaves, max_size=40), new=st.lists(values, max_size=40),
       at=st.integers(0, 40), remove=st.integers(0, 40))
def test_a_splice_applies_exactly_in_its_smaller_form(old: list[Any], new: list[Any], at: int,
                                                      remove: int) -> None:
    at = min(at, len(old))
    remove = min(remove, len(old) - at)
    target = copy.deepcopy(old)
    expected = old[:at] + new + old[at + remove:]
    ops = expand(target, {"op": SPLICE, "path": PATH, "at": at, "remove": remove,
                          "value": copy.deepcopy(new)})
    assert text(target) == text(expected)
    assert text(apply_patch({"s": {"v": old}}, ops)["s"]["v"]) == text(expected)
    whole = [{"op": "replace", "path": PATH, "value": expected}]
    assert size(ops) <= min(size(per_item(at, remove, new, len(old))), size(whole)) + 2
    target.append("later")  # the ops share nothing with the document
    assert text(apply_patch({"s": {"v": old}}, ops)["s"]["v"]) == text(expected)


@settings(max_examples=200, deadline=None)
@given(old=st.dictionaries(st.text("ab~/", max_size=3), leaves, max_size=12),
       new=st.dictionaries(st.text("ab~/", max_size=3), values, min_size=1, max_size=12))
def test_a_merge_applies_exactly_in_its_smaller_form(old: dict[str, Any],
                                                     new: dict[str, Any]) -> None:
    target = copy.deepcopy(old)
    expected = {**old, **new}
    ops = expand(target, {"op": MERGE, "path": PATH, "value": copy.deepcopy(new)})
    assert text(target) == text(expected)
    assert text(apply_patch({"s": {"v": old}}, ops)["s"]["v"]) == text(expected)
    whole = [{"op": "replace", "path": PATH, "value": expected}]
    items = [{"op": "add", "path": f"{PATH}/{k.replace('~', '~0').replace('/', '~1')}",
              "value": v} for k, v in new.items()]
    assert size(ops) <= min(size(items), size(whole)) + 2 * len(new)


@settings(max_examples=400, deadline=None)
@given(old=values, new=values)
def test_a_diff_applies_exactly_and_is_no_larger_than_a_replace(old: Any, new: Any) -> None:
    ops = diff(old, new, PATH)
    result = apply_patch({"s": {"v": copy.deepcopy(old)}}, ops)["s"]["v"]
    assert text(result) == text(new)
    assert (ops == []) == same(old, new)
    assert size(ops) <= size([{"op": "replace", "path": PATH, "value": new}])


@pytest.mark.parametrize(("a", "b", "equal"), [
    (True, 1, False), (1, 1.0, False), (0, False, False), ([1, [True]], [1, [True]], True),
    ([1, [True]], [1, [1]], False), ({"a": [0]}, {"a": [0.0]}, False), ({"a": 1}, {"a": 1}, True),
    ("x", "x", True), (None, None, True), ([], {}, False),
])
def test_same_is_json_sameness(a: Any, b: Any, equal: bool) -> None:
    assert same(a, b) is equal
    assert same(b, a) is equal


def test_a_list_that_gained_an_item_is_one_add() -> None:
    old = [f"item {i}" for i in range(10_000)]
    new = [*old, "item 10000"]
    assert diff(old, new, PATH) == [{"op": "add", "path": f"{PATH}/-", "value": "item 10000"}]
    # a sliding window: one out at the front, one in at the end
    assert diff(old, new[1:], PATH) == [{"op": "remove", "path": f"{PATH}/0"},
                                        {"op": "add", "path": f"{PATH}/-",
                                         "value": "item 10000"}]
    # one in at the front, one out in the middle
    moved = ["new", *old[:5000], *old[5001:]]
    assert diff(old, moved, PATH) == [{"op": "add", "path": f"{PATH}/0", "value": "new"},
                                      {"op": "remove", "path": f"{PATH}/5001"}]


def test_a_value_mostly_rewritten_is_one_replace() -> None:
    old = list(range(100))
    new = [i + 1000 for i in range(100)]
    assert diff(old, new, PATH) == [{"op": "replace", "path": PATH, "value": new}]
    assert diff({"a": 1}, [1], PATH) == [{"op": "replace", "path": PATH, "value": [1]}]


def test_json_size_is_exact_below_its_limit_and_stops_above_it() -> None:
    for value in ([], {}, [1, "a", None], {"k": [1, {"x": "é"}]}, "t", list(range(500))):
        assert json_size(value, 10**9) == size(value)
    assert json_size([*range(1000), object()], 50) > 50  # stopped before what has no JSON


def test_a_splice_on_a_long_list_needs_no_look_at_it() -> None:
    target: list[Any] = [object()] * 1000  # not JSON at all: it is never encoded
    ops = expand(target, {"op": SPLICE, "path": PATH, "at": 1000, "remove": 0, "value": [1]})
    assert ops == [{"op": "add", "path": f"{PATH}/-", "value": 1}]

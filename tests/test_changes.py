"""The mutation log: ops made irrelevant by a later one are compacted away before a flush."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from nbstate.changes import Entry, compact
from tests.boxes import Case, P, actions, assert_ops, assert_rolls_back, with_ops

CASES: list[Case] = [
    # a later op on the same object member drops the earlier ones; "add" sets a member either way
    ("compaction same key", lambda s: [s.d.__setitem__("x", i) for i in range(5)],
     [{"op": "add", "path": f"{P}/d/x", "value": 4}]),
    ("compaction add then replace", lambda s: (s.d.__setitem__("n", 1), s.d.__setitem__("n", 2)),
     [{"op": "add", "path": f"{P}/d/n", "value": 2}]),
    ("compaction under replaced var",
     lambda s: (s.items.append("x"), s.__setattr__("items", ["y"])),
     [{"op": "replace", "path": f"{P}/items", "value": ["y"]}]),
    ("compaction add then remove", lambda s: (s.d.__setitem__("n", 1), s.d.pop("n")), [
        {"op": "add", "path": f"{P}/d/n", "value": 1}, {"op": "remove", "path": f"{P}/d/n"}]),
]


@pytest.mark.parametrize(("action", "expected"), with_ops(CASES))
async def test_mutation_ops(action: Callable[[Any], Any], expected: list[dict[str, Any]]) -> None:
    await assert_ops(action, expected)


@pytest.mark.parametrize("action", actions(CASES))
async def test_mutation_rolls_back(action: Callable[[Any], Any]) -> None:
    await assert_rolls_back(action)


def _entry(op: str, path: str, value: Any = None, stable: bool = True) -> Entry:
    raw = {"op": op, "path": path} if op == "remove" else {"op": op, "path": path, "value": value}
    return Entry(raw, lambda: None, ("s", "v"), stable)


def test_compact_keeps_unrelated_and_index_ops() -> None:
    entries = [
        _entry("add", "/s/l/-", 1, stable=False),
        _entry("add", "/s/l/-", 2, stable=False),
        _entry("replace", "/s/l/0", 3, stable=False),
        _entry("replace", "/s/a", 1),
        _entry("replace", "/s/ab", 2),
    ]
    assert compact(entries) == [e.op for e in entries]


def test_compact_drops_covered_paths() -> None:
    entries = [
        _entry("add", "/s/d/k", {}),
        _entry("add", "/s/d/k/x", 1),
        _entry("add", "/s/d/kk", 1),
        _entry("replace", "/s/d/k", {"y": 2}),
        Entry(None, lambda: None, ("s", "_b"), True),
    ]
    assert compact(entries) == [
        {"op": "add", "path": "/s/d/kk", "value": 1},
        {"op": "add", "path": "/s/d/k", "value": {"y": 2}},
    ]


def test_compact_keeps_remove_before_add() -> None:
    entries = [_entry("add", "/s/d/k", 1), _entry("remove", "/s/d/k"), _entry("add", "/s/d/k", 2)]
    assert compact(entries) == [{"op": "add", "path": "/s/d/k", "value": 2}]
    entries = [_entry("replace", "/s/d/k", 1), _entry("remove", "/s/d/k")]
    assert compact(entries) == [e.op for e in entries]

"""The tracked set: every change is one ``replace`` of the whole set, undone exactly; what
enters is validated first, all or nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

import nbstate as ns
from nbstate.testing import StateClient
from tests.boxes import (
    ACTION,
    Case,
    ChBox,
    P,
    actions,
    assert_ops,
    assert_rolls_back,
    run,
    with_ops,
)

CASES: list[Case] = [
    ("set add", lambda s: s.tags.add("q"), [{"op": "replace", "path": f"{P}/tags"}]),
    ("set add existing", lambda s: s.tags.add("p"), []),
    ("set discard", lambda s: s.tags.discard("p"),
     [{"op": "replace", "path": f"{P}/tags", "value": []}]),
    ("set update", lambda s: s.tags.update({"x", "y"}), [{"op": "replace", "path": f"{P}/tags"}]),
    ("set ior", lambda s: s.tags.__ior__({"x"}), [{"op": "replace", "path": f"{P}/tags"}]),
    ("set isub", lambda s: s.tags.__isub__({"p"}),
     [{"op": "replace", "path": f"{P}/tags", "value": []}]),
    ("set clear", lambda s: s.tags.clear(), [{"op": "replace", "path": f"{P}/tags", "value": []}]),
]


@pytest.mark.parametrize(("action", "expected"), with_ops(CASES))
async def test_mutation_ops(action: Callable[[Any], Any], expected: list[dict[str, Any]]) -> None:
    await assert_ops(action, expected)


@pytest.mark.parametrize("action", actions(CASES))
async def test_mutation_rolls_back(action: Callable[[Any], Any]) -> None:
    await assert_rolls_back(action)


async def test_set_ops_carry_the_whole_set() -> None:
    _, ops = await run(lambda s: s.tags.update({"x", "y"}))
    assert sorted(ops[0]["value"]) == ["p", "x", "y"]


async def test_set_items_are_validated() -> None:
    client = StateClient(ChBox)
    box = client.session.get_state(ChBox)
    with pytest.raises(ns.VarTypeError, match=r"ch_box\.tags"):
        box.tags.add(1)  # type: ignore[arg-type]
    # ints into a set[str], to check each way in refuses them
    changes: list[Callable[[], object]] = [
        lambda: box.tags.update({"ok"}, [2]),  # type: ignore[list-item]
        lambda: box.tags.__ior__({3}),  # type: ignore[arg-type]
        lambda: box.tags.symmetric_difference_update([4]),  # type: ignore[list-item]
    ]
    for change in changes:
        with pytest.raises(ns.VarTypeError, match=r"ch_box\.tags"):
            change()
    assert box.tags == {"p"}
    box.tags ^= {"q", "p"}
    client.session.flush()
    assert box.tags == {"q"}
    assert client.document["ch_box"]["tags"] == ["q"]


LONE = json.loads('"x\\ud800"')  # a lone surrogate, as a browser's JSON.stringify sends it


@pytest.mark.parametrize(("action", "message"), [
    pytest.param(lambda s: s.tags.add(LONE),
                 "an item of ch_box.tags: contains a lone surrogate", id="add"),
    pytest.param(lambda s: s.tags.update(["ok", LONE]),
                 "an item of ch_box.tags: contains", id="update"),
])
async def test_members_json_cannot_carry_are_refused(action: Callable[[Any], Any],
                                                     message: str) -> None:
    client = StateClient(ChBox)
    box = client.session.get_state(ChBox)
    before = client.session.snapshot()
    ACTION[:] = [action]
    await client.dispatch("ch_box.apply")
    assert client.errors[0]["type"] == "VarTypeError"
    assert client.errors[0]["message"].startswith(message)
    assert client.session.snapshot() == before
    with pytest.raises(ns.VarTypeError, match=message):
        action(box)  # in cell code: refused where it enters, nothing changed
    assert box.tags == {"p"}
    assert client.session.flush() is None


@pytest.mark.parametrize("change", [
    pytest.param(lambda s: s.tags.update({"ok"}, [2]), id="update"),
    pytest.param(lambda s: s.tags.__ior__({"ok", 3}), id="ior"),
    pytest.param(lambda s: s.tags.symmetric_difference_update(["q", None]), id="symmetric"),
    pytest.param(lambda s: s.tags.__ixor__({"q", LONE}), id="ixor surrogate"),
])
async def test_bulk_changes_are_all_or_nothing(change: Callable[[Any], Any]) -> None:
    client = StateClient(ChBox)
    box = client.session.get_state(ChBox)

    def action(s: Any) -> None:  # a handler that catches the error and goes on
        with pytest.raises(ns.VarTypeError):
            change(s)

    ACTION[:] = [action]
    await client.dispatch("ch_box.apply")
    assert not client.errors
    assert client.deltas == []
    assert box.tags == {"p"}
    with pytest.raises(ns.VarTypeError):
        change(box)  # in cell code
    assert client.session.flush() is None
    assert box.tags == {"p"}


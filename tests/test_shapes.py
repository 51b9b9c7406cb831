"""Validation shapes: values put into a var are checked against its annotation, at any depth."""

from __future__ import annotations

import pytest

import nbstate as ns
from nbstate.testing import StateClient
from tests.boxes import ACTION, ChBox, run


async def test_item_validation_against_the_annotation() -> None:
    client = StateClient(ChBox)
    ACTION[:] = [lambda s: s.nums.append("seven")]
    await client.dispatch("ch_box.apply")
    assert client.errors[0]["type"] == "VarTypeError"
    assert "ch_box.nums" in client.errors[0]["message"]
    assert client.session.get_state(ChBox).nums == [3, 1, 2]
    box = client.session.get_state(ChBox)
    with pytest.raises(ns.VarTypeError, match=r"ch_box\.model"):
        box.model.inner.n = "many"  # type: ignore[assignment]
    with pytest.raises(TypeError):
        box.d["x"] = [1]
    assert box.d == {"x": 1, "y": 2}
    assert box.model.inner.n == 0


async def test_item_coercion_follows_pydantic_lax_mode() -> None:
    client, ops = await run(lambda s: (s.nums.append("7"), s.rows.append({"n": "8"})))
    box = client.session.get_state(ChBox)
    assert box.nums[-1] == 7
    assert box.rows[-1] == {"n": 8}
    assert ops[0]["value"] == 7


async def test_set_items_are_validated() -> None:
    client = StateClient(ChBox)
    box = client.session.get_state(ChBox)
    with pytest.raises(ns.VarTypeError, match=r"ch_box\.tags"):
        box.tags.add(1)  # type: ignore[arg-type]
    for change in (lambda: box.tags.update({"ok"}, [2]), lambda: box.tags.__ior__({3}),
                   lambda: box.tags.symmetric_difference_update([4])):
        with pytest.raises(ns.VarTypeError, match=r"ch_box\.tags"):
            change()
    assert box.tags == {"p"}
    box.tags ^= {"q", "p"}
    client.session.flush()
    assert box.tags == {"q"}
    assert client.document["ch_box"]["tags"] == ["q"]

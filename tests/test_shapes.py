"""Validation shapes: values put into a var are checked against its annotation, at any depth."""

from __future__ import annotations

import dataclasses
import math
from typing import Annotated, Any

import pydantic
import pytest

import nbstate as ns
from nbstate import shapes, travel
from nbstate.testing import StateClient
from tests.boxes import ACTION, ChBox, ChInner, run


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
        box.d["x"] = [1]  # type: ignore[assignment]  # a list, to check it is refused
    assert box.d == {"x": 1, "y": 2}
    assert box.model.inner.n == 0


async def test_item_coercion_follows_pydantic_lax_mode() -> None:
    client, ops = await run(lambda s: (s.nums.append("7"), s.rows.append({"n": "8"})))
    box = client.session.get_state(ChBox)
    assert box.nums[-1] == 7
    assert box.rows[-1] == {"n": 8}
    assert ops[0]["value"] == 7


def test_item_shapes_follow_the_annotation() -> None:
    shape = shapes.shape_of(dict[str, list[int]])
    assert shape.item is not None and shape.item.annotation == list[int]
    assert shape.item.item is not None and shape.item.item.annotation is int
    assert shapes.shape_of(set[str]).item is shapes.shape_of(str)
    assert shapes.shape_of(int).item is None
    assert shapes.shape_of(Any) is shapes.ANY
    assert shapes.shape_of(list[int]) is shapes.shape_of(list[int])  # cached


def test_the_json_check_is_skipped_for_values_that_stay_on_the_server() -> None:
    shape = shapes.shape_of(float)
    with pytest.raises(travel.NotJSON):
        shape.validate(float("nan"))
    assert math.isnan(shape.validate("nan", travels=False))
    with pytest.raises(pydantic.ValidationError):
        shape.validate("many", travels=False)


def test_field_shapes_keep_their_constraints() -> None:
    class Bounded(pydantic.BaseModel):
        low: int = pydantic.Field(default=1, ge=1)

    @dataclasses.dataclass
    class Pair:
        n: Annotated[int, pydantic.Field(le=5)] = 0

    for cls, name, bad in ((Bounded, "low", 0), (Pair, "n", 6)):
        shape = shapes.field_shape(cls, name)
        assert shape is not None
        with pytest.raises(pydantic.ValidationError):
            shape.validate(bad)
    assert shapes.field_shape(Bounded, "missing") is None
    assert shapes.field_shape(Pair, "missing") is None
    assert shapes.field_shape(int, "real") is None
    assert shapes.field_shape(ChInner, "tags") is shapes.shape_of(list[str])

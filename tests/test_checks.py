"""Choosing the cheapest JSON check per annotation: none where no value can fail, a
field-by-field check for models and dataclasses, the walk for the rest."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal, Optional

import pydantic
import pytest

from nbstate import checks, travel


@pytest.mark.parametrize(("annotation", "check"), [
    (int, None), (bool, None), (list[int], None), (dict[int, int], None),
    (Optional[int], None), (Literal["a", "b"], None), (dt.datetime, None),  # noqa: UP045
    (Annotated[int, pydantic.Field(ge=1)], None), (set[uuid.UUID], None),
    (str, travel.check_str), (float, travel.check_float), (list[str], travel.check_strs),
    (set[str], travel.check_strs), (tuple[float, ...], travel.check_floats),
    (dict[str, int], travel.check_str_keys), (Annotated[str, pydantic.Field(max_length=3)],
                                              travel.check_str),
    (Any, travel.check_any), (dict[str, str], travel.check_any),
    (int | str, travel.check_any), (list[list[str]], travel.check_any),
])
def test_the_cheapest_json_check_is_chosen(annotation: Any, check: Any) -> None:
    assert checks.travel_check(annotation) is check


class Leaf(pydantic.BaseModel):
    name: str
    ratio: float = 0.0
    count: int = 0


class Tree(pydantic.BaseModel):
    label: str
    children: list[Tree] = []


class Shown(pydantic.BaseModel):
    name: str

    @pydantic.field_serializer("name")
    def _shout(self, name: str) -> str:
        return name.upper()


def test_a_model_is_checked_field_by_field() -> None:
    check = checks.travel_check(list[Leaf])
    assert check is not None and check is not travel.check_any
    check([Leaf(name="a"), Leaf(name="é", ratio=1.5)])
    with pytest.raises(travel.NotJSON) as info:
        check([Leaf(name="a"), Leaf(name="b\ud800")])
    assert info.value.at == (1, "name")
    with pytest.raises(travel.NotJSON) as info:
        check([Leaf.model_construct(name="a", ratio=float("nan"), count=0)])
    assert info.value.at == (0, "ratio")


def test_a_subclass_instance_is_walked_whole() -> None:
    class More(Leaf):
        extra: float = 0.0

    check = checks.travel_check(Leaf)
    assert check is not None
    with pytest.raises(travel.NotJSON, match="NaN"):
        check(More.model_construct(name="a", ratio=0.0, count=0, extra=float("nan")))


def test_models_whose_json_is_more_than_their_fields_are_walked() -> None:
    assert checks.opaque(Shown) and not checks.opaque(Leaf)
    assert checks.travel_check(Shown) is travel.check_any
    tree = checks.travel_check(Tree)  # holds itself: its children are walked
    assert tree is not None
    with pytest.raises(travel.NotJSON) as info:
        tree(Tree(label="root", children=[Tree(label="x\udfff")]))
    assert info.value.at == ("children", 0, "label")


def test_optional_checks_skip_none() -> None:
    check = checks.travel_check(Optional[str])  # noqa: UP045
    assert check is not None
    check(None)
    check("fine")
    with pytest.raises(travel.NotJSON, match="lone surrogate"):
        check("\ud800")

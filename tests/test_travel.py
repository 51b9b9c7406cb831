"""What JSON can carry: every value JSON cannot carry is found, with where inside it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pydantic
import pytest

from nbstate import travel
from tests.boxes import ChInner


@pytest.mark.parametrize("value", [
    "😀", "NaN", ["-Infinity", 1.5], {"k": {"NaN": [None, True, 2**70]}}, (1, "é"),
    dt.date(2020, 1, 1), ChInner(tags=["😀"]), {1: "a"}, frozenset({"x"})])
def test_what_json_carries_passes(value: Any) -> None:
    travel.check_any(value)


@pytest.mark.parametrize(("value", "at", "reason"), [
    ("a\ud800", (), "contains a lone surrogate \\ud800 at index 1"),
    ([1, "x", ["\udfff"]], (2, 0), "lone surrogate \\udfff at index 0"),
    ({"a\udc00": 1}, (), "a key contains a lone surrogate"),
    ({"a": {"b": float("nan")}}, ("a", "b"), "NaN is not JSON"),
    ((float("inf"),), (0,), "Infinity is not JSON"),
    (ChInner(tags=["ok", "\ud800"]), ("tags", 1), "lone surrogate"),
    ([object()], (0,), "a object has no JSON form"),
    ({"x": b"\xff"}, ("x",), "a bytes has no JSON form"),
])
def test_what_json_cannot_carry_is_found(value: Any, at: tuple[Any, ...], reason: str) -> None:
    with pytest.raises(travel.NotJSON) as info:
        travel.check_any(value)
    assert info.value.at == at
    assert reason in info.value.reason


def test_a_model_that_hides_nan_from_pydantics_json_is_refused() -> None:
    class Quiet(pydantic.BaseModel):  # pydantic's JSON writes null, encode() keeps NaN
        model_config = pydantic.ConfigDict(ser_json_inf_nan="null")
        x: float = 0.0

    with pytest.raises(travel.NotJSON, match="NaN"):
        travel.check_any([Quiet(x=float("nan"))])


def test_a_container_inside_itself_has_no_json_form() -> None:
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(travel.NotJSON, match="nested more than 200 levels deep"):
        travel.check_any(loop)


def test_float_lists_whose_sum_overflows_pass() -> None:
    travel.check_floats([1e308, 1e308, -1e308])
    with pytest.raises(travel.NotJSON) as info:
        travel.check_floats([1e308, 1.0, float("nan")])
    assert info.value.at == (2,)


def test_messages_say_where_and_what() -> None:
    problem = travel.NotJSON("NaN is not JSON; use None for a missing number", ("rows", 2, "x"))
    assert travel.explain_json("t.v", problem) == (
        "t.v.rows[2].x: NaN is not JSON; use None for a missing number")
    assert problem.detail(1.5) == {"type": "not_json", "loc": ("rows", 2, "x"),
                                   "msg": problem.reason, "input": 1.5}
    assert len(travel.explain_json("t.v", travel.NotJSON("x" * 10_000))) <= 300


def test_no_json_form_names_the_type_and_the_fix() -> None:
    reason = travel.no_json_form(object(), ValueError("line one\nline two" + "z" * 200))
    assert reason.startswith("a object has no JSON form (line one")
    assert "line two" not in reason
    assert reason.endswith("or keep it in a backend var (_name)")


def test_a_value_nested_deeper_than_json_encoders_go_is_refused_as_a_whole() -> None:
    deep: Any = 0
    for _ in range(400):  # pydantic's encoder stops at 254 levels
        deep = [deep]
    with pytest.raises(travel.NotJSON, match="nested more than 200 levels deep") as info:
        travel.check_any({"k": deep})
    assert info.value.at == ()  # no 200-step location in the message
    shallow: Any = 0
    for _ in range(150):
        shallow = [shallow]
    travel.check_any({"k": shallow})

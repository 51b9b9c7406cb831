"""Validation shapes: values put into a var are checked against its annotation, at any depth."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Annotated, Any, Literal, Optional

import pydantic
import pytest

import nbstate as ns
from nbstate import shapes
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


@pytest.mark.parametrize(("annotation", "check"), [
    (int, None), (bool, None), (list[int], None), (dict[int, int], None),
    (Optional[int], None), (Literal["a", "b"], None), (dt.datetime, None),  # noqa: UP045
    (Annotated[int, pydantic.Field(ge=1)], None), (set[uuid.UUID], None),
    (str, shapes.check_str), (float, shapes.check_float), (list[str], shapes.check_strs),
    (set[str], shapes.check_strs), (tuple[float, ...], shapes.check_floats),
    (dict[str, int], shapes.check_str_keys), (Annotated[str, pydantic.Field(max_length=3)],
                                              shapes.check_str),
    (Any, shapes.check_any), (dict[str, str], shapes.check_any), (ChInner, shapes.check_any),
    (int | str, shapes.check_any), (list[list[str]], shapes.check_any),
])
def test_the_cheapest_json_check_is_chosen(annotation: Any, check: Any) -> None:
    assert shapes.travel_check(annotation) is check


def test_optional_checks_skip_none() -> None:
    check = shapes.travel_check(Optional[str])  # noqa: UP045
    assert check is not None
    check(None)
    check("fine")
    with pytest.raises(shapes.NotJSON, match="lone surrogate"):
        check("\ud800")


@pytest.mark.parametrize("value", [
    "😀", "NaN", ["-Infinity", 1.5], {"k": {"NaN": [None, True, 2**70]}}, (1, "é"),
    dt.date(2020, 1, 1), ChInner(tags=["😀"]), {1: "a"}, frozenset({"x"})])
def test_what_json_carries_passes(value: Any) -> None:
    shapes.check_any(value)


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
    with pytest.raises(shapes.NotJSON) as info:
        shapes.check_any(value)
    assert info.value.at == at
    assert reason in info.value.reason


def test_a_model_that_hides_nan_from_pydantics_json_is_refused() -> None:
    class Quiet(pydantic.BaseModel):  # pydantic's JSON writes null, encode() keeps NaN
        model_config = pydantic.ConfigDict(ser_json_inf_nan="null")
        x: float = 0.0

    with pytest.raises(shapes.NotJSON, match="NaN"):
        shapes.check_any([Quiet(x=float("nan"))])


def test_a_container_inside_itself_has_no_json_form() -> None:
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(shapes.NotJSON, match="contains itself"):
        shapes.check_any(loop)


def test_float_lists_whose_sum_overflows_pass() -> None:
    shapes.check_floats([1e308, 1e308, -1e308])
    with pytest.raises(shapes.NotJSON) as info:
        shapes.check_floats([1e308, 1.0, float("nan")])
    assert info.value.at == (2,)


@pytest.mark.parametrize(("annotation", "name"), [
    (int, "int"), (Annotated[int, pydantic.Field(ge=1, le=10)], "int"),
    (Optional[str], "str | None"), (list[ChInner], "list[ChInner]"),  # noqa: UP045
    (dict[str, Annotated[float, pydantic.Field(gt=0)]], "dict[str, float]"),
    (Literal["a", "b"], "'a' | 'b'"), (tuple[int, ...], "tuple[int, ...]"), (Any, "Any"),
    (None, "None"),
])
def test_type_names_are_readable(annotation: Any, name: str) -> None:
    assert shapes.type_name(annotation) == name


def test_unknown_errors_fall_back_to_pydantics_message() -> None:
    adapter = pydantic.TypeAdapter(Annotated[int, pydantic.AfterValidator(_even)])
    with pytest.raises(pydantic.ValidationError) as info:
        adapter.validate_python(3)
    assert shapes.explain("t.n", info.value) == "t.n is not valid: 3 is odd, got 3"


def _even(n: int) -> int:
    if n % 2:
        raise ValueError(f"{n} is odd")
    return n


def test_unions_are_named_as_a_whole() -> None:
    with pytest.raises(pydantic.ValidationError) as info:
        pydantic.TypeAdapter(int | list[int]).validate_python("x")
    message = shapes.explain("t.v", info.value, int | list[int])
    assert message == "t.v must be int | list[int], got 'x'"


def test_excerpts_are_short() -> None:
    for value in ("x" * 10_000, list(range(10_000)), {str(i): i for i in range(10_000)},
                  ChInner(tags=["y" * 10_000])):
        assert len(shapes.excerpt(value)) <= 80
    assert shapes.excerpt("\ud800").encode("utf-8")
    assert len(shapes.cap("z" * 10_000)) <= shapes.MAX_MESSAGE
    assert shapes.cap("a\ud800").encode("utf-8")

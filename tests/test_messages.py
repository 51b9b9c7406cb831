"""Messages a visitor may read: pydantic's errors in plain words, short and capped."""

from __future__ import annotations

from typing import Annotated

import pydantic
import pytest

from nbstate import messages
from tests.boxes import ChInner


def test_unknown_errors_fall_back_to_pydantics_message() -> None:
    adapter = pydantic.TypeAdapter(Annotated[int, pydantic.AfterValidator(_even)])
    with pytest.raises(pydantic.ValidationError) as info:
        adapter.validate_python(3)
    assert messages.explain("t.n", info.value) == "t.n is not valid: 3 is odd, got 3"


def _even(n: int) -> int:
    if n % 2:
        raise ValueError(f"{n} is odd")
    return n


def test_unions_are_named_as_a_whole() -> None:
    with pytest.raises(pydantic.ValidationError) as info:
        pydantic.TypeAdapter(int | list[int]).validate_python("x")
    message = messages.explain("t.v", info.value, int | list[int])
    assert message == "t.v must be int | list[int], got 'x'"


def test_excerpts_are_short() -> None:
    for value in ("x" * 10_000, list(range(10_000)), {str(i): i for i in range(10_000)},
                  ChInner(tags=["y" * 10_000])):
        assert len(messages.excerpt(value)) <= 80
    assert messages.excerpt("\ud800").encode("utf-8")
    assert len(messages.cap("z" * 10_000)) <= messages.MAX_MESSAGE
    assert messages.cap("a\ud800").encode("utf-8")


def test_constraints_read_plainly() -> None:
    adapter = pydantic.TypeAdapter(Annotated[float, pydantic.Field(ge=0)])
    with pytest.raises(pydantic.ValidationError) as info:
        adapter.validate_python(-1)
    assert messages.explain("t.x", info.value) == "t.x must be ≥ 0, got -1"


def test_at_most_two_problems_are_named() -> None:
    with pytest.raises(pydantic.ValidationError) as info:
        pydantic.TypeAdapter(list[int]).validate_python(["a", "b", "c", "d"])
    assert messages.explain("t.v", info.value) == (
        "t.v[0] must be an integer, got 'a'; t.v[1] must be an integer, got 'b'; and 2 more")


def test_locations_read_as_python() -> None:
    assert messages.location("todo.rows", [2, "name"]) == "todo.rows[2].name"
    assert messages.location("todo.rows", []) == "todo.rows"
    assert messages.clip("abcdef", 4) == "abc…"
    assert messages.clip("abc", 4) == "abc"

"""Reading type annotations: readable names, and the type under ``Annotated``."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Optional

import pydantic
import pytest

from nbstate import hints
from tests.boxes import ChInner


@pytest.mark.parametrize(("annotation", "name"), [
    (int, "int"), (Annotated[int, pydantic.Field(ge=1, le=10)], "int"),
    (Optional[str], "str | None"), (list[ChInner], "list[ChInner]"),  # noqa: UP045
    (dict[str, Annotated[float, pydantic.Field(gt=0)]], "dict[str, float]"),
    (Literal["a", "b"], "'a' | 'b'"), (tuple[int, ...], "tuple[int, ...]"), (Any, "Any"),
    (None, "None"),
])
def test_type_names_are_readable(annotation: Any, name: str) -> None:
    assert hints.type_name(annotation) == name


def test_annotated_is_looked_through_at_the_top_only() -> None:
    inner = list[Annotated[int, pydantic.Field(ge=1)]]
    assert hints.strip_annotated(Annotated[Annotated[str, "a"], "b"]) is str
    assert hints.strip_annotated(Annotated[inner, "c"]) == inner
    assert hints.strip_annotated(int) is int

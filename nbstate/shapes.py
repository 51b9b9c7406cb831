"""Validation shapes: how to validate a var's value, and the items it contains, from its annotation.

A :class:`Shape` pairs a pydantic ``TypeAdapter`` for a whole value with the shape of its items
(the elements of a ``list[T]`` or ``set[T]``, the values of a ``dict[K, T]``), so a value added
to a tracked container deep in a var is checked against the type the var's annotation gives it
there. The fields of pydantic models and dataclasses get theirs from the class's annotations.

Shapes are cached per annotation; this module imports no other part of nbstate.
"""

from __future__ import annotations

import dataclasses
import functools
import typing
from typing import Any

import pydantic
from pydantic import TypeAdapter

__all__ = ["ANY", "Shape", "shape_of"]


@dataclasses.dataclass(frozen=True, eq=False)
class Shape:
    """How to validate values of one annotated type and of the items it contains."""

    adapter: TypeAdapter[Any] | None
    """Validates a whole value; ``None`` for ``Any`` (accepted as is)."""
    item: Shape | None = None
    """The element shape of a list or set, the value shape of a dict."""

    def validate(self, value: Any) -> Any:
        return value if self.adapter is None else self.adapter.validate_python(value)


ANY = Shape(None)


@functools.lru_cache(maxsize=1024)
def shape_of(annotation: Any) -> Shape:
    """The :class:`Shape` of a type annotation (``list[str]``, ``dict[str, Model]``, …)."""
    if annotation is Any or annotation is object:
        return ANY
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    item: Shape | None = None
    if origin in (list, set, typing.List, typing.Set) and args:  # noqa: UP006
        item = shape_of(args[0])
    elif origin in (dict, typing.Dict) and len(args) == 2:  # noqa: UP006
        item = shape_of(args[1])
    return Shape(TypeAdapter(annotation), item)


@functools.lru_cache(maxsize=1024)
def _field_shape(cls: type, name: str) -> Shape | None:
    """The shape of field ``name`` of a pydantic model or dataclass; ``None`` if it is none."""
    if isinstance(cls, type) and issubclass(cls, pydantic.BaseModel):
        field = cls.model_fields.get(name)
        return None if field is None else shape_of(typing.cast(Any, field.annotation))
    if dataclasses.is_dataclass(cls):
        hints = typing.get_type_hints(cls)
        names = {f.name for f in dataclasses.fields(cls)}
        return shape_of(hints[name]) if name in names else None
    return None


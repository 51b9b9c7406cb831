"""Validation shapes: how to validate a var's value, and the items it contains, from its annotation.

A :class:`Shape` pairs a pydantic ``TypeAdapter`` for a whole value with the shape of its items
(the elements of a ``list[T]`` or ``set[T]``, the values of a ``dict[K, T]``), so a value added
to a tracked container deep in a var is checked against the type the var's annotation gives it
there. The fields of pydantic models and dataclasses get theirs from the class's annotations
(:func:`field_shape`, with their constraints).

A shape also checks that a validated value can travel to a browser as JSON; the check is chosen
from the annotation by :func:`nbstate.checks.travel_check`.

Some objects must never be kept in a state at all, whatever the var's type: a live resource
such as a database session or connection (it cannot be stored or sent, and it would outlive the
call it belongs to). A side module names their classes with :func:`refuse`; a var typed ``Any``
refuses their instances (as :class:`~nbstate.travel.NotJSON`, so the error names the var), and a
var whose annotation mentions one accepts only ``None``.

Shapes are cached per annotation; this module imports only :mod:`nbstate.travel`.
"""

from __future__ import annotations

import dataclasses
import functools
import typing
from typing import Any

from pydantic import PlainValidator, TypeAdapter

from .checks import travel_check
from .travel import Check, NotJSON, check_any

__all__ = ["ANY", "Shape", "field_shape", "refuse", "shape_of"]

_refused: dict[type, str] = {}
_refused_types: tuple[type, ...] = ()


def refuse(cls: type, reason: str) -> None:
    """Never let a var keep an instance of ``cls`` (or of a subclass).

    ``reason`` is the error's message after the var's name: what the object is and the fix
    (``"an AsyncSession is a live database session: …; open one per call with …"``).
    """
    global _refused_types
    _refused[cls] = reason
    _refused_types = tuple(_refused)


def _refusal(value: Any) -> str:
    return next(why for cls, why in _refused.items() if isinstance(value, cls))


def _mentions_refused(annotation: Any) -> bool:
    if isinstance(annotation, type) and issubclass(annotation, _refused_types):
        return True
    return any(_mentions_refused(a) for a in typing.get_args(annotation))


def _only_none(value: Any) -> None:
    if value is None:
        return None
    if isinstance(value, _refused_types):
        raise ValueError(_refusal(value))
    raise ValueError("only None fits a var whose type names an object a state cannot keep")


@dataclasses.dataclass(frozen=True, eq=False)
class Shape:
    """How to validate values of one annotated type and of the items it contains."""

    adapter: TypeAdapter[Any] | None
    """Validates a whole value; ``None`` for ``Any`` (accepted as is)."""
    item: Shape | None = None
    """The element shape of a list or set, the value shape of a dict."""
    check: Check | None = None
    """Refuses a validated value that JSON cannot carry; ``None`` when none can occur."""
    annotation: Any = Any

    def validate(self, value: Any, travels: bool = True) -> Any:
        """The validated value.

        ``travels=False`` (a value that stays on the server, as in a backend var) skips the
        JSON check.

        Raises:
            pydantic.ValidationError: the value does not fit the annotation.
            nbstate.travel.NotJSON: it fits, but JSON cannot carry it to a browser.
        """
        if self.adapter is not None:
            value = self.adapter.validate_python(value)
        elif _refused_types and isinstance(value, _refused_types):
            raise NotJSON(_refusal(value))
        if travels and self.check is not None:
            self.check(value)
        return value


ANY = Shape(None, check=check_any)
"""The shape of ``Any``: every value is accepted, if JSON can carry it."""


@functools.lru_cache(maxsize=1024)
def shape_of(annotation: Any) -> Shape:
    """The :class:`Shape` of a type annotation (``list[str]``, ``dict[str, Model]``, …)."""
    if annotation is Any or annotation is object:
        return ANY
    if _refused_types and _mentions_refused(annotation):
        return Shape(TypeAdapter(typing.Annotated[Any, PlainValidator(_only_none)]), None, None,
                     annotation)
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    item: Shape | None = None
    if origin in (list, set, typing.List, typing.Set) and args:  # noqa: UP006
        item = shape_of(args[0])
    elif origin in (dict, typing.Dict) and len(args) == 2:  # noqa: UP006
        item = shape_of(args[1])
    return Shape(TypeAdapter(annotation), item, travel_check(annotation), annotation)


@functools.lru_cache(maxsize=1024)
def field_shape(cls: type, name: str) -> Shape | None:
    """The shape of field ``name`` of a pydantic model or dataclass; ``None`` if it is none."""
    # with their constraints: ``x: int = Field(ge=1)`` must hold for ``model.x = 0`` too
    fields: dict[str, Any] | None = getattr(cls, "__pydantic_fields__", None)  # also dataclasses
    if fields is not None and isinstance(cls, type):
        field = fields.get(name)
        return None if field is None else shape_of(field.rebuild_annotation())
    if dataclasses.is_dataclass(cls):
        hints = typing.get_type_hints(cls, include_extras=True)
        names = {f.name for f in dataclasses.fields(cls)}
        return shape_of(hints[name]) if name in names else None
    return None

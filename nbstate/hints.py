"""Reading type annotations: the type under ``Annotated[...]``, unions, and readable names.

The JSON checks (:mod:`nbstate.travel`) and the error messages (:mod:`nbstate.messages`) both
look through ``Annotated`` and recognise unions the same way; this module is that one reading.
It imports no other part of nbstate.
"""

from __future__ import annotations

import types
import typing
from typing import Any

__all__ = ["UNIONS", "strip_annotated", "type_name"]

UNIONS = (typing.Union, types.UnionType)
"""The origins of a union: ``Union[X, Y]`` and ``X | Y``."""


def strip_annotated(annotation: Any) -> Any:
    """The type under ``Annotated[...]`` (its constraints do not change the JSON form)."""
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation


def type_name(annotation: Any) -> str:
    """A readable name of a type annotation: ``Annotated[int, Field(ge=1)]`` is ``int``,
    ``Optional[str]`` is ``str | None``, ``list[Item]`` is ``list[Item]``."""
    annotation = strip_annotated(annotation)
    if annotation is Any:
        return "Any"
    if annotation is None or annotation is type(None):
        return "None"
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in UNIONS:
        return " | ".join(type_name(a) for a in args)
    if origin is typing.Literal:
        return " | ".join(repr(a) for a in args)
    if origin is not None:
        base = getattr(origin, "__name__", None) or repr(origin).replace("typing.", "")
        return f"{base}[{', '.join('...' if a is ... else type_name(a) for a in args)}]"
    if isinstance(annotation, type):
        return annotation.__name__
    return repr(annotation).replace("typing.", "")

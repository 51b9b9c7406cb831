"""Plain values: the user's values behind tracked ones, and when a change is no change.

A tracked value is a subclass of what the user put in a state: a ``TrackedList`` is a ``list``,
a tracked model's class is a tracking subclass of the user's model (marked by
:data:`TRACKED_MARK`). :func:`plain_type` names the user's class behind one, :func:`untrack`
makes a deep copy out of builtins and the user's own classes, and :func:`same_value` tells
whether a new value changes nothing a client sees.

This module imports no other part of nbstate: what it knows of tracked values is that they
subclass the builtins, and the mark on tracked model classes.
"""

from __future__ import annotations

from typing import Any

import pydantic

__all__ = [
    "SCALAR_TYPES",
    "TRACKED_MARK",
    "is_tracked_object",
    "plain_type",
    "same_value",
    "untrack",
]

SCALAR_TYPES = frozenset({str, int, float, bool, type(None), bytes})
"""Values that are never tracked: immutable, and with no children."""

TRACKED_MARK = "__nbstate_tracked__"
"""The class attribute (``True``) of every tracking subclass of a model or dataclass."""


def is_tracked_object(value: Any) -> bool:
    """Whether ``value`` is a model or dataclass instance whose class was swapped for tracking."""
    return getattr(type(value), TRACKED_MARK, False) is True


def plain_type(value: Any) -> type:
    """The user's class of ``value``: the model or dataclass behind its tracking subclass."""
    cls = type(value)
    return cls.__mro__[1] if getattr(cls, TRACKED_MARK, False) is True else cls


def untrack(value: Any) -> Any:
    """A deep plain copy of ``value``: builtin containers and the user's own classes."""
    if type(value) in SCALAR_TYPES:
        return value
    if isinstance(value, list):
        return [untrack(v) for v in value]
    if isinstance(value, dict):
        return {k: untrack(v) for k, v in value.items()}
    if isinstance(value, set):
        return set(value)
    if is_tracked_object(value):
        plain = plain_type(value)
        copy: Any = object.__new__(plain)
        if isinstance(value, pydantic.BaseModel):
            for slot in ("__pydantic_fields_set__", "__pydantic_extra__", "__pydantic_private__"):
                object.__setattr__(copy, slot, _copy_attr(getattr(value, slot)))
        object.__setattr__(copy, "__dict__", {k: untrack(v) for k, v in value.__dict__.items()})
        return copy
    return value


def same_value(old: Any, new: Any) -> bool:
    """Whether ``new`` changes nothing a client sees: equal, and of the same JSON types all the
    way down (``True`` is not ``1`` and ``1.0`` is not ``1``, though Python finds them equal).

    Models and dataclasses compare by their class (a tracked one is its plain class) and ``==``.
    """
    return old is new or (bool(old == new) and _same_types(old, new))


def _same_types(a: Any, b: Any) -> bool:
    if isinstance(a, list):
        return isinstance(b, list) and all(
            x is y or _same_types(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return isinstance(b, dict) and all(v is b[k] or _same_types(v, b[k]) for k, v in a.items())
    if isinstance(a, set):
        return isinstance(b, set)
    return plain_type(a) is plain_type(b)


def _copy_attr(v: Any) -> Any:
    return None if v is None else type(v)(v)

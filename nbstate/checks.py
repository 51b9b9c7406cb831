"""Choosing, once per annotation, the cheapest check that a validated value can travel as JSON
(the checks themselves are :mod:`nbstate.travel`'s).

None for ``int``, ``bool``, dates or ``list[int]``; ``str.isascii`` for strings; one ``sum``
for a list of floats; for a pydantic model or dataclass whose JSON form is its fields' (not
:func:`opaque`), a check field by field, each with its own field's check (a row of ints and
ASCII strings costs a few ``isascii`` calls); for anything else (``Any``, unions, opaque
models) :func:`~nbstate.travel.check_any`, the walk.

This module imports :mod:`nbstate.hints` and :mod:`nbstate.travel`.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import functools
import typing
import uuid
from typing import Any

import pydantic

from .hints import UNIONS, strip_annotated
from .travel import (
    Check,
    NotJSON,
    _find,
    check_any,
    check_float,
    check_floats,
    check_str,
    check_str_keys,
    check_strs,
)

__all__ = ["VALIDATES_TO", "opaque", "travel_check"]


# --------------------------------------------------------------------------- choosing a check


_SAFE_TYPES = frozenset({int, bool, type(None), None, datetime.datetime, datetime.date,
                         datetime.time, datetime.timedelta, uuid.UUID, decimal.Decimal})
_SEQUENCES = frozenset({list, set, frozenset, tuple, typing.List, typing.Set,  # noqa: UP006
                        typing.FrozenSet, typing.Tuple})  # noqa: UP006


@functools.lru_cache(maxsize=1024)
def travel_check(annotation: Any) -> Check | None:
    """The cheapest check that a validated value of type ``annotation`` can travel as JSON;
    ``None`` when no value of that type can fail it (``int``, ``bool``, ``list[int]``, dates)."""
    annotation = strip_annotated(annotation)
    if annotation in _SAFE_TYPES:
        return None
    if annotation is str:
        return check_str
    if annotation is float:
        return check_float
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Literal:
        return None if _find(list(args)) is None else check_any
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        members = [m.value for m in annotation]
        return None if _find(members) is None else check_any
    if origin in UNIONS:
        members = [a for a in args if a is not type(None)]
        checks = {travel_check(a) for a in members}
        if checks == {None}:
            return None
        optional = checks.pop() if len(members) == 1 else None  # Optional[X]
        if optional is not None:
            return functools.partial(_unless_none, optional)
        return check_any
    if origin in _SEQUENCES and (len(args) == 1 or (len(args) == 2 and args[1] is ...)):
        items = travel_check(args[0])
        if items is None:
            return None
        each: Check | None = _ITEM_CHECKS.get(items)
        if each is None:
            each = functools.partial(_each, items) if isinstance(
                items, functools.partial) and items.func is _check_object else check_any
        return each
    if origin in (dict, typing.Dict) and len(args) == 2:  # noqa: UP006
        keys, values = travel_check(args[0]), travel_check(args[1])
        if values is None and keys is None:
            return None
        if values is None and keys is check_str:
            return check_str_keys
    if isinstance(annotation, type):
        validated = getattr(annotation, VALIDATES_TO, None)
        if validated is not None:  # its values validate to instances of another class
            return travel_check(validated())
        if _fields_of(annotation) is not None:
            return _object_check(annotation)
    return check_any


VALIDATES_TO = "__nbstate_validates_to__"
"""A classmethod a class may define, returning the class its validated values are instances
of (:class:`nbstate.db.Model`'s rows validate to its row model), so they get that class's check.
"""


_ITEM_CHECKS: dict[Check, Check] = {check_str: check_strs, check_float: check_floats}


# --------------------------------------------------------------------------- models


@functools.cache
def opaque(cls: type) -> bool:
    """Whether the JSON form of a ``cls`` instance is more than its fields' own JSON forms.

    Computed or excluded fields, field or model serializers, serialization settings and extra
    fields make it so (pydantic models and pydantic dataclasses; a plain dataclass never is).
    """
    decorators = getattr(cls, "__pydantic_decorators__", None)
    if decorators is not None and (decorators.field_serializers or decorators.model_serializers
                                   or decorators.computed_fields):
        return True
    fields: dict[str, Any] = getattr(cls, "__pydantic_fields__", None) or {}
    for field in fields.values():
        if field.exclude or getattr(field, "exclude_if", None) is not None or any(
                isinstance(m, (pydantic.PlainSerializer, pydantic.WrapSerializer))
                for m in field.metadata):
            return True
    config: dict[str, Any] = (getattr(cls, "model_config", None)  # models
                              or getattr(cls, "__pydantic_config__", None) or {})  # dataclasses
    return config.get("extra") == "allow" or any(
        k.startswith("ser_") or k in ("serialize_by_alias", "json_encoders") for k in config)


def _fields_of(cls: type) -> dict[str, Any] | None:
    """``{field name: annotation}`` of a pydantic model or dataclass (pydantic or plain) that is
    not :func:`opaque`; ``None`` for any other class, or one whose annotations do not resolve."""
    fields = cls.__dict__.get("__pydantic_fields__")
    if fields is not None and isinstance(fields, dict) and not opaque(cls):
        return {name: field.annotation for name, field in fields.items()}
    if dataclasses.is_dataclass(cls) and "__pydantic_fields__" not in cls.__dict__:
        try:
            hints = typing.get_type_hints(cls, include_extras=True)
        except Exception:  # a name that does not resolve: the walk finds what pydantic makes
            return None
        return {f.name: hints.get(f.name, Any) for f in dataclasses.fields(cls)}
    return None


_BUILDING: set[type] = set()


def _object_check(cls: type) -> Check:
    """The check of a ``cls`` instance, field by field (a subclass's instance: the walk)."""
    if cls in _BUILDING:  # a class that holds itself (a tree): its inner values are walked
        return check_any
    _BUILDING.add(cls)
    try:
        checks = tuple((name, check) for name, hint in (_fields_of(cls) or {}).items()
                       if (check := travel_check(hint)) is not None)
    finally:
        _BUILDING.discard(cls)
    strs = tuple(name for name, check in checks if check is check_str)
    others = tuple((name, check) for name, check in checks if check is not check_str)
    return functools.partial(_check_object, cls, strs, others)


def _check_object(cls: type, strs: tuple[str, ...], checks: tuple[tuple[str, Check], ...],
                  value: Any) -> None:
    kind = type(value)
    if kind is not cls and not (kind.__base__ is cls and kind.__dict__.get(_TRACKED) is True):
        check_any(value)  # a subclass may hold more than ``cls`` declares
        return
    fields = getattr(value, "__dict__", None)
    if fields is None:  # a slotted dataclass
        fields = {name: getattr(value, name, None) for name in (*strs, *dict(checks))}
    unusual = [(name, check_str) for name in strs  # an ASCII str needs no further look
               if type(item := fields.get(name)) is not str or not item.isascii()]
    for name, check in (*unusual, *checks) if unusual else checks:
        item = fields.get(name)
        if item is not None:
            try:
                check(item)
            except NotJSON as exc:
                if not exc.whole:
                    exc.at = (name, *exc.at)
                raise


_TRACKED = "__nbstate_tracked__"  # nbstate.plain.TRACKED_MARK: a tracking subclass of ``cls``


def _each(check: Check, values: Any) -> None:
    for i, value in enumerate(values):
        try:
            check(value)
        except NotJSON as exc:
            if not exc.whole and not isinstance(values, (set, frozenset)):
                exc.at = (i, *exc.at)
            raise


def _unless_none(check: Check, value: Any) -> None:
    if value is not None:
        check(value)

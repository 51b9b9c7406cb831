"""What JSON can carry to a browser: the checks that a validated value can **travel**.

Pydantic accepts three kinds of values that JSON cannot carry: strings with lone surrogates (a
browser's ``JSON.stringify`` sends them, ``json.loads`` makes them, and encoding them to UTF-8
fails later, in the transport), the floats NaN and ±Infinity (also from pydantic's lax
``"nan"``/``"inf"`` strings), and objects with no JSON form at all. Such a value raises
:class:`NotJSON` where it enters, so nothing changes.

:func:`travel_check` chooses the check from an annotation once, as cheap as the type allows:
none for ``int``, ``bool``, dates or ``list[int]``; ``str.isascii`` first for strings (one join
for a list of them); one ``sum`` for a list of floats; for anything else (``Any``, models,
unions) :func:`check_any`, a walk over the value, through pydantic's JSON forms of models and
other objects, that skips ASCII strings and integers inline. A pydantic model or dataclass whose
JSON form is its fields' (not :func:`opaque`) is checked field by field, each with its own
field's check: a row of ints and ASCII strings costs a few ``isascii`` calls.

This module imports only :mod:`nbstate.hints` and :mod:`nbstate.messages`.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import functools
import math
import typing
import uuid
from collections.abc import Callable
from math import isfinite
from typing import Any

import pydantic
import pydantic_core

from .hints import UNIONS, strip_annotated
from .messages import cap, clip, location

__all__ = [
    "Check",
    "NotJSON",
    "check_any",
    "check_float",
    "check_floats",
    "check_str",
    "check_str_keys",
    "check_strs",
    "explain_json",
    "no_json_form",
    "opaque",
    "surrogate",
    "travel_check",
]

Check = Callable[[Any], None]
"""A travel check: returns for a value JSON can carry, raises :class:`NotJSON` otherwise."""


class NotJSON(ValueError):
    """A value that JSON cannot carry to a browser.

    ``reason`` says what is wrong (``"NaN is not JSON; …"``) and ``at`` where inside the value
    (keys and indices, outermost first; empty for the value itself).
    """

    def __init__(self, reason: str, at: tuple[str | int, ...] = (), *,
                 whole: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.at = at
        self.whole = whole
        """The problem is the value as a whole (too deep): ``at`` stays empty."""

    def detail(self, value: Any) -> dict[str, Any]:
        """The problem as one error in the form of pydantic's ``ValidationError.errors()``."""
        return {"type": "not_json", "loc": self.at, "msg": self.reason, "input": value}


def explain_json(where: str, problem: NotJSON) -> str:
    """A short message for a value JSON cannot carry: ``todo.ratio: NaN is not JSON; …``."""
    return cap(f"{location(where, problem.at)}: {problem.reason}")


def no_json_form(value: Any, exc: Exception) -> str:
    """Why ``value`` has no JSON form (``exc``: what pydantic's encoder raised), with the fix."""
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return (f"a {type(value).__name__} has no JSON form ({clip(reason, 80)}); store JSON data, "
            "pydantic models or dataclasses, or keep it in a backend var (_name)")


# --------------------------------------------------------------------------- checks


def surrogate(text: str) -> str | None:
    """What makes ``text`` impossible to encode as UTF-8 (a lone surrogate), or ``None``."""
    if text.isascii():
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return (f"contains a lone surrogate \\u{ord(text[exc.start]):04x} at index {exc.start}; "
                "text for a browser must be valid Unicode (whole surrogate pairs only)")
    return None


def _not_finite(number: float) -> str:
    name = "NaN" if math.isnan(number) else "Infinity" if number > 0 else "-Infinity"
    return f"{name} is not JSON; use None for a missing number"


def check_str(value: Any) -> None:
    if not value.isascii():
        reason = surrogate(value)
        if reason is not None:
            raise NotJSON(reason)


def check_float(value: Any) -> None:
    if not math.isfinite(value):
        raise NotJSON(_not_finite(value))


def check_strs(values: Any) -> None:
    """Every item of a list or set of strings."""
    if "".join(values).isascii():
        return
    for i, text in enumerate(values):
        reason = surrogate(text)
        if reason is not None:
            raise NotJSON(reason, () if isinstance(values, (set, frozenset)) else (i,))


def check_floats(values: Any) -> None:
    """Every item of a list or set of floats: one ``sum`` unless one is not finite (or the sum
    overflows)."""
    if math.isfinite(sum(values, 0.0)):
        return
    for i, number in enumerate(values):
        if not math.isfinite(number):
            raise NotJSON(_not_finite(number),
                          () if isinstance(values, (set, frozenset)) else (i,))


def check_str_keys(value: Any) -> None:
    if "".join(value).isascii():
        return
    for key in value:
        reason = surrogate(key)
        if reason is not None:
            raise NotJSON(f"a key {reason}")


def check_any(value: Any) -> None:
    """Any value: its JSON form as :func:`nbstate.protocol.encode` makes it (pydantic's).

    A walk in Python: pydantic's JSON encoder would be faster, but it writes a model's NaN as
    ``null`` (``ser_json_inf_nan``) while :func:`~nbstate.protocol.encode` keeps it NaN.
    """
    try:
        problem = _find(value)
    except RecursionError:  # a container inside itself: pydantic finds no JSON form either
        problem = NotJSON(f"a {type(value).__name__} that contains itself has no JSON form")
    if problem is not None:
        raise problem


MAX_DEPTH = 200
"""Deepest nesting of lists and objects a value may have (pydantic's encoder stops at 254)."""


def _find(value: Any, depth: int = 0) -> NotJSON | None:
    """The first part of ``value`` that JSON cannot carry, or ``None``.

    The path to it is built only once one is found, as the recursion unwinds.
    """
    if depth > MAX_DEPTH:
        return NotJSON(f"it is nested more than {MAX_DEPTH} levels deep; flatten it",
                       whole=True)
    kind = type(value)
    if kind is str:
        return None if value.isascii() else _text_problem(value)
    if kind is int or kind is bool or value is None:
        return None
    if kind is float:
        return None if math.isfinite(value) else NotJSON(_not_finite(value))
    if isinstance(value, dict):
        for key, item in value.items():
            if type(key) is str and not key.isascii():
                reason = surrogate(key)
                if reason is not None:
                    return NotJSON(f"a key {reason}")
            kind = type(item)
            if (kind is str and item.isascii()) or kind is int or item is None or kind is bool or (
                    kind is float and isfinite(item)):
                continue
            found = _find(item, depth + 1)
            if found is not None:
                if not found.whole:
                    found.at = (key if isinstance(key, (str, int)) else str(key), *found.at)
                return found
        return None
    if isinstance(value, (list, tuple, set, frozenset)):
        for i, item in enumerate(value):
            kind = type(item)
            if (kind is str and item.isascii()) or kind is int or item is None or kind is bool or (
                    kind is float and isfinite(item)):
                continue
            found = _find(item, depth + 1)
            if found is not None:
                if not found.whole and not isinstance(value, (set, frozenset)):  # no set order
                    found.at = (i, *found.at)
                return found
        return None
    if isinstance(value, str):
        return _text_problem(value)
    if isinstance(value, float):
        return None if math.isfinite(value) else NotJSON(_not_finite(value))
    if isinstance(value, int):
        return None
    try:  # models, dataclasses, dates, enums, ...: what pydantic makes of them
        data = pydantic_core.to_jsonable_python(value)
    except UnicodeEncodeError as exc:  # a str key inside it
        return NotJSON(f"a key {surrogate(exc.object) or 'is not valid Unicode'}")
    except (pydantic_core.PydanticSerializationError, UnicodeError, ValueError) as exc:
        return NotJSON(no_json_form(value, exc))
    return _find(data, depth)


def _text_problem(text: str) -> NotJSON | None:
    reason = surrogate(text)
    return None if reason is None else NotJSON(reason)


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
    fields = getattr(value, "__dict__", None)  # None: a slotted dataclass
    if strs and fields is not None:  # str fields: ASCII text needs no further look
        unusual: list[tuple[str, Check]] = []
        for name in strs:
            item = fields.get(name)
            if type(item) is not str or not item.isascii():
                unusual.append((name, check_str))
        if unusual:
            checks = (*unusual, *checks)
    elif strs:
        checks = (*((name, check_str) for name in strs), *checks)
    for name, check in checks:
        item = getattr(value, name, None) if fields is None else fields.get(name)
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

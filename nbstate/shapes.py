"""Validation shapes: how to validate a var's value, and the items it contains, from its annotation.

A :class:`Shape` pairs a pydantic ``TypeAdapter`` for a whole value with the shape of its items
(the elements of a ``list[T]`` or ``set[T]``, the values of a ``dict[K, T]``), so a value added
to a tracked container deep in a var is checked against the type the var's annotation gives it
there. The fields of pydantic models and dataclasses get theirs from the class's annotations.

A shape also checks that a validated value can **travel**: that JSON can carry it to a browser.
Pydantic accepts three kinds of values that it cannot: strings with lone surrogates (a browser's
``JSON.stringify`` sends them, ``json.loads`` makes them, and encoding them to UTF-8 fails later,
in the transport), the floats NaN and ±Infinity (also from pydantic's lax ``"nan"``/``"inf"``
strings), and objects with no JSON form at all. Such a value raises :class:`NotJSON` where it
enters, so nothing changes. The check is chosen from the annotation once, and is as cheap as
the type allows: none for ``int``, ``bool``, dates or ``list[int]``; ``str.isascii`` first for
strings (one join for a list of them); one ``sum`` for a list of floats; for anything else
(``Any``, models, unions) a walk over the value, through pydantic's JSON forms of models and
other objects, that skips ASCII strings and integers inline.

This module also turns pydantic's validation errors into the short, plain messages that a
dashboard's visitor may read (:func:`explain`), and renders annotations readably
(:func:`type_name`).

Shapes are cached per annotation; this module imports no other part of nbstate.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import functools
import math
import reprlib
import types
import typing
import uuid
from collections.abc import Callable, Iterable
from math import isfinite
from typing import Any

import pydantic
import pydantic_core
from pydantic import TypeAdapter

__all__ = [
    "ANY",
    "MAX_MESSAGE",
    "Check",
    "NotJSON",
    "Shape",
    "cap",
    "check_any",
    "check_float",
    "check_floats",
    "check_str",
    "check_str_keys",
    "check_strs",
    "excerpt",
    "explain",
    "explain_json",
    "location",
    "no_json_form",
    "shape_of",
    "surrogate",
    "travel_check",
    "type_name",
]

Check = Callable[[Any], None]
"""A travel check: returns for a value JSON can carry, raises :class:`NotJSON` otherwise."""


class NotJSON(ValueError):
    """A value that JSON cannot carry to a browser.

    ``reason`` says what is wrong (``"NaN is not JSON; …"``) and ``at`` where inside the value
    (keys and indices, outermost first; empty for the value itself).
    """

    def __init__(self, reason: str, at: tuple[str | int, ...] = ()) -> None:
        super().__init__(reason)
        self.reason = reason
        self.at = at

    def detail(self, value: Any) -> dict[str, Any]:
        """The problem as one error in the form of pydantic's ``ValidationError.errors()``."""
        return {"type": "not_json", "loc": self.at, "msg": self.reason, "input": value}


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
            NotJSON: it fits, but JSON cannot carry it to a browser.
        """
        if self.adapter is not None:
            value = self.adapter.validate_python(value)
        if travels and self.check is not None:
            self.check(value)
        return value


# --------------------------------------------------------------------------- travel checks


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


def _find(value: Any) -> NotJSON | None:
    """The first part of ``value`` that JSON cannot carry, or ``None``.

    The path to it is built only once one is found, as the recursion unwinds.
    """
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
            found = _find(item)
            if found is not None:
                found.at = (key if isinstance(key, (str, int)) else str(key), *found.at)
                return found
        return None
    if isinstance(value, (list, tuple, set, frozenset)):
        for i, item in enumerate(value):
            kind = type(item)
            if (kind is str and item.isascii()) or kind is int or item is None or kind is bool or (
                    kind is float and isfinite(item)):
                continue
            found = _find(item)
            if found is not None:
                if not isinstance(value, (set, frozenset)):  # a set's order means nothing
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
    return _find(data)


def _text_problem(text: str) -> NotJSON | None:
    reason = surrogate(text)
    return None if reason is None else NotJSON(reason)


def no_json_form(value: Any, exc: Exception) -> str:
    """Why ``value`` has no JSON form (``exc``: what pydantic's encoder raised), with the fix."""
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return (f"a {type(value).__name__} has no JSON form ({_clip(reason, 80)}); store JSON data, "
            "pydantic models or dataclasses, or keep it in a backend var (_name)")


_SAFE_TYPES = frozenset({int, bool, type(None), None, datetime.datetime, datetime.date,
                         datetime.time, datetime.timedelta, uuid.UUID, decimal.Decimal})
_SEQUENCES = frozenset({list, set, frozenset, tuple, typing.List, typing.Set,  # noqa: UP006
                        typing.FrozenSet, typing.Tuple})  # noqa: UP006
_UNIONS = (typing.Union, types.UnionType)


@functools.lru_cache(maxsize=1024)
def travel_check(annotation: Any) -> Check | None:
    """The cheapest check that a validated value of type ``annotation`` can travel as JSON;
    ``None`` when no value of that type can fail it (``int``, ``bool``, ``list[int]``, dates)."""
    annotation = _strip(annotation)
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
    if origin in _UNIONS:
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
        each: Check = _ITEM_CHECKS.get(items, check_any)
        return each
    if origin in (dict, typing.Dict) and len(args) == 2:  # noqa: UP006
        keys, values = travel_check(args[0]), travel_check(args[1])
        if values is None and keys is None:
            return None
        if values is None and keys is check_str:
            return check_str_keys
    return check_any


_ITEM_CHECKS: dict[Check, Check] = {check_str: check_strs, check_float: check_floats}


def _unless_none(check: Check, value: Any) -> None:
    if value is not None:
        check(value)


def _strip(annotation: Any) -> Any:
    """The type under ``Annotated[...]`` (its constraints do not change the JSON form)."""
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation


# --------------------------------------------------------------------------- shapes


ANY = Shape(None, check=check_any)


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
    return Shape(TypeAdapter(annotation), item, travel_check(annotation), annotation)


@functools.lru_cache(maxsize=1024)
def _field_shape(cls: type, name: str) -> Shape | None:
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


# --------------------------------------------------------------------------- messages

MAX_MESSAGE = 300
"""Longest error message (characters): a visitor reads it, and a 1 MB bad value must not come
back as a 1 MB error."""

_repr = reprlib.Repr()
_repr.maxstring = 60
_repr.maxother = 60
_repr.maxlist = _repr.maxtuple = _repr.maxset = _repr.maxfrozenset = 4
_repr.maxdict = 3
_repr.maxlevel = 2


def excerpt(value: Any) -> str:
    """A short ``repr`` of ``value`` (at most 80 characters), for an error message."""
    try:
        text = _repr.repr(value)
    except Exception:
        text = f"<{type(value).__name__}>"
    return _clip(text, 80)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def cap(message: str) -> str:
    """``message`` at most :data:`MAX_MESSAGE` characters, encodable as UTF-8."""
    if not message.isascii():
        message = message.encode("utf-8", "backslashreplace").decode("utf-8")
    return _clip(message, MAX_MESSAGE)


def type_name(annotation: Any) -> str:
    """A readable name of a type annotation: ``Annotated[int, Field(ge=1)]`` is ``int``,
    ``Optional[str]`` is ``str | None``, ``list[Item]`` is ``list[Item]``."""
    annotation = _strip(annotation)
    if annotation is Any:
        return "Any"
    if annotation is None or annotation is type(None):
        return "None"
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in _UNIONS:
        return " | ".join(type_name(a) for a in args)
    if origin is typing.Literal:
        return " | ".join(repr(a) for a in args)
    if origin is not None:
        base = getattr(origin, "__name__", None) or repr(origin).replace("typing.", "")
        return f"{base}[{', '.join('...' if a is ... else type_name(a) for a in args)}]"
    if isinstance(annotation, type):
        return annotation.__name__
    return repr(annotation).replace("typing.", "")


def _ctx(error: Any, key: str) -> Any:
    value = (error.get("ctx") or {}).get(key)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)  # a bound of a float field reads "≥ 0", not "≥ 0.0"
    return value


def _count(error: Any, key: str, word: str) -> str:
    n = _ctx(error, key)
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


_REASONS: dict[str, Callable[[Any], str]] = {
    "greater_than_equal": lambda e: f"must be ≥ {_ctx(e, 'ge')}",
    "greater_than": lambda e: f"must be > {_ctx(e, 'gt')}",
    "less_than_equal": lambda e: f"must be ≤ {_ctx(e, 'le')}",
    "less_than": lambda e: f"must be < {_ctx(e, 'lt')}",
    "multiple_of": lambda e: f"must be a multiple of {_ctx(e, 'multiple_of')}",
    "finite_number": lambda e: "must be a finite number",
    "string_too_short": lambda e: f"must have at least {_count(e, 'min_length', 'character')}",
    "string_too_long": lambda e: f"must have at most {_count(e, 'max_length', 'character')}",
    "too_short": lambda e: f"must have at least {_count(e, 'min_length', 'item')}",
    "too_long": lambda e: f"must have at most {_count(e, 'max_length', 'item')}",
    "string_pattern_mismatch": lambda e: f"must match the pattern {_ctx(e, 'pattern')!r}",
    "literal_error": lambda e: f"must be {_ctx(e, 'expected')}",
    "enum": lambda e: f"must be {_ctx(e, 'expected')}",
    "int_parsing": lambda e: "must be an integer",
    "int_type": lambda e: "must be an integer",
    "int_from_float": lambda e: "must be a whole number",
    "float_parsing": lambda e: "must be a number",
    "float_type": lambda e: "must be a number",
    "bool_parsing": lambda e: "must be true or false",
    "bool_type": lambda e: "must be true or false",
    "string_type": lambda e: "must be a string",
    "string_unicode": lambda e: "must be valid Unicode text",
    "list_type": lambda e: "must be a list",
    "set_type": lambda e: "must be a set",
    "tuple_type": lambda e: "must be a list",
    "dict_type": lambda e: "must be an object",
    "none_required": lambda e: "must be None",
    "uuid_parsing": lambda e: "must be a UUID",
    "uuid_type": lambda e: "must be a UUID",
    "model_type": lambda e: f"must be a {_ctx(e, 'class_name')} (or an object of its fields)",
    "dataclass_type": lambda e: f"must be a {_ctx(e, 'class_name')} (or an object of its fields)",
    "model_attributes_type": lambda e: "must be an object",
    "is_instance_of": lambda e: f"must be a {_ctx(e, 'class')}",
    "datetime_type": lambda e: "must be a date and time, such as '2024-01-31T12:00'",
    "datetime_parsing": lambda e: "must be a date and time, such as '2024-01-31T12:00'",
    "datetime_from_date_parsing": lambda e: "must be a date and time, such as '2024-01-31T12:00'",
    "date_type": lambda e: "must be a date, such as '2024-01-31'",
    "date_parsing": lambda e: "must be a date, such as '2024-01-31'",
    "date_from_datetime_parsing": lambda e: "must be a date, such as '2024-01-31'",
    "time_type": lambda e: "must be a time, such as '12:30'",
    "time_parsing": lambda e: "must be a time, such as '12:30'",
    "decimal_type": lambda e: "must be a number",
    "decimal_parsing": lambda e: "must be a number",
    "missing": lambda e: "is required",
    "extra_forbidden": lambda e: "is not expected",
}
_NO_INPUT = frozenset({"missing", "extra_forbidden"})


def _reason(error: Any) -> str:
    kind = error.get("type", "")
    render = _REASONS.get(kind)
    if render is not None:
        return render(error)
    msg = str(error.get("msg", "is not valid"))
    for prefix, replacement in (("Input should", "should"), ("Value error, ", "is not valid: "),
                                ("Assertion failed, ", "is not valid: ")):
        if msg.startswith(prefix):
            return replacement + msg[len(prefix):]
    return f"is not valid: {msg}"


def location(where: str, loc: Iterable[Any]) -> str:
    """``where`` followed by a path inside the value: ``todo.rows[2].name``."""
    for key in loc:
        where += f"[{key}]" if isinstance(key, int) else f".{key}"
    return where


def explain(where: str, exc: pydantic.ValidationError, annotation: Any = Any) -> str:
    """A short message for a failed validation of the value at ``where`` (``todo.step``):
    ``todo.step must be ≥ 1, got 0``, from pydantic's error ``type`` and ``ctx``.

    At most two problems are named (the full list is ``exc.errors()``), the value is shown as a
    short excerpt, and the message is capped at :data:`MAX_MESSAGE` characters.
    """
    errors = exc.errors()
    stripped = _strip(annotation)
    if typing.get_origin(stripped) in _UNIONS and len(
            [a for a in typing.get_args(stripped) if a is not type(None)]) > 1 and all(
            e["loc"] and isinstance(e["loc"][0], str) for e in errors):
        # each member of the union failed in its own way: name the union instead
        value = errors[0].get("input")
        return cap(f"{where} must be {type_name(annotation)}, got {excerpt(value)}")
    parts = []
    for error in errors[:2]:
        text = f"{location(where, error['loc'])} {_reason(error)}"
        if error.get("type") not in _NO_INPUT:
            text += f", got {excerpt(error.get('input'))}"
        parts.append(text)
    if len(errors) > 2:
        parts.append(f"and {len(errors) - 2} more")
    return cap("; ".join(parts))


def explain_json(where: str, problem: NotJSON) -> str:
    """A short message for a value JSON cannot carry: ``todo.ratio: NaN is not JSON; …``."""
    return cap(f"{location(where, problem.at)}: {problem.reason}")

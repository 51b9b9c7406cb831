"""Error messages a dashboard's visitor may read: short, plain, and safe to send.

:func:`explain` turns pydantic's validation errors into one line (``todo.step must be ≥ 1, got
0``) from each error's ``type`` and ``ctx``, not its English ``msg``; :func:`excerpt` shows a
value in at most 80 characters and :func:`cap` bounds a whole message at :data:`MAX_MESSAGE`,
so a 1 MB bad value never comes back as a 1 MB error, and a message is always valid UTF-8.

This module imports only :mod:`nbstate.hints`.
"""

from __future__ import annotations

import reprlib
import typing
from collections.abc import Callable, Iterable
from typing import Any

import pydantic

from .hints import UNIONS, strip_annotated, type_name

__all__ = ["MAX_MESSAGE", "cap", "clip", "excerpt", "explain", "location"]

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
    return clip(text, 80)


def clip(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, ending in ``…`` when cut."""
    return text if len(text) <= limit else text[:limit - 1] + "…"


def cap(message: str) -> str:
    """``message`` at most :data:`MAX_MESSAGE` characters, encodable as UTF-8."""
    if not message.isascii():
        message = message.encode("utf-8", "backslashreplace").decode("utf-8")
    return clip(message, MAX_MESSAGE)


def location(where: str, loc: Iterable[Any]) -> str:
    """``where`` followed by a path inside the value: ``todo.rows[2].name``."""
    for key in loc:
        where += f"[{key}]" if isinstance(key, int) else f".{key}"
    return where


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


def explain(where: str, exc: pydantic.ValidationError, annotation: Any = Any) -> str:
    """A short message for a failed validation of the value at ``where`` (``todo.step``):
    ``todo.step must be ≥ 1, got 0``, from pydantic's error ``type`` and ``ctx``.

    At most two problems are named (the full list is ``exc.errors()``), the value is shown as a
    short excerpt, and the message is capped at :data:`MAX_MESSAGE` characters.
    """
    errors = exc.errors()
    stripped = strip_annotated(annotation)
    if typing.get_origin(stripped) in UNIONS and len(
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

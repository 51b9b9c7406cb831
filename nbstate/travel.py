"""What JSON can carry to a browser: the checks that a validated value can **travel**.

Pydantic accepts three kinds of values that JSON cannot carry: strings with lone surrogates (a
browser's ``JSON.stringify`` sends them, ``json.loads`` makes them, and encoding them to UTF-8
fails later, in the transport), the floats NaN and ±Infinity (also from pydantic's lax
``"nan"``/``"inf"`` strings), and objects with no JSON form at all. Such a value raises
:class:`NotJSON` where it enters, so nothing changes.

The checks here take a value: ``str.isascii`` first for strings (one join for a list of them),
one ``sum`` for a list of floats, and :func:`check_any`, a walk over any value, through
pydantic's JSON forms of models and other objects, that skips ASCII strings and integers
inline. :mod:`nbstate.checks` chooses the cheapest one for an annotation.

This module imports only :mod:`nbstate.messages`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from math import isfinite
from typing import Any

import pydantic_core

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
    "surrogate",
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

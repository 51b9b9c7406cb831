"""Validating a value put into a tracked node, with an error that names the var and the place.

Every way into a tracked value — a container's ``append`` or ``update``, an attribute set on a
tracked model — validates the new value against the shape its place gives it
(:func:`validate_item`) before anything changes. A failure is a
:class:`~nbstate.errors.VarTypeError` whose message says where, in the user's terms
(``todo.rows[2].name must be a string, got 3``), with pydantic's errors as its ``detail``.

A value that will reach a client must also be one JSON can carry (:mod:`nbstate.travel`); one
that stays on the server (in a backend var, or in a node out of every state) need not.

Layering: this module builds on :mod:`nbstate.tracking` (where a node sits) and
:mod:`nbstate.shapes`; the tracked models and containers call it.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from math import isfinite
from typing import Any

import pydantic

from .errors import VarTypeError
from .messages import cap, explain, location
from .plain import is_tracked_object
from .shapes import ANY, Shape, shape_of
from .tracking import Place, TrackedContainer, _link_of, _locate, _Removed
from .travel import NotJSON, check_str, explain_json

__all__ = ["JSON_SCALARS", "item_shape", "validate_item", "validate_items", "validate_key"]


def item_shape(node: TrackedContainer) -> Shape:
    """The shape of the items of a tracked container (``ANY`` when its var gives none)."""
    return (node._nb_shape or ANY).item or ANY


def validate_item(shape: Shape, value: Any, node: Any, key: Any, place: Place | None) -> Any:
    """``shape.validate(value)`` for ``node[key]``, where ``node`` sits at ``place`` (from
    :func:`~nbstate.tracking._locate`); a failure names the var and the place inside it.

    A value that will reach a client (``place`` has a path) must also be one JSON can carry; one
    that stays on the server (in a backend var, or in a node out of every state) need not.

    Raises:
        VarTypeError: with pydantic's errors as its ``detail``.
    """
    kind = type(value)
    if kind is shape.annotation and kind in JSON_SCALARS and (
            kind is not str or value.isascii()) and (kind is not float or isfinite(value)):
        return value  # pydantic would return it as it is, and JSON carries it
    try:
        return shape.validate(value, place is not None and place[1] is not None)
    except pydantic.ValidationError as exc:
        raise VarTypeError(explain(_where(node, key), exc, shape.annotation),
                           detail=exc.errors()) from exc
    except NotJSON as exc:
        raise VarTypeError(explain_json(_where(node, key), exc),
                           detail=[exc.detail(value)]) from None


JSON_SCALARS = frozenset({str, int, float, bool})
"""Item annotations whose validated values are JSON data as they are (pydantic returns exact
``str``, ``int``, ``float`` and ``bool`` for them; the travel check refuses NaN and ±Infinity)."""


def validate_items(shape: Shape, values: list[Any], node: Any, keys: Sequence[Any],
                   place: Place | None) -> list[Any]:
    """Validate ``values`` as the items ``node[key]`` will hold, ``keys`` giving each one's
    key (a ``range`` for a list): one pydantic call for all, and all or nothing. The result is
    a new list.

    Raises:
        VarTypeError: naming the first item that does not validate (see :func:`validate_item`).
    """
    try:
        checked: list[Any] = _many(shape).validate(values, place is not None
                                                  and place[1] is not None)
    except (pydantic.ValidationError, NotJSON):
        for key, value in zip(keys, values, strict=True):
            validate_item(shape, value, node, key, place)  # raises, naming the item
        raise
    return checked if checked is not values else list(checked)


@functools.lru_cache(maxsize=256)
def _many(shape: Shape) -> Shape:
    """The shape of a list of ``shape``'s values (a shape is hashed by identity)."""
    return shape_of(list[shape.annotation])  # type: ignore[name-defined]


def validate_key(key: Any, node: Any, place: Place | None) -> None:
    """A dict key that will reach a client must be one JSON can carry (no lone surrogate).

    Raises:
        VarTypeError: naming the dict and the problem.
    """
    if type(key) is str and not key.isascii() and place is not None and place[1] is not None:
        try:
            check_str(key)
        except NotJSON as exc:
            raise VarTypeError(cap(f"{_where(node, None)}: a key {exc.reason}"),
                               detail=[exc.detail(key)]) from None


def _where(node: Any, key: Any) -> str:
    """``state.var[3].name``: where ``node[key]`` is, for a message (``key`` ``None``: the node;
    ``"-"``: an item of a set)."""
    place = _locate(node, whole_values=False)
    root: Any = place[0] if place is not None else None
    while isinstance(root, _Removed):
        root = root.root
    var_key = getattr(getattr(root, "var", None), "key", None)  # a backend var's has no tokens
    tokens = place[1] if place is not None else None
    if tokens is not None:
        var = f"{tokens[0]}.{tokens[1]}"
    elif isinstance(var_key, tuple) and len(var_key) == 2:
        var = f"{var_key[0]}.{var_key[1]}"
    else:
        var = "a value"
    inner: list[Any] = []  # the raw keys: list indices stay ints, so they read as [3]
    child = node
    while True:
        parent, at = _link_of(child)
        if not (isinstance(parent, TrackedContainer) or is_tracked_object(parent)):
            break
        inner.append(at)
        child = parent
    inner.reverse()
    if key not in (None, "-"):
        inner.append(key)
    where = location(var, inner)
    return f"an item of {where}" if key == "-" else where

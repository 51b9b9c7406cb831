"""Undoing a tracked list's or dict's change: the values put back exactly, and relinked.

Each change a tracked container logs carries one of these as its undo (bound with
``functools.partial``). An undo restores the builtin's contents with the builtin's own methods
(no op is logged, nothing is validated), unlinks the values the change had put in, and links
the ones it puts back at their keys (:mod:`nbstate.tracking`), so a node restored by a
rollback is tracked again where it was.

Layering: this module builds on :mod:`nbstate.tracking` only; :mod:`nbstate.containers` uses
it.
"""

from __future__ import annotations

from typing import Any

from .plain import SCALAR_TYPES
from .tracking import _MISSING, _relink, _unlink

__all__ = [
    "dict_del",
    "dict_insert",
    "dict_refill",
    "dict_restore",
    "dict_set",
    "list_cut",
    "list_del",
    "list_insert",
    "list_pop_last",
    "list_set",
    "list_unsplice",
    "position",
]


# --------------------------------------------------------------------------- list


def list_pop_last(lst: list[Any]) -> None:
    _unlink(list.pop(lst))


def list_del(lst: list[Any], i: int) -> None:
    _unlink(list.pop(lst, i))


def list_insert(lst: list[Any], i: int, value: Any) -> None:
    list.insert(lst, i, value)
    _relink(lst, i, value)


def list_set(lst: list[Any], i: int, value: Any) -> None:
    _unlink(list.__getitem__(lst, i))
    list.__setitem__(lst, i, value)
    _relink(lst, i, value)


def list_cut(lst: list[Any], at: int, count: int) -> None:
    """Undo an insertion of ``count`` items at ``at`` (an ``extend``: at the end)."""
    for value in list.__getitem__(lst, slice(at, at + count)):
        if type(value) not in SCALAR_TYPES:
            _unlink(value)
    list.__delitem__(lst, slice(at, at + count))


def list_unsplice(lst: list[Any], at: int, count: int, removed: list[Any]) -> None:
    """Undo a splice that put ``count`` items at ``at`` in place of ``removed``."""
    for value in list.__getitem__(lst, slice(at, at + count)):
        if type(value) not in SCALAR_TYPES:
            _unlink(value)
    list.__setitem__(lst, slice(at, at + count), removed)
    for i, value in enumerate(removed, at):
        _relink(lst, i, value)  # a node the splice had moved is linked here again


# --------------------------------------------------------------------------- dict


def position(d: dict[Any, Any], key: Any) -> int:
    """Where ``key`` is in ``d``'s order (cheap at either end, as for ``clear`` and ``popitem``).

    Raises:
        KeyError: ``key`` is not in ``d``.
    """
    if key not in d:
        raise KeyError(key)
    if key == next(iter(d)):
        return 0
    if key == next(reversed(d)):
        return len(d) - 1
    return list(d).index(key)


def dict_insert(d: dict[Any, Any], at: int, key: Any, value: Any) -> None:
    """Undo a deletion: put ``key`` back where it was, so the dict's order is restored too."""
    if at >= len(d):
        dict.__setitem__(d, key, value)
    else:
        items = list(dict.items(d))
        items.insert(at, (key, value))
        dict.clear(d)
        dict.update(d, items)
    _relink(d, key, value)


def dict_del(d: dict[Any, Any], key: Any) -> None:
    _unlink(dict.pop(d, key))


def dict_set(d: dict[Any, Any], key: Any, value: Any) -> None:
    old = dict.get(d, key, _MISSING)
    if old is not _MISSING:
        _unlink(old)
    dict.__setitem__(d, key, value)
    _relink(d, key, value)


def dict_restore(d: dict[Any, Any], olds: list[tuple[Any, Any]]) -> None:
    """Undo a change of several keys: each back to its old value (``_MISSING``: absent), in
    reverse order, so a key changed twice ends at its first value."""
    for key, old in reversed(olds):
        if old is _MISSING:
            dict_del(d, key)
        else:
            dict_set(d, key, old)


def dict_refill(d: dict[Any, Any], items: list[tuple[Any, Any]]) -> None:
    """Undo a ``clear``: the items back, in their order."""
    dict.update(d, items)
    for key, value in items:
        _relink(d, key, value)

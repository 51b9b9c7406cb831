"""The tracked list and dict, and :func:`wrap`, which makes any value put into a state tracked.

Lists, dicts and sets become :class:`TrackedList`, :class:`TrackedDict` and
:class:`~nbstate.sets.TrackedSet` (subclasses, so ``isinstance`` and JSON encoding keep
working); pydantic models and dataclasses get their class swapped to a tracking subclass
(:mod:`nbstate.models`). Each mutation method logs the smallest op that reproduces it, with the
undo that restores the Python value exactly (RFC 6902 paths from :mod:`nbstate.tracking`).

Decisions:

- Values added to a tracked container are validated against the container's item type (from
  the var's annotation, through pydantic) before anything changes, then wrapped. A value that
  will reach a client must also be one JSON can carry (:mod:`nbstate.travel`); one in a backend
  var need not.
- A change of many items (``extend``, ``+=``, a slice, ``update``, ``|=``) is all or nothing:
  every item is validated before the first is added, so one bad item changes nothing.
- A change that reorders or rewrites a list (``sort``, ``reverse``, a slice) is one ``replace``
  of the whole list; a dict deletion's undo puts the key back where it was in the dict's order.

Layering: this is the top of the tracking layers (changes → shapes → tracking → validation →
models, sets → containers). :func:`wrap` lives here because it builds these containers and
their own mutations call it; the tracked models get it passed in (:class:`nbstate.models.Wrap`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any, SupportsIndex

from .models import track_object, trackable_object
from .plain import SCALAR_TYPES, is_tracked_object, same_value, untrack
from .sets import TrackedSet
from .shapes import ANY, Shape
from .tracking import (
    _MISSING,
    Place,
    TrackedContainer,
    _emit,
    _link_of,
    _locate,
    _Parent,
    _relink,
    _Removed,
    _retire,
    _set_link,
    _unlink,
)
from .validation import item_shape, validate_item, validate_key

__all__ = ["TrackedDict", "TrackedList", "wrap"]


# --------------------------------------------------------------------------- wrapping


def wrap(value: Any, shape: Shape, parent: _Parent, key: Any, *, within: bool = False) -> Any:
    """Return ``value`` (already validated) as a tracked node linked to ``parent[key]``.

    A value that is already tracked elsewhere is deep-copied first, so one object never sits
    at two places of the tree. ``within`` marks the walk over the children of a container being
    (re)wrapped: a child already linked to that very container is its own, not a copy's.
    """
    kind = type(value)
    if kind in SCALAR_TYPES:
        return value
    if isinstance(value, (TrackedList, TrackedDict, TrackedSet)) or is_tracked_object(value):
        linked = _link_of(value)[0]
        # a detached node put back keeps its children, so their undo entries still apply
        if not isinstance(linked, (type(None), _Removed)) and not (within and linked is parent):
            value = untrack(value)
    kind = type(value)
    item = shape.item or ANY
    if isinstance(value, list):
        node: Any = value if kind is TrackedList else TrackedList(value)
        for i, v in enumerate(node):
            if type(v) not in SCALAR_TYPES:
                list.__setitem__(node, i, wrap(v, item, node, i, within=True))
    elif isinstance(value, dict):
        node = value if kind is TrackedDict else TrackedDict(value)
        for k, v in node.items():
            if type(v) not in SCALAR_TYPES:
                dict.__setitem__(node, k, wrap(v, item, node, k, within=True))
    elif isinstance(value, set):
        node = value if kind is TrackedSet else TrackedSet(value)
    elif trackable_object(value):
        node = track_object(value, wrap)
    else:
        return value
    if not is_tracked_object(node):
        node._nb_shape = shape
    _set_link(node, parent, key)
    return node


def _adopt(parent: TrackedContainer, value: Any, key: Any, place: Place | None) -> Any:
    """``value`` validated as an item of ``parent`` (at ``place``) and tracked at ``key``."""
    item = item_shape(parent)
    return wrap(validate_item(item, value, parent, key, place), item, parent, key)


# --------------------------------------------------------------------------- list


class TrackedList(TrackedContainer, list[Any]):
    """A ``list`` whose mutations are logged as JSON Patch ops on its path."""

    __slots__ = ("_nb_key", "_nb_parent", "_nb_shape")

    _nb_plain = list

    def append(self, value: Any) -> None:
        place = _locate(self)
        value = _adopt(self, value, len(self), place)
        list.append(self, value)
        _emit("add", ("-",), value, functools.partial(_list_pop_last, self), place)

    def extend(self, values: Iterable[Any]) -> None:
        """All or nothing: every item is validated before the first is added."""
        place = _locate(self)
        item = item_shape(self)
        start = len(self)
        checked = [validate_item(item, v, self, start + i, place)
                   for i, v in enumerate(list(values))]
        for v in checked:
            v = wrap(v, item, self, len(self))
            list.append(self, v)
            _emit("add", ("-",), v, functools.partial(_list_pop_last, self), place)

    def __iadd__(self, values: Iterable[Any]) -> TrackedList:  # type: ignore[misc]
        self.extend(values)
        return self

    def insert(self, index: SupportsIndex, value: Any) -> None:
        i = _clamp(int(index), len(self))
        place = _locate(self)
        value = _adopt(self, value, i, place)
        list.insert(self, i, value)
        _emit("add", (i,), value, functools.partial(_list_del, self, i), place)

    def pop(self, index: SupportsIndex = -1) -> Any:
        i = int(index)
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError("pop index out of range")
        place = _locate(self)
        value = list.pop(self, i)
        _retire(value, place, _emit("remove", (i,), None,
                                    functools.partial(_list_insert, self, i, value), place))
        return value

    def remove(self, value: Any) -> None:
        self.pop(self.index(value))

    def clear(self) -> None:
        if self:
            self._replace_all([])

    def sort(self, *, key: Callable[[Any], Any] | None = None, reverse: bool = False) -> None:
        self._replace_all(sorted(self, key=key, reverse=reverse))

    def reverse(self) -> None:
        self._replace_all(self[::-1])

    def __setitem__(self, index: Any, value: Any) -> None:
        if isinstance(index, slice):
            items = list(self)
            items[index] = list(value)
            self._replace_all(items)
            return
        i = int(index)
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError("list assignment index out of range")
        place = _locate(self)
        value = _adopt(self, value, i, place)
        old = list.__getitem__(self, i)
        if same_value(old, value):
            return
        list.__setitem__(self, i, value)
        _retire(old, place,
                _emit("replace", (i,), value, functools.partial(_list_set, self, i, old), place))

    def __delitem__(self, index: Any) -> None:
        if isinstance(index, slice):
            items = list(self)
            del items[index]
            self._replace_all(items)
            return
        self.pop(index)

    def __imul__(self, n: SupportsIndex) -> TrackedList:
        self._replace_all(list(self) * int(n))
        return self

    def _replace_all(self, items: list[Any]) -> None:
        """A change that reorders or rewrites the list: one ``replace`` of the whole list.

        All or nothing: every new item is validated before any is tracked or the list changes.
        """
        if len(items) == len(self) and all(a is b for a, b in zip(items, self, strict=True)):
            return  # nothing moved (sorting a sorted list, an empty slice deletion)
        place = _locate(self)
        item = item_shape(self)
        members = {id(v) for v in self}
        seen: set[int] = set()
        # None: the member itself, kept where it is; else (the validated new item,)
        kept: list[tuple[Any] | None] = []
        for i, v in enumerate(items):
            if id(v) in members and (type(v) in SCALAR_TYPES or id(v) not in seen):
                if type(v) not in SCALAR_TYPES:
                    seen.add(id(v))  # a node kept once; a second place gets a copy
                kept.append(None)
            else:
                kept.append((validate_item(item, untrack(v), self, i, place),))
        new = [v if k is None else wrap(k[0], item, self, i)
               for i, (v, k) in enumerate(zip(items, kept, strict=True))]
        old = list(self)
        list.__setitem__(self, slice(None), new)
        entry = _emit("replace", (), self, functools.partial(_list_restore, self, old), place)
        for v in old:
            if id(v) not in seen:
                _retire(v, place, entry)


def _clamp(i: int, n: int) -> int:
    if i < 0:
        i = max(0, i + n)
    return min(i, n)

def _list_pop_last(lst: TrackedList) -> None:
    _unlink(list.pop(lst))


def _list_del(lst: TrackedList, i: int) -> None:
    _unlink(list.pop(lst, i))


def _list_insert(lst: TrackedList, i: int, value: Any) -> None:
    list.insert(lst, i, value)
    _relink(lst, i, value)


def _list_set(lst: TrackedList, i: int, value: Any) -> None:
    _unlink(list.__getitem__(lst, i))
    list.__setitem__(lst, i, value)
    _relink(lst, i, value)


def _list_restore(lst: TrackedList, items: list[Any]) -> None:
    list.__setitem__(lst, slice(None), items)
    for i, v in enumerate(items):
        _relink(lst, i, v)


# --------------------------------------------------------------------------- dict


class TrackedDict(TrackedContainer, dict[Any, Any]):
    """A ``dict`` whose mutations are logged as JSON Patch ops on its path."""

    __slots__ = ("_nb_key", "_nb_parent", "_nb_shape")

    _nb_plain = dict

    def __setitem__(self, key: Any, value: Any) -> None:
        place = _locate(self)
        validate_key(key, self, place)
        self._store(key, _adopt(self, value, key, place), place)

    def _store(self, key: Any, value: Any, place: Place | None) -> None:
        """Set ``key`` to a validated, tracked ``value``: an ``add`` or a ``replace``."""
        old = dict.get(self, key, _MISSING)
        if same_value(old, value):
            return
        dict.__setitem__(self, key, value)
        if old is _MISSING:
            _emit("add", (str(key),), value,
                  functools.partial(_dict_del, self, key), place)
        else:
            _retire(old, place, _emit("replace", (str(key),), value,
                                      functools.partial(_dict_set, self, key, old), place))

    def __delitem__(self, key: Any) -> None:
        place = _locate(self)
        at = _position(self, key)
        old = dict.pop(self, key)
        _retire(old, place, _emit("remove", (str(key),), None,
                                  functools.partial(_dict_insert, self, at, key, old), place))

    def pop(self, key: Any, *default: Any) -> Any:
        if key not in self:
            if default:
                return default[0]
            raise KeyError(key)
        value = dict.__getitem__(self, key)
        del self[key]
        return value

    def popitem(self) -> tuple[Any, Any]:
        if not self:
            raise KeyError("popitem(): dictionary is empty")
        key = next(reversed(self.keys()))
        return key, self.pop(key)

    def setdefault(self, key: Any, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return dict.__getitem__(self, key)

    def update(self, *args: Any, **kwargs: Any) -> None:
        """All or nothing: every key and value is validated before the first is set."""
        place = _locate(self)
        item = item_shape(self)
        checked = []
        for k, v in dict(*args, **kwargs).items():
            validate_key(k, self, place)
            checked.append((k, validate_item(item, v, self, k, place)))
        for k, v in checked:
            self._store(k, wrap(v, item, self, k), place)

    def __ior__(self, other: Any) -> TrackedDict:  # type: ignore[misc]
        self.update(other)
        return self

    def clear(self) -> None:
        for k in list(self):
            del self[k]


def _position(d: TrackedDict, key: Any) -> int:
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


def _dict_insert(d: TrackedDict, at: int, key: Any, value: Any) -> None:
    """Undo a deletion: put ``key`` back where it was, so the dict's order is restored too."""
    if at >= len(d):
        dict.__setitem__(d, key, value)
    else:
        items = list(dict.items(d))
        items.insert(at, (key, value))
        dict.clear(d)
        dict.update(d, items)
    _relink(d, key, value)


def _dict_del(d: TrackedDict, key: Any) -> None:
    _unlink(dict.pop(d, key))


def _dict_set(d: TrackedDict, key: Any, value: Any) -> None:
    old = dict.get(d, key, _MISSING)
    if old is not _MISSING:
        _unlink(old)
    dict.__setitem__(d, key, value)
    _relink(d, key, value)

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
  every item is validated before the first is added (in one pydantic call), so one bad item
  changes nothing.
- A change of many items is one log entry, whatever its size: a ``splice`` of the list (the
  items from ``at`` on that ``remove`` old ones become) or a ``merge`` into the dict. The session
  document sends it as one op per item or as one ``replace`` of the whole value, whichever is
  smaller (:mod:`nbstate.jsondiff`). A change that reorders or rewrites a list (``sort``,
  ``reverse``, an extended slice, ``*=``) is the splice of the part between the items that kept
  their place at either end. ``clear`` is one ``replace`` with the empty value where that is
  smaller than the removes.
- Nodes a slice or a rewrite moves within the list stay the same objects (a reference the user
  holds keeps reaching the client); a node that would sit at two places is copied.
- A dict deletion's undo puts the key back where it was in the dict's order.

Layering: this is the top of the tracking layers (changes → shapes → tracking → validation →
models, sets → containers). :func:`wrap` lives here because it builds these containers and
their own mutations call it; the tracked models get it passed in (:class:`nbstate.models.Wrap`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from itertools import compress, count, islice
from operator import is_not
from typing import Any, SupportsIndex

from . import undo
from .jsondiff import MERGE, SPLICE
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
    _Removed,
    _retire,
    _set_link,
    link_object,
)
from .validation import JSON_SCALARS, item_shape, validate_item, validate_items, validate_key

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
    if _PLAIN_OBJECTS.get(kind):  # the usual item of a list of rows: a model not yet tracked
        tracked = track_object(value, wrap)
        link_object(tracked, parent, key)
        return tracked
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
        _PLAIN_OBJECTS[kind] = not is_tracked_object(value)
        node = track_object(value, wrap)
    else:
        return value
    if not is_tracked_object(node):
        node._nb_shape = shape
    _set_link(node, parent, key)
    return node


_PLAIN_OBJECTS: dict[type, bool] = {}
"""Trackable classes (:func:`~nbstate.models.trackable_object`), not tracking ones: True."""


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
        _emit("add", ("-",), value, functools.partial(undo.list_pop_last, self), place)

    def extend(self, values: Iterable[Any]) -> None:
        """All or nothing: every item is validated before the first is added."""
        # a list of the caller's is read once, into a new validated list: no copy first
        items = values if type(values) is list else list(values)
        if items:
            self._insert_many(len(self), items)

    def __iadd__(self, values: Iterable[Any]) -> TrackedList:  # type: ignore[misc]
        self.extend(values)
        return self

    def insert(self, index: SupportsIndex, value: Any) -> None:
        i = _clamp(int(index), len(self))
        place = _locate(self)
        value = _adopt(self, value, i, place)
        list.insert(self, i, value)
        _emit("add", (i,), value, functools.partial(undo.list_del, self, i), place)

    def pop(self, index: SupportsIndex = -1) -> Any:
        i = int(index)
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError("pop index out of range")
        place = _locate(self)
        value = list.pop(self, i)
        _retire(value, place, _emit("remove", (i,), None,
                                    functools.partial(undo.list_insert, self, i, value), place))
        return value

    def remove(self, value: Any) -> None:
        self.pop(self.index(value))

    def clear(self) -> None:
        if self:
            self._splice(0, len(self), [])

    def sort(self, *, key: Callable[[Any], Any] | None = None, reverse: bool = False) -> None:
        self._rewrite(sorted(self, key=key, reverse=reverse))

    def reverse(self) -> None:
        self._rewrite(self[::-1])

    def __setitem__(self, index: Any, value: Any) -> None:
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            if step == 1:
                self._splice(start, max(stop - start, 0), list(value))
            else:
                items = list(self)
                items[index] = list(value)
                self._rewrite(items)
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
        _retire(old, place, _emit("replace", (i,), value,
                                  functools.partial(undo.list_set, self, i, old), place))

    def __delitem__(self, index: Any) -> None:
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            if step == 1:
                self._splice(start, max(stop - start, 0), [])
            else:
                items = list(self)
                del items[index]
                self._rewrite(items)
            return
        self.pop(index)

    def __imul__(self, n: SupportsIndex) -> TrackedList:
        self._rewrite(list(self) * int(n))
        return self

    def _insert_many(self, at: int, items: list[Any]) -> None:
        """Put ``items`` (none of them a member of this list yet) at ``at``: one log entry."""
        place = _locate(self)
        item = item_shape(self)
        new = validate_items(item, items, self, range(at, at + len(items)), place)
        scalars = item.annotation in JSON_SCALARS
        if not scalars:
            for i, v in enumerate(new):
                if type(v) not in SCALAR_TYPES:
                    new[i] = wrap(v, item, self, at + i)
        list.__setitem__(self, slice(at, at), new)
        _emit(SPLICE, (), new, functools.partial(undo.list_cut, self, at, len(new)), place,
              {"at": at, "remove": 0, "scalars": scalars}, encoded=scalars)

    def _splice(self, at: int, remove: int, items: list[Any]) -> None:
        """Replace ``self[at:at + remove]`` with ``items``: one log entry.

        All or nothing: every new item is validated before any is tracked or the list changes.
        A node among ``items`` that is one of those removed moves and stays the same object;
        any other node already in a tree is copied.
        """
        if not remove:
            if items:
                self._insert_many(at, items)
            return
        place = _locate(self)
        item = item_shape(self)
        removed = list.__getitem__(self, slice(at, at + remove))
        movable = {id(v) for v in removed if type(v) not in SCALAR_TYPES}
        moved: set[int] = set()
        fresh: list[int] = []  # where the new values are, to validate and track
        for i, v in enumerate(items):
            if id(v) in movable and id(v) not in moved:
                moved.add(id(v))  # a node kept once; a second place gets a copy
            else:
                fresh.append(i)
        checked = validate_items(item, [untrack(items[i]) if id(items[i]) in movable
                                        else items[i] for i in fresh], self,
                                 [at + i for i in fresh], place)
        new = list(items)
        scalars = item.annotation in JSON_SCALARS
        for i, v in zip(fresh, checked, strict=True):
            new[i] = v if scalars else wrap(v, item, self, at + i)
        list.__setitem__(self, slice(at, at + remove), new)
        entry = _emit(SPLICE, (), new, functools.partial(undo.list_unsplice, self, at, len(new),
                                                         removed),
                      place, {"at": at, "remove": remove, "scalars": scalars}, encoded=scalars)
        for v in removed:
            if id(v) not in moved:
                _retire(v, place, entry)

    def _rewrite(self, items: list[Any]) -> None:
        """The list becomes ``items`` (a reordering or rewrite of it): the splice of the part
        between the items that kept their place at either end, found by identity."""
        n, k = len(self), len(items)
        most = min(n, k)
        p = next(compress(count(), map(is_not, islice(self, most), islice(items, most))), most)
        left = most - p
        s = next(compress(count(), map(is_not, islice(reversed(self), left),
                                       islice(reversed(items), left))), left)
        if p == n == k:
            return  # nothing moved (sorting a sorted list, an empty slice deletion)
        self._splice(p, n - p - s, items[p:k - s])


def _clamp(i: int, n: int) -> int:
    if i < 0:
        i = max(0, i + n)
    return min(i, n)


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
                  functools.partial(undo.dict_del, self, key), place)
        else:
            _retire(old, place, _emit("replace", (str(key),), value,
                                      functools.partial(undo.dict_set, self, key, old), place))

    def __delitem__(self, key: Any) -> None:
        place = _locate(self)
        at = undo.position(self, key)
        old = dict.pop(self, key)
        _retire(old, place, _emit("remove", (str(key),), None,
                                  functools.partial(undo.dict_insert, self, at, key, old), place))

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
        """All or nothing: every key and value is validated before the first is set. Two or
        more changed keys are one log entry (a ``merge``)."""
        place = _locate(self)
        item = item_shape(self)
        changes = dict(*args, **kwargs)
        for k in changes:
            validate_key(k, self, place)
        checked = validate_items(item, list(changes.values()), self, list(changes), place) if (
            len(changes) > 1) else [validate_item(item, v, self, k, place)
                                    for k, v in changes.items()]
        news = [(k, v) for k, v in zip(changes, checked, strict=True)
                if not same_value(dict.get(self, k, _MISSING), v)]
        if len(news) <= 1:
            for k, v in news:
                self._store(k, wrap(v, item, self, k), place)
            return
        olds = []
        for k, v in news:
            olds.append((k, dict.get(self, k, _MISSING)))
            dict.__setitem__(self, k, wrap(v, item, self, k))
        values = {str(k): dict.__getitem__(self, k) for k, _ in news}
        entry = _emit(MERGE, (), values, functools.partial(undo.dict_restore, self, olds),
                      place, {})
        for _, old in olds:
            if old is not _MISSING:
                _retire(old, place, entry)

    def __ior__(self, other: Any) -> TrackedDict:  # type: ignore[misc]
        self.update(other)
        return self

    def clear(self) -> None:
        """One ``replace`` with ``{}``, or the removes where they are smaller."""
        if len(self) <= 1 or _removes_size(self) < _EMPTY_REPLACE:
            for k in list(self):
                del self[k]
            return
        place = _locate(self)
        items = list(dict.items(self))
        dict.clear(self)
        entry = _emit("replace", (), {}, functools.partial(undo.dict_refill, self, items), place)
        for _, v in items:
            _retire(v, place, entry)


_EMPTY_REPLACE = len('{"op":"replace","path":"","value":{}},')


def _removes_size(d: TrackedDict) -> int:
    """The framing bytes of one ``remove`` per key, beside one ``replace`` with ``{}``: the
    path common to both is left out."""
    return sum(len('{"op":"remove","path":"/"},') + len(str(k)) for k in d)

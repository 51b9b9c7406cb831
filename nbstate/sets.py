"""The tracked set: a ``set`` whose every change replaces its JSON array.

A JSON array has no set semantics: an op that adds or removes one member would need the
member's index, which a set does not have, and the browser's copy keeps no set order. So any
change to a :class:`TrackedSet` is one ``replace`` of the whole set, with the undo that restores
its members; a change that leaves the members as they were logs nothing.

Decisions:

- Added members are validated against the set's item type first; a change of many (``update``,
  ``|=``, ``symmetric_difference_update``, ``^=``) is all or nothing: every member of every
  argument is validated before the set changes.
- Members are kept as they are, never made tracked nodes: a set holds hashable values, and a
  change to one could not be sent as an op on its place anyway.

Layering: this module builds on :mod:`nbstate.tracking` and :mod:`nbstate.validation`;
:func:`~nbstate.containers.wrap` makes a ``set`` put into a state one of these.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from .tracking import TrackedContainer, _emit, _locate
from .validation import item_shape, validate_item

__all__ = ["TrackedSet"]


def _set_mutator(name: str) -> Callable[..., Any]:
    method = getattr(set, name)

    def mutate(self: TrackedSet, *args: Any) -> Any:
        place = _locate(self)
        item = item_shape(self)
        if name == "add":
            args = (validate_item(item, args[0], self, "-", place),)
        elif name in _SET_ADDS and (item.adapter is not None or item.check is not None):
            # all or nothing: every item of every argument first
            args = tuple({validate_item(item, v, self, "-", place) for v in arg} for arg in args)
        before = set(self)
        result = method(self, *args)
        if before != set(self):
            _emit("replace", (), self, functools.partial(_set_restore, self, before),
                  place)
        return self if name.startswith("__i") else result

    mutate.__name__ = name
    return mutate


_SET_ADDS = frozenset({"update", "symmetric_difference_update", "__ior__", "__ixor__"})


def _set_restore(s: TrackedSet, items: set[Any]) -> None:
    set.clear(s)
    set.update(s, items)


class TrackedSet(TrackedContainer, set[Any]):
    """A ``set`` whose changes are logged; each change replaces the set's JSON array."""

    __slots__ = ("_nb_key", "_nb_parent", "_nb_shape")

    _nb_plain = set

    add = _set_mutator("add")
    discard = _set_mutator("discard")
    remove = _set_mutator("remove")
    pop = _set_mutator("pop")
    clear = _set_mutator("clear")
    update = _set_mutator("update")
    difference_update = _set_mutator("difference_update")
    intersection_update = _set_mutator("intersection_update")
    symmetric_difference_update = _set_mutator("symmetric_difference_update")
    __ior__ = _set_mutator("__ior__")
    __iand__ = _set_mutator("__iand__")
    __isub__ = _set_mutator("__isub__")
    __ixor__ = _set_mutator("__ixor__")

"""The mutation log: the changes since the last flush, each as a JSON Patch op and its undo.

Values held by a state are *tracked* (:mod:`nbstate.tracking`, :mod:`nbstate.models`,
:mod:`nbstate.containers`): every mutation — ``append``, ``x[i] = v``, ``del d[k]``, ``update``,
an attribute set on a nested model, at any depth — reports the smallest RFC 6902 op that
reproduces it (``add /todo/items/-`` for an append) together with an *undo* callable that
restores the Python value exactly. The session keeps both in its :class:`ChangeLog`; a flush
turns the ops into a delta (:func:`compact` drops the ops a later one makes irrelevant) and a
rollback runs the undos in reverse.

This module is the bottom of the tracking layers and imports none of them (each layer imports
only those listed above it)::

    changes.py     Root, Entry, ChangeLog, compact       the log itself
    hints.py       strip_annotated, type_name            reading annotations
    messages.py    explain, excerpt, cap                 errors in plain words
    travel.py      NotJSON, check_str, check_any         what JSON can carry
    checks.py      travel_check, opaque                  the cheapest check per annotation
    shapes.py      Shape, shape_of, field_shape          validation from annotations
    plain.py       plain_type, untrack, same_value       the user's values behind tracked ones
    tracking.py    links, places, ops, retire            the tree of tracked nodes
    undo.py        list_cut, dict_restore, ...           putting values back, relinked
    validation.py  validate_item(s), validate_key        item checks, errors naming the var
    models.py      tracking subclasses of models         attribute sets
    sets.py        TrackedSet                            set changes (whole-set replace)
    containers.py  wrap, TrackedList, TrackedDict        list and dict mutations

A change of many items is one entry whose op is internal (``splice`` or ``merge``, from
:mod:`nbstate.jsondiff`): the session document sends it in its smaller RFC 6902 form.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, Protocol

__all__ = ["ChangeLog", "Entry", "Root", "Undo", "compact"]

Undo = Callable[[], None]


class Root(Protocol):
    """The owner of a var's value: where a tracked node's path begins."""

    def where(self) -> tuple[str, ...] | None:
        """Reference tokens of the var in the session document, checking it may be mutated.

        Returns ``None`` when changes to this value are not sent to clients (backend vars).
        Raises when the caller may not mutate the state now.
        """

    def record(self, op: dict[str, Any] | None, undo: Undo, stable: bool) -> Entry:
        """Append one change to the session's log (``op`` is ``None`` for backend vars)."""

    @property
    def pointer(self) -> str:
        """The JSON Pointer of the var in the session document (``/todo/items``)."""


@dataclasses.dataclass(eq=False, slots=True)
class Entry:
    """One logged change: the op sent to clients (``None`` for backend vars) and its undo."""

    op: dict[str, Any] | None
    undo: Undo
    var: tuple[str, str]
    stable: bool
    """True when the op's path holds no array index, so later ops cannot shift it."""
    flushed: bool = False
    """Set when a flush took the entry: it can no longer be undone."""


class ChangeLog:
    """The ordered changes since the last flush, each with the undo that reverts it."""

    __slots__ = ("entries",)

    def __init__(self) -> None:
        self.entries: list[Entry] = []

    def __len__(self) -> int:
        return len(self.entries)

    def take(self, upto: int | None = None) -> list[Entry]:
        """Remove and return the entries before position ``upto`` (all when ``None``)."""
        if upto is None or upto >= len(self.entries):
            taken, self.entries = self.entries, []
        else:
            taken, self.entries = self.entries[:upto], self.entries[upto:]
        for entry in taken:
            entry.flushed = True
        return taken

    def rollback(self, since: int = 0) -> None:
        """Undo, newest first, every change from position ``since`` on."""
        while len(self.entries) > since:
            self.entries.pop().undo()


def compact(entries: list[Entry]) -> list[dict[str, Any]]:
    """The ops of ``entries`` with those made irrelevant by a later op dropped.

    A later ``replace``/``add`` at a path that holds no array index replaces everything at and
    below it, so earlier ops there are dropped; when one at the very same path is dropped, the
    later op is sent as ``add`` (on an object member ``add`` sets whether or not it exists).
    """
    covered: set[str] = set()
    out: list[dict[str, Any]] = []
    for entry in reversed(entries):
        op = entry.op
        if op is None:
            continue
        path = op["path"]
        hit = _covering(path, covered)
        if hit is not None:
            if hit == path and out:
                _promote(out, path)
            continue
        out.append(op)
        if entry.stable and op["op"] != "remove":
            covered.add(path)
    out.reverse()
    return out


def _covering(path: str, covered: set[str]) -> str | None:
    if not covered:
        return None
    if path in covered:
        return path
    i = path.rfind("/")
    while i > 0:
        prefix = path[:i]
        if prefix in covered:
            return prefix
        i = path.rfind("/", 0, i)
    return None


def _promote(out: list[dict[str, Any]], path: str) -> None:
    for i in range(len(out) - 1, -1, -1):
        if out[i]["path"] == path:
            if out[i]["op"] == "replace":
                out[i] = {"op": "add", "path": path, "value": out[i]["value"]}
            return

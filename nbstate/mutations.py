"""Admission of changes and the mutation log of one session.

Every change to a state's var — an assignment (:meth:`Mutations.assign`) or a mutation of the
tracked value it holds, reported through the var's :class:`VarRoot` — is first admitted (a
background handler may change state only inside ``async with self``; an instance replaced by a
class redefinition may not change at all), then logged with its JSON Patch op and its undo, and
the computed vars that read the var are marked stale. Changes made outside any handler (a
notebook cell) ask the flush scheduler for a flush.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from . import context
from .changes import ChangeLog, Entry
from .context import StatePort, VarKey
from .errors import BackgroundMutationError, UnknownStateError
from .plain import same_value
from .protocol import encode, pointer
from .recompute import Dependencies
from .tracking import _link_of, attach, detach, retire

__all__ = ["Mutations", "VarRoot", "var_pointer"]

_SCALARS = frozenset({str, int, float, bool, type(None)})


class VarRoot:
    """Where a var's tracked value hangs: reports its changes to the session's log.

    Made when a var takes a tracked value (:meth:`Mutations.root`), and reached from that value's
    link: a var that holds strings, numbers, bools or ``None`` has none.
    """

    __slots__ = ("_key", "_path", "_synced", "mutations", "state", "var")

    def __init__(self, mutations: Mutations, state: StatePort, var: Any) -> None:
        self.mutations = mutations
        self.state = state
        self.var = var
        # read on every change of the value: kept here rather than looked up each time
        self._path: str = state._nb_path
        self._key: VarKey = var.key
        self._synced: tuple[str, ...] | None = var.key if var.synced else None

    @property
    def pointer(self) -> str:
        return var_pointer(self.var.key)

    def where(self) -> tuple[str, ...] | None:
        if context.mode.get() == "background" or (
                self.mutations._states.get(self._path) is not self.state):
            self.mutations.check(self.state, self.var.name)  # raises
        # the key is (state path, var name): the var is declared by the state that holds it
        return self._synced

    def record(self, op: dict[str, Any] | None, undo: Callable[[], None], stable: bool) -> Entry:
        key = self._key
        entry = Entry(op, undo, key, stable)
        mutations = self.mutations
        mutations.log.entries.append(entry)
        if key in mutations._deps.dependents:  # most vars feed no computed var
            mutations._deps.invalidate(key)
        if context.mode.get() is None:
            mutations._free_change()
        return entry


_POINTERS: dict[VarKey, str] = {}


def var_pointer(key: VarKey) -> str:
    """The JSON Pointer of a var in the session document, one string shared by all sessions."""
    found = _POINTERS.get(key)
    if found is None:
        found = _POINTERS[key] = pointer(*key)
    return found


class Mutations:
    """The changes since the last flush, each admitted, logged with its undo, and propagated
    to the computed vars that depend on it.

    Args:
        deps: the session's dependency graph.
        states: the session's current state instances by path (read, never changed, here).
        free_change: called after a change made outside any handler.
    """

    __slots__ = ("_deps", "_free_change", "_states", "log")

    def __init__(self, deps: Dependencies, states: Mapping[str, StatePort],
                 free_change: Callable[[], None]) -> None:
        self.log = ChangeLog()
        self._deps = deps
        self._states = states
        self._free_change = free_change

    def __len__(self) -> int:
        return len(self.log)

    def root(self, state: StatePort, var: Any) -> VarRoot:
        """A root for a tracked value ``var`` of ``state`` is to hold."""
        return VarRoot(self, state, var)

    def check(self, state: StatePort, name: str) -> None:
        """Raise if ``state.<name>`` may not change now.

        Raises:
            BackgroundMutationError: a background handler outside ``async with self``.
            UnknownStateError: ``state`` was replaced when its class was redefined.
        """
        if context.mode.get() == "background":
            raise BackgroundMutationError(
                f"a background handler changed {state._nb_path}.{name} outside 'async with "
                "self'; make the change inside 'async with self:' so it holds the session lock")
        if self._states.get(state._nb_path) is not state:
            # its changes would reach clients but not the session's current instance
            raise UnknownStateError(
                f"cannot change {state._nb_path}.{name}: this {type(state).__qualname__} "
                "instance was replaced when its class was redefined; use the current one, "
                f"session.get_state({type(state).__qualname__})")

    def assign(self, state: StatePort, var: Any, value: Any) -> None:
        """``state.<var> = value``: validate, skip equal values, log a ``replace``.

        Raises:
            VarTypeError: the value does not validate or JSON cannot carry it; nothing changed.
        """
        mode = context.mode.get()
        if mode == "background" or self._states.get(state._nb_path) is not state:
            self.check(state, var.name)
        kind = type(value)
        if kind is not var.exact or (kind is str and not value.isascii()) or (
                kind is float and not math.isfinite(value)):
            value = var.validate(state._nb_path, value)  # also refuses what JSON cannot carry
        values = state._nb_values
        name = var.name
        old = values[name]
        if old is value or _equal(old, value):
            return
        scalar = type(value) in _SCALARS
        new = value if scalar else var.wrap(value, VarRoot(self, state, var))
        key = var.key
        # encoded before the change: a value with no JSON form raises with nothing changed
        op = ({"op": "replace", "path": _POINTERS.get(key) or var_pointer(key),
               "value": new if scalar else encode(new)} if var.synced else None)
        values[name] = new
        root = None if type(old) in _SCALARS else _link_of(old)[0]  # where `old` hangs

        def undo() -> None:
            values[name] = old
            detach(new)
            if root is not None:
                attach(old, root, name)

        entry = Entry(op, undo, key, True)
        self.log.entries.append(entry)
        if root is not None:
            retire(old, root, entry)  # its later changes are undone with this one, not sent
        if key in self._deps.dependents:
            self._deps.invalidate(key)
        if mode is None:
            self._free_change()

    def take(self, upto: int | None = None) -> list[Entry]:
        """Remove and return the entries before position ``upto`` (all when ``None``)."""
        return self.log.take(upto)

    def rollback(self, since: int) -> None:
        """Undo, newest first, every change from log position ``since`` on."""
        undone: list[VarKey] = [entry.var for entry in self.log.entries[since:]]
        self.log.rollback(since)
        for key in undone:
            self._deps.invalidate(key)


def _equal(old: Any, new: Any) -> bool:
    kind = type(old)
    if kind in _SCALARS:
        return kind is type(new) and bool(old == new)
    return same_value(old, new)

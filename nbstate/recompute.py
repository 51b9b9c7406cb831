"""Computed vars of a session: which vars each one read, which are stale, and their new values.

A computed var's dependencies are the vars (and other computed vars) it read the last time it
ran (:data:`nbstate.context.reading`), or its explicit ``deps``. A change to a var marks every
computed var that depends on it, transitively, stale and dirty; a flush recomputes only the
dirty ones (and those with ``cache=False``) and sends only the values that changed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from .context import StatePort, VarKey
from .document import SessionDocument
from .errors import ComputedVarError
from .plain import same_value
from .protocol import pointer
from .travel import NotJSON, check_any

__all__ = ["ComputedVars", "Dependencies"]

Node = tuple[Any, Any]
"""``(state, computed var descriptor)``."""


class Dependencies:
    """A session's dependency graph: which computed vars read which vars.

    ``invalidate(key)`` marks every computed var that (transitively) depends on ``key`` stale
    and remembers it in :attr:`dirty`, so a flush recomputes and diffs only those.
    """

    def __init__(self) -> None:
        self.dependents: dict[VarKey, set[Node]] = {}
        self._reads: dict[tuple[int, str], set[VarKey]] = {}
        self.dirty: dict[tuple[int, str], Node] = {}

    def track(self, state: StatePort, var: Any, reads: Iterable[VarKey]) -> None:
        ident = (id(state), var.name)
        for key in self._reads.pop(ident, ()):
            self.dependents.get(key, set()).discard((state, var))
        keys = set(reads)
        self._reads[ident] = keys
        for key in keys:
            self.dependents.setdefault(key, set()).add((state, var))

    def invalidate(self, key: VarKey) -> None:
        dependents = self.dependents.get(key)
        if not dependents:
            return
        for state, var in list(dependents):
            cached = state._nb_computed.get(var.name)
            ident = (id(state), var.name)
            if ident in self.dirty and (cached is None or cached.stale):
                continue
            if cached is not None:
                cached.stale = True
            self.dirty[ident] = (state, var)
            self.invalidate(var.key)

    def forget(self, state: StatePort) -> None:
        """Drop every edge of a state leaving the session (a redefined class)."""
        for ident in [i for i in self._reads if i[0] == id(state)]:
            for key in self._reads.pop(ident):
                self.dependents[key] = {
                    d for d in self.dependents.get(key, set()) if d[0] is not state}
        self.dirty = {i: d for i, d in self.dirty.items() if d[0] is not state}


class ComputedVars:
    """The computed vars of a session's states and the ops that bring the document up to date."""

    def __init__(self) -> None:
        self.deps = Dependencies()
        self._uncached: list[Node] = []

    def add(self, state: StatePort, explicit: Callable[[Any, str], VarKey]) -> None:
        """Take in a new state's computed vars; ``explicit`` resolves a ``deps=`` name."""
        for var in type(state).__nbstate_computed__.values():  # type: ignore[attr-defined]
            if not var.cache:
                self._uncached.append((state, var))
            if var.explicit_deps is not None:
                self.deps.track(state, var, [explicit(type(state), d)
                                             for d in var.explicit_deps])

    def forget(self, state: StatePort) -> None:
        self.deps.forget(state)
        self._uncached = [(s, v) for s, v in self._uncached if s is not state]

    def ops(self, document: SessionDocument,
            is_current: Callable[[StatePort], bool]) -> list[dict[str, Any]]:
        """``replace`` ops for every dirty or uncached computed var whose value changed.

        Raises:
            ComputedVarError: a computed var raised, or returned what JSON cannot carry (NaN,
                a lone surrogate, an object with no JSON form). The dirty set is kept, so
                every stale var is retried at the next flush.
        """
        if not self.deps.dirty and not self._uncached:
            return []  # the common flush: no computed var read what changed
        todo = list(self.deps.dirty.values())
        todo.extend(self._uncached)
        ops: list[dict[str, Any]] = []
        seen: set[tuple[int, str]] = set()
        for state, var in todo:
            ident = (id(state), var.name)
            if ident in seen or not is_current(state):
                continue
            seen.add(ident)
            doc = document.data.get(state._nb_path)
            if doc is None:
                continue
            value = var.encoded(state)
            if var.name not in doc or not same_value(doc[var.name], value):  # True is not 1
                try:
                    check_any(value)
                except NotJSON as exc:
                    raise ComputedVarError(f"computed var {state._nb_path}.{var.name} returned "
                                           f"what JSON cannot carry: {exc}") from None
                ops.append({"op": "replace", "path": pointer(state._nb_path, var.name),
                            "value": value})
        self.deps.dirty.clear()
        return ops

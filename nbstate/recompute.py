"""Computed vars of a session: which vars each one read, which are stale, and their new values.

A computed var's dependencies are the vars (and other computed vars) it read the last time it
ran (:data:`nbstate.context.reading`), or its explicit ``deps``. A change to a var marks every
computed var that depends on it, transitively, stale and dirty; a flush recomputes only the
dirty ones (and those with ``cache=False``) and sends only what changed: a value that is a list
or dict and changed a little goes out as the ops of the items that changed (a filtered list that
gained one item is one ``add``), within the bounds of :func:`nbstate.jsondiff.diff` (a value
mostly rewritten is one ``replace``).

Outputs (:mod:`nbstate.outputs`) are computed vars too, with two differences here: one that
rendered less than its ``min_interval`` ago stays dirty and :attr:`ComputedVars.later` is asked
for a flush when it is due; and a changed output goes out as one ``replace`` of its whole mime
bundle (a new image is never diffed).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .context import StatePort, VarKey
from .document import SessionDocument
from .errors import ComputedVarError
from .jsondiff import diff, same
from .protocol import pointer
from .travel import NotJSON, check_any

__all__ = ["ComputedVars", "Dependencies", "Graph"]

_MISSING = object()

Node = tuple[Any, Any]
"""``(state, computed var descriptor)``."""


class Graph:
    """Which computed vars read which vars: immutable, and shared by every session whose
    computed vars read the same vars (most sessions of an app), so a session holds one
    reference instead of its own sets.

    A node is a computed var's key ``(state path, name)``; :meth:`reading` gives the graph with
    one node's reads changed, the same object for every session that makes the same change.
    """

    __slots__ = ("__weakref__", "_next", "dependents", "reads")

    def __init__(self, reads: dict[VarKey, frozenset[VarKey]]) -> None:
        self.reads = reads
        dependents: dict[VarKey, dict[VarKey, None]] = {}
        for node, keys in reads.items():
            for key in sorted(keys):
                dependents.setdefault(key, {})[node] = None
        self.dependents: dict[VarKey, tuple[VarKey, ...]] = {
            key: tuple(nodes) for key, nodes in dependents.items()}
        self._next: weakref.WeakValueDictionary[Any, Graph] = weakref.WeakValueDictionary()

    def reading(self, node: VarKey, keys: frozenset[VarKey]) -> Graph:
        """This graph with ``node`` reading exactly ``keys``."""
        if self.reads.get(node, _NONE) == keys:
            return self
        graph = self._next.get((node, keys))
        if graph is None:
            reads = dict(self.reads)
            if keys:
                reads[node] = keys
            else:
                reads.pop(node, None)
            graph = self._next[(node, keys)] = _interned(reads)
        return graph

    def keeping(self, path: str, names: Iterable[str]) -> Graph:
        """This graph without the nodes of the state at ``path`` other than ``names``."""
        kept = set(names)
        reads = {n: k for n, k in self.reads.items() if n[0] != path or n[1] in kept}
        return self if len(reads) == len(self.reads) else _interned(reads)


_NONE: frozenset[VarKey] = frozenset()
_GRAPHS: weakref.WeakValueDictionary[frozenset[Any], Graph] = weakref.WeakValueDictionary()


def _interned(reads: dict[VarKey, frozenset[VarKey]]) -> Graph:
    """The live graph with these reads, if one exists, else a new one."""
    key = frozenset(reads.items())
    graph = _GRAPHS.get(key)
    if graph is None:
        graph = _GRAPHS[key] = Graph(reads)
    return graph


EMPTY = Graph({})


class Dependencies:
    """A session's dependency graph (a shared :class:`Graph`) and the dirty computed vars.

    ``invalidate(key)`` marks every computed var that (transitively) depends on ``key`` stale
    and remembers it in :attr:`dirty`, so a flush recomputes and diffs only those.

    Args:
        states: the session's current state instances by path (read, never changed, here);
            settable, as the session makes it after this.
    """

    __slots__ = ("dependents", "dirty", "graph", "states")

    def __init__(self, states: Mapping[str, StatePort] | None = None) -> None:
        self.states: Mapping[str, StatePort] = {} if states is None else states
        self.graph = EMPTY
        self.dependents = EMPTY.dependents
        """The graph's ``var key → computed vars that read it``."""
        self.dirty: dict[VarKey, Node] = {}

    def track(self, state: StatePort, var: Any, reads: Iterable[VarKey]) -> None:
        graph = self.graph.reading(var.key, frozenset(reads))
        if graph is not self.graph:
            self.graph, self.dependents = graph, graph.dependents

    def invalidate(self, key: VarKey) -> None:
        nodes = self.dependents.get(key)
        if not nodes:
            return
        for node in nodes:
            state = self.states.get(node[0])
            if state is None:
                continue
            var = type(state).__nbstate_computed__.get(node[1])  # type: ignore[attr-defined]
            if var is None:
                continue  # a computed var its class no longer has
            cached = state._nb_computed.get(node[1])
            if node in self.dirty and (cached is None or cached.stale):
                continue
            if cached is not None:
                cached.stale = True
            self.dirty[node] = (state, var)
            self.invalidate(node)

    def adopt(self, state: StatePort) -> None:
        """A new instance at its path: drop edges of computed vars its class does not have."""
        graph = self.graph.keeping(state._nb_path,
                                   type(state).__nbstate_computed__)  # type: ignore[attr-defined]
        self.graph, self.dependents = graph, graph.dependents

    def forget(self, state: StatePort) -> None:
        """A state leaving the session (a redefined class): its pending recomputes go. Its
        edges stay, by path: the instance replacing it reads the same vars or re-tracks."""
        self.dirty = {n: d for n, d in self.dirty.items() if d[0] is not state}


class ComputedVars:
    """The computed vars of a session's states and the ops that bring the document up to date.

    Args:
        states: the session's current state instances by path (see :class:`Dependencies`).
    """

    __slots__ = ("_uncached", "deps", "later")

    def __init__(self, states: Mapping[str, StatePort] | None = None) -> None:
        self.deps = Dependencies(states)
        self._uncached: list[Node] | None = None  # most sessions have none
        self.later: Callable[[float], bool] | None = None
        """Asked for a flush in that many seconds (an output not yet due); ``False`` when none
        can come (no event loop), and the output then renders at once."""

    def add(self, state: StatePort, explicit: Callable[[Any, str], VarKey]) -> None:
        """Take in a new state's computed vars; ``explicit`` resolves a ``deps=`` name."""
        self.deps.adopt(state)
        for var in type(state).__nbstate_computed__.values():  # type: ignore[attr-defined]
            if not var.cache:
                self._uncached = [*(self._uncached or ()), (state, var)]
            if var.explicit_deps is not None:
                self.deps.track(state, var, [explicit(type(state), d)
                                             for d in var.explicit_deps])

    def forget(self, state: StatePort) -> None:
        self.deps.forget(state)
        if self._uncached is not None:
            self._uncached = [(s, v) for s, v in self._uncached if s is not state] or None

    def ops(self, document: SessionDocument) -> list[dict[str, Any]]:
        """``replace`` ops for every dirty or uncached computed var whose value changed.

        Raises:
            ComputedVarError: a computed var raised, or returned what JSON cannot carry (NaN,
                a lone surrogate, an object with no JSON form). The dirty set is kept, so
                every stale var is retried at the next flush.
        """
        if not self.deps.dirty and not self._uncached:
            return []  # the common flush: no computed var read what changed
        todo = list(self.deps.dirty.values())
        todo.extend(self._uncached or ())
        ops: list[dict[str, Any]] = []
        seen: set[tuple[int, str]] = set()
        held: dict[VarKey, Node] = {}
        for state, var in todo:
            ident = (id(state), var.name)
            if ident in seen or not _current(self.deps.states, state):
                continue
            seen.add(ident)
            doc = document.data.get(state._nb_path)
            if doc is None:
                continue
            output = var.is_output
            if output and self._hold(var.wait(state)):
                held[(state._nb_path, var.name)] = (state, var)
                continue
            value = var.encoded(state)
            old = doc.get(var.name, _MISSING)
            if old is _MISSING or not same(old, value):  # True is not 1
                try:
                    check_any(value)
                except NotJSON as exc:
                    raise ComputedVarError(f"computed var {state._nb_path}.{var.name} returned "
                                           f"what JSON cannot carry: {exc}") from None
                path = pointer(state._nb_path, var.name)
                if old is _MISSING:
                    ops.append({"op": "add", "path": path, "value": value})
                elif output:
                    ops.append({"op": "replace", "path": path, "value": value})
                else:
                    ops.extend(diff(old, value, path))
        self.deps.dirty.clear()
        if held:
            self.deps.dirty.update(held)
        return ops

    def _hold(self, wait: float) -> bool:
        """Whether an output due in ``wait`` seconds waits for a later flush."""
        return wait > 0 and self.later is not None and self.later(wait)


def _current(states: Mapping[str, StatePort], state: StatePort) -> bool:
    """Whether ``state`` is still its session's instance at its path (not one a class
    redefinition replaced)."""
    return states.get(state._nb_path) is state

"""The states of one session: exactly one instance of each state class it uses.

Asking for a state class makes its instance together with its ancestors (a substate reads and
writes its parents' vars) and its substates, and adds each to the session document. When a
notebook cell redefines a class, the session's instance moves to the new class at once, keeping
the values that still validate (:mod:`nbstate.migrate`).
"""

from __future__ import annotations

from typing import Any, Protocol

from .context import StatePort
from .errors import UnknownStateError
from .migrate import live_values, report, restore
from .protocol import encode, pointer
from .recompute import ComputedVars
from .state import State, classes, resolve_dep

__all__ = ["InstancesOwner", "StateInstances", "encode_state"]


def encode_state(state: StatePort) -> dict[str, Any]:
    """The session-document entry of ``state``: its base vars and computed vars as JSON."""
    cls = type(state)
    doc = {name: encode(state._nb_values[name])
           for name, var in cls.__nbstate_vars__.items() if var.synced}  # type: ignore[attr-defined]
    for name, cvar in cls.__nbstate_computed__.items():  # type: ignore[attr-defined]
        doc[name] = cvar.encoded(state)
    return doc


class InstancesOwner(Protocol):
    """What the instances ask of their session (one object, not three callables: a session
    holds them for its life, so what each one keeps counts)."""

    def _make(self, cls: type[State]) -> State:
        """A new instance of ``cls`` for this session."""

    def _publish(self, ops: list[dict[str, Any]]) -> Any:
        """Commit ``ops`` to the session document and tell the listeners."""

    def _flush_pending(self) -> None:
        """Flush the log if it holds changes (before a redefinition)."""


class StateInstances:
    """The session-scoped singletons of a session's state classes, by path.

    Args:
        owner: the session (see :class:`InstancesOwner`).
        computed: the session's computed vars (new states are added to it).
    """

    __slots__ = ("__weakref__", "_computed", "_owner", "by_path")

    def __init__(self, owner: InstancesOwner, computed: ComputedVars) -> None:
        self.by_path: dict[str, State] = {}
        self._owner = owner
        self._computed = computed

    def is_current(self, state: StatePort) -> bool:
        return self.by_path.get(state._nb_path) is state

    def get(self, cls: type[State]) -> State:
        """The instance of ``cls`` (its current definition), made on first use."""
        return self._instance(classes.get(cls.__nbstate_path__) or cls)

    def at(self, path: str) -> State:
        """The instance of the state class at ``path``, made on first use.

        Raises:
            UnknownStateError: no state class has that path.
        """
        state = self.by_path.get(path)
        if state is None:
            cls = classes.get(path)
            if cls is None:
                raise UnknownStateError(
                    f"no state class has the path {path!r}; known paths: "
                    f"{', '.join(sorted(classes.paths())) or 'none'}")
            state = self._instance(cls)
        return state

    def redefined(self, cls: type[State]) -> None:
        """A notebook cell redefined a class: move this session's instance to it now."""
        if cls.__nbstate_path__ in self.by_path:
            self._instance(cls)

    def _instance(self, cls: type[State]) -> State:
        path = cls.__nbstate_path__
        state = self.by_path.get(path)
        if state is not None and type(state) is cls:
            return state
        if state is not None:
            # the replaced instance's pending changes go out before its values are carried
            # over, or they would reach the new document twice
            self._owner._flush_pending()
        chain = [c for c in reversed(cls.__mro__) if isinstance(c, type) and issubclass(c, State)
                 and c.__nbstate_path__ and classes.get(c.__nbstate_path__) is c]
        ops: list[dict[str, Any]] = []
        problems: list[str] = []
        for klass in chain:  # ancestors first
            self._make(klass, ops, problems)
        for sub_path, sub in sorted(classes.items()):
            if sub_path.startswith(path + ".") and sub_path not in self.by_path:
                self._make(sub, ops, problems)
        report(problems, f"{cls.__qualname__} was redefined and some values do not fit")
        self._owner._publish(ops)
        return self.by_path[path]

    def _make(self, cls: type[State], ops: list[dict[str, Any]], problems: list[str]) -> None:
        path = cls.__nbstate_path__
        old = self.by_path.get(path)
        if old is not None and type(old) is cls:
            return
        if old is None and "." in path and path.rpartition(".")[0] not in self.by_path:
            parent = classes.get(path.rpartition(".")[0])
            if parent is not None:
                self._make(parent, ops, problems)
        state = self._owner._make(cls)
        self._computed.add(state, resolve_dep)
        if old is not None:
            self._computed.forget(old)
            problems.extend(restore(state, live_values(old)))
        self.by_path[path] = state
        ops.append({"op": "replace" if old is not None else "add", "path": pointer(path),
                    "value": encode_state(state)})

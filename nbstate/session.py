"""The session: one client's world of states, its lock, its flushes and its revisions.

A :class:`Session` holds exactly one instance of each state class it was asked for (with the
ancestors and the substates of that class), the session document at the current revision, and
the mutation log of changes not yet flushed. Events run one at a time under the session lock;
background handlers take the lock only inside ``async with self``.

A **flush** turns the logged changes into one delta ``{"rev": n, "ops": [...]}`` (RFC 6902),
applies it to the session document and hands it to every listener (the transports). Flushes
happen at a handler's return, at each ``yield`` and at each exit of ``async with self``; changes
made outside any handler (notebook cell code) are flushed as soon as the event loop is free.
Flushes closer together than ``flush_interval`` seconds are merged: a ``yield`` that comes too
soon marks a cut in the log and a timer flushes up to that cut, so a tight loop of thousands of
yields sends at most one delta per interval and the final state always goes out.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import math
import time
import warnings
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from . import events
from .changes import ChangeLog, Entry, compact
from .errors import (
    BackgroundMutationError,
    EventReentryError,
    NbStateError,
    ReadOnlyVarError,
    StateMigrationWarning,
    UnknownHandlerError,
    UnknownStateError,
    UnknownVarError,
)
from .events import _mode
from .handlers import EventSpec
from .patch import apply_patch_in_place
from .protocol import Delta, ErrorInfo, copy_json, encode, pointer
from .state import State, _registry, on_redefinition, resolve_dep
from .tracking import attach, detach, retire, same_value, untrack
from .vars import BaseVar, ComputedVar, Dependencies

__all__ = ["Listener", "Session", "VarRoot", "default_session"]

S = TypeVar("S", bound=State)

log = logging.getLogger("nbstate")


class Listener(Protocol):
    """A transport attached to a session (see :meth:`Session.subscribe`).

    A flush is committed (document, revision, history) before listeners hear of it, and a
    listener cannot undo it: if ``on_delta`` raises, the session logs the error and calls
    ``resync`` with the whole document, so that client catches up from the committed state and
    the next delta applies normally. A listener that raises never fails the handler that
    flushed, nor the other listeners.
    """

    def on_delta(self, delta: Delta) -> None:
        """A flush produced ``delta``; deltas arrive in revision order."""

    def on_error(self, error: ErrorInfo) -> None:
        """A background handler failed (other handler errors go to the event's sender)."""

    def resync(self, document: dict[str, dict[str, Any]], revision: int) -> None:
        """Replace the client's copy with ``document`` at ``revision`` (after a failed send)."""


class VarRoot:
    """Where a var's tracked value hangs: reports its changes to the session's log."""

    __slots__ = ("pointer", "state", "var")

    def __init__(self, state: State, var: BaseVar[Any]) -> None:
        self.state = state
        self.var = var
        self.pointer = pointer(state._nb_path, var.name)

    def where(self) -> tuple[str, ...] | None:
        self.state._nb_session._check_mutation(self.state, self.var.name)
        return (self.state._nb_path, self.var.name) if self.var.synced else None

    def record(self, op: dict[str, Any] | None, undo: Callable[[], None], stable: bool) -> Entry:
        entry = Entry(op, undo, self.var.key, stable)
        self.state._nb_session._record(entry)
        return entry


class Session:
    """One client's states (in Jupyter: the kernel's; in the WebSocket adapter: a token's).

    Args:
        flush_interval: seconds; yields closer together than this are merged into one flush.
        history: how many recent deltas are kept for clients that reconnect.
    """

    def __init__(self, *, flush_interval: float = 1 / 60, history: int = 256) -> None:
        self.flush_interval = flush_interval
        self.revision = 0
        """The revision of :meth:`snapshot`; each delta with ops bumps it by one."""
        self.history: collections.deque[Delta] = collections.deque(maxlen=history)
        """The most recent deltas, oldest first."""
        self._states: dict[str, State] = {}
        self._document: dict[str, dict[str, Any]] = {}
        self._deps = Dependencies()
        self._uncached: list[tuple[State, ComputedVar[Any]]] = []
        self._log = ChangeLog()
        self._listeners: list[Listener] = []
        self._background: set[asyncio.Task[None]] = set()
        self._lock: asyncio.Lock | None = None
        self._lock_loop: asyncio.AbstractEventLoop | None = None
        self._cut: int | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._free_flush: asyncio.Handle | None = None
        self._last_flush = 0.0
        on_redefinition(self)

    # ----------------------------------------------------------------- states

    def get_state(self, cls: type[S]) -> S:
        """The session's instance of ``cls``, made (with its ancestors and substates) on first use.

        Raises:
            TypeError: ``cls`` is not a state class.
        """
        if not (isinstance(cls, type) and issubclass(cls, State) and cls.__nbstate_path__):
            raise TypeError(f"get_state expects a subclass of nbstate.State, got {cls!r}")
        current = _registry.get(cls.__nbstate_path__, cls)
        state = self._instance(current)
        return state  # type: ignore[return-value]

    def states(self) -> dict[str, State]:
        """Every instantiated state by path, parents before their substates."""
        return dict(self._states)

    def _state_at(self, path: str) -> State:
        state = self._states.get(path)
        if state is None:
            cls = _registry.get(path)
            if cls is None:
                raise UnknownStateError(
                    f"no state class has the path {path!r}; known paths: "
                    f"{', '.join(sorted(_registry)) or 'none'}")
            state = self._instance(cls)
        return state

    def _instance(self, cls: type[State]) -> State:
        path = cls.__nbstate_path__
        state = self._states.get(path)
        if state is not None and type(state) is cls:
            return state
        if state is not None and len(self._log):
            # a redefinition: the replaced instance's pending changes go out before its
            # values are carried over, or they would reach the new document twice
            self.flush()
        chain = [c for c in reversed(cls.__mro__) if isinstance(c, type) and issubclass(c, State)
                 and c.__nbstate_path__ and _registry.get(c.__nbstate_path__) is c]
        ops: list[dict[str, Any]] = []
        for klass in chain:  # ancestors first
            self._make(klass, ops)
        for sub_path, sub in sorted(_registry.items()):
            if sub_path.startswith(path + ".") and sub_path not in self._states:
                self._make(sub, ops)
        self._publish(ops)
        return self._states[path]

    def document_value(self, path: str, name: str) -> Any:
        """The session document's JSON value of var ``name`` of the state at ``path``.

        The live value, not a copy: do not change it. Raises ``KeyError`` for an unknown var.
        """
        return self._document[path][name]

    def _make(self, cls: type[State], ops: list[dict[str, Any]]) -> None:
        path = cls.__nbstate_path__
        old = self._states.get(path)
        if old is not None and type(old) is cls:
            return
        if old is None and "." in path and path.rpartition(".")[0] not in self._states:
            parent = _registry.get(path.rpartition(".")[0])
            if parent is not None:
                self._make(parent, ops)
        state = cls(self)
        for var in cls.__nbstate_computed__.values():
            if not var.cache:
                self._uncached.append((state, var))
            if var.explicit_deps is not None:
                self._deps.track(state, var, [resolve_dep(cls, d) for d in var.explicit_deps])
        if old is not None:
            self._migrate(old, state)
        self._states[path] = state
        ops.append({"op": "replace" if old is not None else "add", "path": pointer(path),
                    "value": self._encode_state(state)})

    def _redefined(self, cls: type[State]) -> None:
        """A notebook cell redefined a class: move this session's instance to it now."""
        if cls.__nbstate_path__ in self._states:
            self._instance(cls)

    def _migrate(self, old: State, new: State) -> None:
        """Carry over the values of a redefined class's vars that still exist and validate.

        Base vars travel through their JSON form, so a value made of an older version of a
        model class (``Item`` defined again in the same cell) validates against the new one;
        a backend var is tried as it is first (it may hold objects with no JSON form). A value
        that no longer validates is reported once (:class:`StateMigrationWarning`) and the var
        starts from its default.
        """
        self._deps.forget(old)
        self._uncached = [(s, v) for s, v in self._uncached if s is not old]
        for name, var in type(new).__nbstate_vars__.items():
            if name not in old._nb_values:
                continue
            plain = untrack(old._nb_values[name])
            try:
                if var.synced:
                    value = var.validate(new._nb_path, encode(plain))
                else:
                    try:
                        value = var.validate(new._nb_path, plain)
                    except NbStateError:
                        value = var.validate(new._nb_path, encode(plain))
            except Exception as exc:
                warnings.warn(
                    f"{new._nb_path}.{name}: the value from before {type(new).__qualname__} "
                    f"was redefined does not fit the new definition, so the var starts from "
                    f"its default ({exc})", StateMigrationWarning, stacklevel=2)
                continue
            new._nb_values[name] = var.wrap(value, new._nb_roots[name])

    def _encode_state(self, state: State) -> dict[str, Any]:
        cls = type(state)
        doc = {name: encode(state._nb_values[name])
               for name, var in cls.__nbstate_vars__.items() if var.synced}
        for name, cvar in cls.__nbstate_computed__.items():
            doc[name] = cvar.encoded(state)
        return doc

    # ----------------------------------------------------------------- changes

    def _check_mutation(self, state: State, name: str) -> None:
        if _mode.get() == "background":
            raise BackgroundMutationError(
                f"a background handler changed {state._nb_path}.{name} outside 'async with "
                "self'; make the change inside 'async with self:' so it holds the session lock")
        if self._states.get(state._nb_path) is not state:
            # its changes would reach clients but not the session's current instance
            raise UnknownStateError(
                f"cannot change {state._nb_path}.{name}: this {type(state).__qualname__} "
                "instance was replaced when its class was redefined; use the current one, "
                f"session.get_state({type(state).__qualname__})")

    def _assign(self, state: State, var: BaseVar[Any], value: Any) -> None:
        """``state.<var> = value``: validate, skip equal values, log a ``replace``."""
        mode = _mode.get()
        if mode == "background" or self._states.get(state._nb_path) is not state:
            self._check_mutation(state, var.name)
        kind = type(value)
        if kind is not var.exact or (kind is str and not value.isascii()) or (
                kind is float and not math.isfinite(value)):
            value = var.validate(state._nb_path, value)  # also refuses what JSON cannot carry
        values = state._nb_values
        name = var.name
        old = values[name]
        if old is value or _equal(old, value):
            return
        root = state._nb_roots[name]
        scalar = type(value) in _SCALARS
        new = value if scalar else var.wrap(value, root)
        # encoded before the change: a value with no JSON form raises with nothing changed
        op = ({"op": "replace", "path": root.pointer, "value": new if scalar else encode(new)}
              if var.synced else None)
        values[name] = new

        def undo() -> None:
            values[name] = old
            detach(new)
            attach(old, root, name)

        key = var.key
        entry = Entry(op, undo, key, True)
        self._log.entries.append(entry)
        if type(old) not in _SCALARS:
            retire(old, root, entry)  # its later changes are undone with this one, not sent
        if key in self._deps.dependents:
            self._deps.invalidate(key)
        if mode is None:
            self._flush_when_free()

    def _record(self, entry: Entry) -> None:
        self._log.entries.append(entry)
        if entry.var in self._deps.dependents:  # most vars feed no computed var
            self._deps.invalidate(entry.var)
        if _mode.get() is None:
            self._flush_when_free()

    def _flush_when_free(self) -> None:
        """Changes from outside any handler: flush now if due, else once the loop is free."""
        if time.monotonic() - self._last_flush >= self.flush_interval:
            self.flush_if_idle()
            return
        if self._free_flush is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                return  # no loop: the caller flushes (``session.flush()``)
            self._free_flush = loop.call_soon(self._run_free_flush)

    def _run_free_flush(self) -> None:
        self._free_flush = None
        self.flush_if_idle()

    def flush_if_idle(self, *args: object) -> None:
        """Flush unless a handler holds the lock (its own flush will carry the changes)."""
        if _mode.get() is None and not (self._lock is not None and self._lock.locked()):
            self.flush()

    # ----------------------------------------------------------------- flushing

    def flush(self, upto: int | None = None) -> Delta | None:
        """Send the logged changes (the first ``upto`` entries) as one delta.

        Returns the delta, or ``None`` when nothing observable changed.

        Raises:
            ComputedVarError: a computed var that had to be recomputed raised.
        """
        computed_ops = self._computed_ops()
        entries = self._log.take(upto)
        if upto is None or (self._cut is not None and self._cut <= upto):
            self._cut = None
        elif self._cut is not None:
            self._cut -= upto
        self._last_flush = time.monotonic()
        ops = compact(entries)
        ops.extend(computed_ops)
        return self._publish(ops)

    def _publish(self, ops: list[dict[str, Any]]) -> Delta | None:
        if not ops:
            return None
        self._apply_to_document(ops)
        self.revision += 1
        delta: Delta = {"rev": self.revision, "ops": ops}  # type: ignore[typeddict-item]
        self.history.append(delta)
        for listener in list(self._listeners):
            try:
                listener.on_delta(delta)
            except Exception:
                log.exception("nbstate: a transport failed to send revision %d; re-syncing it "
                              "from the session document", self.revision)
                self._resync(listener)
        return delta

    def _resync(self, listener: Listener) -> None:
        try:
            listener.resync(self.snapshot(), self.revision)
        except Exception:
            log.exception("nbstate: re-syncing a transport failed; its clients show old "
                          "values until the next change of each var")

    def _apply_to_document(self, ops: list[dict[str, Any]]) -> None:
        doc = self._document
        for op in ops:
            path = op["path"]
            if op["op"] != "remove" and path.count("/") == 2 and "~" not in path:
                _, state_path, name = path.split("/")  # a whole var: the common case
                value = op["value"]
                doc[state_path][name] = copy_json(value) if isinstance(value, (list, dict)) \
                    else value
            else:
                self._document = doc = apply_patch_in_place(doc, [op])

    def _computed_ops(self) -> list[dict[str, Any]]:
        todo = list(self._deps.dirty.values())
        todo.extend(self._uncached)
        ops: list[dict[str, Any]] = []
        seen: set[tuple[int, str]] = set()
        for state, var in todo:
            ident = (id(state), var.name)
            if ident in seen or self._states.get(state._nb_path) is not state:
                continue
            seen.add(ident)
            doc = self._document.get(state._nb_path)
            if doc is None:
                continue
            value = var.encoded(state)
            if var.name not in doc or not same_value(doc[var.name], value):  # True is not 1
                ops.append({"op": "replace", "path": pointer(state._nb_path, var.name),
                            "value": value})
        # cleared only now: if a computed var raised, every stale one is retried next flush
        self._deps.dirty.clear()
        return ops

    def _yield_point(self) -> None:
        """A handler yielded: flush if the last flush is old enough, else flush soon."""
        if time.monotonic() - self._last_flush >= self.flush_interval:
            self.flush()
            return
        self._cut = len(self._log)
        if self._timer is None:
            loop = asyncio.get_running_loop()
            delay = self.flush_interval - (time.monotonic() - self._last_flush)
            self._timer = loop.call_later(max(delay, 0.0), self._deferred_flush)

    def _deferred_flush(self) -> None:
        self._timer = None
        if self._cut is not None:
            self.flush(self._cut)

    def _rollback(self, since: int | None = None) -> None:
        """Undo the changes since the last flush point (the last flush or a deferred yield),
        or since log position ``since``."""
        if since is None:
            since = self._cut or 0
        undone = self._log.entries[since:]
        self._log.rollback(since)
        for entry in undone:
            self._deps.invalidate(entry.var)

    # ----------------------------------------------------------------- events

    async def dispatch(self, handler: str, payload: dict[str, Any] | None = None) -> None:
        """Run the event handler at ``handler`` (``"todo.add"``) with a JSON payload.

        Runs to completion, then any events it chained, in order. A background handler is
        scheduled and this returns at once (see :meth:`drain`).

        Raises:
            UnknownStateError: no state has that path.
            UnknownHandlerError: the state has no such event handler.
            PayloadError: the payload does not match the handler's parameters (it did not run).
            EventHandlerError: the handler raised; its changes since the last flush are undone.
        """
        if not isinstance(handler, str):
            raise UnknownHandlerError(f"an event names its handler as a string "
                                      f"'<state path>.<handler>' (e.g. 'todo.add'), got "
                                      f"{type(handler).__name__}")
        self._refuse_reentry(f"await session.dispatch({handler!r})")
        queue = [EventSpec(handler, {} if payload is None else payload)]
        while queue:
            spec = queue.pop(0)
            state, method = self._resolve(spec.handler)
            kwargs = method.validate(spec.handler, spec.payload)
            if method.background:
                self._spawn(events.run_background(self, state, method, kwargs, spec.handler))
                continue
            async with self._session_lock():
                chained = await events.run(self, state, method, kwargs, spec.handler)
            queue[:0] = chained

    async def set_var(self, state_path: str, name: str, value: Any) -> None:
        """Set a base var from a client: validated like an assignment, flushed at once.

        Raises:
            UnknownStateError, UnknownVarError: no such state or var.
            ReadOnlyVarError: the var is computed or a backend var.
            VarTypeError: the value does not validate; nothing changed.
        """
        if not isinstance(state_path, str):
            raise UnknownStateError(f"a var set names its state by path (e.g. 'todo'), got "
                                    f"{type(state_path).__name__}")
        if not isinstance(name, str):
            raise UnknownVarError(f"a var set of {state_path} names its var as a string, got "
                                  f"{type(name).__name__}")
        self._refuse_reentry(f"await session.set_var({state_path!r}, {name!r}, ...)")
        state = self._state_at(state_path)
        cls = type(state)
        var = getattr(cls, name, None) if not name.startswith("__") else None
        if isinstance(var, ComputedVar) or (isinstance(var, BaseVar) and not var.synced) or (
                name.startswith("_") and name in cls.__nbstate_names__):
            raise ReadOnlyVarError(f"{state_path}.{name} is not a base var; a client can set "
                                   "base vars only (computed and backend vars are read-only)")
        if not isinstance(var, BaseVar):
            raise UnknownVarError(f"{state_path} has no var {name!r}; its base vars are "
                                  f"{', '.join(_base_var_names(cls)) or 'none'}")
        async with self._session_lock():
            start = len(self._log)
            token = _mode.set("handler")
            try:
                setattr(state, name, value)
            finally:
                _mode.reset(token)
            self._flush_or_rollback(start)

    def _refuse_reentry(self, call: str) -> None:
        # the caller holds this session's lock: waiting for it again would never end
        if _mode.get() in ("handler", "locked"):
            raise EventReentryError(
                f"{call} inside an event handler of the same session would wait forever for "
                "the session lock the handler holds; chain the event instead: 'yield "
                "Todo.save' or 'return Todo.load(42)' runs it right after this handler, or "
                "assign the var directly")

    def _flush_or_rollback(self, since: int | None = None) -> None:
        """Flush; if a computed var raises, undo the changes (see :meth:`_rollback`) and re-raise,
        so the state is never left changed but unsent."""
        try:
            self.flush()
        except Exception:
            self._rollback(since)
            self.flush()
            raise

    def _resolve(self, handler: str) -> tuple[State, Any]:
        path, _, name = handler.rpartition(".")
        if not path:
            raise UnknownHandlerError(f"event {handler!r} must name '<state path>.<handler>', "
                                      "e.g. 'todo.add'")
        state = self._state_at(path)
        method = type(state).__nbstate_handlers__.get(name)
        if method is None:
            known = ", ".join(sorted(type(state).__nbstate_handlers__)) or "none"
            raise UnknownHandlerError(f"{path} has no event handler {name!r}; its handlers are: "
                                      f"{known}")
        return state, method

    def _spawn(self, coro: Any) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def drain(self) -> None:
        """Wait until every background handler (and what they chained) has finished."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)

    def _session_lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        if self._lock is None or self._lock_loop is not loop:
            self._lock, self._lock_loop = asyncio.Lock(), loop
        return self._lock

    def _report(self, error: ErrorInfo) -> None:
        for listener in list(self._listeners):
            try:
                listener.on_error(error)
            except Exception:
                log.exception("nbstate: a transport failed to report an error: %s", error)

    async def _enter_background_block(self, state: State) -> None:
        mode = _mode.get()
        if mode == "locked":
            raise BackgroundMutationError(
                f"nested 'async with self' in a background handler of {state._nb_path}; "
                "the session lock is already held, mutate directly inside the outer block")
        if mode != "background":
            raise BackgroundMutationError(
                "'async with self' is for background handlers (@nbstate.event(background=True)); "
                "other handlers already hold the session lock")
        await self._session_lock().acquire()
        _mode.set("locked")

    def _exit_background_block(self, state: State, failed: bool) -> None:
        try:
            if failed:
                self._rollback()
            self._flush_or_rollback()
        finally:
            _mode.set("background")
            if self._lock is not None:
                self._lock.release()

    # ----------------------------------------------------------------- clients

    def snapshot(self) -> dict[str, dict[str, Any]]:
        """The session document at :attr:`revision`: ``{state path: {var: JSON value}}``.

        Base vars and computed vars of every instantiated state; never backend vars.
        """
        snapshot: dict[str, dict[str, Any]] = copy_json(self._document)
        return snapshot

    def subscribe(self, listener: Listener) -> tuple[dict[str, dict[str, Any]], int]:
        """Attach a transport; returns the snapshot and its revision, atomically."""
        self._listeners.append(listener)
        return self.snapshot(), self.revision

    def unsubscribe(self, listener: Listener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def deltas_since(self, revision: int) -> list[Delta] | None:
        """The deltas after ``revision`` if still held, else ``None`` (send a snapshot)."""
        if revision == self.revision:
            return []
        if not self.history or self.history[0]["rev"] > revision + 1 or revision > self.revision:
            return None
        return [d for d in self.history if d["rev"] > revision]


_SCALARS = frozenset({str, int, float, bool, type(None)})


def _equal(old: Any, new: Any) -> bool:
    kind = type(old)
    if kind in _SCALARS:
        return kind is type(new) and bool(old == new)
    return same_value(old, new)


def _base_var_names(cls: type[State]) -> list[str]:
    return sorted(n for n in cls.__nbstate_names__
                  if isinstance(getattr(cls, n, None), BaseVar) and not n.startswith("_"))


_default: Session | None = None


def default_session() -> Session:
    """The process's session: in a Jupyter kernel, the kernel's (one kernel = one session)."""
    global _default
    if _default is None:
        _default = Session()
    return _default

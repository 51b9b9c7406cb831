"""The session: one client's world of states, put together from one part per concern.

A :class:`Session` holds exactly one instance of each state class it was asked for
(:mod:`nbstate.instances`), the session document at the current revision
(:mod:`nbstate.document`), the mutation log of changes not yet flushed
(:mod:`nbstate.mutations`), the computed vars and what they depend on (:mod:`nbstate.recompute`),
the flush policy (:mod:`nbstate.scheduler`), the lock (:mod:`nbstate.lock`), the event runner
(:mod:`nbstate.dispatch`) and its transports (:mod:`nbstate.listeners`). This module wires
them together and is the public face of all of them.

A **flush** turns the logged changes into one delta ``{"rev": n, "ops": [...]}`` (RFC 6902),
commits it to the session document and hands it to every listener. A session can be stored as
JSON (:meth:`Session.dump`) and loaded back (:meth:`Session.load`) by a state manager.

The **current session** is bound to a context (:func:`bind_session`; each host binds the
session of the visitor it serves), so ``ns.get_state(Todo)`` in one visitor's code never sees
another visitor's states. A host that runs several visitors in one process without a context it
can bind (marimo run: one thread per visitor) adds a finder (:func:`add_session_finder`) that
answers the current visitor's session. Where neither answers, a process in which one kernel is
one visitor (Jupyter, Voila) uses one session made on first use.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from typing import Any, TypeVar

from . import context
from .changes import compact
from .context import StatePort, VarKey
from .dispatch import Dispatcher
from .document import DEFAULT_HISTORY_BYTES, SessionDocument
from .instances import StateInstances
from .listeners import Listener, Listeners
from .lock import SessionLock
from .mutations import Mutations, VarRoot
from .outputs import RenderTimer
from .protocol import Delta, ErrorInfo
from .published import PublishedDocument
from .recompute import ComputedVars
from .scheduler import FlushScheduler
from .state import State, classes

__all__ = ["Listener", "Session", "add_session_finder", "bind_session", "current_session",
           "default_session"]

S = TypeVar("S", bound=State)

class Session(PublishedDocument):
    """One client's states (in Jupyter: the kernel's; in the WebSocket adapter: a token's).

    Args:
        flush_interval: seconds; yields closer together than this are merged into one flush.
        history_bytes: how many bytes of recent deltas (as compact JSON) are kept for clients
            that reconnect, once a transport that replays them attaches (see
            :mod:`nbstate.document`).
    """

    def __init__(self, *, flush_interval: float = 1 / 60,
                 history_bytes: int = DEFAULT_HISTORY_BYTES) -> None:
        self.document = SessionDocument(history_bytes)
        self.listeners = Listeners()
        self.computed = ComputedVars()
        self.lock = SessionLock()
        self.scheduler = FlushScheduler(flush_interval, self)
        self.instances = StateInstances(self, self.computed)
        self.computed.deps.states = self.instances.by_path
        self.mutations = Mutations(self.computed.deps, self.instances.by_path,
                                   self.scheduler.free_change)
        self._dispatcher: Dispatcher | None = None  # made on the first event: most sessions idle
        self.assign: Callable[[Any, Any, Any], None] = self.mutations.assign
        """``state.<var> = value`` (the hot path of every assignment, one call deep)."""
        self.computed.later = RenderTimer(self.scheduler.flush_if_idle)  # held-back outputs
        classes.on_redefinition(self.instances)

    def _make(self, cls: type[State]) -> State:
        return cls(self)

    def _log_size(self) -> int:
        return len(self.mutations)

    def _busy(self) -> bool:
        return self.lock.locked()

    def use_lock(self, lock: SessionLock) -> None:
        """Put in another session lock (a state manager whose sessions several processes share
        brings its own), before the first event.

        Raises:
            RuntimeError: an event already ran with the current lock.
        """
        if self._dispatcher is not None:
            raise RuntimeError("the session lock can only be replaced before the first event")
        self.lock = lock

    @property
    def dispatcher(self) -> Dispatcher:
        """Runs events and client var sets (made on first use)."""
        if self._dispatcher is None:
            self._dispatcher = Dispatcher(self, self.instances.at, self.lock, self._log_size,
                                          self.flush_or_rollback)
        return self._dispatcher

    # ----------------------------------------------------------------- settings and state

    @property
    def flush_interval(self) -> float:
        """Seconds; flush points closer together than this are merged."""
        return self.scheduler.interval

    @flush_interval.setter
    def flush_interval(self, seconds: float) -> None:
        self.scheduler.interval = seconds

    def get_state(self, cls: type[S]) -> S:
        """The session's instance of ``cls``, made (with its ancestors and substates) on first use.

        Raises:
            TypeError: ``cls`` is not a state class.
        """
        if not (isinstance(cls, type) and issubclass(cls, State) and cls.__nbstate_path__):
            raise TypeError(f"get_state expects a subclass of nbstate.State, got {cls!r} "
                            "(a ComponentState's instances come from create())")
        state: S = self.instances.get(cls)  # type: ignore[assignment]
        return state

    def states(self) -> dict[str, State]:
        """Every instantiated state by path, parents before their substates."""
        return dict(self.instances.by_path)

    def state_at(self, path: str) -> State:
        """The instance of the state class at ``path``, made on first use.

        Raises:
            UnknownStateError: no state class has that path.
        """
        return self.instances.at(path)

    def root(self, state: StatePort, var: Any) -> VarRoot:
        return self.mutations.root(state, var)

    def track(self, state: StatePort, var: Any, reads: set[VarKey]) -> None:
        self.computed.deps.track(state, var, reads)

    # ----------------------------------------------------------------- flushing

    def flush(self, upto: int | None = None) -> Delta | None:
        """Send the logged changes (the first ``upto`` entries) as one delta.

        Returns the delta, or ``None`` when nothing observable changed.

        Raises:
            ComputedVarError: a computed var that had to be recomputed raised (or returned what
                JSON cannot carry); nothing was taken from the log.
        """
        computed_ops = self.computed.ops(self.document)
        entries = self.mutations.log.take(upto)
        self.scheduler.flushed(upto)
        ops = compact(entries)
        ops.extend(computed_ops)
        return self._publish(ops)

    def _publish(self, ops: list[dict[str, Any]]) -> Delta | None:
        if not ops:
            return None
        delta = self.document.commit(ops)
        self.listeners.deliver(delta, self._current_document)
        return delta

    def _current_document(self) -> tuple[dict[str, dict[str, Any]], int]:
        return self.snapshot(), self.revision

    def _flush_pending(self) -> None:
        if len(self.mutations):
            self.flush()

    def flush_if_idle(self, *args: object) -> None:
        """Flush unless a handler holds the lock (its own flush will carry the changes)."""
        self.scheduler.flush_if_idle()

    def yield_point(self) -> None:
        """A handler yielded: flush if the last flush is old enough, else flush soon."""
        self.scheduler.yield_point()

    def rollback(self, since: int | None = None) -> None:
        """Undo the changes since the last flush point (the last flush or a deferred yield),
        or since log position ``since``."""
        self.mutations.rollback(self.scheduler.cut or 0 if since is None else since)

    def flush_or_rollback(self, since: int | None = None) -> None:
        """Flush; if a computed var raises, undo the changes (see :meth:`rollback`) and re-raise,
        so the state is never left changed but unsent."""
        try:
            self.flush()
        except Exception:
            self.rollback(since)
            self.flush()
            raise

    # ----------------------------------------------------------------- events

    async def dispatch(self, handler: str, payload: Any = None) -> None:
        """Run the event handler at ``handler`` (``"todo.add"``) with a JSON payload object.

        Runs to completion, then any events it chained, in order. A background handler is
        scheduled and this returns at once (see :meth:`drain`).

        Raises:
            UnknownStateError: no state has that path.
            UnknownHandlerError: the state has no such event handler (or ``handler`` is no
                string).
            PayloadError: the payload does not match the handler's parameters (it did not run).
            EventHandlerError: the handler raised; its changes since the last flush are undone.
            EventReentryError: called from a handler of this session (chain the event instead).
            KeyboardInterrupt, SystemExit, asyncio.CancelledError: the handler was interrupted,
                cancelled or timed out; its changes since the last flush are undone.
        """
        await self.dispatcher.dispatch(handler, payload)

    async def set_var(self, state_path: str, name: str, value: Any) -> None:
        """Set a base var from a client: validated like an assignment, flushed at once.

        Raises:
            UnknownStateError, UnknownVarError: no such state or var.
            ReadOnlyVarError: the var is computed, a backend var or declared
                ``ns.var(read_only=True)``.
            VarTypeError: the value does not validate; nothing changed.
            EventReentryError: called from a handler of this session.
        """
        await self.dispatcher.set_var(state_path, name, value)

    async def drain(self) -> None:
        """Wait until every background handler (and what they chained) has finished."""
        await self.dispatcher.drain()

    async def enter_block(self, state: StatePort) -> None:
        await self.lock.enter_block(state)

    def exit_block(self, state: StatePort, failed: bool) -> None:
        def settle() -> None:
            if failed:
                self.rollback()
            self.flush_or_rollback()

        self.lock.exit_block(settle)

    def report(self, error: ErrorInfo) -> None:
        """Tell every listener of a background handler's error."""
        self.listeners.report(error)

_bound: contextvars.ContextVar[Session | None] = contextvars.ContextVar(
    "nbstate_session", default=None)
_process_session: list[Session] = []


def bind_session(session: Session) -> contextvars.Token[Session | None]:
    """Make ``session`` the current session of this context (and of tasks started from it).

    Hosts call this for each visitor; ``_bound.reset(token)`` is not needed when the context
    ends with the visitor.
    """
    return _bound.set(session)


# How hosts find the current visitor's session; they hold no session themselves.
_finders: list[Callable[[], Session | None]] = []


def add_session_finder(finder: Callable[[], Session | None]) -> None:
    """Ask ``finder`` for the current session where no context is bound; it answers the running
    visitor's session or ``None`` (not its host's context). Adding the same finder twice adds it
    once."""
    if finder not in _finders:
        _finders.append(finder)


def current_session() -> Session:
    """The session bound to this context, else the one a host's finder answers for the running
    visitor (marimo), else the process's one session (a Jupyter or Voila kernel, where one kernel
    is one visitor)."""
    session: Session | None = context.evaluating.get() or _bound.get()
    if session is not None:
        return session
    for finder in _finders:
        session = finder()
        if session is not None:
            return session
    if not _process_session:
        _process_session.append(Session())
    return _process_session[0]


default_session = current_session
"""The session of this context (see :func:`current_session`)."""

context.set_session_finder(current_session)

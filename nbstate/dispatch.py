"""Dispatch: running events and client var sets against a session, one at a time.

An event names its handler by path (``"todo.add"``) and carries a JSON payload object; it is
validated against the handler's parameters before the handler runs, then run under the session
lock (a background handler is a task of its own), then whatever it chained runs, in order. A
client var set (``set_var``) is validated like an assignment and flushed at once; a var
declared ``ns.var(read_only=True)`` is refused, as computed and backend vars are.

Awaiting ``dispatch`` or ``set_var`` of its own session from inside a handler would wait forever
for the lock the handler holds: it raises :class:`~nbstate.EventReentryError` instead, naming
the fix (chain the event).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from . import context, events
from .errors import (
    EventReentryError,
    ReadOnlyVarError,
    UnknownHandlerError,
    UnknownStateError,
    UnknownVarError,
)
from .events import Runner
from .handlers import EventHandler, EventSpec
from .lock import SessionLock
from .state import State
from .vars import BaseVar, ComputedVar

__all__ = ["Dispatcher"]


class Dispatcher:
    """Runs a session's events and client var sets.

    Args:
        runner: the session (flushes, rollbacks, reports).
        state_at: the session's state at a path, made on first use.
        lock: the session lock.
        log_size: how many changes the mutation log holds now.
        flush_or_rollback: flush; on failure undo the changes since a log position and re-raise.
    """

    __slots__ = ("_background", "_flush_or_rollback", "_lock", "_log_size", "_runner",
                 "_state_at")

    def __init__(self, runner: Runner, state_at: Callable[[str], State], lock: SessionLock,
                 log_size: Callable[[], int],
                 flush_or_rollback: Callable[[int], None]) -> None:
        self._runner = runner
        self._state_at = state_at
        self._lock = lock
        self._log_size = log_size
        self._flush_or_rollback = flush_or_rollback
        self._background: set[asyncio.Task[None]] = set()

    async def dispatch(self, handler: str, payload: Any = None) -> None:
        """See :meth:`nbstate.Session.dispatch`."""
        if not isinstance(handler, str):
            raise UnknownHandlerError(f"an event names its handler as a string "
                                      f"'<state path>.<handler>' (e.g. 'todo.add'), got "
                                      f"{type(handler).__name__}")
        _refuse_reentry(f"await session.dispatch({handler!r})")
        queue = [EventSpec(handler, {} if payload is None else payload)]
        while queue:
            spec = queue.pop(0)
            state, method = self.resolve(spec.handler)
            kwargs = method.validate(spec.handler, spec.payload)
            if method.background:
                self._spawn(events.run_background(self._runner, state, method, kwargs,
                                                  spec.handler))
                continue
            async with self._lock.get():
                chained = await events.run(self._runner, state, method, kwargs, spec.handler)
            queue[:0] = chained

    async def set_var(self, state_path: str, name: str, value: Any) -> None:
        """See :meth:`nbstate.Session.set_var`."""
        if not isinstance(state_path, str):
            raise UnknownStateError(f"a var set names its state by path (e.g. 'todo'), got "
                                    f"{type(state_path).__name__}")
        if not isinstance(name, str):
            raise UnknownVarError(f"a var set of {state_path} names its var as a string, got "
                                  f"{type(name).__name__}")
        _refuse_reentry(f"await session.set_var({state_path!r}, {name!r}, ...)")
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
        if var.options.read_only:
            raise ReadOnlyVarError(f"{state_path}.{name} is read-only for clients "
                                   "(ns.var(read_only=True)); its event handlers change it")
        async with self._lock.get():
            start = self._log_size()
            token = context.mode.set("handler")
            try:
                setattr(state, name, value)
            finally:
                context.mode.reset(token)
            self._flush_or_rollback(start)

    def resolve(self, handler: str) -> tuple[State, EventHandler]:
        """The state and handler descriptor an event path names.

        Raises:
            UnknownStateError, UnknownHandlerError: no such state or handler.
        """
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

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def drain(self) -> None:
        """Wait until every background handler (and what they chained) has finished."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)


def _refuse_reentry(call: str) -> None:
    # the caller holds this session's lock: waiting for it again would never end
    if context.mode.get() in ("handler", "locked"):
        raise EventReentryError(
            f"{call} inside an event handler of the same session would wait forever for the "
            "session lock the handler holds; chain the event instead: 'yield Todo.save' or "
            "'return Todo.load(42)' runs it right after this handler, or assign the var "
            "directly")


def _base_var_names(cls: type[State]) -> list[str]:
    return sorted(n for n in cls.__nbstate_names__
                  if isinstance(getattr(cls, n, None), BaseVar) and not n.startswith("_"))

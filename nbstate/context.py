"""What the lower layers know of the running code and of a session, without importing it.

Two context variables, so concurrent tasks and threads (one kernel context per visitor in
marimo) never see each other's:

- :data:`mode`: who is running — ``None`` (free code such as a notebook cell), ``"handler"``
  (an event handler holding the session lock), ``"background"`` (a background handler outside
  its lock) or ``"locked"`` (inside ``async with self``).
- :data:`reading`: the read set of the computed var being evaluated, or ``None``; var reads add
  their key to it, which is how computed vars find their dependencies.
- :data:`evaluating`: the session whose output is rendering now, or ``None``: free code in an
  output (``ns.get_state(Sales)``) reads that session (:func:`current_session`).
- :data:`transaction`: the :class:`Transaction` of the event handler running now, or ``None``:
  work outside the state (a database session, :mod:`nbstate.db`) joins it to commit at the
  handler's flush points and roll back with its state changes. The core drives it
  (:mod:`nbstate.events`) without knowing what joined.

And the two small protocols through which states, vars and tracked values reach their session
(:class:`SessionPort`) and each other (:class:`StatePort`): the session implements them, so the
modules below it never import it (no import circle in the core).
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from typing import Any, Protocol

__all__ = ["Participant", "SessionPort", "StatePort", "Transaction", "VarKey", "current_session",
           "evaluating", "mode", "reading", "set_session_finder", "transaction"]

VarKey = tuple[str, str]
"""``(state path, var name)``: a var's identity within a session."""

mode: contextvars.ContextVar[str | None] = contextvars.ContextVar("nbstate_mode", default=None)
reading: contextvars.ContextVar[set[VarKey] | None] = contextvars.ContextVar(
    "nbstate_reading", default=None)
evaluating: contextvars.ContextVar[Any] = contextvars.ContextVar("nbstate_evaluating",
                                                                default=None)

_finder: list[Callable[[], Any]] = []


def set_session_finder(finder: Callable[[], Any]) -> None:
    """Installed by :mod:`nbstate.session`: what :func:`current_session` answers."""
    _finder[:] = [finder]


def current_session() -> Any:
    """The current session (:func:`nbstate.session.current_session`), for modules below it."""
    return _finder[0]()


class Participant(Protocol):
    """Work outside the state that commits and rolls back with an event handler's changes."""

    async def commit(self) -> None:
        """The handler reached a flush point (a ``yield``, its return): make the work so far
        durable. A participant that is finished leaves the transaction (:meth:`Transaction.leave`).

        An exception fails the handler: its state changes since the last flush point are undone
        and every participant still in the transaction is rolled back.
        """

    async def rollback(self) -> None:
        """The handler raised, was cancelled or interrupted: undo the work since the last commit
        and leave the transaction."""


class Transaction:
    """The participants of one running event handler (in the order they joined).

    :mod:`nbstate.events` makes one per handler run and, at each flush point, awaits
    ``commit()`` of every participant *before* the state's changes are flushed (a failed commit
    then fails the handler with nothing of it sent); when the handler fails, it awaits
    ``rollback()`` of each, newest first, after undoing the state's changes. Once the handler
    has ended, the transaction is closed and :meth:`join` refuses: work begun later (in a task
    the handler left running) must commit on its own.
    """

    __slots__ = ("closed", "participants")

    def __init__(self) -> None:
        self.participants: list[Participant] = []
        self.closed = False

    def join(self, participant: Participant) -> bool:
        """Commit and roll back ``participant`` with the handler; ``False`` once it has ended."""
        if self.closed:
            return False
        self.participants.append(participant)
        return True

    def leave(self, participant: Participant) -> None:
        """``participant`` is finished (committed for the last time, or rolled back)."""
        if participant in self.participants:
            self.participants.remove(participant)


transaction: contextvars.ContextVar[Transaction | None] = contextvars.ContextVar(
    "nbstate_transaction", default=None)


class StatePort(Protocol):
    """What vars and sessions use of a state instance."""

    _nb_path: str
    _nb_values: dict[str, Any]
    _nb_computed: dict[str, Any]

    @property
    def _nb_session(self) -> SessionPort: ...

    def _nb_owner(self, path: str) -> StatePort:
        """The session's instance that holds vars declared at ``path`` (an ancestor)."""


class SessionPort(Protocol):
    """What states, vars and tracked values use of their session."""

    def assign(self, state: Any, var: Any, value: Any) -> None:
        """``state.<var> = value``: validate, skip an equal value, log the change."""

    def state_at(self, path: str) -> Any:
        """The session's instance of the state at ``path`` (made on first use)."""

    def get_state(self, cls: Any) -> Any:
        """The session's instance of state class ``cls``."""

    def root(self, state: Any, var: Any) -> Any:
        """Where the tracked value of ``var`` of ``state`` hangs (reports to the log)."""

    def track(self, state: Any, var: Any, reads: set[VarKey]) -> None:
        """Computed var ``var`` of ``state`` read ``reads`` when it last ran."""

    async def enter_block(self, state: Any) -> None:
        """``async with state`` in a background handler: take the session lock."""

    def exit_block(self, state: Any, failed: bool) -> None:
        """Leave ``async with state``: undo on failure, flush, release the lock."""

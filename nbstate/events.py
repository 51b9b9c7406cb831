"""Running event handlers: the four handler kinds, flush points, chaining and rollback.

A handler may be a plain function, a coroutine function, a generator or an async generator.
Each ``yield`` is a flush point; the return flushes the rest. A yielded or returned handler
reference (``Todo.save``), event spec (``Other.load(42)``) or list of them is chained: it runs
after this handler, in order, in the same session.

If the handler raises, the changes since its last flush point are undone from the mutation log,
what was flushed stays flushed, and the error names the handler.

Work outside the state commits and rolls back with the handler through the handler's
:class:`~nbstate.context.Transaction` (its participants, such as the database sessions of
:mod:`nbstate.db`): at each flush point every participant commits *before* the state's changes
are flushed, so a commit that fails fails the handler with nothing of that step sent; when the
handler raises, is cancelled or interrupted, the state's changes are undone and flushed first,
then each participant rolls back (newest first). Background handlers have no transaction: their
work commits where it ends (for a database session, the exit of its ``async with`` block).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Iterable
from typing import Any, Protocol

from .context import StatePort, Transaction, mode, transaction
from .errors import EventHandlerError, NbStateError, PayloadError
from .handlers import EventHandler, EventSpec, HandlerRef
from .protocol import ErrorInfo

__all__ = ["Runner", "error_info", "run", "run_background"]

log = logging.getLogger("nbstate")


class Runner(Protocol):
    """What running a handler needs of its session."""

    def flush(self, upto: int | None = None) -> Any:
        """Send the logged changes as one delta."""

    def rollback(self, since: int | None = None) -> None:
        """Undo the changes since the last flush point."""

    def yield_point(self) -> None:
        """A handler yielded: flush now or soon."""

    def report(self, error: ErrorInfo) -> None:
        """Tell the listeners of a background handler's error."""

    async def dispatch(self, handler: str, payload: Any = None) -> None:
        """Run a chained event."""


async def run(session: Runner, state: StatePort, handler: EventHandler, kwargs: dict[str, Any],
              path: str) -> list[EventSpec]:
    """Run one handler under the session lock; return the events it chained.

    Raises:
        EventHandlerError: the handler (or a computed var it invalidated) raised.
    """
    chained: list[EventSpec] = []
    token = mode.set("handler")
    tx = Transaction()
    tx_token = transaction.set(tx)
    try:
        await _drive(session, handler.fn(state, **kwargs), chained, tx)
        if tx.participants:
            await _commit(tx)
        session.flush()
    except Exception as exc:
        session.rollback()
        session.flush()
        await _rollback(tx, path)
        raise EventHandlerError(path, exc) from exc
    except BaseException:
        # interrupted (KeyboardInterrupt, SystemExit), cancelled or timed out: undone like a
        # failure, then the exception goes on as Python expects
        session.rollback()
        session.flush()
        await _rollback(tx, path)
        raise
    finally:
        tx.closed = True
        transaction.reset(tx_token)
        mode.reset(token)
    return chained


async def _commit(tx: Transaction) -> None:
    for participant in list(tx.participants):
        await participant.commit()


async def _rollback(tx: Transaction, path: str) -> None:
    # the handler's own error is the one to raise; a participant that cannot roll back (a
    # dropped connection, whose server ends the transaction itself) is logged
    for participant in reversed(list(tx.participants)):
        try:
            await participant.rollback()
        except Exception:
            log.exception("nbstate: rolling back %r after event handler %r failed", participant,
                          path)
        tx.leave(participant)


async def run_background(session: Runner, state: StatePort, handler: EventHandler,
                         kwargs: dict[str, Any], path: str) -> None:
    """Run a background handler (a task of its own) and then what it chained.

    Its errors cannot reach a waiting sender, so they go to every listener of the session.
    """
    mode.set("background")
    chained: list[EventSpec] = []
    try:
        await _drive(session, handler.fn(state, **kwargs), chained, None)
    except Exception as exc:
        session.report(error_info(path, exc))
        return
    except BaseException as exc:
        session.report(error_info(path, exc))
        raise
    mode.set(None)
    for spec in chained:
        try:
            await session.dispatch(spec.handler, spec.payload)
        except NbStateError as exc:
            session.report(error_info(spec.handler, exc))


async def _drive(session: Runner, result: Any, chained: list[EventSpec],
                 tx: Transaction | None) -> None:
    """Run a handler's result to its end; ``tx`` (``None`` for a background handler, whose
    yields are not flush points) commits at each yield, before the flush."""
    # A flush or a bad item can fail between two steps: the generator is then closed here, so
    # its ``finally`` blocks run inside the handler (and are rolled back with it), not at GC.
    if inspect.isasyncgen(result):
        try:
            async for item in result:
                if item is not None:
                    _chain(item, chained)
                if tx is not None:
                    if tx.participants:
                        await _commit(tx)
                    session.yield_point()
        finally:
            await result.aclose()
    elif inspect.isgenerator(result):
        try:
            for item in result:
                if item is not None:
                    _chain(item, chained)
                if tx is not None:
                    if tx.participants:
                        await _commit(tx)
                    session.yield_point()
        finally:
            result.close()
    else:
        if inspect.isawaitable(result):
            result = await result
        _chain(result, chained)


def _chain(item: Any, chained: list[EventSpec]) -> None:
    if item is None:
        return
    if isinstance(item, EventSpec):
        chained.append(item)
    elif isinstance(item, HandlerRef):
        chained.append(item.spec())
    elif isinstance(item, Iterable) and not isinstance(item, (str, bytes, dict)):
        for sub in item:
            _chain(sub, chained)
    else:
        raise PayloadError(f"a handler may yield or return only None, an event handler "
                           f"(State.handler) or an event (State.handler(args)); got {item!r}")


MAX_MESSAGE = 500
"""Characters of an error message a client receives; the rest is cut (the full text stays on
the exception for the notebook author)."""


def error_info(handler: str, exc: BaseException) -> ErrorInfo:
    """The ``{"handler", "type", "message"}`` a client receives for a failed event.

    Every string is made sendable: lone surrogates (which have no UTF-8 form) are written as
    ``\\udXXX`` escapes and the handler name and message are cut to a readable length, so an
    error about bad input can always be sent and never echoes a megabyte back.
    """
    if isinstance(exc, EventHandlerError):
        handler, kind, message = exc.handler, exc.error_type, exc.error_message
    else:
        kind, message = type(exc).__name__, str(exc)
    if not message and not isinstance(exc, Exception):
        message = f"the event was stopped by {kind}"
    return {"handler": sendable(handler, 200), "type": sendable(kind, 100),
            "message": sendable(message, MAX_MESSAGE)}


def sendable(text: str, limit: int) -> str:
    """``text`` with lone surrogates escaped, cut to ``limit`` characters (``…`` marks a cut)."""
    if not text.isascii():
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text if len(text) <= limit else text[: limit - 1] + "…"

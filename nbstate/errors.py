"""The nbstate error hierarchy.

Every error nbstate raises is an :class:`NbStateError`. Each subclass also inherits the
built-in exception that fits it, so ``except TypeError`` keeps working for code that does not
know nbstate. Messages name the state path, the var or handler, what was expected, and the fix.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
    "BackgroundMutationError",
    "ComputedVarError",
    "DuplicateStateError",
    "EventHandlerError",
    "EventReentryError",
    "NbStateError",
    "PayloadError",
    "ProtocolError",
    "ReadOnlyVarError",
    "StateMigrationWarning",
    "UnknownHandlerError",
    "UnknownStateError",
    "UnknownVarError",
    "VarTypeError",
]


class NbStateError(Exception):
    """Base class of every error raised by nbstate."""


class _Detailed(NbStateError):
    """An error whose message is short enough for a visitor, with the whole story kept in
    ``detail`` for the notebook's author."""

    def __init__(self, message: str = "", *, detail: Iterable[Mapping[str, Any]] = ()) -> None:
        super().__init__(message)
        self.detail: list[Mapping[str, Any]] = list(detail)
        """Every problem found, as pydantic's ``ValidationError.errors()`` lists them (``type``,
        ``loc``, ``msg``, ``input``, ``ctx``); a value JSON cannot carry has ``type`` ``not_json``.
        When pydantic raised, its ``ValidationError`` is also the ``__cause__``."""


class VarTypeError(_Detailed, TypeError):
    """A value assigned to a var, or put into a container or model inside one (from Python or a
    client), failed validation, or is something JSON cannot carry to a browser (a string with a
    lone surrogate, NaN or ±Infinity, an object with no JSON form). Nothing changed.

    The message is short and plain (``todo.step must be ≥ 1, got 0``); ``detail`` has the rest.
    """


class UnknownVarError(NbStateError, AttributeError):
    """A client or caller named a var that the state class does not have."""


class ReadOnlyVarError(NbStateError, AttributeError):
    """An assignment to a computed var, or a client set of a computed or backend var."""


class ComputedVarError(NbStateError, RuntimeError):
    """A computed var raised while computing its value."""


class UnknownStateError(NbStateError, KeyError):
    """No state class is registered under the requested path."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class UnknownHandlerError(NbStateError, KeyError):
    """An event named a handler that does not exist or is not an event handler."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class PayloadError(_Detailed, TypeError):
    """An event payload does not match the handler's parameters, or holds something JSON cannot
    carry; the handler did not run. ``detail`` as for :class:`VarTypeError`."""


class EventHandlerError(NbStateError, RuntimeError):
    """An event handler raised; its changes since the last flush were rolled back.

    ``handler`` is the handler path (``todo.add``), ``error_type`` the exception class name and
    ``__cause__`` the original exception.
    """

    def __init__(self, handler: str, error: BaseException) -> None:
        self.handler = handler
        self.error_type = type(error).__name__
        self.error_message = str(error)
        super().__init__(
            f"event handler {handler!r} raised {self.error_type}: {self.error_message}; "
            "its changes since the last flush were rolled back"
        )


class BackgroundMutationError(NbStateError, RuntimeError):
    """A background handler mutated state outside ``async with self``, or nested the block."""


class DuplicateStateError(NbStateError, ValueError):
    """Two different state classes claim the same state path."""


class ProtocolError(NbStateError, ValueError):
    """A transport message is malformed or speaks another protocol version."""


class EventReentryError(NbStateError, RuntimeError):
    """A handler awaited an event or var set of its own session, which would wait forever for
    the lock the handler holds; chain the event instead (``yield``/``return`` the handler)."""


class StateMigrationWarning(UserWarning):
    """A var's value could not be carried over to a redefined or reloaded state class; the var
    starts from its default. Issued once per var."""

"""The nbstate error hierarchy.

Every error nbstate raises is an :class:`NbStateError`. Each subclass also inherits the
built-in exception that fits it, so ``except TypeError`` keeps working for code that does not
know nbstate. Messages name the state path, the var or handler, what was expected, and the fix.
"""

from __future__ import annotations

__all__ = [
    "BackgroundMutationError",
    "ComputedVarError",
    "DuplicateStateError",
    "EventHandlerError",
    "NbStateError",
    "PayloadError",
    "ProtocolError",
    "ReadOnlyVarError",
    "UnknownHandlerError",
    "UnknownStateError",
    "UnknownVarError",
    "VarTypeError",
]


class NbStateError(Exception):
    """Base class of every error raised by nbstate."""


class VarTypeError(NbStateError, TypeError):
    """A value assigned to a base var (from Python or a client) failed validation."""


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


class PayloadError(NbStateError, TypeError):
    """An event payload does not match the handler's parameters; the handler did not run."""


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

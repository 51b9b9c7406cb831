"""nbstate: Reflex-style state graphs for Jupyter.

Write ``class Todo(nbstate.State)`` with typed vars, computed vars and event handlers; the
state lives in the kernel, renders through anywidget, and every change reaches the browser as
an RFC 6902 JSON Patch delta over the Jupyter comm.
"""

from __future__ import annotations

from typing import Any

from .errors import (
    BackgroundMutationError,
    ComputedVarError,
    DuplicateStateError,
    EventHandlerError,
    NbStateError,
    PayloadError,
    ProtocolError,
    ReadOnlyVarError,
    UnknownHandlerError,
    UnknownStateError,
    UnknownVarError,
    VarTypeError,
)
from .handlers import EventSpec, event
from .session import Session
from .state import State
from .vars import computed

__all__ = [
    "BackgroundMutationError",
    "ComputedVarError",
    "DuplicateStateError",
    "EventHandlerError",
    "EventSpec",
    "NbStateError",
    "PayloadError",
    "ProtocolError",
    "ReadOnlyVarError",
    "Session",
    "State",
    "UnknownHandlerError",
    "UnknownStateError",
    "UnknownVarError",
    "VarTypeError",
    "__version__",
    "computed",
    "event",
]

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    raise AttributeError(f"module 'nbstate' has no attribute {name!r}")

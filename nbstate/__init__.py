"""nbstate: Reflex-style state graphs for Jupyter.

Write ``class Todo(nbstate.State)`` with typed vars, computed vars and event handlers; the
state lives in the kernel, renders through anywidget, and every change reaches the browser as
an RFC 6902 JSON Patch delta over the Jupyter comm.

``nbstate.db`` (SQLAlchemy; the ``db`` extra) loads on first use of ``ns.db``, so ``import
nbstate`` imports no database library.
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING, Any, TypeVar

from .errors import (
    BackgroundMutationError,
    ComputedVarError,
    DuplicateStateError,
    EventHandlerError,
    EventReentryError,
    NbStateError,
    PayloadError,
    ProtocolError,
    ReadOnlyVarError,
    StateMigrationWarning,
    UnknownHandlerError,
    UnknownStateError,
    UnknownVarError,
    VarTypeError,
)
from .handlers import EventSpec, event
from .session import Session, default_session
from .state import State
from .vars import computed, var

__all__ = [
    "BackgroundMutationError",
    "ComputedVarError",
    "DuplicateStateError",
    "EventHandlerError",
    "EventReentryError",
    "EventSpec",
    "NbStateError",
    "PayloadError",
    "ProtocolError",
    "ReadOnlyVarError",
    "Session",
    "State",
    "StateMigrationWarning",
    "UnknownHandlerError",
    "UnknownStateError",
    "UnknownVarError",
    "VarTypeError",
    "__version__",
    "computed",
    "default_session",
    "event",
    "get_state",
    "show",
    "var",
]

__version__ = "0.1.0"

_S = TypeVar("_S", bound=State)

if TYPE_CHECKING:
    from . import db as db


def __getattr__(name: str) -> Any:
    if name == "db":  # SQLAlchemy is imported when the database is first used, not before
        return importlib.import_module(".db", __name__)
    raise AttributeError(f"module 'nbstate' has no attribute {name!r}")


def get_state(cls: type[_S]) -> _S:
    """The instance of ``cls`` in this process's session (in Jupyter: the kernel's session)."""
    return default_session().get_state(cls)


def show(target: type[State] | State) -> None:
    """Display the live view of a state in Jupyter (see :func:`nbstate.jupyter.display.show`)."""
    from .jupyter.display import show as show_in_jupyter

    show_in_jupyter(target)


def _in_kernel() -> bool:
    shell = sys.modules.get("IPython")
    get = getattr(shell, "get_ipython", None)
    return get is not None and type(get()).__name__ == "ZMQInteractiveShell"


if _in_kernel():  # a state as a cell's result shows its live view
    from .jupyter.display import install as _install

    _install()

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

from .components import ComponentState
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
from .outputs import output
from .outputs import set_renderer as _set_renderer
from .session import Session, default_session
from .session import add_session_finder as _add_session_finder
from .state import State
from .state import set_display_hook as _set_display_hook
from .vars import computed, var

__all__ = [
    "BackgroundMutationError",
    "ComponentState",
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
    "output",
    "show",
    "var",
]

__version__ = "0.1.0"

_S = TypeVar("_S", bound=State)

if TYPE_CHECKING:
    from . import db as db
    from .jupyter.display import Shown
    from .jupyter.widget import StateWidget


def __getattr__(name: str) -> Any:
    if name == "db":  # SQLAlchemy is imported when the database is first used, not before
        return importlib.import_module(".db", __name__)
    raise AttributeError(f"module 'nbstate' has no attribute {name!r}")


def get_state(cls: type[_S]) -> _S:
    """The instance of ``cls`` in the current session: this visitor's (a Jupyter or Voila
    kernel's, a marimo visitor's kernel context's; see :func:`nbstate.session.current_session`).
    """
    return default_session().get_state(cls)


def show(*targets: type[State] | State | Any, display: bool = True) -> StateWidget | Shown:
    """Display the live view of each target — a state class, a state (a component's instance),
    a free output — and return its widget, the anywidget model (for an ``ipywidgets.VBox``,
    ``mo.ui.anywidget(...)``, ``ipywidgets.link``), or a tuple of them for several targets;
    ``display=False`` only returns it. See :func:`nbstate.jupyter.display.show`."""
    from .jupyter.display import show as show_in_jupyter

    return show_in_jupyter(*targets, display=display)


def _in_kernel() -> bool:
    shell = sys.modules.get("IPython")
    get = getattr(shell, "get_ipython", None)
    return get is not None and type(get()).__name__ == "ZMQInteractiveShell"


def _live_view(state: State) -> dict[str, Any] | None:
    """A state as a cell's result: its live view in a widget host (a Jupyter kernel, marimo),
    nothing elsewhere (a terminal shows its repr)."""
    if not (_in_kernel() or ("marimo" in sys.modules and _marimo().in_marimo())):
        return None
    from .jupyter.display import mimebundle

    return mimebundle(state)


def _marimo() -> Any:
    from .jupyter import marimo

    return marimo


def _render(value: Any) -> dict[str, Any]:
    """An output's result as a mime bundle, through IPython's display formatter (loaded when
    the first output renders)."""
    from .jupyter.render import render_output

    return render_output(value)


_set_display_hook(_live_view)
_set_renderer(_render)
if "marimo" in sys.modules:  # a marimo kernel: one session per visitor's kernel context
    _add_session_finder(_marimo().marimo_session)

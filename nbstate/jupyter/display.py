"""Showing states in a notebook: the kernel's session, ``show()`` and the display hook.

In a Jupyter kernel one kernel is one session (one per page visit in Voila): the process's
:func:`~nbstate.session.default_session`. Its :class:`JupyterHost` is made on first use. A state
as a cell's last expression renders its live view too. Changes made by cell code are flushed
after each cell (and sooner while a loop in a cell runs, see :mod:`nbstate.session`).
"""

from __future__ import annotations

from typing import Any

from ..session import default_session
from ..state import State, set_display_hook
from .host import JupyterHost

__all__ = ["install", "kernel_host", "show"]

_host: JupyterHost | None = None


def kernel_host() -> JupyterHost:
    """The host of the kernel's session, made (and hooked into IPython) on first use."""
    global _host
    if _host is None:
        session = default_session()
        _host = JupyterHost(session)
        try:
            from IPython import get_ipython
        except ImportError:  # pragma: no cover - ipykernel depends on IPython
            return _host
        shell = get_ipython()
        if shell is not None:
            shell.events.register("post_execute", session.flush_if_idle)
    return _host


def show(target: type[State] | State) -> None:
    """Display the live view of a state (a state class means the session's instance of it).

    Raises:
        TypeError: ``target`` is neither a state class nor a state.
    """
    from IPython.display import display

    state = target if isinstance(target, State) else default_session().get_state(target)
    display(kernel_host().widget_for(state))  # type: ignore[no-untyped-call]


def _mimebundle(state: State) -> Any:
    return kernel_host().widget_for(state)._repr_mimebundle_()


def install() -> None:
    """Make states render as their live view when they are a cell's result."""
    set_display_hook(_mimebundle)

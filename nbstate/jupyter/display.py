"""Showing states in a notebook: each visitor's host, ``show()`` and the display hook.

The states shown are those of the current session (:func:`nbstate.session.current_session`):
the kernel's in Jupyter and Voila (one kernel, one visitor), the visitor's kernel context in
marimo (:mod:`nbstate.jupyter.marimo`). Each session's :class:`JupyterHost` is made on first use
and kept on the session itself, so it lives and goes with that visitor's session and no module
global holds one visitor's host where another's code could reach it. A state as a cell's last
expression renders its live view too. Changes made by cell code are flushed after each cell (and
sooner while a loop in a cell runs, see :mod:`nbstate.session`), and stale traits are then sent
whole (:meth:`JupyterHost.settle`).
"""

from __future__ import annotations

from typing import Any

from ..session import Session, current_session
from ..state import State
from .host import JupyterHost
from .widget import StateWidget, _execution_count

__all__ = ["kernel_host", "mimebundle", "show"]

_HOST = "_nb_jupyter_host"


def kernel_host(session: Session | None = None) -> JupyterHost:
    """The host of ``session`` (the current session by default), made on first use."""
    session = current_session() if session is None else session
    host = getattr(session, _HOST, None)
    if isinstance(host, JupyterHost):
        return host
    host = JupyterHost(session)
    setattr(session, _HOST, host)
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - ipykernel depends on IPython
        return host
    shell = get_ipython()
    if shell is not None:
        shell.events.register("post_execute", _after_cell(session, host))
    return host


def _after_cell(session: Session, host: JupyterHost) -> Any:
    def after_cell() -> None:
        session.flush_if_idle()
        host.settle()

    return after_cell


def show(target: type[State] | State, *, display: bool = True) -> StateWidget:
    """Display the live view of a state and return its widget (the anywidget model).

    A state class means the current session's instance of it. With ``display=False`` nothing is
    displayed: put the widget in an ``ipywidgets.VBox``, ``mo.ui.anywidget(...)`` or a link.
    As a cell's last line, ``show(...)`` still displays the view once.

    Raises:
        TypeError: ``target`` is neither a state class nor a state.
    """
    if isinstance(target, State):
        state = target
    elif isinstance(target, type) and issubclass(target, State):
        state = current_session().get_state(target)
    else:
        raise TypeError(f"show expects a state class or a state, got {target!r}")
    widget = kernel_host(_session_of(state)).widget_for(state)
    if display:
        from IPython.display import display as ipython_display

        widget._nb_shown_at = None
        ipython_display(widget)  # type: ignore[no-untyped-call]
        widget._nb_shown_at = _execution_count()
    return widget


def _session_of(state: State) -> Session:
    session = state._nb_session
    return session if isinstance(session, Session) else current_session()


def mimebundle(state: State) -> dict[str, Any] | None:
    """The live view's mime bundle of ``state`` (a state as a cell's result)."""
    bundle = kernel_host(_session_of(state)).widget_for(state)._repr_mimebundle_()
    return bundle[0] if isinstance(bundle, tuple) else bundle

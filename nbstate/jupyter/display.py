"""Showing states in a notebook: each visitor's host, ``show()`` and the display hook.

The states shown are those of the current session (:func:`nbstate.session.current_session`):
the kernel's in Jupyter and Voila (one kernel, one visitor), the visitor's kernel context in
marimo (:mod:`nbstate.jupyter.marimo`). Each session's :class:`JupyterHost` is made on first use
and kept on the session itself, so it lives and goes with that visitor's session and no module
global holds one visitor's host where another's code could reach it. A state as a cell's last
expression renders its live view too. Changes made by cell code are flushed after each cell (and
sooner while a loop in a cell runs, see :mod:`nbstate.session`), and stale traits are then sent
whole (:meth:`JupyterHost.settle`). Components shown by a cell are pinned by it, and unpinned
components that nothing references are removed after each cell
(:mod:`nbstate.jupyter.components`).
"""

from __future__ import annotations

from typing import Any

from ..outputs import FreeOutput, RenderTimer
from ..session import Session, current_session
from ..state import State
from .components import ComponentViews
from .host import JupyterHost
from .widget import StateWidget, _execution_count

__all__ = ["Shown", "Target", "kernel_host", "mimebundle", "show"]

_HOST = "_nb_jupyter_host"
_VIEWS = "_nb_component_views"

Target = type[State] | State | FreeOutput[Any]
"""What ``show`` displays: a state class, a state, or a free output."""


class Shown(tuple[StateWidget, ...]):
    """The widgets ``show`` displayed for several targets; as the cell's result it shows
    nothing more."""

    def _ipython_display_(self, **kwargs: Any) -> None:
        for widget in self:
            widget._ipython_display_(**kwargs)


def kernel_host(session: Session | None = None) -> JupyterHost:
    """The host of ``session`` (the current session by default), made on first use."""
    session = current_session() if session is None else session
    host = getattr(session, _HOST, None)
    if isinstance(host, JupyterHost):
        return host
    host = JupyterHost(session)
    setattr(session, _HOST, host)
    views = ComponentViews(session, host)
    setattr(session, _VIEWS, views)
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - ipykernel depends on IPython
        return host
    shell = get_ipython()
    if shell is not None:
        shell.events.register("pre_run_cell", views.before_cell)
        # post_execute also follows every comm message (the comm package triggers it), so
        # there only what is cheap; what belongs to the end of a cell goes in post_run_cell
        shell.events.register("post_execute", _after_execute(session, host))
        shell.events.register("post_run_cell", _after_cell(session, host, views))
    return host


def _views(session: Session) -> ComponentViews:
    kernel_host(session)
    views: ComponentViews = getattr(session, _VIEWS)
    return views


def _after_execute(session: Session, host: JupyterHost) -> Any:
    def after_execute() -> None:
        session.flush_if_idle()

    return after_execute


def _after_cell(session: Session, host: JupyterHost, views: ComponentViews) -> Any:
    def after_cell(result: Any = None) -> None:
        if isinstance(session.computed.later, RenderTimer):
            session.computed.later.flush_now()  # outputs the cell changed, even if just drawn
        # whole values for the widget state a notebook records, once per cell: after each comm
        # message they would double what travels, and race the patches of a running handler
        host.settle()
        views.after_cell()

    return after_cell


def show(*targets: Target, display: bool = True) -> StateWidget | Shown:
    """Display the live view of each target and return its widget (the anywidget model); for
    several targets, a :class:`Shown` tuple of their widgets, displayed one below the other.

    A target is a state class (the current session's instance of it), a state (a component's
    instance from ``create()``) or a free output (``@ns.output`` on a function). With
    ``display=False`` nothing is displayed: put the widget in an ``ipywidgets.VBox``,
    ``mo.ui.anywidget(...)`` or a link. As a cell's last line, ``show(...)`` still displays the
    view once.

    Raises:
        TypeError: no target, or a target that is none of those.
    """
    if not targets:
        raise TypeError("show expects a state class, a state or an output, got nothing")
    widgets = [_show(target, display) for target in targets]
    return widgets[0] if len(widgets) == 1 else Shown(widgets)


def _show(target: Target, display: bool) -> StateWidget:
    if isinstance(target, FreeOutput):
        target = target.state_class
    if isinstance(target, State):
        state = target
    elif isinstance(target, type) and issubclass(target, State):
        state = current_session().get_state(target)
    else:
        raise TypeError(f"show expects a state class, a state or an output, got {target!r}")
    session = _session_of(state)
    widget = kernel_host(session).widget_for(state)
    if display:
        from IPython.display import display as ipython_display

        _views(session).shown(state)
        widget._nb_shown_at = None
        ipython_display(widget)  # type: ignore[no-untyped-call]
        widget._nb_shown_at = _execution_count()
    return widget


def _session_of(state: State) -> Session:
    session = state._nb_session
    return session if isinstance(session, Session) else current_session()


def mimebundle(state: State) -> dict[str, Any] | None:
    """The live view's mime bundle of ``state`` (a state as a cell's result)."""
    session = _session_of(state)
    bundle = kernel_host(session).widget_for(state)._repr_mimebundle_()
    _views(session).shown(state)
    return bundle[0] if isinstance(bundle, tuple) else bundle

"""Component state in a Jupyter kernel: views pin their component, closed views unpin it.

A component shown in a cell (``ns.show(Counter.create())``, or as the cell's result) is pinned
by that cell. When the same cell runs again its outputs are replaced, so its views are closed
and its pins go, as they do when the cell is deleted (JupyterLab names the deleted cells in the
next execute request); after every cell the session's components are swept
(:meth:`nbstate.components.Components.sweep`), and the models of the removed ones are closed.
A cell is known by the ``cellId`` the frontend sends with it (JupyterLab, Notebook 7, Voila and
nbclient do), read from the request the kernel is answering; without one, its pins stay for the
kernel's life.
"""

from __future__ import annotations

from typing import Any

from ..components import components_of, is_component
from ..session import Session
from ..state import State
from .host import JupyterHost

__all__ = ["ComponentViews"]


class ComponentViews:
    """The pins of one session's component views, by cell, and the sweep after each cell."""

    def __init__(self, session: Session, host: JupyterHost) -> None:
        self.session = session
        self.host = host
        self.cell: str | None = None
        """The ``cellId`` of the cell running now."""
        components_of(session).removed.append(self._close)

    def shown(self, state: State) -> None:
        """``state``'s view was displayed by the running cell."""
        if is_component(state):
            cell = _running_cell() or self.cell
            components_of(self.session).pin(state._nb_path, ("cell", cell))

    def before_cell(self, info: Any = None) -> None:
        """IPython's ``pre_run_cell``: the cell's previous outputs are about to go, and so are
        those of the cells deleted since the last run (JupyterLab's ``deletedCells``)."""
        self.cell = getattr(info, "cell_id", None)
        components = components_of(self.session)
        for cell in [self.cell, *_request_metadata().get("deletedCells", ())]:
            if isinstance(cell, str):
                components.unpin(("cell", cell))

    def after_cell(self) -> None:
        components_of(self.session).sweep()

    def _close(self, paths: list[str]) -> None:  # the host's own maps: no API of its own
        for path in paths:
            widget = self.host.widgets.pop(path, None)
            if widget is not None:
                widget.close()
            self.host._traits.pop(path, None)
            self.host._stale.pop(path, None)


def _request_metadata() -> dict[str, Any]:
    """The metadata of the request the kernel is answering (``{}`` outside a kernel)."""
    from IPython import get_ipython

    parent = getattr(get_ipython(), "parent_header", None)
    metadata = parent.get("metadata") if isinstance(parent, dict) else None
    return metadata if isinstance(metadata, dict) else {}


def _running_cell() -> str | None:
    """The ``cellId`` of the execute request the kernel is answering, if any."""
    cell = _request_metadata().get("cellId")
    return cell if isinstance(cell, str) else None

"""The anywidget model of one state: its vars as synced traits, its view as ``_esm``.

Every state model ships the same tiny ESM (``static/loader.js``); the shared runtime bundle is
the ``source`` trait of one :class:`RuntimeWidget` per host, which every state model names in
``_nb_runtime``, so a tree of many substates does not ship the bundle many times, and a page
rendered from saved widget state (nbconvert HTML, nbviewer, a notebook opened without a kernel)
finds it too. A state class may give its own view like an anywidget does:
``_esm`` (source text or a file path) and optional ``_css``; the runtime renders it with the
same anywidget-style ``model``.

Traits (Jupyter widget message spec ``state``): one per base var and computed var (see
:func:`trait_name` for a var whose name the widget machinery already uses), plus
``_nb_spec`` (see :mod:`nbstate.jupyter.spec`), ``_nb_children`` (``["IPY_MODEL_<id>"]`` of the
substates' models), ``_nb_view`` (the state's own ESM source, ``""`` for the default view),
``_nb_runtime`` (``"IPY_MODEL_<id>"`` of the runtime's model), ``_nb_key`` (unique per model:
how the runtime knows the proxies anywidget hands each ``initialize`` and ``render`` apart) and
``_nb_rev`` (the session revision of the var traits last sent whole: a frontend that already
applied a later patch keeps what it shows).
"""

from __future__ import annotations

import functools
import logging
import pathlib
import uuid
from collections.abc import Callable
from typing import Any

import anywidget
import traitlets
from ipywidgets.widgets.widget import JUPYTER_WIDGETS_ECHO  # type: ignore[import-untyped]

from ..spec import view_source
from ..state import State
from ..travel import NotJSON, check_any

__all__ = ["STATIC", "RuntimeWidget", "StateWidget", "is_open", "runtime_source", "trait_name",
           "view_source", "widget_class"]

log = logging.getLogger("nbstate.jupyter")

STATIC = pathlib.Path(__file__).parent.parent / "static"


@functools.lru_cache(maxsize=1)
def runtime_source() -> str:
    """The JS runtime bundle (``nbstate/static/runtime.js``), sent once per page."""
    return (STATIC / "runtime.js").read_text(encoding="utf-8")


def is_open(widget: Any) -> bool:
    """Whether ``widget``'s comm is still open (marimo closes a cell's comms when it re-runs)."""
    comm = getattr(widget, "comm", None)
    return comm is not None and not getattr(comm, "_closed", False)


class RuntimeWidget(anywidget.AnyWidget):
    """The model that carries the JS runtime's source: one per host, shown nowhere."""

    _esm = "export default {};"
    source = traitlets.Unicode("").tag(sync=True)


class StateWidget(anywidget.AnyWidget):
    """Base class of the per-state widget classes made by :func:`widget_class`."""

    _esm = STATIC / "loader.js"
    _nb_spec = traitlets.Dict().tag(sync=True)
    _nb_children = traitlets.List(traitlets.Unicode()).tag(sync=True)
    _nb_view = traitlets.Unicode("").tag(sync=True)
    _nb_runtime = traitlets.Unicode("").tag(sync=True)
    _nb_key = traitlets.Unicode("").tag(sync=True)
    _nb_rev = traitlets.Int(0).tag(sync=True)

    nb_path = ""
    """The path of the state this model shows, set by the host: the routing of every message
    that arrives on this model's comm (never read from a trait a client can write)."""
    _nb_client_write: Callable[[StateWidget, dict[str, Any]], None] | None = None
    _nb_kernel_write: Callable[[StateWidget, str, Any], None] | None = None

    _nb_shown_at: object = None
    """The execution count of the cell in which ``show`` displayed this model, if any."""

    def __init__(self, values: dict[str, Any], **kwargs: Any) -> None:
        self.add_traits(**{name: traitlets.Any().tag(sync=True) for name in values})
        super().__init__(**values, _nb_key=uuid.uuid4().hex, **kwargs)

    def _ipython_display_(self, **kwargs: Any) -> None:
        """Display the live view, except as the result of the cell whose ``ns.show`` already
        displayed it (``ns.show(Todo)`` as a cell's last line shows it once)."""
        count = _execution_count()
        if count is not None and self._nb_shown_at == count:
            self._nb_shown_at = None
            return
        from IPython.display import display

        bundle = self._repr_mimebundle_(**kwargs)
        data, metadata = bundle if isinstance(bundle, tuple) else (bundle, {})
        display(data, metadata=metadata, raw=True)  # type: ignore[no-untyped-call]

    def nb_attach(self, path: str,
                  on_msg: Callable[[StateWidget, Any, Any], None],
                  client_write: Callable[[StateWidget, dict[str, Any]], None],
                  kernel_write: Callable[[StateWidget, str, Any], None]) -> None:
        """Route this model's messages and trait writes to its host."""
        self.nb_path = path
        self._nb_client_write = client_write
        self._nb_kernel_write = kernel_write
        self.on_msg(on_msg)
        self.observe(self._nb_trait_changed)

    def set_state(self, sync_data: dict[str, Any]) -> None:
        """An ipywidgets ``update`` from a frontend (Jupyter widget message spec): echoed as
        ipywidgets does, then handed to the host as sets of base vars instead of written into
        the traits; nothing a client sends changes a trait unvalidated."""
        # the frontend holds back later updates of a key until its echo arrives; a value JSON
        # cannot carry (a lone surrogate) is echoed as the kernel's value, which the sender
        # ignores as its own echo and any other frontend takes as the current value
        echo = {k: v if _travels(v) else getattr(self, k)
                for k, v in sync_data.items() if k in self.keys}
        if echo and JUPYTER_WIDGETS_ECHO:
            try:
                self._send({"method": "echo_update", "state": echo, "buffer_paths": []})
            except Exception:  # never lose the writes themselves
                log.exception("nbstate: could not echo an update of %s", sorted(echo))
        if self._nb_client_write is not None:
            self._nb_client_write(self, dict(sync_data))

    def _nb_trait_changed(self, change: dict[str, Any]) -> None:
        if self._nb_kernel_write is not None:
            self._nb_kernel_write(self, change["name"], change["new"])

    def add_vars(self, values: dict[str, Any]) -> None:
        """Add traits for vars a redefined state class gained."""
        new = {n: traitlets.Any().tag(sync=True) for n in values if not self.has_trait(n)}
        if new:
            self.add_traits(**new)


def _execution_count() -> object:
    """The IPython execution count, or ``None`` outside IPython."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - ipykernel depends on IPython
        return None
    shell = get_ipython()
    return None if shell is None else shell.execution_count


_RESERVED = frozenset(dir(StateWidget)) | frozenset(StateWidget.class_trait_names())


def trait_name(var: str) -> str:
    """The trait that carries ``var``: the var's own name, or ``_nbvar_<var>`` when the widget
    machinery already uses that name (``log``, ``keys``, ``layout``, ``comm``, …). The spec lists
    it and the JS runtime maps it back, so a view always sees ``model.get("log")``.
    """
    return f"_nbvar_{var}" if var in _RESERVED else var


_widget_classes: dict[type[State], type[StateWidget]] = {}


def widget_class(cls: type[State]) -> type[StateWidget]:
    """The widget class of a state class (its own ``_css``; the loader ``_esm``)."""
    # a component's instances share their template's widget class (their classes are many,
    # and go with their instance)
    cls = cls.__dict__.get("__nbstate_template__") or cls
    if cls in _widget_classes:
        return _widget_classes[cls]
    css = view_source(cls.__dict__.get("_css"))
    namespace: dict[str, Any] = {"__module__": cls.__module__,
                                 "__qualname__": f"{cls.__qualname__}Widget"}
    if css:
        namespace["_css"] = css
    made = _widget_classes[cls] = type(f"{cls.__name__}Widget", (StateWidget,), namespace)
    return made


def _travels(value: Any) -> bool:
    try:
        check_any(value)
    except NotJSON:
        return False
    return True

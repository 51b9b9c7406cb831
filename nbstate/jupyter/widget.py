"""The anywidget model of one state: its vars as synced traits, its view as ``_esm``.

Every state model ships the same tiny ESM (``static/loader.js``); the shared runtime bundle is
sent once per page on request (``runtime_request``), so a tree of many substates does not
ship the bundle many times. A state class may give its own view like an anywidget does:
``_esm`` (source text or a file path) and optional ``_css``; the runtime renders it with the
same anywidget-style ``model``.

Traits (Jupyter widget message spec ``state``): one per base var and computed var, plus
``_nb_spec`` (see :mod:`nbstate.jupyter.spec`), ``_nb_children`` (``["IPY_MODEL_<id>"]`` of the
substates' models) and ``_nb_view`` (the state's own ESM source, ``""`` for the default view).
"""

from __future__ import annotations

import functools
import pathlib
from typing import Any

import anywidget
import traitlets

from ..errors import NbStateError
from ..state import State

__all__ = ["STATIC", "StateWidget", "runtime_source", "view_source", "widget_class"]

STATIC = pathlib.Path(__file__).parent.parent / "static"


@functools.lru_cache(maxsize=1)
def runtime_source() -> str:
    """The JS runtime bundle (``nbstate/static/runtime.js``), sent once per page."""
    return (STATIC / "runtime.js").read_text(encoding="utf-8")


class StateWidget(anywidget.AnyWidget):  # type: ignore[misc]
    """Base class of the per-state widget classes made by :func:`widget_class`."""

    _esm = STATIC / "loader.js"
    _nb_spec = traitlets.Dict().tag(sync=True)
    _nb_children = traitlets.List(traitlets.Unicode()).tag(sync=True)
    _nb_view = traitlets.Unicode("").tag(sync=True)

    def __init__(self, values: dict[str, Any], **kwargs: Any) -> None:
        self.add_traits(**{name: traitlets.Any().tag(sync=True) for name in values})
        super().__init__(**values, **kwargs)

    def add_vars(self, values: dict[str, Any]) -> None:
        """Add traits for vars a redefined state class gained."""
        new = {n: traitlets.Any().tag(sync=True) for n in values if not self.has_trait(n)}
        if new:
            self.add_traits(**new)


# `_nb_probe` is a scratch attribute the JS runtime sets on the model (js/src/jupyter/widget.ts)
_RESERVED = (frozenset(dir(StateWidget)) | frozenset(StateWidget.class_trait_names())
             | {"_nb_probe"})


def check_var_names(cls: type[State], names: list[str]) -> None:
    """Raises NbStateError when a var name is taken by the widget machinery itself."""
    clash = sorted(n for n in names if n in _RESERVED)
    if clash:
        raise NbStateError(
            f"{cls.__nbstate_path__}: var name(s) {', '.join(clash)} are used by the Jupyter "
            "widget model itself and cannot be vars there; rename them")


def view_source(value: Any) -> str:
    """A state's ``_esm``/``_css``: source text, or the contents of a file path."""
    if value is None:
        return ""
    if isinstance(value, pathlib.Path):
        return value.read_text(encoding="utf-8")
    text = str(value)
    if "\n" not in text and text.endswith((".js", ".mjs", ".css")) and pathlib.Path(
            text).is_file():
        return pathlib.Path(text).read_text(encoding="utf-8")
    return text


@functools.cache
def widget_class(cls: type[State]) -> type[StateWidget]:
    """The widget class of a state class (its own ``_css``; the loader ``_esm``)."""
    css = view_source(cls.__dict__.get("_css"))
    namespace: dict[str, Any] = {"__module__": cls.__module__,
                                 "__qualname__": f"{cls.__qualname__}Widget"}
    if css:
        namespace["_css"] = css
    return type(f"{cls.__name__}Widget", (StateWidget,), namespace)

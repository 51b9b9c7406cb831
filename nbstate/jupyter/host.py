"""The Jupyter host: a session's states as anywidget models over the kernel's comms.

The host is a session listener. A delta is split by state; for each model it becomes one
custom ``patch`` message with the ops relative to the model (``/items/-``), never an ipywidgets
``update``: ipywidgets deserializes updates asynchronously and may handle one after a custom
message sent later, so changes sent both ways could arrive out of order. If sending fails, the
session re-syncs the host: every model's var traits are sent again from the session document.

A patched var's trait is updated in the kernel without a message, so the browser's copy of that
trait (what ipywidgets and marimo hold, and what a frontend saves as widget state) is older than
the view's until the whole value travels again. Such a trait is *stale*.
:meth:`JupyterHost.settle` sends the stale traits whole, with ``_nb_rev``, the session revision
they are of; the kernel calls it after each cell, so the widget state nbclient or nbconvert
record, and a page opened later, hold what the cell left. A view that already applied a later
patch than such an update's ``_nb_rev`` keeps what it shows (``js/src/jupyter/binding.ts``).

A comm can close under the host (marimo closes a cell's comms when the cell runs again): such a
model gets nothing more, and the next :meth:`JupyterHost.widget_for` makes a new one.

Events and var sets arrive as custom messages and go to the session's :class:`~nbstate.inbox.
Inbox` (order, validation, one answer each), whose worker is started eagerly
(:mod:`nbstate.jupyter.eager`) so a handler that never waits replies before the kernel reports
idle. The state a message addresses is the one whose comm it came on, never a value the client
can write. JupyterLab 4.6 sends comm messages over a kernel subshell, whose handlers run on a
thread of their own, so a message is handed to the loop the host was made on
(``call_soon_threadsafe``).

Every other write to a var trait — an ipywidgets ``update`` message (a ``jslink``, another
frontend), ``ipywidgets.link``, code assigning the trait — is a ``set`` of that base var: it is
validated and applied in order with the messages, and when it is refused (a bad value, a
computed var) the trait goes back to the session's value and the view shows the error. Writes
to the model's internal traits (``_nb_spec``, ``_nb_view``, ``_nb_children``, ``_esm``, …) from
a client are refused the same way.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterable, Sequence
from typing import Any

from ..eager import start_eagerly
from ..errors import ReadOnlyVarError
from ..events import error_info
from ..inbox import Inbox
from ..patch import apply_patch_in_place, parse_pointer
from ..plain import same_value
from ..protocol import Delta, ErrorInfo, copy_json, pointer
from ..session import Session
from ..state import State
from .spec import spec_of
from .widget import (
    RuntimeWidget,
    StateWidget,
    is_open,
    runtime_source,
    trait_name,
    view_source,
    widget_class,
)

__all__ = ["JupyterHost"]

log = logging.getLogger("nbstate.jupyter")


class JupyterHost:
    """Keeps one :class:`StateWidget` per instantiated state of ``session`` in sync."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.widgets: dict[str, StateWidget] = {}
        self.inbox = Inbox(session, start=self._start)
        # trait name → (var name, is a base var), per state path
        self._traits: dict[str, dict[str, tuple[str, bool]]] = {}
        # traits patched since they last travelled whole, per state path (see the module doc)
        self._stale: dict[str, set[str]] = {}
        self._runtime: RuntimeWidget | None = None
        try:
            self._loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            self._loop = None
        self._loop_thread = threading.get_ident()
        snapshot, _ = session.subscribe(self)
        # substates first, so each parent's comm_open already lists its children
        for path in sorted(snapshot, key=lambda p: p.count("."), reverse=True):
            self._upsert(path, snapshot[path])

    def widget_for(self, state: State) -> StateWidget:
        """The model of ``state`` (made on first use, and again, with its substates' models, when
        its comm was closed)."""
        path = state._nb_path
        widget = self.widgets.get(path)
        if widget is None or not is_open(widget) or self.session.states().get(path) is not state:
            snapshot = self.session.snapshot()
            prefix = path + "."
            closed = [p for p in snapshot if p.startswith(prefix)
                      and (p not in self.widgets or not is_open(self.widgets[p]))]
            for sub in sorted(closed, key=lambda p: p.count("."), reverse=True):
                self._upsert(sub, snapshot[sub])
            self._upsert(path, snapshot[path])
        return self.widgets[path]

    def settle(self) -> None:
        """Send every stale trait whole (see the module docstring)."""
        for path, traits in self._stale.items():
            widget = self.widgets.get(path)
            if traits and widget is not None and is_open(widget):
                self._send_whole(widget, traits)
            traits.clear()

    def _send_whole(self, widget: StateWidget, traits: Iterable[str]) -> None:
        """Send ``traits`` as they are now, with the revision they are of (``_nb_rev``)."""
        _set_quietly(widget, "_nb_rev", self.session.revision)
        widget.send_state([*sorted(traits), "_nb_rev"])

    def close(self) -> None:
        self.session.unsubscribe(self)
        self.inbox.close()
        for widget in self.widgets.values():
            widget.close()
        self.widgets.clear()
        if self._runtime is not None:
            self._runtime.close()
            self._runtime = None

    def _runtime_ref(self) -> str:
        """``"IPY_MODEL_<id>"`` of the model carrying the runtime (made on first use)."""
        if self._runtime is None or not is_open(self._runtime):
            self._runtime = RuntimeWidget(source=runtime_source())
        return f"IPY_MODEL_{self._runtime.model_id}"

    def _start(self, coro: Any) -> asyncio.Task[None] | None:
        # eagerly: a handler that never waits answers before the kernel reports idle
        return start_eagerly(asyncio.get_event_loop(), coro)

    # ----------------------------------------------------------------- kernel → browser

    def on_delta(self, delta: Delta) -> None:
        per_state: dict[str, list[dict[str, Any]]] = {}
        for op in delta["ops"]:
            tokens = parse_pointer(op["path"])
            if len(tokens) == 1:
                self._send_ops(per_state.pop(tokens[0], []), tokens[0], delta["rev"])
                if op["op"] != "remove":
                    self._upsert(tokens[0], copy_json(op["value"]))
                continue
            rel = dict(op)
            rel["path"] = pointer(*tokens[1:])
            per_state.setdefault(tokens[0], []).append(rel)
        for path, ops in per_state.items():
            self._send_ops(ops, path, delta["rev"])

    def on_error(self, error: ErrorInfo) -> None:
        widget = self.widgets.get(error["handler"].rpartition(".")[0])
        if widget is not None:
            widget.send({"type": "error", "id": None, "error": error})

    def resync(self, document: dict[str, dict[str, Any]], revision: int) -> None:
        """Send every model's var traits again from ``document`` (after a failed send)."""
        for path, values in document.items():
            widget = self.widgets.get(path)
            if widget is None:
                self._upsert(path, values)
                continue
            traits = [trait_name(name) for name in values if widget.has_trait(trait_name(name))]
            for name, value in values.items():
                if widget.has_trait(trait_name(name)):
                    _set_quietly(widget, trait_name(name), copy_json(value))
            self._send_whole(widget, traits)
            self._stale.get(path, set()).difference_update(traits)

    def _send_ops(self, ops: list[dict[str, Any]], path: str, rev: int) -> None:
        widget = self.widgets.get(path)
        if widget is None or not ops or not is_open(widget):
            return
        # Always a patch, a custom message: frontends may handle a trait update later than a
        # custom message sent after it (ipywidgets deserializes updates asynchronously), so var
        # changes never travel both ways. The traits follow quietly and go stale.
        stale = self._stale.setdefault(path, set())
        traits = {name: trait_name(name) for name in {parse_pointer(op["path"])[0] for op in ops}}
        widget.send({"type": "patch", "rev": rev, "ops": ops})
        stale.update(traits.values())
        values = {name: getattr(widget, trait) for name, trait in traits.items()}
        values = apply_patch_in_place(values, copy_json(ops))
        for name, trait in traits.items():
            if values[name] is not getattr(widget, trait):
                with widget._lock_property(**{trait: values[name]}):
                    setattr(widget, trait, values[name])

    def _upsert(self, path: str, values: dict[str, Any]) -> None:
        state = self.session.states().get(path)
        if state is None:
            return
        cls = type(state)
        values = {trait_name(name): value for name, value in values.items()}
        widget = self.widgets.get(path)
        if widget is not None and not is_open(widget):
            widget = None
        stale = self._stale.pop(path, set())
        spec = spec_of(cls)
        view = view_source(cls.__dict__.get("_esm"))
        self._traits[path] = {trait_name(n): (n, v.synced)
                              for n, v in cls.__nbstate_vars__.items()} | {
            trait_name(n): (n, False) for n in cls.__nbstate_computed__}
        if widget is None:
            widget = widget_class(cls)(values, _nb_spec=spec, _nb_view=view,
                                       _nb_children=self._children(path),
                                       _nb_runtime=self._runtime_ref(),
                                       _nb_rev=self.session.revision)
            widget.nb_attach(path, self._on_msg, self._client_write, self._kernel_write)
            self.widgets[path] = widget
        else:
            widget.add_vars(values)
            with widget.hold_sync():
                widget._nb_spec, widget._nb_view = spec, view
                widget._nb_rev = self.session.revision
                for name, value in values.items():
                    setattr(widget, name, value)
            if stale:
                self._send_whole(widget, (t for t in stale if widget.has_trait(t)))
        parent = path.rpartition(".")[0]
        if parent in self.widgets:
            self._link_children(parent)

    def _children(self, path: str) -> list[str]:
        prefix = path + "."
        return [f"IPY_MODEL_{w.model_id}" for p, w in self.widgets.items()
                if p.startswith(prefix) and "." not in p[len(prefix):] and is_open(w)]

    def _link_children(self, path: str) -> None:
        children = self._children(path)
        if self.widgets[path]._nb_children != children:
            self.widgets[path]._nb_children = children

    # ----------------------------------------------------------------- browser → kernel

    def _on_msg(self, widget: StateWidget, content: Any, buffers: Sequence[Any]) -> None:
        loop = self._loop
        if loop is None or loop.is_closed() or threading.get_ident() == self._loop_thread:
            self._receive(widget, content)
        else:
            loop.call_soon_threadsafe(self._receive, widget, content)

    def _receive(self, widget: StateWidget, content: Any) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "ping":  # the page asks whether a kernel is there
            widget.send({"type": "pong"})
            return
        if kind == "runtime_request":
            widget.send({"type": "runtime", "source": runtime_source()})
            return
        self.inbox.receive(widget.send, widget.nb_path, content)

    def _client_write(self, widget: StateWidget, data: dict[str, Any]) -> None:
        """An ipywidgets ``update`` from a frontend: each var trait becomes a ``set``."""
        for trait, value in data.items():
            self._write(widget, trait, value)

    def _kernel_write(self, widget: StateWidget, trait: str, value: Any) -> None:
        """A var trait changed in the kernel: the host syncing it, or someone else writing."""
        var = self._traits.get(widget.nb_path, {}).get(trait)
        if var is None:
            return
        try:
            current = self.session.document_value(widget.nb_path, var[0])
        except KeyError:
            return
        if not same_value(current, value):
            # after the writer returns: ipywidgets.link ignores changes made while it updates,
            # and a refused value must reach the linked widget too
            asyncio.get_event_loop().call_soon(self._write, widget, trait, value)

    def _write(self, widget: StateWidget, trait: str, value: Any) -> None:
        path = widget.nb_path
        var = self._traits.get(path, {}).get(trait)
        if var is None or not var[1]:
            what = (f"{var[0]} is a computed var" if var is not None
                    else f"{trait!r} is not a var of {path}")
            exc = ReadOnlyVarError(f"a client cannot change {path}.{trait}: {what}; only base "
                                   "vars can be set")
            widget.send({"type": "error", "id": None,
                         "error": error_info(f"{path}.{trait}", exc)})
            self._settle(widget, trait)
            return
        self.inbox.write(widget.send, path, var[0], value,
                         lambda applied: self._settle(widget, trait))

    def _settle(self, widget: StateWidget, trait: str) -> None:
        """Show the session's value of ``trait`` again wherever it may differ."""
        if not widget.has_trait(trait) or widget.comm is None:
            return
        var = self._traits.get(widget.nb_path, {}).get(trait)
        if var is not None:
            try:
                value = self.session.document_value(widget.nb_path, var[0])
            except KeyError:
                return
            if not same_value(getattr(widget, trait), value):
                _set_quietly(widget, trait, copy_json(value))
        self._send_whole(widget, (trait,))
        self._stale.get(widget.nb_path, set()).discard(trait)


def _set_quietly(widget: StateWidget, trait: str, value: Any) -> None:
    """Set a trait without sending it (the caller sends it)."""
    with widget._lock_property(**{trait: value}):
        setattr(widget, trait, value)

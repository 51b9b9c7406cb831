"""The Jupyter host: a session's states as anywidget models over the kernel's comms.

The host is a session listener. A delta is split by state; for each model it becomes either
one ipywidgets ``update`` with whole values (when every op replaces a whole var) or one custom
``patch`` message with the ops relative to the model (``/items/-``); in both cases the
kernel-side trait values are brought to the same state, because traits are what a reloaded
page or a Voila page reads (DESIGN.md §4).

Events and var sets arrive as custom messages and are run one at a time, in arrival order, by a
worker on the kernel's event loop, started eagerly (:mod:`nbstate.jupyter.eager`) so a handler
that never waits replies before the kernel reports idle; each gets ``done`` or ``error`` back
with its id.
JupyterLab 4.6 sends comm messages over a kernel subshell, whose handlers run on a thread of
their own, so a message is handed to the loop the host was made on (``call_soon_threadsafe``).
Messages sent before that subshell was ready went over the main shell and can arrive after
later ones, so each event and set carries its connection's ``client`` id and ``seq`` number and
the host runs them in ``seq`` order, holding early arrivals (for at most ``GAP_TIMEOUT``
seconds, after which a missing message is given up on rather than stalling the view).
Malformed messages get an ``error`` naming what was wrong; nothing in them can stop the kernel.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import threading
from collections.abc import Sequence
from typing import Any

from ..errors import NbStateError, ProtocolError
from ..events import error_info
from ..patch import apply_patch_in_place, parse_pointer
from ..protocol import Delta, ErrorInfo, copy_json, pointer
from ..session import Session
from ..state import State
from .eager import start_eagerly
from .spec import spec_of
from .widget import StateWidget, runtime_source, trait_name, view_source, widget_class

__all__ = ["JupyterHost"]

log = logging.getLogger("nbstate.jupyter")

GAP_TIMEOUT = 2.0
"""Seconds an out-of-order message waits for the ones numbered before it."""


class JupyterHost:
    """Keeps one :class:`StateWidget` per instantiated state of ``session`` in sync."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.widgets: dict[str, StateWidget] = {}
        self._inbox: collections.deque[tuple[StateWidget, Any]] = collections.deque()
        self._worker: asyncio.Task[None] | None = None
        try:
            self._loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            self._loop = None
        self._loop_thread = threading.get_ident()
        self._next_seq: dict[str, int] = {}
        self._early: dict[str, dict[int, tuple[StateWidget, dict[str, Any]]]] = {}
        snapshot, _ = session.subscribe(self)
        # substates first, so each parent's comm_open already lists its children
        for path in sorted(snapshot, key=lambda p: p.count("."), reverse=True):
            self._upsert(path, snapshot[path])

    def widget_for(self, state: State) -> StateWidget:
        """The model of ``state`` (made on first use)."""
        path = state._nb_path
        if path not in self.widgets or self.session.states().get(path) is not state:
            self._upsert(path, self.session.snapshot()[path])
        return self.widgets[path]

    def close(self) -> None:
        self.session.unsubscribe(self)
        for widget in self.widgets.values():
            widget.close()
        self.widgets.clear()

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

    def _send_ops(self, ops: list[dict[str, Any]], path: str, rev: int) -> None:
        widget = self.widgets.get(path)
        if widget is None or not ops:
            return
        if all(op["op"] != "remove" and op["path"].count("/") == 1 for op in ops):
            with widget.hold_sync():
                for op in ops:
                    trait = trait_name(parse_pointer(op["path"])[0])
                    setattr(widget, trait, copy_json(op["value"]))
            return
        widget.send({"type": "patch", "rev": rev, "ops": ops})
        traits = {name: trait_name(name) for name in {parse_pointer(op["path"])[0] for op in ops}}
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
        spec = spec_of(cls)
        view = view_source(cls.__dict__.get("_esm"))
        if widget is None:
            widget = widget_class(cls)(values, _nb_spec=spec, _nb_view=view,
                                       _nb_children=self._children(path))
            widget.on_msg(self._on_msg)
            self.widgets[path] = widget
        else:
            widget.add_vars(values)
            with widget.hold_sync():
                widget._nb_spec, widget._nb_view = spec, view
                for name, value in values.items():
                    setattr(widget, name, value)
        parent = path.rpartition(".")[0]
        if parent in self.widgets:
            self._link_children(parent)

    def _children(self, path: str) -> list[str]:
        prefix = path + "."
        return [f"IPY_MODEL_{w.model_id}" for p, w in self.widgets.items()
                if p.startswith(prefix) and "." not in p[len(prefix):]]

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
        if isinstance(content, dict) and content.get("type") == "runtime_request":
            widget.send({"type": "runtime", "source": runtime_source()})
            return
        client = content.get("client") if isinstance(content, dict) else None
        seq = content.get("seq") if isinstance(content, dict) else None
        if not isinstance(client, str) or not isinstance(seq, int):
            self._enqueue(widget, content)
            return
        if seq < self._next_seq.setdefault(client, 1):  # late, after its gap was given up on
            self._enqueue(widget, content)
            return
        early = self._early.setdefault(client, {})
        early[seq] = (widget, content)
        self._release(client)
        if early:
            asyncio.get_event_loop().call_later(GAP_TIMEOUT, self._give_up_gap, client, seq)

    def _release(self, client: str) -> None:
        early = self._early[client]
        expected = self._next_seq[client]
        while expected in early:
            self._enqueue(*early.pop(expected))
            expected += 1
        self._next_seq[client] = expected

    def _give_up_gap(self, client: str, seq: int) -> None:
        early = self._early.get(client, {})
        if seq in early:
            missing = self._next_seq[client]
            log.warning("nbstate: messages %d..%d of client %s never arrived; going on without",
                        missing, min(early) - 1, client)
            self._next_seq[client] = min(early)
            self._release(client)

    def _enqueue(self, widget: StateWidget, content: Any) -> None:
        self._inbox.append((widget, content))
        if self._worker is None or self._worker.done():
            # eagerly: a handler that never waits answers before the kernel reports idle
            self._worker = start_eagerly(asyncio.get_event_loop(), self._drain())

    async def _drain(self) -> None:
        while self._inbox:
            widget, content = self._inbox.popleft()
            await self._handle(widget, content)

    async def _handle(self, widget: StateWidget, content: Any) -> None:
        path = widget._nb_spec.get("path", "")
        msg_id = content.get("id") if isinstance(content, dict) else None
        name = path
        try:
            if not isinstance(content, dict):
                raise ProtocolError(f"an nbstate message must be a JSON object, got "
                                    f"{type(content).__name__}")
            kind = content.get("type")
            if kind == "event":
                handler = _field(content, "handler", str)
                payload = content.get("payload", {})
                name = f"{path}.{handler}"
                await self.session.dispatch(name, payload)
            elif kind == "set":
                var = _field(content, "var", str)
                name = f"{path}.{var}"
                if "value" not in content:
                    raise ProtocolError(f"'set' of {name} has no 'value'")
                await self.session.set_var(path, var, content["value"])
            else:
                raise ProtocolError(f"unknown message type {kind!r}; expected 'event', 'set' or "
                                    "'runtime_request'")
        except NbStateError as exc:
            widget.send({"type": "error", "id": msg_id, "error": error_info(name, exc)})
            return
        except Exception as exc:  # a bug of ours must not kill the worker
            log.exception("nbstate: failed to handle %r", content)
            widget.send({"type": "error", "id": msg_id, "error": error_info(name, exc)})
            return
        widget.send({"type": "done", "id": msg_id})


def _field(content: dict[str, Any], key: str, kind: type) -> Any:
    value = content.get(key)
    if not isinstance(value, kind):
        raise ProtocolError(f"message {content.get('type')!r} needs {key!r} as "
                            f"{kind.__name__}, got {value!r}")
    return value

"""A recording client for tests: drives a :class:`~nbstate.Session` like a transport would.

``StateClient(Todo, Filters)`` makes a fresh session, instantiates the given state classes and
subscribes. It keeps what a real client keeps: the first snapshot, every delta in order (its
``document`` is that snapshot with each delta applied by the RFC 6902 applier) and every error
it was sent, so a test can check that the client's copy equals ``session.snapshot()``.

A session never lets a listener's exception fail the handler that flushed (it logs it and
re-syncs that listener), so a problem the client sees (a gap in revisions) is kept in
:attr:`StateClient.problems` and raised as ``AssertionError`` by the next :meth:`dispatch`,
:meth:`set_var` or :meth:`check`.
"""

from __future__ import annotations

from typing import Any

from .errors import NbStateError
from .events import error_info
from .patch import apply_patch_in_place
from .protocol import Delta, ErrorInfo, copy_json
from .session import Session
from .state import State

__all__ = ["StateClient"]


class StateClient:
    """A fresh session plus a client that records deltas, its document copy and errors.

    Attributes:
        session: the underlying :class:`~nbstate.Session`.
        deltas: ``[{"rev": int, "ops": [RFC 6902 ops]}, ...]`` in the order received.
        document: the first snapshot with every delta applied.
        errors: ``[{"handler": str, "type": str, "message": str}, ...]``.
        problems: what went wrong on the client side (a revision gap), in order.
        resyncs: how many times the session re-synced this client after a failed delivery.
    """

    def __init__(self, *states: type[State], session: Session | None = None,
                 flush_interval: float = 1 / 60) -> None:
        self.session = session if session is not None else Session(flush_interval=flush_interval)
        for cls in states:
            self.session.get_state(cls)
        self.deltas: list[Delta] = []
        self.errors: list[ErrorInfo] = []
        self.problems: list[str] = []
        self.resyncs = 0
        self.document: dict[str, Any]
        self.document, self.revision = self.session.subscribe(self)

    def on_delta(self, delta: Delta) -> None:
        if delta["rev"] != self.revision + 1:
            self.problems.append(f"delta rev {delta['rev']} after rev {self.revision}: a gap")
        self.deltas.append(delta)
        self.document = apply_patch_in_place(self.document, copy_json(delta["ops"]))
        self.revision = delta["rev"]

    def on_error(self, error: ErrorInfo) -> None:
        self.errors.append(error)

    def resync(self, document: dict[str, dict[str, Any]], revision: int) -> None:
        self.document, self.revision = copy_json(document), revision
        self.resyncs += 1

    def check(self) -> None:
        """Raise ``AssertionError`` if the client saw a problem (see :attr:`problems`)."""
        if self.problems:
            raise AssertionError("; ".join(self.problems))

    async def dispatch(self, handler: str, payload: dict[str, Any] | None = None) -> None:
        """Send an event; an nbstate error is recorded in :attr:`errors`, not raised."""
        try:
            await self.session.dispatch(handler, payload)
        except NbStateError as exc:
            self.errors.append(error_info(handler, exc))
        self.check()

    async def set_var(self, state_path: str, name: str, value: Any) -> None:
        """Set a base var as a browser would; an nbstate error is recorded, not raised."""
        try:
            await self.session.set_var(state_path, name, value)
        except NbStateError as exc:
            self.errors.append(error_info(f"{state_path}.{name}", exc))
        self.check()

    def close(self) -> None:
        self.session.unsubscribe(self)


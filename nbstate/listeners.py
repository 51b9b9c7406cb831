"""Listeners: the transports attached to a session, and what a session promises them.

The contract (:class:`Listener`):

- ``on_delta(delta)`` is called once per committed delta, in revision order, after the session
  document already holds it. The delta's op list is shared with the session's history: read it,
  never change it.
- A flush is committed before listeners hear of it and no listener can undo it. If
  ``on_delta`` raises, the error is logged and ``resync(document, revision)`` is called with a
  copy of the whole document, so that listener's clients catch up from the committed state and
  the next delta applies normally. If ``resync`` raises too, that is logged as well.
- ``on_error(error)`` reports a background handler's failure (other errors go to the sender of
  the event). If it raises, the error is logged.
- A listener that raises never fails the handler that flushed, nor another listener.
- A listener whose class sets ``replays = True`` replays missed deltas to clients that
  reconnect (``session.deltas_since``): once one subscribes, the session keeps recent deltas,
  bounded by bytes (:mod:`nbstate.document`). Others need keep nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

from .protocol import Delta, ErrorInfo

__all__ = ["Listener", "Listeners"]

log = logging.getLogger("nbstate")


class Listener(Protocol):
    """A transport attached to a session (see the module docstring for the contract)."""

    def on_delta(self, delta: Delta) -> None:
        """A flush produced ``delta``; deltas arrive in revision order."""

    def on_error(self, error: ErrorInfo) -> None:
        """A background handler failed (other handler errors go to the event's sender)."""

    def resync(self, document: dict[str, dict[str, Any]], revision: int) -> None:
        """Replace the client's copy with ``document`` at ``revision`` (after a failed send)."""


class Listeners:
    """The listeners of one session, each told of every delta and kept apart from the others."""

    __slots__ = ("_all",)

    def __init__(self) -> None:
        self._all: list[Listener] = []

    def __len__(self) -> int:
        return len(self._all)

    def add(self, listener: Listener) -> None:
        self._all.append(listener)

    def remove(self, listener: Listener) -> None:
        if listener in self._all:
            self._all.remove(listener)

    def deliver(self, delta: Delta,
                snapshot: Callable[[], tuple[dict[str, dict[str, Any]], int]]) -> None:
        """Hand ``delta`` to every listener; one that fails is re-synced from ``snapshot()``."""
        for listener in list(self._all):
            try:
                listener.on_delta(delta)
            except Exception:
                log.exception("nbstate: a transport failed to send revision %d; re-syncing it "
                              "from the session document", delta["rev"])
                try:
                    listener.resync(*snapshot())
                except Exception:
                    log.exception("nbstate: re-syncing a transport failed; its clients show "
                                  "old values until the next change of each var")

    def report(self, error: ErrorInfo) -> None:
        """Tell every listener of a background handler's error."""
        for listener in list(self._all):
            try:
                listener.on_error(error)
            except Exception:
                log.exception("nbstate: a transport failed to report an error: %s", error)

"""What a session shows outside: its document, revision and recent deltas to transports, and
its JSON form to state managers.

:class:`PublishedDocument` is the part of :class:`~nbstate.session.Session` that transports
(:mod:`nbstate.listeners`) and state managers (:mod:`nbstate.storage`) call; the session wires
the parts it reads (the document, the listeners, the instances and computed vars).
"""

from __future__ import annotations

from typing import Any

from . import storage
from .document import SessionDocument
from .instances import StateInstances
from .listeners import Listener, Listeners
from .protocol import Delta
from .recompute import ComputedVars

__all__ = ["PublishedDocument"]


class PublishedDocument:
    """The session document as transports and state managers see it."""

    document: SessionDocument
    listeners: Listeners
    instances: StateInstances
    computed: ComputedVars

    @property
    def revision(self) -> int:
        """The revision of :meth:`snapshot`; each delta with ops bumps it by one."""
        return self.document.revision

    @property
    def history(self) -> Any:
        """The most recent deltas, oldest first (kept only for transports that replay)."""
        return self.document.history

    def snapshot(self) -> dict[str, dict[str, Any]]:
        """The session document at :attr:`revision`: ``{state path: {var: JSON value}}``.

        Base vars and computed vars of every instantiated state; never backend vars.
        """
        return self.document.snapshot()

    def document_value(self, path: str, name: str) -> Any:
        """The session document's JSON value of var ``name`` of the state at ``path``.

        The live value, not a copy: do not change it. Raises ``KeyError`` for an unknown var.
        """
        return self.document.value(path, name)

    def subscribe(self, listener: Listener) -> tuple[dict[str, dict[str, Any]], int]:
        """Attach a transport (see :mod:`nbstate.listeners` for the contract); returns the
        snapshot and its revision, atomically. A listener with ``replays = True`` makes the
        session keep recent deltas from now on (:meth:`deltas_since`)."""
        if getattr(listener, "replays", False):
            self.document.history.keep()
        self.listeners.add(listener)
        return self.snapshot(), self.revision

    def unsubscribe(self, listener: Listener) -> None:
        self.listeners.remove(listener)

    def deltas_since(self, revision: int) -> list[Delta] | None:
        """The deltas after ``revision`` if still held, else ``None`` (send a snapshot)."""
        return self.document.deltas_since(revision)

    def dump(self) -> dict[str, Any]:
        """The session as JSON data, for a state manager to store (see :mod:`nbstate.storage`).

        Raises:
            VarTypeError: a backend var holds a value with no JSON form.
        """
        return storage.dump(self.instances, self.revision)

    def load(self, data: dict[str, Any]) -> None:
        """Fill this new session from :meth:`dump`'s data (see :mod:`nbstate.storage`).

        Raises:
            NbStateError: the session already has states, or ``data`` is not a dump.
        """
        storage.load(data, self.instances, self.computed, self.document)

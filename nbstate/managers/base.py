"""What every state manager does: sessions by token, each with its ordered inbox."""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from ..eager import start_eagerly
from ..inbox import Inbox
from ..listeners import Listener
from ..protocol import Delta
from ..session import Session

__all__ = ["Entry", "StateManager", "new_token", "valid_token"]

_TOKEN = re.compile(r"[A-Za-z0-9_-]{22,64}")


def _inbox(session: Session) -> Inbox:
    # eagerly: a handler that never waits answers in the turn its message arrived in
    return Inbox(session, start=lambda coro: start_eagerly(asyncio.get_running_loop(), coro))


def new_token() -> str:
    """An unguessable session token: 192 random bits from :mod:`secrets`, URL-safe."""
    return secrets.token_urlsafe(24)


def valid_token(token: Any) -> bool:
    """Whether ``token`` has the form of a token (anything else is never looked up)."""
    return isinstance(token, str) and _TOKEN.fullmatch(token) is not None


@dataclass(eq=False)
class Entry:
    """A live session, its inbox, and how many connections use it."""

    session: Session
    inbox: Inbox
    connections: int = 0
    used: float = field(default_factory=time.monotonic)
    saver: Any = None
    """The listener that stores the session after each delta (set by the host, once)."""


class StateManager:
    """Sessions by token, in this process (subclasses add storage).

    Args:
        ttl: seconds an idle session (no connection) is kept.
        flush_interval: the sessions' flush interval, seconds.
    """

    stores = False
    """Whether :meth:`changed` writes the session somewhere (hosts call it after each delta)."""

    def __init__(self, *, ttl: float = 3600.0, flush_interval: float = 1 / 60) -> None:
        self.ttl = ttl
        self.flush_interval = flush_interval
        self._live: dict[str, Entry] = {}

    def __len__(self) -> int:
        return len(self._live)

    async def open(self, token: str | None, prepare: Any) -> tuple[str, Entry]:
        """The session of ``token``, or a new session with a new token when the token is
        unknown, expired or already in use by a live connection (a duplicated tab).

        ``prepare(session)`` is called once for a new or loaded session (it makes the app's
        states). The entry counts one more connection; call :meth:`release` when it closes.
        """
        self._expire()
        entry = self._live.get(token) if token is not None and valid_token(token) else None
        if entry is not None and entry.connections:
            entry = None  # one tab, one session: a second live connection starts its own
        elif entry is None and valid_token(token):
            assert token is not None
            loaded = await self.load(token)
            if loaded is not None:
                prepare(loaded)
                entry = self._live[token] = self._entry(token, loaded)
        if entry is None or token is None:
            token = new_token()
            session = self._session(token)
            prepare(session)
            entry = self._live[token] = self._entry(token, session)
        entry.connections += 1
        entry.used = time.monotonic()
        return token, entry

    def release(self, token: str) -> None:
        """A connection of ``token`` closed; the session stays until it expires."""
        entry = self._live.get(token)
        if entry is not None:
            entry.connections = max(0, entry.connections - 1)
            entry.used = time.monotonic()

    def _session(self, token: str) -> Session:
        """A new, empty session for ``token``."""
        return Session(flush_interval=self.flush_interval)

    def _entry(self, token: str, session: Session) -> Entry:
        """The live entry of ``session`` (made, or loaded and prepared) for ``token``."""
        return Entry(session, _inbox(session))

    async def attach(self, token: str, entry: Entry, listener: Listener,
                     rev: int | None) -> tuple[int, list[Delta] | None, dict[str, Any] | None]:
        """Send ``listener`` (a client connection) the session's deltas from now on.

        ``rev`` is the revision the client holds (``None``: none, or another session's).
        Returns ``(revision, missed, document)``: the session's revision, and either the
        deltas after ``rev`` (``missed``, oldest first) or, when they are no longer held, the
        session document at that revision (``document``; ``missed`` is then ``None``). The
        caller sends them before anything else reaches ``listener``: nothing between this
        call's return and the caller's next ``await`` can deliver a delta.
        """
        session = entry.session
        missed = session.deltas_since(rev) if type(rev) is int else None
        document = session.snapshot() if missed is None else None
        session.subscribe(listener)
        return session.revision, missed, document

    def detach(self, token: str, entry: Entry, listener: Listener) -> None:
        """``listener`` closed (undoes :meth:`attach`)."""
        entry.session.unsubscribe(listener)

    async def changed(self, token: str) -> None:
        """The session of ``token`` committed a delta (storage managers write it)."""

    async def load(self, token: str) -> Session | None:
        """A stored session of ``token``, or ``None`` (the memory manager stores nothing)."""
        return None

    async def aclose(self) -> None:
        """Stop: close every inbox."""
        for entry in self._live.values():
            entry.inbox.close()
        self._live.clear()

    def _expire(self) -> None:
        now = time.monotonic()
        for token in [t for t, e in self._live.items()
                      if not e.connections and now - e.used > self.ttl]:
            self._drop(token, self._live.pop(token))

    def _drop(self, token: str, entry: Entry) -> None:
        """An idle session expired from this process."""
        entry.inbox.close()

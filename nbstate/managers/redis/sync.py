"""One session as this process keeps it: its lease, its copy of the stored form, its feed.

A **section** is a stretch of work that may change the session: one client message, one
``async with self`` block of a background handler, or one event run outside a client message.
It begins with :meth:`SessionSync.enter` (one round trip, none when this process kept the
lock: take the lock, learn the stored revision, read the states other processes changed and
bring the cached session up to date) and ends with :meth:`SessionSync.leave` (one round trip:
store the states the section changed, its deltas and its answer, publish the deltas to the
other processes, release or keep the lock). A handler that yields is written at each flush too
(the client sees "saving…" at once), without releasing. Deltas reach this process's clients
only once stored, so a client never holds a revision that a process crash could take back.

If a write is refused (the lock was lost: :class:`FencedWriteError`) or Redis is gone, the
section is undone here from the last stored form and the cached copy forgotten: the next
section reads every state again, so the session goes on from what is stored, never from
changes that were not.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Iterator
from typing import Any

from ...protocol import Delta, ErrorInfo
from ...session import Session
from .cache import Copy
from .delivery import Feed
from .errors import FencedWriteError
from .lease import Lease
from .store import Acquired, Commit, Store

__all__ = ["SessionSync"]

_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


class SessionSync:
    """Keeps ``session`` (of ``token``) and its stored form in step.

    Args:
        store: the Redis store.
        token: the session's token.
        session: this process's copy of the session.
        wait: seconds to wait for a lock another process holds.
    """

    def __init__(self, store: Store, token: str, session: Session, wait: float,
                 keep: float = 0.0) -> None:
        self.store = store
        self.token = token
        self.session = session
        self.lease = Lease(store, token, wait, keep)
        self.copy = Copy()
        self.feed = Feed(self.missed)
        self.pending: list[Delta] = []
        self._muted = False
        self.full = True  # nothing stored yet: the first write holds every state
        self._io = asyncio.Lock()
        self._writer: asyncio.Task[None] | None = None
        self._failure: BaseException | None = None
        self._leaving = False
        self.runner: asyncio.Task[Any] | None = None
        """The task that runs a client message's section now (its events need no other)."""
        session.subscribe(self)

    # ----------------------------------------------------------------- the session's listener

    def on_delta(self, delta: Delta) -> None:
        if self._muted:
            return
        self.pending.append(delta)
        if self.lease.held and not self._leaving:
            # a flush inside a handler (a yield): written soon, unless the section ends first
            asyncio.get_running_loop().call_soon(self._write_soon)

    def _write_soon(self) -> None:
        if (self.lease.held and not self._leaving and self.pending
                and (self._writer is None or self._writer.done())):
            self._writer = asyncio.get_running_loop().create_task(self._write(release=False))

    def on_error(self, error: ErrorInfo) -> None:
        self.feed.report(error)

    def resync(self, document: dict[str, dict[str, Any]], revision: int) -> None:
        pass  # on_delta never fails

    @contextlib.contextmanager
    def muted(self) -> Iterator[None]:
        self._muted = True
        try:
            yield
        finally:
            self._muted = False

    # ----------------------------------------------------------------- sections

    @property
    def section(self) -> asyncio.Lock:
        """Held around every section of this session in this process."""
        return self.lease.section

    async def enter(self, answer_key: str = "") -> Acquired:
        """Begin a section (hold :attr:`section`): take the lock, bring the session up to date.

        Returns the store's answer: ``"answered"`` when ``answer_key`` was already answered
        (the lock is then not taken).

        Raises:
            RedisUnavailableError, SessionBusyError: see :meth:`Lease.take`.
        """
        self._failure = None
        got = await self.lease.take(self.copy.version, answer_key)
        if got.status != "ok":
            return got  # "kept": nobody else can have changed it; "answered": not taken
        if got.rev < 0 or got.version < self.copy.version:
            self.full = True  # nothing stored (new, expired, or Redis lost it): store it all
        elif got.version != self.copy.version:
            self.pending.clear()  # made from states another process has since replaced
            self.copy.refresh(self.session, got.states, got.rev, got.version, self.muted())
            self.full = False
        return got

    async def leave(self, answer_key: str = "",
                    answer: dict[str, Any] | None = None) -> BaseException | None:
        """End a section: store what it changed and ``answer``, release the lock, send the
        deltas to this process's clients. Returns the error that kept it from being stored
        (the session then reloads from the store at the next section), or ``None``."""
        self._leaving = True  # a write the last flush asked for goes with this one
        try:
            if self._writer is not None and not self._writer.done():
                with contextlib.suppress(Exception):
                    await asyncio.shield(self._writer)
            await self._write(release=True, answer_key=answer_key, answer=answer,
                              keep=self.lease.keeping())
        finally:
            self._leaving = False
        failure, self._failure = self._failure, None
        return failure

    async def _write(self, release: bool, answer_key: str = "",
                     answer: dict[str, Any] | None = None, keep: bool = False) -> None:
        async with self._io:
            if not self.lease.held or (self._leaving and not release):
                return
            if self._failure is not None:  # a write at a yield failed: the section is lost
                if release:
                    self._give_up()
                return
            deltas, self.pending = self.pending, []
            written: dict[str, str] = {}
            sent = time.monotonic()
            try:
                written = (self.copy.everything(self.session) if self.full
                           else self.copy.changed(self.session, deltas))
                status, version = await self.store.commit(self.token, Commit(
                    self.lease.lock, self.lease.fence,
                    None if self.full else self.copy.version, self.session.revision, written,
                    [_dumps(d) for d in deltas], release and not keep, self.store.owner,
                    int(self.lease.keep * 1000) if release and keep else 0,
                    answer_key if answer is not None else "",
                    _dumps(answer) if answer is not None and answer_key else ""))
            except Exception as exc:
                status, version = "error", 0
                self._failure = exc
            if release:
                self.lease.released()
            if status == "ok":
                if release and keep:
                    self.lease.kept(sent)
                elif release:
                    self.lease.lock = ""
                self.full = False
                self.copy.stored(self.session, written, version)
                for delta in deltas:
                    self.feed.deliver(delta)
                return
            if self._failure is None:
                self._failure = FencedWriteError(
                    f"session {self.token[:8]}…: this server process lost the session lock "
                    f"({status}: another process took it after it expired), so these changes "
                    "were not stored; the session goes on from what the other process stored. "
                    "Raise lock_expiry if handlers stall for longer than it")
            if release:  # else the handler still runs: undone when its section ends
                self._give_up()

    def _give_up(self) -> None:
        """The section's changes were not stored: undo them here too, and forget the lock."""
        self.lease.released()
        self.lease.kept_until = 0.0
        self.pending.clear()
        self.copy.undo(self.session, self.muted())

    # ----------------------------------------------------------------- reads

    async def catch_up(self, since: int | None = None,
                       listen: bool = False) -> list[Delta] | None:
        """Bring the session up to the stored revision (hold :attr:`section`); return the
        stored deltas after ``since`` when they reach back to it, else ``None``. With
        ``listen``, every delta other processes store from then on is sent to this one."""
        read = await self.store.read(self.token, self.copy.version, since,
                                     self.store.owner if listen else "")
        if read.rev >= 0 and read.version != self.copy.version:
            self.pending.clear()
            self.copy.refresh(self.session, read.states, read.rev, read.version, self.muted())
            self.full = False
        if since is None:
            return None
        if since == self.session.revision:
            return []
        deltas: list[Delta] = read.deltas  # type: ignore[assignment]
        if deltas and deltas[0]["rev"] == since + 1 and deltas[-1]["rev"] == read.rev:
            return deltas
        return None

    async def missed(self, since: int) -> tuple[list[Delta], dict[str, Any] | None, int]:
        """For the feed: the stored deltas after ``since``, or a snapshot."""
        async with self.section:
            deltas = await self.catch_up(since)
            if deltas is not None:
                return deltas, None, self.session.revision
            return [], self.session.snapshot(), self.session.revision

    async def create(self) -> None:
        """Store a new session (every state), so any process can find its token."""
        async with self.section:
            await self.enter()
            failure = await self.leave()
        if failure is not None:
            raise failure

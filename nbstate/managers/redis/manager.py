"""The Redis manager: sessions shared by every server process that names the same Redis.

Each process keeps the sessions it served (its cache, expiring when idle like the memory
manager's) and Redis holds the truth (layout: :mod:`.scripts`). Round trips per event: one when
this process served the session within the last ``keep`` seconds (it kept the lock; the write
that stores the event keeps it again), two otherwise (take the lock, learn the stored revision
and read the states other processes changed, all in one; then store, publish and release), and
three when another process keeps the lock (it is asked to release it in the first round trip).
A message with a ``client`` stamp always asks Redis first, where its answer may be stored
(:mod:`.inbox`). A client may connect to any process, move to another, and go on with its
token and revision; deltas made anywhere reach it in revision order (:mod:`.delivery`).

A process that dies holding a lock holds up its sessions until the lock expires
(``lock_expiry``, 10 s by default); a stalled one that comes back finds its writes refused
(fenced) and goes on from what is stored.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ...eager import start_eagerly
from ...listeners import Listener
from ...protocol import Delta
from ...session import Session
from ..base import Entry, StateManager, valid_token
from .delivery import Delivery
from .inbox import RedisInbox
from .locks import BlockLock
from .store import Store
from .sync import SessionSync

__all__ = ["RedisManager"]

_OPTIONS = {"ttl": "seconds", "lock_expiry": "seconds", "lock_wait": "seconds", "keep": "seconds",
            "timeout": "seconds", "history_bytes": "bytes", "answers": "answers"}


class RedisManager(StateManager):
    """Sessions stored in Redis at ``url``, shared by every process that uses it.

    Args:
        url: ``redis://host:port/db`` (``rediss://`` for TLS; ``redis://:password@host``).
        ttl: seconds a session lives in Redis after its last write, and an idle one in this
            process's cache.
        flush_interval: the sessions' flush interval, seconds.
        lock_expiry: seconds a session lock lives unless renewed; it is renewed every third of
            that while a handler runs, so only a process that stalls (or died) loses it.
        lock_wait: seconds an event waits for a lock another process holds before it is
            answered with :class:`~nbstate.managers.redis.SessionBusyError`.
        history_bytes: bytes of recent deltas kept in Redis per session, for clients that
            reconnect to any process.
        answers: answered messages remembered per session, for resends (see :mod:`.inbox`).
        prefix: the first part of every key.
        timeout: seconds to wait for Redis before an event gets
            :class:`~nbstate.managers.redis.RedisUnavailableError`.
        keep: seconds this process keeps a session's lock after serving it (at most half of
            ``lock_expiry``), so its next event there needs one round trip; another process
            that wants the lock asks for it and gets it at once (see :mod:`.lease`). ``0``
            releases it after every event.
    """

    stores = False  # every section stores itself; the host's per-delta saver is not needed

    def __init__(self, url: str, *, ttl: float = 3600.0, flush_interval: float = 1 / 60,
                 lock_expiry: float = 10.0, lock_wait: float = 60.0,
                 history_bytes: int = 1 << 20, answers: int = 1024, prefix: str = "nbstate",
                 timeout: float = 5.0, keep: float = 1.0) -> None:
        super().__init__(ttl=ttl, flush_interval=flush_interval)
        self.url = url
        self.lock_wait = lock_wait
        self.keep = keep
        self.store = Store(url, prefix=prefix, ttl=ttl, lock_expiry=lock_expiry,
                           history_bytes=history_bytes, answers=answers, timeout=timeout)
        self.delivery = Delivery(self.store, self.store.owner)
        self._syncs: dict[str, SessionSync] = {}

    @classmethod
    def from_url(cls, url: str) -> RedisManager:
        """A manager from a URL whose query may also set this manager's options:
        ``redis://127.0.0.1:6379/0?lock_expiry=2&lock_wait=30&ttl=600`` (seconds). Other
        query parameters are redis-py's.

        Raises:
            ValueError: an option that is not a positive number.
        """
        parts = urlsplit(url)
        ours: dict[str, float] = {}
        theirs = []
        for name, value in parse_qsl(parts.query, keep_blank_values=True):
            if name in _OPTIONS:
                try:
                    ours[name] = float(value)
                except ValueError:
                    ours[name] = -1.0
                if not (ours[name] > 0 or (name == "keep" and ours[name] == 0)):
                    raise ValueError(f"{name}={value!r} in {url!r}: give a positive number of "
                                     f"{_OPTIONS[name]}")
            else:
                theirs.append((name, value))
        plain = urlunsplit(parts._replace(query=urlencode(theirs)))
        options: dict[str, Any] = dict(ours)
        for name in ("history_bytes", "answers"):
            if name in options:
                options[name] = int(options[name])
        return cls(plain, **options)

    def sync(self, token: str) -> SessionSync:
        """The sync of a session this process holds (tests and benchmarks read it)."""
        return self._syncs[token]

    def _session(self, token: str) -> Session:
        session = super()._session(token)
        sync = self._syncs[token] = SessionSync(self.store, token, session, self.lock_wait,
                                                self.keep)
        session.use_lock(BlockLock(sync))
        return session

    def _entry(self, token: str, session: Session) -> Entry:
        # eagerly, as every manager's inbox: a handler that never waits answers at once
        return Entry(session, RedisInbox(
            session, self._syncs[token],
            lambda coro: start_eagerly(asyncio.get_running_loop(), coro)))

    async def open(self, token: str | None, prepare: Any) -> tuple[str, Entry]:
        """See :meth:`StateManager.open`; a new session is stored before this returns.

        Raises:
            RedisUnavailableError: Redis did not answer.
        """
        await self.delivery.start(self._asked)
        token, entry = await super().open(token, prepare)
        sync = self._syncs[token]
        if sync.copy.version < 0:
            try:
                await sync.create()
            except BaseException:
                self.release(token)
                raise
        return token, entry

    async def load(self, token: str) -> Session | None:
        """The stored session of ``token`` (one round trip), or ``None``.

        A var that no longer validates starts from its default and is reported once
        (:class:`~nbstate.StateMigrationWarning`); a state class that is gone is left out.
        """
        if not valid_token(token):
            return None
        read = await self.store.read(token)
        if read.rev < 0:
            return None
        session = self._session(token)
        sync = self._syncs[token]
        sync.copy.refresh(session, read.states, read.rev, read.version, sync.muted())
        sync.full = False
        return session

    async def attach(self, token: str, entry: Entry, listener: Listener,
                     rev: int | None) -> tuple[int, list[Delta] | None, dict[str, Any] | None]:
        """See :meth:`StateManager.attach`: the missed deltas come from Redis, made by any
        process; the session is first brought up to the stored revision.

        Raises:
            RedisUnavailableError: Redis did not answer.
        """
        sync = self._syncs[token]
        self.delivery.register(token, sync.feed)
        async with sync.section:
            missed = await sync.catch_up(rev if type(rev) is int else None, listen=True)
            session = entry.session
            document = session.snapshot() if missed is None else None
            sync.feed.add(listener, session.revision)
            return session.revision, missed, document

    def _asked(self, token: str) -> None:
        sync = self._syncs.get(token)
        if sync is not None:
            sync.lease.ask()

    def detach(self, token: str, entry: Entry, listener: Listener) -> None:
        sync = self._syncs.get(token)
        if sync is None:
            return
        sync.feed.remove(listener)
        if not sync.feed.listeners:
            self.delivery.unregister(token)

    def _drop(self, token: str, entry: Entry) -> None:
        super()._drop(token, entry)
        sync = self._syncs.pop(token, None)
        if sync is not None:
            sync.lease.released()
            self.delivery.unregister(token)

    async def aclose(self) -> None:
        await super().aclose()
        for sync in self._syncs.values():
            await sync.lease.aclose()
        self._syncs.clear()
        await self.delivery.aclose()
        await self.store.aclose()

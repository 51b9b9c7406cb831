"""The per-token lock a server process holds while it changes a session.

A lease is taken in one round trip (the same Lua call reads the stored revision and the states
other processes wrote since this process's copy, and whether a resent message was already
answered), renewed every third of its expiry while held (a handler that runs for minutes keeps
it), and released (or kept, below) by the write that stores the session's changes. Its fencing
token makes a write after the lease was lost fail rather than overwrite newer state.

Inside one process, a token's sections (an event, an ``async with self`` block) take turns on
an ``asyncio.Lock`` first, so at most one section per process asks Redis for the lock.

**Kept locks.** A process that just served a session keeps its lock for ``keep`` seconds (at
most half the lock's expiry; the write that ends the section sets that expiry in Redis), and
takes it for granted for 90 % of that, counted from when the write was sent, so it is surely
still held: the next section in that time needs no round trip to take it, and no other process
can have changed the session meanwhile; afterwards the lock expires by itself. A process that
finds the lock taken asks its owner (named in the lock's value) to release it, on the owner's
channel, in the same round trip; an owner that only keeps the lock releases it at once, and
keeps no lock of that session for a second, so two processes serving one session take turns
without waiting. A message whose answer may be stored already (one with a ``client`` stamp)
always asks Redis, which knows the answer. A section that starts on a kept lock renews it
halfway to the end of the keep time, so a long handler keeps it there too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from .errors import SessionBusyError
from .store import Acquired, Store

__all__ = ["Lease"]

log = logging.getLogger("nbstate.redis")

_tasks: set[asyncio.Task[None]] = set()


class Lease:
    """The lock of one token, as held by this process.

    Args:
        store: the Redis store.
        token: the session's token.
        wait: seconds to wait for a lock another process holds before giving up.
    """

    def __init__(self, store: Store, token: str, wait: float, keep: float = 0.0) -> None:
        self.store = store
        self.token = token
        self.wait = wait
        self.keep = min(keep, store.lock_ms / 2000)
        self.kept_until = 0.0
        """Until when (monotonic seconds) the lock is surely this process's between sections."""
        self._quiet_until = 0.0
        self._asked = False
        self.section = asyncio.Lock()
        self.fence = 0
        self.lock = ""
        self.held = False
        self.lost = False
        self._renewer: asyncio.Task[None] | None = None
        self._due: asyncio.TimerHandle | None = None

    async def take(self, cached_version: int, answer_key: str = "") -> Acquired:
        """Take the lock (call while holding :attr:`section`); retried while another process
        holds it, up to :attr:`wait` seconds.

        Returns ``"kept"`` (this process kept it: no round trip), or what the store answered:
        ``"ok"`` (held now) or ``"answered"`` (not taken).

        Raises:
            SessionBusyError: the lock stayed taken for :attr:`wait` seconds.
            RedisUnavailableError: Redis did not answer.
        """
        now = time.monotonic()
        if not answer_key and now < self.kept_until:
            # Redis lets the kept lock go at the end of the keep time: renew well before that
            self._hold((self.kept_until - now) / 2)
            return Acquired("kept", fence=self.fence, version=cached_version)
        deadline = now + self.wait
        pause = 0.0005
        while True:
            got = await self.store.acquire(self.token, self.store.owner, cached_version, answer_key,
                                           self.lock)
            if got.status != "busy":
                break
            left = deadline - time.monotonic()
            if left <= 0:
                raise SessionBusyError(
                    f"session {self.token[:8]}… stayed locked by another server process for "
                    f"{self.wait:g} s (a handler still running there, or a process that died "
                    "holding the lock, which expires by itself); send the event again later")
            await asyncio.sleep(min(pause, left, max(got.wait, 1) / 1000))
            pause = min(pause * 2, 0.05)
        if got.status == "ok":
            self.fence, self.lock = got.fence, f"{self.store.owner} {got.fence}"
            self._hold()
        return got

    def _hold(self, first: float | None = None) -> None:
        self.held, self.lost, self.kept_until = True, False, 0.0
        # a timer, not a task: most sections end long before the first renewal is due
        self._due = asyncio.get_running_loop().call_later(
            self.store.lock_ms / 3000 if first is None else first, self._start_renewing)

    def keeping(self) -> bool:
        """Whether the write that ends this section should keep the lock (not release it)."""
        return self.keep > 0 and not self._asked and time.monotonic() >= self._quiet_until

    def kept(self, since: float) -> None:
        """The section's write kept the lock for :attr:`keep` seconds in Redis; it was sent at
        ``since`` (monotonic), so it surely holds until a little before ``since + keep``."""
        self.kept_until = since + self.keep * 0.9

    def ask(self) -> None:
        """Another process wants the lock: release it if only kept, else when the section
        ends; keep none for a second."""
        self._quiet_until = time.monotonic() + 1.0
        if self.held:
            self._asked = True
        elif self.lock and not self.section.locked():  # kept (or lapsed here, not in Redis)
            self.kept_until = 0.0
            task = asyncio.get_running_loop().create_task(self._release())
            _tasks.add(task)
            task.add_done_callback(_tasks.discard)

    async def _release(self) -> None:
        async with self.section:
            if self.held or not self.lock:
                return
            lock, self.lock = self.lock, ""
            try:
                await self.store.release(self.token, lock)
            except Exception as exc:  # it expires by itself
                log.warning("nbstate: could not release a session lock: %s", exc)

    def released(self) -> None:
        """The section ended: its write released the lock (or kept it), or it was given up."""
        self._asked = False
        self.held = False
        if self._due is not None:
            self._due.cancel()
            self._due = None
        if self._renewer is not None:
            self._renewer.cancel()
            self._renewer = None

    def _start_renewing(self) -> None:
        self._due = None
        if self.held:
            self._renewer = asyncio.get_running_loop().create_task(self._renew())

    async def _renew(self) -> None:
        period = self.store.lock_ms / 3000
        first = True
        while self.held:
            if not first:
                await asyncio.sleep(period)
            first = False
            if not self.held:
                return
            try:
                if not await self.store.renew(self.token, self.lock):
                    self.lost = True
                    log.warning("nbstate: the lock of session %s… expired before it could be "
                                "renewed; this process's next write of it will be refused",
                                self.token[:8])
                    return
            except Exception as exc:  # Redis away: keep trying while the section lasts
                log.warning("nbstate: could not renew a session lock: %s", exc)

    async def aclose(self) -> None:
        renewer, self._renewer = self._renewer, None
        self.released()
        if self.kept_until > time.monotonic() and self.lock:  # let others have it at once
            self.kept_until = 0.0
            with contextlib.suppress(Exception):
                await self.store.release(self.token, self.lock)
        if renewer is not None:
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer

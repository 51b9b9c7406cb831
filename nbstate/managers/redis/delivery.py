"""Deltas to this process's clients, in revision order, wherever they were made.

Each process listens on one pub/sub channel of its own (``nbstate:owner:<owner>``, see
:mod:`.scripts`). A process that has clients of a session is in that session's ``procs`` set
(added by the read that catches it up when a client attaches, so nothing falls between the two),
and the Lua call that stores a delta publishes it to every other process in the set, in the
same call: channel order is revision order, and a process is never sent back its own deltas
(it hands them to its clients itself, once stored). Each client's :class:`Feed` entry remembers
the last revision it was sent: a delta it already has is skipped, the next one is sent, and one
further ahead reveals a gap (messages lost while the pub/sub connection was down): the feed then
asks for the missing revisions from the stored deltas, and sends a snapshot where they are no
longer held. When the pub/sub connection comes back, every feed asks too.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from redis.asyncio.client import PubSub

from ...listeners import Listener
from ...protocol import Delta, ErrorInfo
from .store import Store

__all__ = ["Delivery", "Feed"]

log = logging.getLogger("nbstate.redis")

Missed = Callable[[int], Awaitable[tuple[list[Delta], dict[str, Any] | None, int]]]
"""``missed(since)``: the stored deltas after ``since``, and a snapshot with its revision
(``None`` when the deltas reach back far enough)."""


class Feed:
    """The listeners (client connections) of one token in this process."""

    def __init__(self, missed: Missed) -> None:
        self._missed = missed
        self.listeners: dict[Listener, int] = {}
        self._filling: asyncio.Task[None] | None = None

    def add(self, listener: Listener, revision: int) -> None:
        """Send ``listener`` every delta after ``revision`` (it holds that revision)."""
        self.listeners[listener] = revision

    def remove(self, listener: Listener) -> None:
        self.listeners.pop(listener, None)

    def deliver(self, delta: Delta) -> None:
        """A stored delta: to every listener for which it is the next revision."""
        gap = False
        for listener, last in list(self.listeners.items()):
            if delta["rev"] == last + 1:
                self.listeners[listener] = delta["rev"]
                _send(listener, delta)
            elif delta["rev"] > last + 1:
                gap = True
        if gap:
            self.check()

    def report(self, error: ErrorInfo) -> None:
        for listener in list(self.listeners):
            with contextlib.suppress(Exception):
                listener.on_error(error)

    def check(self) -> None:
        """Catch every listener up from the stored deltas (after a gap or a reconnect)."""
        if self.listeners and (self._filling is None or self._filling.done()):
            self._filling = asyncio.get_running_loop().create_task(self._fill())

    async def _fill(self) -> None:
        since = min(self.listeners.values(), default=0)
        try:
            deltas, document, revision = await self._missed(since)
        except Exception as exc:
            log.warning("nbstate: could not fetch missed deltas: %s", exc)
            return
        for delta in deltas:
            for listener, last in list(self.listeners.items()):
                if delta["rev"] == last + 1:
                    self.listeners[listener] = delta["rev"]
                    _send(listener, delta)
        if document is None:
            return
        for listener, last in list(self.listeners.items()):
            if last < revision:  # behind what is still held: a snapshot
                self.listeners[listener] = revision
                with contextlib.suppress(Exception):
                    listener.resync(document, revision)


def _send(listener: Listener, delta: Delta) -> None:
    try:
        listener.on_delta(delta)
    except Exception:
        log.exception("nbstate: a transport failed to send revision %d", delta["rev"])


class Delivery:
    """This process's pub/sub channel and the feeds of the tokens it has clients for."""

    def __init__(self, store: Store, owner: str) -> None:
        self.store = store
        self.owner = owner
        self.feeds: dict[str, Feed] = {}
        self._channel = store.owner_channel(owner)
        self._pubsub: PubSub | None = None
        self._reader: asyncio.Task[None] | None = None
        self._asked: Callable[[str], None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self, asked: Callable[[str], None]) -> None:
        """Listen (once): deltas go to the feeds, release requests to ``asked(token)``.

        Raises:
            RedisUnavailableError: Redis did not answer.
        """
        if self._pubsub is not None:
            return
        self._asked = asked
        pubsub = self.store.client.pubsub(ignore_subscribe_messages=True)
        await self.store.guard(pubsub.subscribe(self._channel))
        self._pubsub = pubsub
        self._reader = asyncio.get_running_loop().create_task(self._read(pubsub))

    def register(self, token: str, feed: Feed) -> None:
        """Hand ``token``'s deltas to ``feed`` (the read that attaches a client adds this
        process to the session's ``procs``)."""
        self.feeds[token] = feed

    def unregister(self, token: str) -> None:
        """No client of ``token`` is left in this process: stop its deltas."""
        if self.feeds.pop(token, None) is not None:
            task = asyncio.get_running_loop().create_task(self._unlisten(token))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _unlisten(self, token: str) -> None:
        if token not in self.feeds:  # not if a client of it came back meanwhile
            with contextlib.suppress(Exception):
                await self.store.unlisten(token, self.owner)

    async def _read(self, pubsub: PubSub) -> None:
        broken = False
        while True:
            try:
                if broken:  # Redis is back: listen again, then fetch what was missed
                    await pubsub.subscribe(self._channel)
                    broken = False
                    for feed in list(self.feeds.values()):
                        feed.check()
                async for message in pubsub.listen():  # blocks: no wake-up without a message
                    if message.get("type") == "message":
                        self._take(message["data"])
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if not broken:
                    log.warning("nbstate: lost the Redis pub/sub connection (%s); retrying", exc)
                broken = True
                await asyncio.sleep(0.2)

    def _take(self, data: Any) -> None:
        text = data.decode() if isinstance(data, bytes) else str(data)
        head, _, rest = text.partition(" ")
        if head == "release":
            if self._asked is not None:
                self._asked(rest)
            return
        feed = self.feeds.get(head)
        if feed is not None:
            feed.deliver(json.loads(rest))

    async def aclose(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(BaseException):
                await self._reader
        if self._pubsub is not None:
            with contextlib.suppress(Exception):
                await self._pubsub.aclose()  # type: ignore[no-untyped-call]
        for token in list(self.feeds):
            with contextlib.suppress(Exception):
                await self.store.unlisten(token, self.owner)
        self.feeds.clear()

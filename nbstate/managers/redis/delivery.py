"""Deltas to this process's clients, in revision order, wherever they were made.

A process subscribes to the channel ``nbstate:{T}:live`` of each token it has clients for
(one pub/sub connection for all). A delta stored by any process (this one included: its own
come back and are skipped) is published by the same Lua call that stored it, so channel order
is revision order. Each client's :class:`Feed` entry remembers the last revision it was sent:
a delta it already has is skipped, the next one is sent, and one further ahead reveals a gap
(messages lost while the pub/sub connection was down): the feed then asks for the missing
revisions from the stored deltas, and sends a snapshot where they are no longer held.
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

    def has(self, revision: int) -> bool:
        """Whether every listener already holds ``revision``."""
        return all(last >= revision for last in self.listeners.values())

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


async def _quietly(call: Awaitable[Any]) -> None:
    with contextlib.suppress(Exception):
        await call


class Delivery:
    """This process's pub/sub connection and the feeds of the tokens it has clients for."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.feeds: dict[str, Feed] = {}
        self._pubsub: PubSub | None = None
        self._reader: asyncio.Task[None] | None = None
        self._confirmed: dict[str, asyncio.Future[None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._owner: str | None = None
        self._asked: Callable[[str], None] | None = None

    def _channel(self, token: str) -> str:
        return self.store.keys(token).channel

    async def listen_owner(self, owner: str, asked: Callable[[str], None]) -> None:
        """Call ``asked(token)`` when another process asks ``owner`` to release a lock."""
        if self._owner is not None:
            return
        self._owner, self._asked = self.store.owner_channel(owner), asked
        if self._pubsub is None:
            self._pubsub = self.store.client.pubsub()
        try:
            await self.store.guard(self._pubsub.subscribe(self._owner))
        except BaseException:
            self._owner = None
            raise
        if self._reader is None or self._reader.done():
            self._reader = asyncio.get_running_loop().create_task(self._read())

    async def subscribe(self, token: str, feed: Feed) -> None:
        """Receive ``token``'s deltas into ``feed`` (returns once Redis confirmed).

        Raises:
            RedisUnavailableError: Redis did not answer.
        """
        if self.feeds.get(token) is feed:
            return
        self.feeds[token] = feed
        channel = self._channel(token)
        if self._pubsub is None:
            self._pubsub = self.store.client.pubsub()
        confirmed = self._confirmed[channel] = asyncio.get_running_loop().create_future()
        try:
            await self.store.guard(self._pubsub.subscribe(channel))
            if self._reader is None or self._reader.done():
                self._reader = asyncio.get_running_loop().create_task(self._read())
            await asyncio.wait_for(asyncio.shield(confirmed), 10)
        except BaseException:
            self.feeds.pop(token, None)
            self._confirmed.pop(channel, None)
            raise

    def unsubscribe(self, token: str) -> None:
        """No client of ``token`` is left in this process."""
        if self.feeds.pop(token, None) is not None and self._pubsub is not None:
            pubsub = self._pubsub
            task = asyncio.get_running_loop().create_task(self._unsubscribe(pubsub, token))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _unsubscribe(self, pubsub: PubSub, token: str) -> None:
        if token not in self.feeds:  # not if a client of it came back meanwhile
            await _quietly(pubsub.unsubscribe(self._channel(token)))

    async def _read(self) -> None:
        assert self._pubsub is not None
        pubsub = self._pubsub
        broken = False
        while True:
            try:
                message = await pubsub.get_message(timeout=1.0)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if not broken:
                    log.warning("nbstate: lost the Redis pub/sub connection (%s); retrying", exc)
                broken = True
                await asyncio.sleep(0.2)
                with contextlib.suppress(Exception):
                    if pubsub.channels:
                        await pubsub.subscribe(*pubsub.channels)  # after Redis came back
                continue
            if broken:
                broken = False
                for feed in list(self.feeds.values()):
                    feed.check()  # what was published while away
            if message is not None:
                self._take(message)

    def _take(self, message: dict[str, Any]) -> None:
        channel = message.get("channel")
        if isinstance(channel, bytes):
            channel = channel.decode()
        kind = message.get("type")
        if kind == "subscribe":
            confirmed = self._confirmed.pop(str(channel), None)
            if confirmed is not None and not confirmed.done():
                confirmed.set_result(None)
            return
        if kind != "message":
            return
        if channel == self._owner and self._asked is not None:
            data = message["data"]
            self._asked(data.decode() if isinstance(data, bytes) else str(data))
            return
        token = str(channel).split("{", 1)[-1].split("}", 1)[0]
        feed = self.feeds.get(token)
        if feed is not None:
            data = message["data"]
            if data.startswith('{"rev":') and feed.has(int(data[7:data.index(",")])):
                return  # this process's own delta, back from the channel: nothing to parse
            feed.deliver(json.loads(data))

    async def aclose(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(BaseException):
                await self._reader
        if self._pubsub is not None:
            with contextlib.suppress(Exception):
                await self._pubsub.aclose()  # type: ignore[no-untyped-call]
        self.feeds.clear()

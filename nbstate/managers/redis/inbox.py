"""Client messages of a Redis-stored session, each one section.

**Answers are stored with the state.** Each message runs as one section (:mod:`.sync`): its
``done`` or ``error`` is held until the states it changed are stored, and is stored in the same
Lua call, under ``"<client>/<id>"`` when the message carries a ``client`` stamp. A client that
lost its connection resends what got no answer, to any process, with the same ``client``, ``id``
and ``seq``: the round trip that takes the lock finds the stored answer and sends it again
instead of running the message twice. So every message with a ``client`` stamp is applied at
most once, and once it was answered ``done`` it is stored. Messages without the stamp (the
bundled page sends none) are not deduplicated. The last ``answers`` (1024 by default) answers
per session are remembered.

A client's ``seq`` order starts again with each connection: the first ``seq`` a connection
brings is the next one expected. The messages before it went to another process, or over a
connection that closed (the client resends those that got no answer; any still waiting here
run at once), so a client that moves between processes does not wait for them.

Background handlers and events run some other way than by a client message: see
:mod:`.locks`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from ...events import error_info
from ...inbox import Inbox, Message
from ...session import Session
from .sync import SessionSync

__all__ = ["RedisInbox", "answer_key"]


def answer_key(content: Any) -> str:
    """``"<client>/<id>"`` for a message whose answer is stored, else ``""``."""
    if isinstance(content, dict):
        client, msg_id = content.get("client"), content.get("id")
        if isinstance(client, str) and type(msg_id) is int:
            return f"{client}/{msg_id}"
    return ""


class RedisInbox(Inbox):
    """The inbox of a Redis-stored session (see the module docstring)."""

    def __init__(self, session: Session, sync: SessionSync,
                 start: Callable[[Any], Any] | None = None) -> None:
        super().__init__(session, start)
        self.sync = sync
        self._via: dict[str, Callable[[dict[str, Any]], None]] = {}

    def receive(self, reply: Callable[[dict[str, Any]], None], path: str, content: Any) -> None:
        if isinstance(content, dict):
            client, seq = content.get("client"), content.get("seq")
            if isinstance(client, str) and type(seq) is int and seq >= 1 and (
                    self._via.get(client) != reply):
                self._restart(client, seq, reply)
        super().receive(reply, path, content)

    def _restart(self, client: str, seq: int, reply: Callable[[dict[str, Any]], None]) -> None:
        self.restart(client, seq)
        self._via[client] = reply
        if len(self._via) > 2 * self.clients + 16:
            self._via = {c: r for c, r in self._via.items() if self.follows(c)}

    async def run(self, message: Message) -> None:
        content = message.content
        msg_id = content.get("id")
        key = answer_key(content)
        held: list[dict[str, Any]] = []
        failure: BaseException | None = None
        async with self.sync.section:
            try:
                got = await self.sync.enter(key)
            except Exception as exc:  # Redis away, the lock held elsewhere too long
                _reply(message, {"type": "error", "id": msg_id,
                                 "error": error_info(_name(message), exc)}, ok=False)
                return
            if got.status == "answered" and got.answer is not None:
                _reply(message, {**got.answer, "id": msg_id}, ok=got.answer["type"] == "done")
                return
            self.sync.runner = asyncio.current_task()  # its events are inside this section
            try:
                await super().run(Message(held.append, message.path, content))
            finally:
                self.sync.runner = None
                own = [f for f in held if f.get("id") == msg_id and msg_id is not None]
                failure = await self.sync.leave(key if own else "", own[-1] if own else None)
        for frame in held:
            if failure is not None and frame.get("id") == msg_id:
                frame = {"type": "error", "id": msg_id,
                         "error": error_info(_name(message), failure)}
            _reply(message, frame, ok=frame["type"] == "done")
        if not held and message.settle is not None:
            message.settle(failure is None)


def _name(message: Message) -> str:
    handler = message.content.get("handler") or message.content.get("var")
    return f"{message.path}.{handler}" if isinstance(handler, str) else message.path


def _reply(message: Message, frame: dict[str, Any], ok: bool) -> None:
    if message.settle is not None and frame.get("id") == message.content.get("id"):
        message.settle(ok)
        if ok:
            return
    with contextlib.suppress(Exception):  # the client is gone; a resend gets the stored answer
        message.reply(frame)

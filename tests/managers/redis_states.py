"""States and helpers the Redis manager's tests share (their paths start with ``rd_``)."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator
from typing import Any

import nbstate as ns
from nbstate.managers.base import Entry

from .conftest import Frames


class RdCounter(ns.State):
    n: int = 0
    applied: list[int] = []
    label: str = ""
    _calls: int = 0

    def inc(self, k: int = 0) -> None:
        self.n += 1
        self.applied.append(k)

    def touch(self) -> None:
        self._calls += 1  # a backend var only: no delta, still stored

    async def slow(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
        self.n += 100

    async def save(self) -> AsyncIterator[None]:
        self.label = "saving"
        yield  # stored and sent now, before the handler ends
        await asyncio.sleep(0.5)
        self.label = "saved"

    @ns.event(background=True)
    async def later(self) -> Any:
        await asyncio.sleep(0.01)
        return RdCounter.inc(k=77)  # type: ignore[call-arg]  # chained: a section of its own

    @ns.event(background=True)
    async def feed(self, count: int) -> None:
        for i in range(count):
            async with self:
                self.applied.append(1000 + i)
            await asyncio.sleep(0.01)


class RdDouble(RdCounter):
    @ns.computed
    def twice(self) -> int:
        return self.n * 2


def prepare(session: ns.Session) -> None:
    session.get_state(RdCounter)


_ids = itertools.count(1)


async def send(entry: Entry, frames: Frames, handler: str, payload: Any = None, *,
               client: str | None = None, seq: int | None = None, msg_id: int | None = None,
               timeout: float = 20.0) -> dict[str, Any]:
    """Send one event to ``rd_counter`` and wait for its answer."""
    msg_id = next(_ids) if msg_id is None else msg_id
    content: dict[str, Any] = {"type": "event", "id": msg_id, "handler": handler,
                               "payload": payload or {}}
    if client is not None:
        content.update(client=client, seq=seq or msg_id)
    entry.inbox.receive(frames.reply, "rd_counter", content)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for answer in frames.answers:
            if answer.get("id") == msg_id:
                frames.answers.remove(answer)
                return answer
        await asyncio.sleep(0.005)
    raise AssertionError(f"no answer to {handler} (id {msg_id}) in {timeout} s")

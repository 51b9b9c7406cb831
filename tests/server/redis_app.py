"""The app the Redis manager's server tests serve in several processes at once."""

from __future__ import annotations

import asyncio

import nbstate as ns


class RsCounter(ns.State):
    n: int = 0
    applied: list[int] = []

    def inc(self, k: int) -> None:
        self.n += 1
        self.applied.append(k)

    async def slow(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
        self.n += 100

    @ns.event(background=True)
    async def feed(self, count: int) -> None:
        for i in range(count):
            async with self:
                self.applied.append(1000 + i)
            await asyncio.sleep(0.02)

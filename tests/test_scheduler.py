"""The flush scheduler: at once when due, coalesced otherwise, never while the lock is held."""

from __future__ import annotations

import asyncio

from nbstate import context
from nbstate.scheduler import FlushScheduler


class Fake:
    def __init__(self, interval: float) -> None:
        self.flushes: list[int | None] = []
        self.size = 0
        self.busy = False
        self.scheduler = FlushScheduler(interval, self)

    def flush(self, upto: int | None = None) -> None:
        self.flushes.append(upto)
        self.scheduler.flushed(upto)

    def _log_size(self) -> int:
        return self.size

    def _busy(self) -> bool:
        return self.busy


async def test_a_yield_flushes_when_due_and_defers_to_a_cut_otherwise() -> None:
    fake = Fake(interval=0.05)
    fake.scheduler.yield_point()
    assert fake.flushes == [None]  # the first is due at once
    fake.size = 3
    fake.scheduler.yield_point()
    fake.size = 5
    fake.scheduler.yield_point()  # one timer, the cut moves on
    assert fake.flushes == [None] and fake.scheduler.cut == 5
    await asyncio.sleep(0.08)
    assert fake.flushes == [None, 5] and fake.scheduler.cut is None


def test_a_partial_flush_moves_the_cut() -> None:
    fake = Fake(interval=10)
    fake.scheduler.cut = 5
    fake.scheduler.flushed(2)
    assert fake.scheduler.cut == 3
    fake.scheduler.flushed(3)
    assert fake.scheduler.cut is None


async def test_free_changes_flush_once_the_loop_is_free() -> None:
    fake = Fake(interval=10)
    fake.scheduler.flushed(None)  # a flush just happened: the next one is not due
    fake.scheduler.free_change()
    fake.scheduler.free_change()
    assert fake.flushes == []
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert fake.flushes == [None]  # one, not two


def test_no_flush_while_a_handler_holds_the_lock() -> None:
    fake = Fake(interval=0)
    fake.busy = True
    fake.scheduler.flush_if_idle()
    assert fake.flushes == []
    fake.busy = False
    token = context.mode.set("handler")
    try:
        fake.scheduler.flush_if_idle()
    finally:
        context.mode.reset(token)
    assert fake.flushes == []
    fake.scheduler.flush_if_idle("ipython", "passes", "arguments")
    assert fake.flushes == [None]

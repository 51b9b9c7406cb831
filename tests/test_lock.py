"""The session lock: per loop, and the background blocks."""

from __future__ import annotations

import asyncio

import pytest

import nbstate as ns
from nbstate import context
from nbstate.lock import SessionLock


class LkState(ns.State):
    n: int = 0


def test_one_lock_per_loop() -> None:
    lock = SessionLock()

    async def get() -> asyncio.Lock:
        return lock.get()

    first, second = asyncio.run(get()), asyncio.run(get())
    assert first is not second  # an asyncio.Lock belongs to one loop
    assert not lock.locked()


async def test_a_block_holds_the_lock_until_it_is_left() -> None:
    lock = SessionLock()
    state = ns.Session().get_state(LkState)
    token = context.mode.set("background")
    try:
        await lock.enter_block(state)
        assert lock.locked() and context.mode.get() == "locked"
        settled: list[str] = []
        lock.exit_block(lambda: settled.append("flushed"))
        assert settled == ["flushed"] and not lock.locked()
        assert context.mode.get() == "background"
    finally:
        context.mode.reset(token)


async def test_the_lock_is_released_when_settling_fails() -> None:
    lock = SessionLock()
    state = ns.Session().get_state(LkState)
    token = context.mode.set("background")
    try:
        await lock.enter_block(state)

        def fail() -> None:
            raise ns.ComputedVarError("x")

        with pytest.raises(ns.ComputedVarError):
            lock.exit_block(fail)
        assert not lock.locked()
    finally:
        context.mode.reset(token)


@pytest.mark.parametrize(("mode", "words"), [(None, "for background handlers"),
                                              ("handler", "for background handlers"),
                                              ("locked", "nested")])
async def test_a_block_outside_a_background_handler_is_refused(mode: str | None,
                                                                 words: str) -> None:
    lock = SessionLock()
    state = ns.Session().get_state(LkState)
    token = context.mode.set(mode)
    try:
        with pytest.raises(ns.BackgroundMutationError, match=words):
            await lock.enter_block(state)
        assert not lock.locked()
    finally:
        context.mode.reset(token)

"""The session lock: renewed while a handler runs, waited for, and fenced once lost."""

from __future__ import annotations

import asyncio
import time

from nbstate.managers.redis import FencedWriteError, RedisManager, SessionBusyError
from nbstate.managers.redis.lease import Lease
from tests.redisserver import RoundTrips

from .conftest import Frames
from .redis_states import RdCounter, prepare, send


async def test_a_handler_longer_than_the_lock_expiry_keeps_the_lock(
        pair: tuple[RedisManager, RedisManager]) -> None:
    # the lock expires after 2 s unless renewed; the handler runs 6.5 s (a one-minute handler
    # is the same case, shorter), while the other process sends an event to the same session
    one, two = pair
    token, entry = await one.open(None, prepare)
    frames = Frames()
    await one.attach(token, entry, frames, None)
    same, other = await two.open(token, prepare)
    other_frames = Frames()
    await two.attach(same, other, other_frames, None)
    started = time.monotonic()
    slow = asyncio.ensure_future(send(entry, frames, "slow", {"seconds": 6.5}))
    await asyncio.sleep(0.3)
    quick = await send(other, other_frames, "inc", {"k": 1})
    waited = time.monotonic() - started
    assert (await slow)["type"] == "done"
    assert quick["type"] == "done" and waited >= 6.5  # it waited for the lock, never took it
    assert other.session.get_state(RdCounter).n == 101  # after the slow one, on its result
    assert other_frames.revs == sorted(other_frames.revs)


async def test_a_lock_held_elsewhere_past_the_wait_is_a_clear_error(
        pair: tuple[RedisManager, RedisManager]) -> None:
    one, two = pair
    token, _ = await one.open(None, prepare)
    holder = Lease(one.store, token, wait=1.0)
    async with holder.section:
        assert (await holder.take(-1)).status == "ok"
        _, other = await two.open(token, prepare)
        other.inbox.sync.lease.wait = 0.3  # type: ignore[attr-defined]
        answer = await send(other, Frames(), "inc", {"k": 1})
        await holder.aclose()
    assert answer["type"] == "error" and answer["error"]["type"] == "SessionBusyError"
    assert "locked by another server process" in answer["error"]["message"]


async def test_a_write_after_the_lock_was_lost_is_refused(
        pair: tuple[RedisManager, RedisManager]) -> None:
    one, two = pair
    token, entry = await one.open(None, prepare)
    frames = Frames()
    await one.attach(token, entry, frames, None)
    sync = one.sync(token)
    running = asyncio.ensure_future(send(entry, frames, "slow", {"seconds": 3.0}))
    await asyncio.sleep(0.2)
    assert sync.lease.held
    sync.lease.released()  # the process stalls: no renewal, the lock expires after 2 s
    sync.lease.held = True
    await asyncio.sleep(2.2)
    _same, other = await two.open(token, prepare)
    theirs = await send(other, Frames(), "inc", {"k": 5})  # takes the expired lock, stores
    assert theirs["type"] == "done"
    mine = await running
    assert mine["type"] == "error" and mine["error"]["type"] == "FencedWriteError"
    assert "lost the session lock" in mine["error"]["message"]
    assert not [d for d in frames.deltas if any("/n" in op["path"] for op in d["ops"])
                and d["ops"][0].get("value") == 100]  # the refused change never reached it
    # the stored state is the other process's; this process goes on from it
    again = await send(entry, frames, "inc", {"k": 6})
    assert again["type"] == "done"
    counter = entry.session.get_state(RdCounter)
    assert counter.n == 2 and counter.applied == [5, 6]
    assert issubclass(FencedWriteError, RuntimeError) and issubclass(SessionBusyError,
                                                                      TimeoutError)


async def test_a_kept_lock_is_released_at_once_when_another_process_asks(
        pair: tuple[RedisManager, RedisManager]) -> None:
    one, two = pair
    token, entry = await one.open(None, prepare)
    await send(entry, Frames(), "inc", {"k": 1})
    assert one.sync(token).lease.kept_until > time.monotonic()  # kept after the event
    _, other = await two.open(token, prepare)
    started = time.monotonic()
    counter = RoundTrips()
    with counter.counting():
        answer = await send(other, Frames(), "inc", {"k": 2})
    assert answer["type"] == "done"
    assert time.monotonic() - started < 0.5  # asked and given, not waited out (2 s expiry)
    # three of the asking process (told busy, takes it, stores) and one of the keeper (release)
    assert counter.count <= 4, counter.count
    assert one.sync(token).lease.kept_until == 0.0
    again = await send(entry, Frames(), "inc", {"k": 3})
    assert again["type"] == "done" and entry.session.get_state(RdCounter).applied == [1, 2, 3]


async def test_events_outside_client_messages_take_the_lock_and_are_stored(
        pair: tuple[RedisManager, RedisManager]) -> None:
    one, two = pair
    token, entry = await one.open(None, prepare)
    assert (await send(entry, Frames(), "later"))["type"] == "done"
    await entry.session.drain()  # the background handler, then the event it chained
    await entry.session.dispatch("rd_counter.inc", {"k": 5})  # server code's own event
    one.release(token)
    _, other = await two.open(token, prepare)
    assert other.session.get_state(RdCounter).applied == [77, 5]  # both stored


async def test_a_long_handler_started_on_a_kept_lock_keeps_it(
        pair: tuple[RedisManager, RedisManager]) -> None:
    # the kept lock lives 1 s in Redis; the handler starts near its end and runs 1.5 s
    one, two = pair
    token, entry = await one.open(None, prepare)
    await send(entry, Frames(), "inc", {"k": 1})
    lease = one.sync(token).lease
    await asyncio.sleep(max(0.0, lease.kept_until - time.monotonic() - 0.05))
    slow = asyncio.ensure_future(send(entry, Frames(), "slow", {"seconds": 1.5}))
    await asyncio.sleep(0.4)  # past the kept lock's end in Redis, unless it was renewed
    _, other = await two.open(token, prepare)
    quick = await send(other, Frames(), "inc", {"k": 2})
    assert (await slow)["type"] == "done"  # not fenced: the lock was renewed in time
    assert quick["type"] == "done"
    assert other.session.get_state(RdCounter).n == 102

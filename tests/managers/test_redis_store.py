"""The stored form in Redis: readable keys of JSON, only what changed written, round trips."""

from __future__ import annotations

import asyncio
import json

import redis.asyncio as aioredis

from nbstate.managers.redis import RedisManager
from tests.redisserver import RedisServer, RoundTrips

from .conftest import Frames
from .redis_states import RdCounter, prepare, send


async def test_the_stored_form_is_readable_json_with_an_expiry(
        redis: RedisServer, pair: tuple[RedisManager, RedisManager]) -> None:
    one, _ = pair
    token, entry = await one.open(None, prepare)
    frames = Frames()
    await one.attach(token, entry, frames, None)
    assert (await send(entry, frames, "inc", {"k": 7}))["type"] == "done"
    await send(entry, frames, "touch")
    raw = aioredis.Redis.from_url(redis.url, decode_responses=True)
    prefix = f"{one.store.prefix}:{{{token}}}"
    try:
        states = await raw.hgetall(f"{prefix}:states")
        assert json.loads(states["rd_counter"]) == {"n": 1, "applied": [7], "label": "",
                                                    "_calls": 1}
        assert json.loads(states["rd_counter.rd_double"]) == {}  # computed vars: not stored
        meta = await raw.hgetall(f"{prefix}:meta")
        assert meta["rev"] == str(entry.session.revision) and int(meta["fence"]) >= 1
        deltas = [json.loads(d) for d in await raw.lrange(f"{prefix}:deltas", 0, -1)]
        assert deltas[-1]["rev"] == entry.session.revision
        assert {"op": "add", "path": "/rd_counter/applied/-", "value": 7} in deltas[-1]["ops"]
        lock = await raw.get(f"{prefix}:lock")  # kept a moment by the process that served
        fence = str(meta["fence"])
        assert lock == f"{one.store.owner} {fence}" and 0 < await raw.pttl(f"{prefix}:lock") <= 2000
        for key in await raw.keys(f"{prefix}:*"):
            assert 0 < await raw.pttl(key) <= 3600_000, key  # everything expires
        # the touch changed a backend var only: stored (a new version) with no new revision
        versions = await raw.hgetall(f"{prefix}:versions")
        assert int(versions["rd_counter"]) > int(versions["rd_counter.rd_double"])
    finally:
        await raw.aclose()


async def test_only_the_states_an_event_changed_are_written(
        redis: RedisServer, pair: tuple[RedisManager, RedisManager]) -> None:
    one, _ = pair
    token, entry = await one.open(None, prepare)
    raw = aioredis.Redis.from_url(redis.url, decode_responses=True)
    key = f"{one.store.prefix}:{{{token}}}:states"
    try:
        await raw.hset(key, "rd_counter.rd_double", '{"marker": 1}')  # would be overwritten
        frames = Frames()
        await one.attach(token, entry, frames, None)
        await send(entry, frames, "inc", {"k": 1})
        assert await raw.hget(key, "rd_counter.rd_double") == '{"marker": 1}'
        assert json.loads(await raw.hget(key, "rd_counter") or "")["n"] == 1
    finally:
        await raw.aclose()


async def test_round_trips_per_event(pair: tuple[RedisManager, RedisManager]) -> None:
    one, two = pair
    token, entry = await one.open(None, prepare)
    frames = Frames()
    await one.attach(token, entry, frames, None)
    await send(entry, frames, "inc", {"k": 0})  # the scripts are loaded once
    counter = RoundTrips()
    with counter.counting():
        for k in range(5):
            await send(entry, frames, "inc", {"k": k})
    assert counter.count <= 5, counter.count  # served last, lock kept: store (and keep it)
    counter.count = 0
    with counter.counting():
        for k in range(5):  # stamped: the stored answers are asked first
            await send(entry, frames, "inc", {"k": k}, client="tab", seq=k + 1)
    assert counter.count <= 2 * 5, counter.count
    one.release(token)
    same, other = await two.open(token, prepare)
    await two.attach(same, other, Frames(), None)
    await send(other, Frames(), "inc", {"k": 9})  # two's scripts loaded; two served last
    await asyncio.sleep(1.05)  # the lock two kept has lapsed (asking for it: test_redis_lease)
    with counter.counting():
        counter.count = 0
        await send(entry, frames, "inc", {"k": 10})  # one: another process changed it
    assert counter.count <= 3, counter.count
    assert entry.session.get_state(RdCounter).n == 13
    assert entry.session.get_state(RdCounter).applied[-2:] == [9, 10]

"""This process's copy: brought up to date from what others stored, and a changed class."""

from __future__ import annotations

import json

import pytest
import redis.asyncio as aioredis

import nbstate as ns
from nbstate.managers.redis import RedisManager
from tests.redisserver import RedisServer

from .conftest import Frames
from .redis_states import RdCounter, RdDouble, prepare, send


async def test_another_process_changes_are_loaded_with_computed_vars(
        pair: tuple[RedisManager, RedisManager]) -> None:
    one, two = pair
    token, entry = await one.open(None, prepare)
    frames = Frames()
    await one.attach(token, entry, frames, None)
    await send(entry, frames, "inc", {"k": 1})
    one.release(token)
    same, other = await two.open(token, prepare)
    await two.attach(same, other, Frames(), None)
    await send(other, Frames(), "inc", {"k": 2})
    await send(other, Frames(), "touch")
    revision = other.session.revision
    await send(entry, frames, "touch")  # one catches up first: no delta of its own
    assert entry.session.revision == revision  # the same revision, no delta for the refresh
    counter = entry.session.get_state(RdCounter)
    assert counter.n == 2 and counter.applied == [1, 2] and counter._calls == 2
    assert entry.session.get_state(RdDouble).twice == 4
    assert entry.session.snapshot() == other.session.snapshot()


async def test_a_changed_class_loads_what_still_validates(
        redis: RedisServer, pair: tuple[RedisManager, RedisManager]) -> None:
    one, two = pair
    token, entry = await one.open(None, prepare)
    await send(entry, Frames(), "inc", {"k": 3})
    one.release(token)
    # the stored form an older deploy left: `label` was an int, `gone` was removed since
    raw = aioredis.Redis.from_url(redis.url, decode_responses=True)
    key = f"{one.store.prefix}:{{{token}}}:states"
    try:
        await raw.hset(key, "rd_counter", json.dumps(
            {"n": 4, "applied": [3], "label": {"old": True}, "gone": 1, "_calls": 0}))
        with pytest.warns(ns.StateMigrationWarning) as warned:
            same, other = await two.open(token, prepare)
        assert same == token  # never a new session
        assert len(warned) == 1
        message = str(warned[0].message)
        assert "rd_counter.label" in message and "rd_counter.gone: no such var" in message
        counter = other.session.get_state(RdCounter)
        assert counter.n == 4 and counter.applied == [3] and counter.label == ""
        answer = await send(other, Frames(), "inc", {"k": 4})
        assert answer["type"] == "done"
        healed = json.loads(await raw.hget(key, "rd_counter") or "")
        assert healed == {"n": 5, "applied": [3, 4], "label": "", "_calls": 0}
    finally:
        await raw.aclose()

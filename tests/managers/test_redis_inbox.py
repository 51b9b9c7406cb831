"""Answers stored with the state: a resent message is answered, not run again; Redis away."""

from __future__ import annotations

import asyncio

import pytest

from nbstate.managers.redis import RedisManager
from nbstate.managers.redis.inbox import answer_key
from tests.redisserver import redis_server

from .conftest import Frames
from .redis_states import RdCounter, prepare, send


def test_the_answer_key_needs_a_client_stamp() -> None:
    assert answer_key({"client": "tab-1", "id": 7, "seq": 3}) == "tab-1/7"
    assert answer_key({"id": 7}) == "" and answer_key({"client": "x", "id": "7"}) == ""
    assert answer_key(None) == ""


async def test_a_resent_event_is_answered_from_the_record_on_any_process(
        pair: tuple[RedisManager, RedisManager]) -> None:
    one, two = pair
    token, entry = await one.open(None, prepare)
    first = Frames()
    for seq in (1, 2):
        answer = await send(entry, first, "inc", {"k": seq}, client="tab", seq=seq,
                            msg_id=100 + seq)
        assert answer == {"type": "done", "id": 100 + seq}
    boom = await send(entry, first, "inc", {"k": "x"}, client="tab", seq=3, msg_id=103)
    assert boom["type"] == "error"
    one.release(token)
    _same, other = await two.open(token, prepare)
    moved = Frames()  # the client's new connection, to the other process
    again = await send(other, moved, "inc", {"k": 2}, client="tab", seq=2, msg_id=102)
    assert again == {"type": "done", "id": 102}
    error_again = await send(other, moved, "inc", {"k": "x"}, client="tab", seq=3, msg_id=103)
    assert error_again == boom  # the same answer, from the record
    fresh = await send(other, moved, "inc", {"k": 4}, client="tab", seq=4, msg_id=104)
    assert fresh["type"] == "done"
    assert other.session.get_state(RdCounter).applied == [1, 2, 4]  # none ran twice
    unstamped = await send(other, moved, "inc", {"k": 5}, msg_id=104)
    assert unstamped["type"] == "done"  # no client stamp: not deduplicated, it runs
    assert other.session.get_state(RdCounter).applied == [1, 2, 4, 5]


async def test_redis_away_is_a_clear_error_and_sessions_continue_when_it_returns() -> None:
    with redis_server() as server:
        manager = RedisManager(server.url, timeout=1.0, lock_expiry=2.0)
        try:
            token, entry = await manager.open(None, prepare)
            frames = Frames()
            await manager.attach(token, entry, frames, None)
            assert (await send(entry, frames, "inc", {"k": 1}))["type"] == "done"
            server.stop()
            answer = await send(entry, frames, "inc", {"k": 2})
            assert answer["type"] == "error"
            assert answer["error"]["type"] == "RedisUnavailableError"
            message = answer["error"]["message"]
            assert f"Redis at {server.url} is unreachable" in message
            assert "Start redis-server or fix the --manager URL" in message
            with pytest.raises(ConnectionError, match="unreachable"):
                await manager.open(None, prepare)  # a new session cannot be stored either
            server.start()  # an empty Redis (no persistence): the session is stored again
            answer = await send(entry, frames, "inc", {"k": 3})
            assert answer["type"] == "done", answer
            assert entry.session.get_state(RdCounter).applied == [1, 3]
            await asyncio.sleep(0.1)
            elsewhere = RedisManager(server.url)
            second, loaded = await elsewhere.open(token, prepare)
            await elsewhere.aclose()
            assert second == token and loaded.session.get_state(RdCounter).applied == [1, 3]
        finally:
            await manager.aclose()

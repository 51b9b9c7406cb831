"""Deltas made on one process reach the clients of another, in revision order, gaps filled."""

from __future__ import annotations

import asyncio

from nbstate.managers.redis import RedisManager

from .conftest import Frames
from .redis_states import prepare, send


async def _wait(condition: object, timeout: float = 10.0) -> None:
    for _ in range(int(timeout / 0.01)):
        if callable(condition) and condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("timed out")


async def test_a_background_handler_on_one_process_feeds_a_client_on_the_other(
        pair: tuple[RedisManager, RedisManager]) -> None:
    one, two = pair
    token, entry = await one.open(None, prepare)
    start = entry.session.revision
    answer = await send(entry, Frames(), "feed", {"count": 20})
    assert answer["type"] == "done"  # a background handler: answered at once
    one.release(token)
    same, other = await two.open(token, prepare)
    watcher = Frames()
    _revision, missed, document = await two.attach(same, other, watcher, start)
    assert missed is not None and document is None
    watcher.deltas[:0] = [dict(d) for d in missed]
    await _wait(lambda: len(watcher.deltas) == 20)
    assert watcher.revs == list(range(start + 1, start + 21))  # every one, in order
    values = [op["value"] for d in watcher.deltas for op in d["ops"]
              if op["path"] == "/rd_counter/applied/-"]
    assert values == [1000 + i for i in range(20)]
    await entry.session.drain()


async def test_a_gap_is_filled_from_the_stored_deltas(
        pair: tuple[RedisManager, RedisManager]) -> None:
    one, two = pair
    token, entry = await one.open(None, prepare)
    same, other = await two.open(token, prepare)
    watcher = Frames()
    revision, _, _ = await two.attach(same, other, watcher, None)
    feed = two.delivery.feeds.pop(token)  # pub/sub messages are lost from here
    for k in range(3):
        await send(entry, Frames(), "inc", {"k": k})
    await asyncio.sleep(0.05)
    assert watcher.deltas == []
    two.delivery.register(token, feed)
    await send(entry, Frames(), "inc", {"k": 3})  # arrives ahead of what was lost
    await _wait(lambda: len(watcher.deltas) == 4)
    assert watcher.revs == list(range(revision + 1, revision + 5))


async def test_a_client_too_far_behind_gets_a_snapshot(
        pair: tuple[RedisManager, RedisManager]) -> None:
    one, two = pair
    one.store.history_bytes = 200  # room for about one delta
    token, entry = await one.open(None, prepare)
    rev = entry.session.revision
    for k in range(4):
        await send(entry, Frames(), "inc", {"k": k})
    one.release(token)
    same, other = await two.open(token, prepare)
    revision, missed, document = await two.attach(same, other, Frames(), rev)
    assert missed is None and document is not None
    assert document["rd_counter"]["applied"] == [0, 1, 2, 3] and revision == rev + 4


async def test_a_yield_is_stored_and_sent_to_other_processes_before_the_handler_ends(
        pair: tuple[RedisManager, RedisManager]) -> None:
    one, two = pair
    token, entry = await one.open(None, prepare)
    same, other = await two.open(token, prepare)
    watcher = Frames()
    await two.attach(same, other, watcher, None)
    running = asyncio.ensure_future(send(entry, Frames(), "save"))
    await _wait(lambda: len(watcher.deltas) == 1, timeout=0.4)
    assert watcher.deltas[0]["ops"] == [
        {"op": "replace", "path": "/rd_counter/label", "value": "saving"}]
    assert not running.done()
    assert (await running)["type"] == "done"
    await _wait(lambda: len(watcher.deltas) == 2)
    assert watcher.deltas[1]["ops"][0]["value"] == "saved"

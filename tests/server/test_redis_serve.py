"""Two ``nbstate serve --manager redis://…`` processes sharing sessions, with real clients."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Iterator

import pytest

from tests.redisserver import RedisServer

from .redis_processes import Serve, Tab


@pytest.fixture(scope="module")
def two(redis: RedisServer) -> Iterator[tuple[Serve, Serve]]:
    # a 2 s lock expiry, so the tests of long handlers and lost locks take seconds
    manager = f"{redis.url}?lock_expiry=2&lock_wait=30"
    one, other = Serve(manager).start(), Serve(manager).start()
    try:
        yield one, other
    finally:
        one.close()
        other.close()


async def test_a_client_moves_between_processes_with_its_token_and_revision(
        two: tuple[Serve, Serve]) -> None:
    a, b = two
    tab = Tab()
    await tab.connect(a.url)
    assert (await tab.call("inc", {"k": 1}, 1))["type"] == "done"
    await tab.close()
    held = tab.rev
    seen = await tab.connect(b.url)
    assert [f["type"] for f in seen] == ["welcome"] and seen[0]["rev"] == held
    assert (await tab.call("inc", {"k": 2}, 2))["type"] == "done"
    assert tab.rev == held + 1  # type: ignore[operator]
    await tab.close()
    back = Tab()
    back.token, back.rev = tab.token, held  # it missed the delta made on b
    seen = await back.connect(a.url)
    assert [f["type"] for f in seen] == ["welcome", "delta"]
    assert seen[1]["rev"] == held + 1 and back.values("/rs_counter/applied/-") == [2]  # type: ignore[operator]
    assert (await back.call("inc", {"k": 3}, 3))["type"] == "done"
    await back.close()
    late = Tab()
    late.token = tab.token
    seen = await late.connect(b.url)  # no revision: a snapshot
    assert seen[1]["document"]["rs_counter"] == {"n": 3, "applied": [1, 2, 3]}
    await late.close()


async def test_a_background_handler_on_one_process_feeds_a_client_on_the_other(
        two: tuple[Serve, Serve]) -> None:
    a, b = two
    tab = Tab()
    await tab.connect(a.url)
    assert (await tab.call("feed", {"count": 25}, 1))["type"] == "done"
    await tab.close()
    await tab.connect(b.url)  # the missed deltas, then the rest as a makes them
    while len(tab.values("/rs_counter/applied/-")) < 25:
        await tab.frame()
    assert tab.values("/rs_counter/applied/-") == [1000 + i for i in range(25)]
    await tab.close()


async def _long_handler_holds_the_lock(a: Serve, b: Serve, seconds: float, wait: float) -> None:
    """A handler of ``seconds`` on ``a`` keeps the session lock while an event on the same
    session, sent to ``b``, waits for it (``wait`` s at most) and then applies after it."""
    first, second = Tab("x"), Tab("y")
    await first.connect(a.url)
    second.token, second.rev = first.token, first.rev
    await second.connect(b.url)  # the same session, on the other process
    started = time.monotonic()
    await first.send("slow", {"seconds": seconds}, 1)
    await asyncio.sleep(0.3)
    quick = await second.call("inc", {"k": 7}, 1, timeout=wait)
    waited = time.monotonic() - started
    slow = await first.answer(1, timeout=30)
    assert slow["type"] == "done" and quick["type"] == "done" and waited >= seconds
    # b's client saw a's delta (n = 100) before its own (n = 101), in revision order
    ns = [op["value"] for f in second.frames if f["type"] == "delta" for op in f["ops"]
          if op["path"] == "/rs_counter/n"]
    assert ns == [100, 101]
    while first.rev != second.rev:
        await first.frame()
    assert "lost the session lock" not in a.output() + b.output()
    await first.close()
    await second.close()


async def test_a_long_handler_keeps_the_lock_while_the_other_process_waits(
        two: tuple[Serve, Serve]) -> None:
    # lock expiry 2 s, handler 6.5 s: renewed three times over
    await _long_handler_holds_the_lock(*two, seconds=6.5, wait=30)


async def test_a_one_minute_handler_keeps_the_default_lock(redis: RedisServer) -> None:
    # the default 10 s expiry, a handler of a minute: its lock is renewed while it runs
    manager = f"{redis.url}?lock_wait=90"
    a, b = Serve(manager).start(), Serve(manager).start()
    try:
        await _long_handler_holds_the_lock(a, b, seconds=60, wait=90)
    finally:
        a.close()
        b.close()


async def test_a_process_that_lost_its_lock_cannot_store_over_newer_state(
        two: tuple[Serve, Serve]) -> None:
    a, b = two
    first = Tab("x")
    await first.connect(a.url)
    await first.send("slow", {"seconds": 0.5}, 1)
    await asyncio.sleep(0.2)
    a.signal(signal.SIGSTOP)  # a stalls holding the lock: no renewal, it expires after 2 s
    try:
        second = Tab("y")
        second.token, second.rev = first.token, first.rev
        await second.connect(b.url)
        quick = await second.call("inc", {"k": 9}, 1, timeout=30)
        assert quick["type"] == "done"  # b took the expired lock and stored
    finally:
        a.signal(signal.SIGCONT)
    refused = await first.answer(1)
    assert refused["type"] == "error" and refused["error"]["type"] == "FencedWriteError"
    assert "lost the session lock" in refused["error"]["message"]
    await first.close()
    await second.close()
    check = Tab()
    check.token = first.token
    seen = await check.connect(a.url)
    assert seen[1]["document"]["rs_counter"] == {"n": 1, "applied": [9]}  # b's, not a's
    assert (await check.call("inc", {"k": 10}, 1))["type"] == "done"  # a goes on from it
    await check.close()


async def test_a_deploy_that_changed_the_class_keeps_what_still_validates(
        redis: RedisServer) -> None:
    manager = f"{redis.url}?lock_expiry=2"
    old = Serve(manager).start()
    try:
        tab = Tab()
        await tab.connect(old.url)
        await tab.call("inc", {"k": 4}, 1)
        await tab.close()
    finally:
        old.close()
    new = Serve(manager, "redis_app_v2.py").start()
    try:
        again = Tab()
        again.token = tab.token
        seen = await again.connect(new.url)
        assert again.token == tab.token  # the same session, not a new one
        assert seen[1]["document"]["rs_counter"] == {"n": [], "applied": [4], "label": "new"}
        assert (await again.call("inc", {"k": 5}, 1))["type"] == "done"
        await again.close()
        log = new.output()
        assert log.count("StateMigrationWarning") == 1 and "rs_counter.n" in log
    finally:
        new.close()

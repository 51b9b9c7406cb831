"""A server process killed mid-run: its clients move to the survivor and nothing is lost or
applied twice.

Two ``nbstate serve --manager redis://…`` processes, 20 clients (half on each), each sending
100 increments (four unanswered at most), each increment with its client stamp, ``id`` and
``seq``. One process is killed with SIGKILL while they run; its clients reconnect to the
survivor with their token and revision and resend every increment that got no answer, with the
same stamp. Afterwards each session holds every increment exactly once.
"""

from __future__ import annotations

import asyncio
import signal
import urllib.request

import pytest
import websockets

from tests.redisserver import RedisServer, redis_server

from .redis_processes import Serve, Tab

CLIENTS = 20
EVENTS = 100
WINDOW = 4


class Progress:
    def __init__(self) -> None:
        self.count = 0
        self.third = asyncio.Event()


class Sender:
    def __init__(self, index: int, urls: list[str]) -> None:
        self.tab = Tab(f"client-{index}")
        self.urls = urls[index % 2:] + urls[:index % 2]  # home process first
        self.done: set[int] = set()
        self.errors: list[dict[str, object]] = []
        self.reconnects = 0
        self.resent = 0

    async def run(self, progress: Progress) -> None:
        await self.tab.connect(self.urls[0])
        sent: set[int] = set()
        k = 0
        while len(self.done) < EVENTS:
            try:
                while len(sent) < WINDOW and k < EVENTS:
                    k += 1
                    sent.add(k)
                    await self.tab.send("inc", {"k": k}, k, seq=k)
                frame = await self.tab.frame()
                if frame["type"] in ("done", "error") and frame.get("id") in sent:
                    sent.discard(frame["id"])
                    if frame["type"] == "done":
                        self.done.add(frame["id"])
                        progress.count += 1
                        if progress.count == CLIENTS * EVENTS // 3:
                            progress.third.set()
                    else:
                        self.errors.append(frame)
            except (websockets.ConnectionClosed, OSError, asyncio.TimeoutError):
                await self._reconnect()
                self.resent += len(sent)
                for again in sorted(sent):  # what got no answer, with its stamp
                    await self.tab.send("inc", {"k": again}, again, seq=again)
        await self.tab.close()

    async def _reconnect(self) -> None:
        self.reconnects += 1
        await self.tab.close()
        for _ in range(100):
            for url in self.urls[::-1]:  # the other process first
                try:
                    await self.tab.connect(url)
                    return
                except (OSError, websockets.InvalidStatus, websockets.ConnectionClosed,
                        asyncio.TimeoutError):
                    continue
            await asyncio.sleep(0.1)
        raise AssertionError("no process to reconnect to")


async def test_a_killed_process_loses_no_answered_increment_and_applies_none_twice(
        redis: RedisServer) -> None:
    manager = f"{redis.url}?lock_expiry=2&lock_wait=30"
    a, b = Serve(manager).start(), Serve(manager).start()
    try:
        senders = [Sender(i, [a.url, b.url]) for i in range(CLIENTS)]
        progress = Progress()
        runs = asyncio.gather(*(s.run(progress) for s in senders))

        async def kill_midway() -> None:
            await progress.third.wait()
            a.signal(signal.SIGKILL)

        await asyncio.wait_for(asyncio.gather(runs, kill_midway()), 120)
        assert a.process is not None and a.process.wait(5) == -signal.SIGKILL
        moved = [s for s in senders if s.reconnects]
        assert len(moved) >= CLIENTS // 2  # a's clients, at least, moved to b
        assert sum(s.resent for s in senders) >= len(moved)  # killed with events in flight
        print(f"{len(moved)} clients moved, {sum(s.resent for s in senders)} resent")
        for sender in senders:
            assert sender.errors == [], sender.errors
            assert sender.done == set(range(1, EVENTS + 1))
            check = Tab()
            check.token = sender.tab.token
            seen = await check.connect(b.url)
            state = seen[1]["document"]["rs_counter"]
            await check.close()
            assert sorted(state["applied"]) == list(range(1, EVENTS + 1)), state["applied"]
            assert state["n"] == EVENTS  # every increment once, none twice
    finally:
        a.close()
        b.close()


async def test_redis_away_is_a_clear_error_and_the_server_goes_on() -> None:
    with redis_server() as redis:
        serve = Serve(f"{redis.url}?lock_expiry=2&timeout=1").start()
        try:
            tab = Tab()
            await tab.connect(serve.url)
            assert (await tab.call("inc", {"k": 1}, 1))["type"] == "done"
            redis.stop()
            answer = await tab.call("inc", {"k": 2}, 2)
            assert answer["type"] == "error"
            assert answer["error"]["type"] == "RedisUnavailableError"
            assert f"Redis at {redis.url} is unreachable" in answer["error"]["message"]
            assert "Start redis-server or fix the --manager URL" in answer["error"]["message"]
            status = await asyncio.to_thread(_page_status, serve.port)
            assert status == 200  # the server goes on serving what needs no Redis
            fresh = Tab()
            with pytest.raises(AssertionError, match="RedisUnavailableError"):
                await fresh.connect(serve.url)  # a new session cannot be stored: said, closed
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await fresh.frame()
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1013
            redis.start()
            answer = await tab.call("inc", {"k": 3}, 3)
            assert answer["type"] == "done", answer
            await tab.close()
            again = Tab()
            again.token = tab.token
            seen = await again.connect(serve.url)
            assert seen[1]["document"]["rs_counter"]["applied"] == [1, 3]
            await again.close()
        finally:
            serve.close()


def _page_status(port: int) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as page:
        status: int = page.status
        return status

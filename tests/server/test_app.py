"""The WebSocket adapter against a real uvicorn server on 127.0.0.1 (``nbstate serve``)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import urllib.request
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import websockets
from websockets.asyncio.client import ClientConnection, connect

from nbstate.protocol import PROTOCOL_VERSION
from tests.server.served import Served

APP = Path(__file__).parent / "shop_app.py"


class Server(Served):
    """The shop app (``shop_app.py:SvShop``) served with ``args``."""

    def __init__(self, *args: str) -> None:
        super().__init__(f"{APP}:SvShop", *args)


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    running = Server("--ping-interval", "0.5", "--max-frame", "100000").start()
    try:
        yield running
    finally:
        running.close()


@contextlib.asynccontextmanager
async def client(url: str, token: str | None = None, rev: int | None = None,
                 protocol: int = PROTOCOL_VERSION, origin: str | None = None,
                 done_in_delta: bool = False) -> AsyncIterator[Client]:
    headers = {"Origin": origin} if origin else None
    async with connect(url, additional_headers=headers, max_size=None) as ws:
        hello = {"type": "hello", "protocol": protocol, "token": token, "rev": rev}
        await ws.send(json.dumps({**hello, "done_in_delta": True} if done_in_delta else hello))
        yield Client(ws)


class Client:
    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.ids = iter(range(1, 10**6))

    async def frame(self, skip_pings: bool = True) -> dict[str, Any]:
        while True:
            message: dict[str, Any] = json.loads(await asyncio.wait_for(self.ws.recv(), 10))
            if not (skip_pings and message["type"] == "ping"):
                return message

    async def until(self, kind: str, msg_id: int | None = None) -> list[dict[str, Any]]:
        seen = []
        while True:
            message = await self.frame()
            seen.append(message)
            if message["type"] == kind and (msg_id is None or message.get("id") == msg_id):
                return seen

    async def call(self, message: dict[str, Any]) -> list[dict[str, Any]]:
        msg_id = next(self.ids)
        await self.ws.send(json.dumps({**message, "id": msg_id}))
        seen = []
        while True:
            frame = await self.frame()
            seen.append(frame)
            if frame.get("id") == msg_id:
                return seen


async def _start(c: Client) -> tuple[dict[str, Any], dict[str, Any]]:
    welcome = await c.frame()
    assert welcome["type"] == "welcome" and welcome["protocol"] == PROTOCOL_VERSION
    snapshot = await c.frame()
    assert snapshot["type"] == "snapshot" and snapshot["rev"] == welcome["rev"]
    return welcome, snapshot


async def test_hello_welcome_snapshot(server: Server) -> None:
    async with client(server.url) as c:
        welcome, snapshot = await _start(c)
        assert len(welcome["token"]) >= 32
        assert snapshot["document"]["sv_shop"] == {"items": [], "draft": "", "saving": False,
                                                   "count": 0}
        assert snapshot["document"]["sv_shop.sv_filter"] == {"query": "", "matches": []}
        assert "_visits" not in json.dumps(snapshot)


async def test_events_and_sets_send_deltas_then_done(server: Server) -> None:
    async with client(server.url) as c:
        await _start(c)
        seen = await c.call({"type": "set", "state": "sv_shop", "var": "draft", "value": "tea"})
        assert seen[0] == {"type": "delta", "rev": 2, "ops": [
            {"op": "replace", "path": "/sv_shop/draft", "value": "tea"}]}
        assert seen[-1] == {"type": "done", "id": 1}
        seen = await c.call({"type": "event", "handler": "sv_shop.add", "payload": {}})
        deltas = [f for f in seen if f["type"] == "delta"]
        assert deltas[0]["ops"] == [{"op": "replace", "path": "/sv_shop/saving", "value": True}]
        last = {op["path"]: op for d in deltas[1:] for op in d["ops"]}
        assert last["/sv_shop/items/-"]["value"] == "tea"
        assert last["/sv_shop.sv_filter/matches/-"]["value"] == "tea"  # one add, not the list
        assert seen[-1] == {"type": "done", "id": 2}


async def test_a_client_that_asks_gets_the_done_inside_the_delta_it_ended(
        server: Server) -> None:
    async with client(server.url, done_in_delta=True) as c:
        await _start(c)
        await c.ws.send(json.dumps({"type": "set", "id": 1, "state": "sv_shop", "var": "draft",
                                    "value": "tea"}))
        assert await c.frame() == {"type": "delta", "rev": 2, "done": 1, "ops": [
            {"op": "replace", "path": "/sv_shop/draft", "value": "tea"}]}
        # an answer with no delta before it (nothing changed, or an error) is its own frame
        await c.ws.send(json.dumps({"type": "set", "id": 2, "state": "sv_shop", "var": "draft",
                                    "value": "tea"}))
        assert await c.frame() == {"type": "done", "id": 2}
        await c.ws.send(json.dumps({"type": "set", "id": 3, "state": "sv_shop", "var": "count",
                                    "value": 1}))
        assert (await c.frame())["type"] == "error"


@pytest.mark.parametrize(("message", "kind", "words"), [
    ({"type": "event", "handler": "sv_shop.boom", "payload": {}}, "ValueError", "out of stock"),
    ({"type": "event", "handler": "sv_shop.nope"}, "UnknownHandlerError", "no event handler"),
    ({"type": "event", "handler": "put", "payload": {"text": 1}}, "UnknownHandlerError",
     "<state path>.<handler>"),
    ({"type": "event", "handler": "sv_shop.put", "payload": {"text": 1}}, "PayloadError",
     "text"),
    ({"type": "set", "state": "sv_shop", "var": "count", "value": 1}, "ReadOnlyVarError",
     "count"),
    ({"type": "set", "state": "sv_shop", "var": "_visits", "value": 1}, "ReadOnlyVarError",
     "_visits"),
    ({"type": "set", "var": "draft", "value": "x"}, "UnknownStateError", "no state class"),
    ({"type": "teleport"}, "ProtocolError", "unknown message type"),
])
async def test_bad_messages_get_one_error_and_change_nothing(
        server: Server, message: dict[str, Any], kind: str, words: str) -> None:
    async with client(server.url) as c:
        _, snapshot = await _start(c)
        seen = await c.call(message)
        assert [f["type"] for f in seen] == ["error"], seen
        assert seen[0]["error"]["type"] == kind and words in seen[0]["error"]["message"]
        ok = await c.call({"type": "event", "handler": "sv_shop.put",
                           "payload": {"text": "after"}})
        assert ok[0]["rev"] == snapshot["rev"] + 1  # nothing was committed in between
        assert ok[-1]["type"] == "done"


async def test_malformed_frames_get_an_error(server: Server) -> None:
    async with client(server.url) as c:
        await _start(c)
        await c.ws.send("{not json")
        frame = await c.frame()
        assert frame["type"] == "error" and "JSON" in frame["error"]["message"]
        await c.ws.send(json.dumps({"type": "event", "id": "seven", "handler": "sv_shop.put"}))
        frame = await c.frame()
        assert frame["id"] is None and "'id' must be an integer" in frame["error"]["message"]


async def test_reconnect_gets_only_missed_deltas_or_a_snapshot(server: Server) -> None:
    async with client(server.url) as c:
        welcome, _ = await _start(c)
        token = welcome["token"]
        await c.call({"type": "event", "handler": "sv_shop.put", "payload": {"text": "a"}})
        seen_rev = welcome["rev"] + 1
        await c.call({"type": "event", "handler": "sv_shop.put", "payload": {"text": "b"}})
    async with client(server.url, token=token, rev=seen_rev) as c:
        welcome = await c.frame()
        assert welcome["token"] == token and welcome["rev"] == seen_rev + 1
        missed = await c.frame()
        assert missed["type"] == "delta" and missed["rev"] == seen_rev + 1
        assert missed["ops"][0] == {"op": "add", "path": "/sv_shop/items/-", "value": "b"}
    async with client(server.url, token=token, rev=-5) as c:  # a revision no longer held
        welcome, snapshot = await _start(c)
        assert welcome["token"] == token
        assert snapshot["document"]["sv_shop"]["items"] == ["a", "b"]


async def test_sessions_are_isolated_and_a_duplicated_tab_gets_its_own(server: Server) -> None:
    async with client(server.url) as one, client(server.url) as two:
        w1, _ = await _start(one)
        w2, _ = await _start(two)
        assert w1["token"] != w2["token"]
        await one.call({"type": "event", "handler": "sv_shop.put", "payload": {"text": "mine"}})
        async with client(server.url, token=w1["token"], rev=None) as dup:
            wd, snap = await _start(dup)
            assert wd["token"] != w1["token"]  # the first tab is still connected
            assert snap["document"]["sv_shop"]["items"] == []
        seen = await two.call({"type": "event", "handler": "sv_shop.put",
                               "payload": {"text": "theirs"}})
        assert seen[0]["ops"][0]["value"] == "theirs" and seen[0]["rev"] == w2["rev"] + 1
    async with client(server.url, token="not-a-real-token-but-long-enough") as c:
        welcome, _ = await _start(c)
        assert welcome["token"] != "not-a-real-token-but-long-enough"


async def test_a_protocol_mismatch_is_refused_with_words(server: Server) -> None:
    async with client(server.url, protocol=PROTOCOL_VERSION + 1) as c:
        frame = await c.frame()
        assert frame["type"] == "error" and "reload the page" in frame["error"]["message"]
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await c.frame()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4000


async def test_a_foreign_origin_is_refused(server: Server) -> None:
    with pytest.raises(websockets.InvalidStatus) as refused:
        async with client(server.url, origin="http://evil.example"):
            pass
    assert refused.value.response.status_code == 403
    async with client(server.url, origin=f"http://127.0.0.1:{server.port}") as c:
        await _start(c)  # the page's own origin is fine


async def test_an_oversized_frame_is_refused_and_the_socket_closed(server: Server) -> None:
    async with client(server.url) as c:
        await _start(c)
        await c.ws.send(json.dumps({"type": "set", "id": 1, "state": "sv_shop", "var": "draft",
                                    "value": "x" * 200_000}))
        frame = await c.frame()
        assert frame["type"] == "error" and "at most 100000 bytes" in frame["error"]["message"]
        assert len(json.dumps(frame)) < 1000
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await c.frame()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009


async def test_ping_pong_both_ways(server: Server) -> None:
    async with client(server.url) as c:
        await _start(c)
        await c.ws.send(json.dumps({"type": "ping"}))
        assert await c.frame() == {"type": "pong"}
        assert await c.frame(skip_pings=False) == {"type": "ping"}  # idle for 0.5 s


async def test_the_disk_manager_keeps_sessions_across_a_restart(tmp_path: Path) -> None:
    first = Server("--manager", f"disk:{tmp_path}").start()
    try:
        async with client(first.url) as c:
            welcome, _ = await _start(c)
            await c.call({"type": "event", "handler": "sv_shop.put", "payload": {"text": "kept"}})
            await asyncio.sleep(0.2)  # stored after the delta
    finally:
        first.close()
    assert (tmp_path / f"{welcome['token']}.json").is_file()
    second = Server("--manager", f"disk:{tmp_path}").start()
    try:
        async with client(second.url, token=welcome["token"], rev=welcome["rev"]) as c:
            again, snapshot = await _start(c)  # a new process holds no history: a snapshot
            assert again["token"] == welcome["token"] and again["rev"] == welcome["rev"] + 1
            assert snapshot["document"]["sv_shop"]["items"] == ["kept"]
            assert snapshot["document"]["sv_shop.sv_filter"]["matches"] == ["kept"]
        async with client(second.url, token=welcome["token"], rev=welcome["rev"] + 1) as c:
            again = await c.frame()  # up to date: nothing more to send
            assert again["type"] == "welcome" and again["rev"] == welcome["rev"] + 1
            seen = await c.call({"type": "event", "handler": "sv_shop.put",
                                 "payload": {"text": "more"}})
            assert seen[0]["rev"] == welcome["rev"] + 2 and seen[-1]["type"] == "done"
    finally:
        second.close()


def test_the_page_carries_the_graph_for_the_runtime(server: Server) -> None:
    with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/", timeout=5) as response:
        page = response.read().decode()
    assert 'from "/_nbstate/runtime.js"' in page and "serveSocket(" in page
    config = json.loads(page.split("serveSocket(document.getElementById(\"nbstate-root\"), ")[1]
                        .split(");\n</script>")[0])
    assert config["path"] == "sv_shop" and config["socket"] == "/_nbstate/ws"
    assert config["states"]["sv_shop"]["children"] == ["sv_shop.sv_filter"]
    assert {v["name"] for v in config["states"]["sv_shop"]["spec"]["vars"]} == {
        "items", "draft", "saving", "count"}
    with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/_nbstate/runtime.js",
                                timeout=5) as response:
        assert response.headers["Content-Type"].startswith("text/javascript")
        assert len(response.read()) > 10_000

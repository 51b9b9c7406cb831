"""``nbstate serve`` processes sharing one Redis, and WebSocket clients that move between them.

Each :class:`Serve` is a real uvicorn process (``python -m nbstate serve``) on a free port of
127.0.0.1, stopped (or killed) by its own pid.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from nbstate.protocol import PROTOCOL_VERSION
from tests.server.served import Served

HERE = Path(__file__).parent


class Serve(Served):
    """``nbstate serve <app>:RsCounter --manager <redis url>`` in a child process."""

    def __init__(self, manager: str, app: str = "redis_app.py") -> None:
        super().__init__(f"{HERE / app}:RsCounter", "--manager", manager)


class Tab:
    """One client: a token and the revision it holds, a socket to one process at a time."""

    def __init__(self, client: str = "tab") -> None:
        self.client = client
        self.token: str | None = None
        self.rev: int | None = None
        self.document: dict[str, Any] = {}
        self.ws: ClientConnection | None = None
        self.frames: list[dict[str, Any]] = []
        self.seqs = itertools.count(1)

    async def connect(self, url: str) -> list[dict[str, Any]]:
        """Say hello with the token and revision held; return the welcome and what follows
        it at once (missed deltas or a snapshot)."""
        self.ws = await connect(url, max_size=None, open_timeout=10)
        await self.ws.send(json.dumps({"type": "hello", "protocol": PROTOCOL_VERSION,
                                       "token": self.token, "rev": self.rev}))
        welcome = await self.frame()
        assert welcome["type"] == "welcome", welcome
        self.token = welcome["token"]
        seen = [welcome]
        while self.rev != welcome["rev"]:
            seen.append(await self.frame())
        return seen

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
            self.ws = None

    async def frame(self, timeout: float = 15.0) -> dict[str, Any]:
        """The next frame (pings skipped); deltas and snapshots are applied to the revision."""
        assert self.ws is not None
        while True:
            message: dict[str, Any] = json.loads(await asyncio.wait_for(self.ws.recv(),
                                                                        timeout))
            if message["type"] == "ping":
                continue
            self.frames.append(message)
            if message["type"] == "delta":
                assert self.rev is None or message["rev"] == self.rev + 1, (self.rev, message)
                self.rev = message["rev"]
            elif message["type"] == "snapshot":
                self.rev, self.document = message["rev"], message["document"]
            return message

    async def send(self, handler: str, payload: dict[str, Any], msg_id: int,
                   seq: int | None = None) -> None:
        assert self.ws is not None
        await self.ws.send(json.dumps({
            "type": "event", "id": msg_id, "handler": f"rs_counter.{handler}",
            "payload": payload, "client": self.client,
            "seq": next(self.seqs) if seq is None else seq}))

    async def answer(self, msg_id: int, timeout: float = 15.0) -> dict[str, Any]:
        while True:
            frame = await self.frame(timeout)
            if frame["type"] in ("done", "error") and frame.get("id") == msg_id:
                return frame

    async def call(self, handler: str, payload: dict[str, Any], msg_id: int,
                   timeout: float = 15.0) -> dict[str, Any]:
        await self.send(handler, payload, msg_id)
        return await self.answer(msg_id, timeout)

    def values(self, path: str) -> list[Any]:
        """The values of ``add`` ops at ``path`` in the deltas received, in order."""
        return [op["value"] for f in self.frames if f["type"] == "delta" for op in f["ops"]
                if op["path"] == path]

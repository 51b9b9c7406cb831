"""One WebSocket connection: the hello, its session's frames in order, its messages.

Frames out (deltas, snapshots, answers) go through one queue and one writer task, so they
leave in the order they were made: a handler's deltas before its ``done``. Frames in are parsed
and handed to the session's :class:`~nbstate.inbox.Inbox`, which answers each exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from ..errors import ProtocolError
from ..events import error_info
from ..inbox import Inbox
from ..protocol import PROTOCOL_VERSION, Delta, ErrorInfo, to_text

__all__ = ["Connection", "Limits"]

log = logging.getLogger("nbstate.server")

CLOSE_PROTOCOL = 4000
"""Close code: the client speaks another protocol version (reload or upgrade)."""
CLOSE_BAD_HELLO = 4001
"""Close code: the first frame was not a ``hello``."""
CLOSE_TOO_BIG = 1009
"""Close code (RFC 6455): a frame over the size bound."""


class Limits:
    """Bounds of a connection: frame size in bytes of UTF-8 text, idle ping interval in s."""

    def __init__(self, max_frame: int = 1 << 20, ping_interval: float = 20.0) -> None:
        self.max_frame = max_frame
        self.ping_interval = ping_interval


class Connection:
    """A client's socket: a listener of its session, and the sender of its messages."""

    replays = True
    """A client that reconnects with its revision is sent the deltas it missed, so the session
    keeps recent ones (bounded by bytes) once one of these subscribes."""

    def __init__(self, socket: WebSocket, limits: Limits) -> None:
        self.socket = socket
        self.limits = limits
        self._out: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self._heard = time.monotonic()
        self.done_in_delta = False
        """The client's ``hello`` said it reads a ``done`` carried by a delta."""

    # ----------------------------------------------------------------- session → client

    def send(self, frame: dict[str, Any]) -> None:
        """Queue one frame; frames leave in the order queued."""
        self._out.put_nowait(frame)

    def on_delta(self, delta: Delta) -> None:
        self.send({"type": "delta", "rev": delta["rev"], "ops": delta["ops"]})

    def on_error(self, error: ErrorInfo) -> None:
        self.send({"type": "error", "id": None, "error": error})

    def resync(self, document: dict[str, dict[str, Any]], revision: int) -> None:
        self.send({"type": "snapshot", "rev": revision, "document": document})

    async def write(self) -> None:
        """The writer task: send queued frames until :meth:`stop`.

        For a client that said ``done_in_delta`` in its hello, a ``delta`` followed in the queue
        by a ``done`` leaves as one frame, the delta with ``"done": id``
        (:class:`~nbstate.protocol.DeltaMessage`): the usual event's answer is one frame, not two.
        """
        out = self._out
        held: list[dict[str, Any] | None] = []  # a frame taken from the queue to look at
        while (frame := held.pop() if held else await out.get()) is not None:
            if self.done_in_delta and frame["type"] == "delta" and not out.empty():
                following = out.get_nowait()
                if following is not None and following["type"] == "done":
                    frame = {**frame, "done": following["id"]}
                else:
                    held.append(following)
            try:
                await self.socket.send_text(to_text(frame))
            except (WebSocketDisconnect, RuntimeError, OSError):
                return
            except ValueError:  # no JSON form: never from nbstate's own frames
                log.exception("nbstate: could not encode a %s frame", frame.get("type"))

    def stop(self) -> None:
        self._out.put_nowait(None)

    # ----------------------------------------------------------------- client → session

    async def hello(self) -> dict[str, Any] | None:
        """Read the first frame; ``None`` (and the socket closed) when it is no good hello."""
        try:
            first = await asyncio.wait_for(self.socket.receive_text(), 30)
        except (asyncio.TimeoutError, WebSocketDisconnect):
            return None
        message = self._parse(first)
        if not isinstance(message, dict) or message.get("type") != "hello":
            await self._refuse(CLOSE_BAD_HELLO, "the first frame must be {\"type\": \"hello\", "
                                                 "\"protocol\", \"token\", \"rev\"}")
            return None
        if message.get("protocol") != PROTOCOL_VERSION:
            await self._refuse(CLOSE_PROTOCOL, f"this page speaks protocol "
                                               f"{message.get('protocol')!r} and the server "
                                               f"{PROTOCOL_VERSION}; reload the page (or upgrade "
                                               "nbstate on the side that is older)")
            return None
        self.done_in_delta = message.get("done_in_delta") is True
        return message

    async def _refuse(self, code: int, why: str) -> None:
        error: ErrorInfo = error_info("hello", ProtocolError(why))
        with contextlib.suppress(Exception):
            await self.socket.send_text(json.dumps({"type": "error", "id": None,
                                                    "error": error}))
            await self.socket.close(code)

    async def read(self, inbox: Inbox) -> None:
        """Hand every frame to ``inbox`` until the client leaves; ping when idle."""
        pinger = asyncio.get_running_loop().create_task(self._ping_when_idle())
        try:
            await self._read(inbox)
        finally:
            pinger.cancel()

    async def _ping_when_idle(self) -> None:
        while True:  # proxies cut idle connections
            await asyncio.sleep(self.limits.ping_interval)
            if time.monotonic() - self._heard >= self.limits.ping_interval:
                self.send({"type": "ping"})

    async def _read(self, inbox: Inbox) -> None:
        while True:
            try:
                text = await self.socket.receive_text()
            except (WebSocketDisconnect, RuntimeError):
                return
            self._heard = time.monotonic()
            if len(text) > self.limits.max_frame // 4 and (
                    len(text.encode("utf-8", "surrogatepass")) > self.limits.max_frame):
                self.send(_error(None, "frame", ProtocolError(
                    f"a frame may hold at most {self.limits.max_frame} bytes; split the value "
                    "or raise max_frame")))
                self.stop()
                await asyncio.sleep(0)
                with contextlib.suppress(Exception):
                    await self.socket.close(CLOSE_TOO_BIG)
                return
            self._take(self._parse(text), inbox)

    def _parse(self, text: str) -> Any:
        try:
            return json.loads(text)
        except ValueError as exc:
            return _Malformed(str(exc))

    def _take(self, message: Any, inbox: Inbox) -> None:
        if isinstance(message, _Malformed):
            self.send(_error(None, "frame", ProtocolError(
                f"a frame must be JSON text ({message.why})")))
            return
        kind = message.get("type") if isinstance(message, dict) else None
        if kind == "ping":
            self.send({"type": "pong"})
        elif kind == "pong":
            pass
        elif kind == "event" and isinstance(message.get("handler"), str):
            path, _, name = message["handler"].rpartition(".")  # "todo.add"
            inbox.receive(self.send, path, {**message, "handler": name})
        elif kind == "set":
            state = message.get("state")
            inbox.receive(self.send, state if isinstance(state, str) else "", message)
        else:
            inbox.receive(self.send, "", message)


class _Malformed:
    def __init__(self, why: str) -> None:
        self.why = why


def _error(msg_id: int | None, where: str, exc: Exception) -> dict[str, Any]:
    return {"type": "error", "id": msg_id, "error": error_info(where, exc)}

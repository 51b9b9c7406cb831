"""The Starlette app of the WebSocket adapter.

``app(Todo)`` serves ``Todo``'s state graph: ``GET /`` is the page (see
:mod:`nbstate.server.page`), ``/_nbstate/ws`` the socket. Each browser tab is its own session:
the page keeps its token in ``sessionStorage`` and says ``hello`` with it (and the last
revision it applied) whenever it connects; a duplicated tab, whose token is already connected,
is given a session of its own.

Security: the ``Origin`` of an upgrade must be this server's own (or in ``allowed_origins``;
``"*"`` allows any) or the socket is refused before any session is touched; tokens are 192
random bits; a connection reaches only its own session; frames over ``max_frame`` bytes are
refused and the socket closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from ..events import error_info
from ..managers import StateManager, manager_from
from ..managers.base import Entry
from ..protocol import PROTOCOL_VERSION, Delta, ErrorInfo
from ..session import Session
from ..state import State
from .connection import Connection, Limits
from .page import page_html, runtime_response

__all__ = ["app"]

log = logging.getLogger("nbstate.server")

CLOSE_ORIGIN = 4003
"""Close code: the page's origin is not allowed."""
CLOSE_UNAVAILABLE = 1013
"""Close code (RFC 6455, try again later): the state manager's store did not answer."""


def app(state: type[State], *, manager: str | StateManager = "memory",
        allowed_origins: Sequence[str] = (), max_frame: int = 1 << 20,
        ping_interval: float = 20.0) -> Starlette:
    """A Starlette app serving ``state``'s graph (mount it in Starlette or FastAPI).

    Args:
        state: the state class whose view ``GET /`` renders (its substates come with it).
        manager: ``"memory"``, ``"disk:DIR"``, ``"redis://host:port/db"`` (sessions shared by
            every process that names the same Redis; see :mod:`nbstate.managers.redis`) or a
            :class:`~nbstate.managers.StateManager`.
        allowed_origins: origins besides the server's own that may open the socket
            (``"https://example.org"``; ``"*"`` for any).
        max_frame: largest frame a client may send, bytes.
        ping_interval: seconds of silence after which the server pings a client.

    Raises:
        TypeError: ``state`` is not a state class. ValueError: an unknown manager.
    """
    if not (isinstance(state, type) and issubclass(state, State) and state.__nbstate_path__):
        raise TypeError(f"app() serves a subclass of nbstate.State, got {state!r}")
    server = _Server(state, manager_from(manager), tuple(allowed_origins),
                     Limits(max_frame, ping_interval))
    routes = [Route("/", server.page), Route("/_nbstate/runtime.js", runtime_response),
              WebSocketRoute("/_nbstate/ws", server.socket)]
    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        yield
        await server.manager.aclose()

    made = Starlette(routes=routes, lifespan=lifespan)
    made.state.nbstate = server
    return made


class _Saver:
    """Stores a session after each delta (one write at a time, the latest state)."""

    def __init__(self, manager: StateManager, token: str, session: Session) -> None:
        self.manager, self.token, self.session = manager, token, session
        self._pending: asyncio.Task[None] | None = None

    def on_delta(self, delta: Delta) -> None:
        if self._pending is None or self._pending.done():
            self._pending = asyncio.get_running_loop().create_task(self._save())

    async def _save(self) -> None:
        await asyncio.sleep(0)  # the rest of this flush's changes go in the same write
        try:
            await self.manager.changed(self.token)
        except Exception as exc:
            log.warning("nbstate: could not store session: %s", exc)
            self.session.report(error_info("storage", exc))

    def on_error(self, error: ErrorInfo) -> None:
        pass

    def resync(self, document: dict[str, dict[str, Any]], revision: int) -> None:
        pass


class _Server:
    def __init__(self, state: type[State], manager: StateManager,
                 allowed_origins: tuple[str, ...], limits: Limits) -> None:
        self.state = state
        self.manager = manager
        self.allowed_origins = allowed_origins
        self.limits = limits

    async def page(self, request: Request) -> Response:
        return HTMLResponse(page_html(self.state))

    def _origin_ok(self, socket: WebSocket) -> bool:
        origin = socket.headers.get("origin")
        if origin is None or "*" in self.allowed_origins or origin in self.allowed_origins:
            return True  # no Origin: not a browser page, so no cross-site request either
        return urlsplit(origin).netloc == socket.headers.get("host")

    def _prepare(self, session: Session) -> None:
        session.get_state(self.state)

    async def socket(self, socket: WebSocket) -> None:
        if not self._origin_ok(socket):
            await socket.close(CLOSE_ORIGIN)  # before accept: the upgrade gets a 403
            return
        await socket.accept()
        connection = Connection(socket, self.limits)
        writer = asyncio.get_running_loop().create_task(connection.write())
        token: str | None = None
        entry: Entry | None = None
        attached = False
        try:
            hello = await connection.hello()
            if hello is None:
                return
            asked = hello.get("token")
            try:
                token, entry = await self.manager.open(
                    asked if isinstance(asked, str) else None, self._prepare)
                if entry.saver is None and self.manager.stores:
                    entry.saver = _Saver(self.manager, token, entry.session)
                    entry.session.subscribe(entry.saver)
                rev = hello.get("rev")
                revision, missed, document = await self.manager.attach(
                    token, entry, connection,
                    rev if token == asked and type(rev) is int else None)
            except Exception as exc:  # the manager's store is away: say so, and close
                log.warning("nbstate: could not open a session: %s", exc)
                connection.send({"type": "error", "id": None, "error": error_info("hello", exc)})
                connection.stop()
                await writer
                with contextlib.suppress(Exception):
                    await socket.close(CLOSE_UNAVAILABLE)
                if entry is not None and token is not None:
                    self.manager.release(token)
                return
            attached = True
            # no await from here to the frames being queued: the deltas to come follow them
            connection.send({"type": "welcome", "protocol": PROTOCOL_VERSION, "token": token,
                             "rev": revision})
            if missed is None:
                connection.send({"type": "snapshot", "rev": revision, "document": document})
            else:
                for delta in missed:
                    connection.on_delta(delta)
            await connection.read(entry.inbox)
        finally:
            if attached and entry is not None and token is not None:
                self.manager.detach(token, entry, connection)
                self.manager.release(token)
            connection.stop()
            await writer

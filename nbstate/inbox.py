"""The inbox: client messages of one session, checked, put in order, run one at a time, and
each answered exactly once.

Every transport hands what a client sent to :meth:`Inbox.receive` together with the state
path the message addresses, taken from the transport's own routing (the comm the message came
on), never from the message, and a ``reply`` callable that sends a message back to that client.

Messages (see :mod:`nbstate.protocol`): ``event`` ``{"type", "id", "handler", "payload"}`` and
``set`` ``{"type", "id", "var", "value"}``, optionally stamped with ``client`` (a string naming
the sending connection) and ``seq`` (1, 2, 3, … per client). Each is answered with
``{"type": "done", "id"}`` or ``{"type": "error", "id", "error": {"handler", "type",
"message"}}``; a message that cannot be taken at all (not an object, an ``id`` that is not an
integer, a duplicate ``seq``) is answered with an error whose ``id`` is ``None``.

Order: messages of one client run in ``seq`` order. An early arrival waits at most
``GAP_TIMEOUT`` seconds for the ones numbered before it, then the missing ones are given up on
(and run when they do arrive, out of order, rather than never). A client's order is forgotten
once it has been quiet for ``QUIET_AFTER`` seconds or when more than ``MAX_CLIENTS`` clients
are known (the quietest first); a client that comes back after that waits once for its gap.

Writes that do not come as nbstate messages (an ipywidgets trait ``update``, ``link``) go
through :meth:`Inbox.write`: they run in the same order as a ``set`` without an ``id``; only a
failure is answered (``id`` ``None``), and the transport is told the outcome so it can show
the session's value again.

Decision: a handler stopped by ``KeyboardInterrupt`` or ``SystemExit`` (a kernel interrupt
while it ran) is answered with an error and the inbox goes on serving; the interrupt ends the
handler, not the server. A cancelled inbox answers every message it still holds.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

from .errors import NbStateError, ProtocolError
from .events import error_info
from .session import Session

__all__ = ["GAP_TIMEOUT", "MAX_CLIENTS", "MAX_ID", "QUIET_AFTER", "Inbox", "Message", "Reply"]

log = logging.getLogger("nbstate")

GAP_TIMEOUT = 2.0
"""Seconds an out-of-order message waits for the ones numbered before it."""
QUIET_AFTER = 900.0
"""Seconds after which a quiet client's order is forgotten."""
MAX_CLIENTS = 256
"""Clients whose order is kept at once."""
MAX_ID = 2**53
"""Largest message id or ``seq`` accepted (the largest integer a JavaScript number holds)."""
MAX_CLIENT_ID = 128
"""Longest ``client`` string accepted."""

Reply = Callable[[dict[str, Any]], None]
"""Sends one message back to the client a message came from."""
Settle = Callable[[bool], None]
"""Told whether a :meth:`Inbox.write` was applied (``True``) or refused."""
Starter = Callable[[Coroutine[Any, Any, None]], "asyncio.Task[None] | None"]


@dataclasses.dataclass(eq=False, slots=True)
class Message:
    """One client message as the inbox holds it: the content (a dict), the path of the state
    whose channel it came on, how to answer it, and for a :meth:`Inbox.write` whom to tell."""

    reply: Reply
    path: str
    content: Any
    settle: Settle | None = None


@dataclasses.dataclass(eq=False, slots=True)
class _Order:
    next: int = 1
    early: dict[int, Message] = dataclasses.field(default_factory=dict)
    seen: float = 0.0


class Inbox:
    """The ordered, answered message queue of one session.

    Args:
        session: the session the messages act on.
        start: starts the worker coroutine (default: a task on the running loop); the Jupyter
            host starts it eagerly, so a quick handler answers before the kernel reports idle.
    """

    def __init__(self, session: Session, start: Starter | None = None) -> None:
        self.session = session
        self._start = start
        self._queue: collections.deque[Message] = collections.deque()
        self._worker: asyncio.Task[None] | None = None
        self._running = False
        self._clients: collections.OrderedDict[str, _Order] = collections.OrderedDict()

    @property
    def clients(self) -> int:
        """How many clients' message order is held now."""
        return len(self._clients)

    # ----------------------------------------------------------------- arrival

    def receive(self, reply: Reply, path: str, content: Any) -> None:
        """Take one message a client sent to the state at ``path``; it is answered by ``reply``.

        Never raises: a malformed message is answered with an error.
        """
        if not isinstance(content, dict):
            _answer(reply, None, path, ProtocolError(
                f"an nbstate message must be a JSON object, got {type(content).__name__}"))
            return
        msg_id = content.get("id")
        if not _is_number(msg_id):
            _answer(reply, None, path, ProtocolError(
                f"message 'id' must be an integer from 0 to 2**53, got {_excerpt(msg_id)}; "
                "number each message the client sends"))
            return
        message = Message(reply, path, content)
        client, seq = content.get("client"), content.get("seq")
        if client is None and seq is None:
            self._enqueue(message)
            return
        if not (isinstance(client, str) and 0 < len(client) <= MAX_CLIENT_ID
                and isinstance(seq, int) and _is_number(seq) and seq >= 1):
            _answer(reply, msg_id, path, ProtocolError(
                f"'client' must be a string of 1 to {MAX_CLIENT_ID} characters and 'seq' an "
                f"integer from 1, got client {_excerpt(client)} and seq {_excerpt(seq)}"))
            return
        self._ordered(client, seq, message)

    def write(self, reply: Reply, path: str, var: str, value: Any, settle: Settle) -> None:
        """A write to base var ``var`` that came some other way than a ``set`` message.

        It runs in order with the messages; ``settle`` is told whether it was applied. A
        refusal is also answered with an error (``id`` ``None``).
        """
        content = {"type": "set", "id": None, "var": var, "value": value}
        self._enqueue(Message(reply, path, content, settle))

    def close(self) -> None:
        """Stop: cancel the worker (held messages are answered) and forget every client."""
        if self._worker is not None and not self._worker.done():
            self._worker.cancel()
        self._clients.clear()

    def follows(self, client: str) -> bool:
        """Whether ``client``'s message order is held now."""
        return client in self._clients

    def restart(self, client: str, seq: int) -> None:
        """Start ``client``'s order again at ``seq`` (a new connection of that client, whose
        earlier messages went elsewhere): messages of its held for a gap run now, and the next
        one expected is ``seq``."""
        order = self._clients.get(client)
        if order is not None:
            for early in sorted(order.early):
                self._enqueue(order.early.pop(early))
        self._clients[client] = _Order(next=seq)

    # ----------------------------------------------------------------- order

    def _ordered(self, client: str, seq: int, message: Message) -> None:
        now = time.monotonic()
        order = self._clients.get(client)
        if order is None:
            order = self._clients[client] = _Order()
        else:
            self._clients.move_to_end(client)
        order.seen = now
        self._forget_quiet(now)
        if seq < order.next:  # late: its gap was given up on; run it rather than drop it
            self._enqueue(message)
            return
        if seq in order.early:
            _answer(message.reply, message.content.get("id"), message.path, ProtocolError(
                f"client {client!r} sent seq {seq} twice; the first one is kept, this one is "
                "not run. Give every message its own seq"))
            return
        order.early[seq] = message
        self._release(order)
        if order.early:
            _loop().call_later(GAP_TIMEOUT, self._give_up_gap, client, seq)

    def _release(self, order: _Order) -> None:
        while order.next in order.early:
            self._enqueue(order.early.pop(order.next))
            order.next += 1

    def _give_up_gap(self, client: str, seq: int) -> None:
        order = self._clients.get(client)
        if order is None or seq not in order.early:
            return
        log.warning("nbstate: messages %d..%d of client %s never arrived; going on without",
                    order.next, min(order.early) - 1, client)
        order.next = min(order.early)
        self._release(order)

    def _forget_quiet(self, now: float) -> None:
        while self._clients:
            client, order = next(iter(self._clients.items()))
            if order.early or (now - order.seen < QUIET_AFTER
                               and len(self._clients) <= MAX_CLIENTS):
                return
            del self._clients[client]

    # ----------------------------------------------------------------- running

    def _enqueue(self, message: Message) -> None:
        self._queue.append(message)
        if not self._running:
            self._running = True
            coro = self._drain()
            try:
                self._worker = (self._start or _loop().create_task)(coro)
            except BaseException:
                self._running = False
                raise

    async def _drain(self) -> None:
        try:
            while self._queue:
                message = self._queue.popleft()
                await self.run(message)
        finally:
            self._running = False
            while self._queue:  # cancelled: nothing is left unanswered
                message = self._queue.popleft()
                _answer(message.reply, message.content.get("id"), message.path,
                        ProtocolError("the server stopped before this message ran"),
                        message.settle)

    async def run(self, message: Message) -> None:
        """Run one message and answer it (exactly once; never raises but for cancellation).

        The worker calls it for each message in order; a subclass may wrap it (the Redis
        manager's inbox runs each message holding the session's lock, and stores its answer).
        """
        content, path = message.content, message.path
        msg_id = content.get("id")
        name = path
        try:
            kind = content.get("type")
            if kind == "event":
                handler = _field(content, "handler", str)
                name = f"{path}.{handler}"
                await self.session.dispatch(name, content.get("payload"))
            elif kind == "set":
                var = _field(content, "var", str)
                name = f"{path}.{var}"
                if "value" not in content:
                    raise ProtocolError(f"'set' of {name} has no 'value'")
                await self.session.set_var(path, var, content["value"])
            else:
                raise ProtocolError(f"unknown message type {_excerpt(kind)}; expected 'event' "
                                    "or 'set'")
        except NbStateError as exc:
            _answer(message.reply, msg_id, name, exc, message.settle)
            return
        except Exception as exc:  # a bug of ours must not stop the inbox
            log.exception("nbstate: failed to handle a message to %s", name)
            _answer(message.reply, msg_id, name, exc, message.settle)
            return
        except (KeyboardInterrupt, SystemExit) as exc:
            log.warning("nbstate: %s stopped by %s; its changes were undone", name,
                        type(exc).__name__)
            _answer(message.reply, msg_id, name, exc, message.settle)
            return
        except asyncio.CancelledError as exc:
            _answer(message.reply, msg_id, name, exc, message.settle)
            cancelling = getattr(asyncio.current_task(), "cancelling", None)  # Python 3.11+
            if cancelling is None or cancelling():
                raise  # the inbox itself is being stopped
            return
        if message.settle is not None:
            message.settle(True)
        elif msg_id is not None:
            _send(message.reply, {"type": "done", "id": msg_id})


def _answer(reply: Reply, msg_id: Any, name: str, exc: BaseException,
            settle: Settle | None = None) -> None:
    if settle is not None:
        settle(False)
    _send(reply, {"type": "error", "id": msg_id, "error": error_info(name, exc)})


def _send(reply: Reply, message: dict[str, Any]) -> None:
    try:
        reply(message)
    except Exception:
        log.exception("nbstate: could not send %s to the client", message.get("type"))


def _field(content: dict[str, Any], key: str, kind: type) -> Any:
    value = content.get(key)
    if not isinstance(value, kind):
        raise ProtocolError(f"message {_excerpt(content.get('type'))} needs {key!r} as "
                            f"{kind.__name__}, got {_excerpt(value)}")
    return value


def _is_number(value: Any) -> bool:
    return type(value) is int and 0 <= value <= MAX_ID


def _excerpt(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _loop() -> asyncio.AbstractEventLoop:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.get_event_loop_policy().get_event_loop()

"""Start a coroutine at once, inside the caller, until its first real suspension.

Hosts start the inbox's worker this way, so a handler that never waits answers in the same
turn of the event loop as the message that asked for it. In a Jupyter kernel it matters most:
ipykernel answers a comm message by calling the comm's handler, then flushing output and
publishing ``status: idle``, all before its event loop runs anything else. A handler scheduled as
an ordinary task therefore starts only after ``idle`` has gone out, and its ``update`` and
``done`` leave one loop turn (1.5–3 ms) later than an echo's reply would. Started eagerly, a
handler that does not wait on anything (a plain ``def``, and any code before the first
``await`` that really suspends) finishes inside the comm handler, so its replies go out first.

Python 3.12 does this itself (``eager_start=True``). On 3.11 the coroutine's first step is run
here, in a copy of the context, and a task in that same context carries on from the future it
suspended on. On 3.10, which cannot give a task a context, it is an ordinary task.
"""

from __future__ import annotations

import asyncio
import contextvars
import sys
from collections.abc import Coroutine, Generator
from typing import Any

__all__ = ["start_eagerly"]


def start_eagerly(loop: asyncio.AbstractEventLoop,
                  coro: Coroutine[Any, Any, None]) -> asyncio.Task[None] | None:
    """Run ``coro`` now up to its first suspension; return the task that finishes it.

    Returns ``None`` when ``coro`` finished without suspending.
    """
    if sys.version_info >= (3, 12):
        task = asyncio.Task(coro, loop=loop, eager_start=True)  # type: ignore[call-arg,unused-ignore]
        return None if task.done() else task
    if sys.version_info < (3, 11):  # pragma: no cover - no task context before 3.11
        return loop.create_task(coro)
    context = contextvars.copy_context()
    try:
        first = context.run(coro.send, None)
    except StopIteration:
        return None
    return loop.create_task(_carry_on(coro, first), context=context)


async def _carry_on(coro: Coroutine[Any, Any, None], first: Any) -> None:
    await _Resumed(coro, first)


class _Resumed:
    """An awaitable that hands the task the future ``coro`` already suspended on, then goes on
    with ``coro`` itself (the task's ``send``/``throw`` reach it unchanged)."""

    def __init__(self, coro: Coroutine[Any, Any, None], first: Any) -> None:
        self._coro = coro
        self._first: Any = first
        self._started = False

    def __await__(self) -> Generator[Any, Any, None]:
        return self

    def __iter__(self) -> _Resumed:
        return self

    def __next__(self) -> Any:
        return self.send(None)

    def send(self, value: Any) -> Any:
        if not self._started:
            self._started = True
            return self._first
        return self._coro.send(value)

    def throw(self, *exc: Any) -> Any:
        return self._coro.throw(*exc)

    def close(self) -> None:
        self._coro.close()

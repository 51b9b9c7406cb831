"""The session lock: one handler at a time, and the ``async with self`` blocks of background
handlers.

An ``asyncio.Lock`` belongs to one event loop, so the session keeps one per loop it is used on
(tests and scripts may run a session under several ``asyncio.run`` calls in turn).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from . import context
from .context import StatePort
from .errors import BackgroundMutationError

__all__ = ["SessionLock"]


class SessionLock:
    """The lock that serialises a session's handlers."""

    __slots__ = ("_lock", "_loop")

    def __init__(self) -> None:
        self._lock: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def get(self) -> asyncio.Lock:
        """The lock for the running loop (call from a coroutine)."""
        loop = asyncio.get_running_loop()
        if self._lock is None or self._loop is not loop:
            self._lock, self._loop = asyncio.Lock(), loop
        return self._lock

    def locked(self) -> bool:
        return self._lock is not None and self._lock.locked()

    async def enter_block(self, state: StatePort) -> None:
        """``async with state`` in a background handler: wait for the lock, then hold it.

        Raises:
            BackgroundMutationError: not in a background handler, or the block is nested.
        """
        mode = context.mode.get()
        if mode == "locked":
            raise BackgroundMutationError(
                f"nested 'async with self' in a background handler of {state._nb_path}; "
                "the session lock is already held, mutate directly inside the outer block")
        if mode != "background":
            raise BackgroundMutationError(
                "'async with self' is for background handlers (@nbstate.event(background=True)); "
                "other handlers already hold the session lock")
        await self.get().acquire()
        context.mode.set("locked")

    def exit_block(self, settle: Callable[[], None]) -> None:
        """Leave the block: ``settle()`` (undo on failure, flush), then release the lock."""
        try:
            settle()
        finally:
            context.mode.set("background")
            if self._lock is not None:
                self._lock.release()

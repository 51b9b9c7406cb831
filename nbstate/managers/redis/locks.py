"""The session lock of a Redis-stored session: work that is not a client message takes a
section of its own.

A client message runs as one section (:mod:`.inbox`). Everything else that changes the session
takes one too, so it holds the Redis lock and is stored before anything else runs:

- a background handler's ``async with self`` block: its entry begins a section (waiting for
  any other section of the session, in this process or another), its exit stores what the block
  changed, in a task, before the next section of the session may begin;
- an event run by ``session.dispatch`` outside a client message (an event a background handler
  chained, server code dispatching one): the session lock taken for it begins a section, and
  releasing that lock stores what it changed. A failure to store is raised from the dispatch
  (for a chained event, reported to the session's clients).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from types import TracebackType
from typing import Any

from ... import context
from ...events import error_info
from ...lock import SessionLock
from .sync import SessionSync

__all__ = ["BlockLock"]


class BlockLock(SessionLock):
    """The session lock of a Redis-stored session (see the module docstring)."""

    __slots__ = ("sync",)

    def __init__(self, sync: SessionSync) -> None:
        super().__init__()
        self.sync = sync

    def get(self) -> Any:
        """The lock for the running loop, taking a section when used as ``async with``."""
        return _Guarded(self.sync, super().get())

    async def enter_block(self, state: Any) -> None:
        if context.mode.get() != "background":
            await super().enter_block(state)  # raises the error that names the fix
            return
        await self.sync.section.acquire()
        try:
            await self.sync.enter()
        except BaseException:
            self.sync.section.release()
            raise
        try:
            await super().enter_block(state)
        except BaseException:
            await self._leave()
            raise

    def exit_block(self, settle: Callable[[], None]) -> None:
        try:
            super().exit_block(settle)
        finally:
            task = asyncio.get_running_loop().create_task(self._leave())
            _tasks.add(task)
            task.add_done_callback(_tasks.discard)

    async def _leave(self) -> None:
        try:
            failure = await self.sync.leave()
        finally:
            self.sync.section.release()
        if failure is not None:
            self.sync.feed.report(error_info("async with self", failure))


_tasks: set[asyncio.Task[None]] = set()


class _Guarded:
    """An ``asyncio.Lock`` that, used as ``async with`` outside a client message's section,
    also begins and ends a section."""

    __slots__ = ("_lock", "_sync", "_took")

    def __init__(self, sync: SessionSync, lock: asyncio.Lock) -> None:
        self._sync, self._lock, self._took = sync, lock, False

    async def acquire(self) -> bool:
        return await self._lock.acquire()

    def release(self) -> None:
        self._lock.release()

    def locked(self) -> bool:
        return self._lock.locked()

    async def __aenter__(self) -> None:
        sync = self._sync
        if sync.runner is not asyncio.current_task():
            await sync.section.acquire()
            try:
                await sync.enter()
            except BaseException:
                sync.section.release()
                raise
            self._took = True
        await self._lock.acquire()

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        self._lock.release()
        if not self._took:
            return
        self._took = False
        try:
            failure = await self._sync.leave()
        finally:
            self._sync.section.release()
        if failure is not None and kind is None:
            raise failure

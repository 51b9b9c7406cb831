"""When a session flushes: at once when due, else coalesced to one flush per interval.

Flush points are a handler's return, each ``yield``, each exit of ``async with self`` and, for
changes made outside any handler (notebook cell code), the moment the event loop is free.
Flushes closer together than ``interval`` seconds are merged: a ``yield`` that comes too soon
marks a *cut* in the mutation log and a timer flushes up to that cut, so a tight loop of
thousands of yields sends at most one delta per interval and the final state always goes out.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, Protocol

from . import context

__all__ = ["FlushOwner", "FlushScheduler"]


class FlushOwner(Protocol):
    """What the scheduler asks of its session (one object, not three callables: a session
    holds one scheduler for its life, so what each one keeps counts)."""

    def flush(self, upto: int | None = None) -> Any:
        """Flush the first ``upto`` log entries (all when ``None``)."""

    def _log_size(self) -> int:
        """How many entries the log holds now."""

    def _busy(self) -> bool:
        """Whether a handler holds the session lock (its own flush carries the changes)."""


class FlushScheduler:
    """Decides when the changes in the log become a delta.

    Args:
        interval: seconds; flush points closer together than this are merged.
        owner: the session it schedules flushes for.
    """

    __slots__ = ("_free", "_last", "_owner", "_timer", "cut", "interval")

    def __init__(self, interval: float, owner: FlushOwner) -> None:
        self.interval = interval
        self.cut: int | None = None
        """Log position of a yield whose flush was deferred, or ``None``."""
        self._owner = owner
        self._timer: asyncio.TimerHandle | None = None
        self._free: asyncio.Handle | None = None
        self._last = 0.0

    def flushed(self, upto: int | None) -> None:
        """A flush took the first ``upto`` log entries (all when ``None``)."""
        if upto is None or (self.cut is not None and self.cut <= upto):
            self.cut = None
        elif self.cut is not None:
            self.cut -= upto
        self._last = time.monotonic()

    def free_change(self) -> None:
        """Changes from outside any handler: flush now if due, else once the loop is free."""
        if time.monotonic() - self._last >= self.interval:
            self.flush_if_idle()
            return
        if self._free is None:
            # called on every change of cell code: no exception raised for "no loop"
            loop = asyncio.events._get_running_loop()
            if loop is None:
                return  # no loop: the caller flushes (``session.flush()``)
            self._free = loop.call_soon(self._run_free)

    def _run_free(self) -> None:
        self._free = None
        self.flush_if_idle()

    def flush_if_idle(self, *args: object) -> None:
        """Flush unless running code holds the session lock (its own flush will carry the
        changes). Takes and ignores any arguments, so it can be an IPython event callback."""
        if context.mode.get() is None and not self._owner._busy():
            self._owner.flush(None)

    def yield_point(self) -> None:
        """A handler yielded: flush if the last flush is old enough, else flush soon."""
        if time.monotonic() - self._last >= self.interval:
            self._owner.flush(None)
            return
        self.cut = self._owner._log_size()
        if self._timer is None:
            loop = asyncio.get_running_loop()
            delay = self.interval - (time.monotonic() - self._last)
            self._timer = loop.call_later(max(delay, 0.0), self._deferred)

    def _deferred(self) -> None:
        self._timer = None
        if self.cut is not None:
            self._owner.flush(self.cut)

"""State managers: where sessions live, by token.

- ``memory`` (default): sessions in this process; idle ones expire after ``ttl`` seconds.
- ``disk:DIR``: as memory, and each session is written to ``DIR/<token>.json`` after it
  changes, so a client that reconnects with its token after a server restart finds its values.
- ``redis://host:port/db``: sessions in Redis, shared by several server processes
  (:mod:`nbstate.managers.redis`, which needs ``pip install 'nbstate[redis]'``).

A manager stores a session as JSON through pydantic (:meth:`nbstate.Session.dump`), never
pickle: a stored session must never be a way to run code. A class that changed shape loads
every var that still validates and reports the rest once.

:func:`manager_from` turns the ``--manager`` option of ``nbstate serve`` into a manager.
"""

from __future__ import annotations

from .base import StateManager, new_token, valid_token
from .disk import DiskManager
from .memory import MemoryManager

__all__ = ["DiskManager", "MemoryManager", "StateManager", "manager_from", "new_token",
           "valid_token"]


def manager_from(spec: str | StateManager) -> StateManager:
    """A manager from ``"memory"``, ``"disk:DIR"``, ``"redis://host:port/db"`` (also
    ``rediss://`` and ``unix://``) or an existing manager.

    Raises:
        ValueError: an unknown spelling (the message lists the known ones).
        ImportError: a Redis URL where redis-py is not installed (the message names the extra).
    """
    if not isinstance(spec, str):
        return spec
    if spec == "memory":
        return MemoryManager()
    if spec.startswith("disk:") and len(spec) > len("disk:"):
        return DiskManager(spec[len("disk:"):])
    if spec.startswith(("redis://", "rediss://", "unix://")):
        try:
            from .redis import RedisManager
        except ImportError as exc:
            raise ImportError(f"the state manager {spec!r} needs redis-py: pip install "
                              f"'nbstate[redis]' ({exc})") from exc
        return RedisManager.from_url(spec)
    raise ValueError(f"unknown state manager {spec!r}; use 'memory', 'disk:DIR' or "
                     "'redis://host:port/db'")

"""The Redis side of the manager: one connection pool, and each operation as one round trip.

Every method is a single Lua script call (see :mod:`.scripts`), so each costs exactly one round
trip; a failure to reach Redis is raised as :class:`RedisUnavailableError` naming the URL.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from .errors import RedisUnavailableError
from .scripts import ACQUIRE, COMMIT, READ, RELEASE, RENEW, UNLISTEN, Keys

__all__ = ["Acquired", "Commit", "Read", "Store"]

T = TypeVar("T")


@dataclass
class Acquired:
    """What taking the lock answered: ``status`` ``"ok"`` (then ``fence``, the stored ``rev``
    and ``version``, -1 when nothing is stored, and ``states``, path → JSON text, written after
    the cached version), ``"kept"`` (this process kept the lock: nothing changed elsewhere),
    ``"busy"`` (``wait``: ms the lock still holds) or ``"answered"`` (``answer``)."""

    status: str
    fence: int = 0
    rev: int = -1
    version: int = -1
    states: dict[str, str] = field(default_factory=dict)
    wait: int = 0
    answer: dict[str, Any] | None = None


@dataclass
class Commit:
    """One fenced write: the states (path → ``{var: JSON}``) and deltas to store."""

    lock: str
    fence: int
    base_version: int | None
    revision: int
    states: dict[str, str]
    deltas: Sequence[str]
    release: bool
    owner: str = ""
    hold_ms: int = 0
    """When not released: ms the lock is held for from now (0: the lock expiry)."""
    answer_key: str = ""
    answer: str = ""


@dataclass
class Read:
    """A read without the lock: stored ``rev``/``version`` (-1: nothing stored), the states
    written after a cached version, and the deltas after a client's revision."""

    rev: int
    version: int
    states: dict[str, str]
    deltas: list[dict[str, Any]]


class Store:
    """Sessions in the Redis at ``url``.

    Args:
        url: ``redis://host:port/db`` (``rediss://`` for TLS), as redis-py reads it.
        prefix: the first part of every key name.
        ttl: seconds every key of a session lives after its last write.
        lock_expiry: seconds a session lock lives unless renewed.
        history_bytes: bytes of recent deltas kept per session for replay.
        answers: how many answered messages per session are remembered for resends.
        timeout: seconds to wait for Redis before giving up on a call.
    """

    def __init__(self, url: str, *, prefix: str = "nbstate", ttl: float = 3600.0,
                 lock_expiry: float = 10.0, history_bytes: int = 1 << 20, answers: int = 1024,
                 timeout: float = 5.0) -> None:
        self.url = url
        self.prefix = prefix
        self.owner = f"{os.getpid()}-{secrets.token_hex(4)}"
        """This manager's name in lock values and its channel (``<pid>-<random>``)."""
        self.ttl_ms = max(1, int(ttl * 1000))
        self.lock_ms = max(1, int(lock_expiry * 1000))
        self.history_bytes = history_bytes
        self.answers = answers
        self.client: aioredis.Redis = aioredis.Redis.from_url(
            url, socket_connect_timeout=timeout, socket_timeout=timeout,
            health_check_interval=0, decode_responses=True)
        self._sha: dict[str, str] = {}

    def keys(self, token: str) -> Keys:
        return Keys(token, self.prefix)

    async def aclose(self) -> None:
        await self.client.aclose()

    async def guard(self, call: Awaitable[T]) -> T:
        """Await ``call``, raising :class:`RedisUnavailableError` when Redis does not answer."""
        try:
            return await call
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            raise RedisUnavailableError(self.url, exc) from exc

    async def _call(self, script: str, keys: list[str], args: list[Any]) -> Any:
        sha = self._sha.get(script)
        try:
            if sha is not None:
                try:
                    return await self.client.evalsha(sha, len(keys), *keys, *args)
                except NoScriptError:
                    pass  # Redis restarted: load it again below (the same round trip count)
            result = await self.client.eval(script, len(keys), *keys, *args)
            self._sha[script] = _sha1(script)
            return result
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            raise RedisUnavailableError(self.url, exc) from exc
        except RedisError as exc:
            if "LOADING" in str(exc) or "MASTERDOWN" in str(exc):
                raise RedisUnavailableError(self.url, exc) from exc
            raise

    def owner_channel(self, owner: str) -> str:
        """Where other processes ask ``owner`` to release a lock it keeps."""
        return f"{self.prefix}:owner:{owner}"

    async def acquire(self, token: str, owner: str, cached_version: int,
                      answer_key: str = "", mine: str = "") -> Acquired:
        """Take the lock of ``token`` (one round trip), unless ``answer_key`` was answered.

        ``mine`` is the lock value this process may still hold: if it does, the lock is
        extended and its fence kept. A lock another process holds gets it a request to release.
        """
        k = self.keys(token)
        out = await self._call(ACQUIRE, [k.lock, k.meta, k.states, k.versions, k.answers],
                               [owner, self.lock_ms, cached_version, answer_key, self.ttl_ms,
                                mine, self.owner_channel(""), token])
        status = out[0]
        if status == "answered":
            return Acquired("answered", answer=json.loads(out[1]))
        if status == "busy":
            return Acquired("busy", wait=int(out[1]))
        return Acquired("ok", fence=int(out[1]), rev=int(out[2]), version=int(out[3]),
                        states=_pairs(out[4:]))

    async def release(self, token: str, lock: str) -> bool:
        """Release the lock ``lock`` of ``token``; ``False`` when it was no longer held."""
        return bool(await self._call(RELEASE, [self.keys(token).lock], [lock]))

    async def renew(self, token: str, lock: str) -> bool:
        """Extend the lock ``lock`` of ``token``; ``False`` when it is no longer held."""
        k = self.keys(token)
        return bool(await self._call(RENEW, [k.lock], [lock, self.lock_ms]))

    async def unlisten(self, token: str, owner: str) -> None:
        """``owner`` has no client of ``token`` any more: send it no more deltas."""
        await self._call(UNLISTEN, [self.keys(token).procs], [owner])

    async def commit(self, token: str, c: Commit) -> tuple[str, int]:
        """Write ``c`` if ``c.fence`` is still the newest fence (one round trip).

        Returns ``("ok", new version)``, ``("fenced", newest fence)`` or ``("moved", stored
        version)`` (the stored states are not the ones this write was made from).
        """
        k = self.keys(token)
        args: list[Any] = [c.lock, c.fence, "*" if c.base_version is None else c.base_version,
                           c.revision, self.ttl_ms, self.history_bytes,
                           "1" if c.release else "0", c.hold_ms or self.lock_ms, c.answer_key,
                           c.answer,
                           self.answers, self.owner_channel(""), len(c.states), c.owner, token]
        for path, text in c.states.items():
            args += [path, text]
        args.extend(c.deltas)
        out = await self._call(COMMIT, [k.lock, k.meta, k.states, k.versions, k.deltas,
                                        k.answers, k.answered, k.procs], args)
        return str(out[0]), int(out[1] or 0) if len(out) > 1 and out[1] != "" else 0

    async def read(self, token: str, cached_version: int = -1, since: int | None = None,
                   listen: str = "") -> Read:
        """Read without the lock (one round trip): see :class:`Read`. With ``listen`` (an
        owner), that process is sent every delta stored from now on, by any other process."""
        k = self.keys(token)
        out = await self._call(READ, [k.meta, k.states, k.versions, k.deltas, k.procs],
                               [cached_version, -1 if since is None else since, listen,
                                self.ttl_ms])
        return Read(int(out[0]), int(out[1]), _pairs(out[2]),
                    [json.loads(d) for d in out[3]])


def _pairs(flat: Sequence[str]) -> dict[str, str]:
    return {flat[i]: flat[i + 1] for i in range(0, len(flat) - 1, 2)}


def _sha1(text: str) -> str:
    import hashlib

    return hashlib.sha1(text.encode("utf-8")).hexdigest()

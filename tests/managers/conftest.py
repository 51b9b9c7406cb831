"""A ``redis-server`` for the Redis manager's tests, one per test session (see
:mod:`tests.redisserver`), and two managers on it standing for two server processes; each test
uses keys under its own prefix."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from nbstate.managers.redis import RedisManager
from tests.redisserver import RedisServer, redis_server

_prefixes = itertools.count()


@pytest.fixture(scope="session")
def redis() -> Iterator[RedisServer]:
    with redis_server() as server:
        yield server


class Frames:
    """A client connection as the manager sees it: the listener and the reply of its inbox."""

    def __init__(self) -> None:
        self.deltas: list[dict[str, Any]] = []
        self.answers: list[dict[str, Any]] = []
        self.errors: list[dict[str, Any]] = []
        self.snapshots: list[tuple[dict[str, Any], int]] = []

    def on_delta(self, delta: Any) -> None:
        self.deltas.append(delta)

    def on_error(self, error: Any) -> None:
        self.errors.append(error)

    def resync(self, document: dict[str, Any], revision: int) -> None:
        self.snapshots.append((document, revision))

    def reply(self, frame: dict[str, Any]) -> None:
        self.answers.append(frame)

    @property
    def revs(self) -> list[int]:
        return [d["rev"] for d in self.deltas]


@pytest.fixture
async def pair(redis: RedisServer) -> AsyncIterator[tuple[RedisManager, RedisManager]]:
    """Two managers on one Redis, as two server processes would be (2 s lock expiry)."""
    prefix = f"t{next(_prefixes)}"
    one = RedisManager(redis.url, prefix=prefix, lock_expiry=2.0, lock_wait=20.0)
    two = RedisManager(redis.url, prefix=prefix, lock_expiry=2.0, lock_wait=20.0)
    try:
        yield one, two
    finally:
        await one.aclose()
        await two.aclose()

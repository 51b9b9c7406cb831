"""A ``redis-server`` for the Redis manager's tests, one per test session (see
:mod:`tests.redisserver`); each test uses keys under its own prefix."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.redisserver import RedisServer, redis_server


@pytest.fixture(scope="session")
def redis() -> Iterator[RedisServer]:
    with redis_server() as server:
        yield server

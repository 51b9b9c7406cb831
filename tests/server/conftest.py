"""A ``redis-server`` for the server tests that run several ``nbstate serve`` processes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.redisserver import RedisServer, redis_server


@pytest.fixture(scope="session")
def redis() -> Iterator[RedisServer]:
    with redis_server() as server:
        yield server

"""What can go wrong between a server process and Redis, in words a user can act on."""

from __future__ import annotations

from ...errors import NbStateError

__all__ = ["FencedWriteError", "RedisUnavailableError", "SessionBusyError"]


class RedisUnavailableError(NbStateError, ConnectionError):
    """Redis did not answer; the message names the URL and what to do."""

    def __init__(self, url: str, cause: BaseException) -> None:
        super().__init__(
            f"Redis at {url} is unreachable ({type(cause).__name__}: {cause}); the event was "
            "not applied and nothing was stored. Start redis-server or fix the --manager URL; "
            "the session continues once Redis answers again")


class FencedWriteError(NbStateError, RuntimeError):
    """This process lost the session lock (it expired and another process took it), so what
    it changed was not stored: the newer state another process stored wins."""


class SessionBusyError(NbStateError, TimeoutError):
    """Another server process held the session lock for longer than the manager waits."""

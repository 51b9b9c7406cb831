"""A throwaway ``redis-server`` for the Redis manager's tests and benchmark.

:class:`RedisServer` starts Debian's ``redis-server`` (``.ci/run`` installs it) on a free port
of 127.0.0.1 only, with persistence off (``--save ''``, ``--appendonly no``) in a temporary
directory, and stops it by its own pid (SIGTERM, then SIGKILL if it lingers). ``restart()``
stops and starts it again on the same port: an empty Redis, as after a crash without
persistence. Where no ``redis-server`` is installed the tests are skipped, except in CI (``CI``
set), where that is a failure.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

__all__ = ["RedisServer", "RoundTrips", "redis_server"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class RedisServer:
    """One ``redis-server`` process of these tests."""

    def __init__(self, binary: str) -> None:
        self.binary = binary
        self.port = _free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="nbstate-redis-"))
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        log = open(self.dir / "redis.log", "ab")  # noqa: SIM115 - the child keeps it
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.dir), "--protected-mode", "yes"],
            stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("redis-server exited: "
                                   + (self.dir / "redis.log").read_text(errors="replace"))
            with contextlib.suppress(OSError), socket.create_connection(
                    ("127.0.0.1", self.port), timeout=0.5) as conn:
                conn.sendall(b"PING\r\n")
                if conn.recv(16).startswith(b"+PONG"):
                    return self
            time.sleep(0.05)
        raise RuntimeError("redis-server did not answer in 20 s")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()

    def restart(self) -> None:
        self.stop()
        self.start()

    def command(self, *args: str) -> str:
        """One command over a plain socket (inline protocol); the reply's first line."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as conn:
            conn.sendall((" ".join(args) + "\r\n").encode())
            return conn.recv(1 << 16).decode(errors="replace").split("\r\n")[0]

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@contextlib.contextmanager
def redis_server() -> Iterator[RedisServer]:
    """A running ``redis-server``, stopped and removed afterwards."""
    binary = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None)
    if binary is None:
        import pytest

        message = "redis-server is not installed (Debian: apt-get install redis-server)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    server = RedisServer(binary)
    try:
        yield server.start()
    finally:
        server.close()


class RoundTrips:
    """Counts requests sent to Redis by redis-py's asyncio connections in this process: each
    ``send_packed_command`` is one request and its answer (a pipeline is one), so the count is
    the number of round trips."""

    def __init__(self) -> None:
        self.count = 0

    @contextlib.contextmanager
    def counting(self) -> Iterator[RoundTrips]:
        from redis.asyncio.connection import AbstractConnection

        original = AbstractConnection.send_packed_command
        counter = self

        async def send(conn: AbstractConnection, command: object,
                       check_health: bool = True) -> None:
            counter.count += 1
            await original(conn, command, check_health)  # type: ignore[arg-type]

        AbstractConnection.send_packed_command = send  # type: ignore[method-assign,assignment]
        try:
            yield self
        finally:
            AbstractConnection.send_packed_command = original  # type: ignore[method-assign]

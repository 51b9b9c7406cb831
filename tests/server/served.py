"""``nbstate serve`` in a child process: a real uvicorn server on a free port of 127.0.0.1,
started and stopped (or signalled) by its own pid."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

from typing_extensions import Self


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Served:
    """``python -m nbstate serve TARGET:STATE --port <free> *args``."""

    def __init__(self, target: str, *args: str) -> None:
        self.port = free_port()
        self.target = target
        self.args = args
        self.process: subprocess.Popen[str] | None = None
        self.log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - closed by close()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/_nbstate/ws"

    def start(self) -> Self:
        """Start the process and wait until it serves its page (30 s at most).

        Raises:
            AssertionError: it exited (its output is in the message) or did not start in time.
        """
        self.process = subprocess.Popen(
            [sys.executable, "-m", "nbstate", "serve", self.target, "--port", str(self.port),
             *self.args], stdout=self.log, stderr=subprocess.STDOUT, text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"})
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/", timeout=1).close()
                return self
            except OSError:
                if self.process.poll() is not None:
                    raise AssertionError(f"the server exited: {self.output()}") from None
                time.sleep(0.1)
        raise AssertionError("the server did not start in 30 s")

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read()

    def signal(self, signum: int) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signum)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def close(self) -> None:
        self.stop()
        self.log.close()

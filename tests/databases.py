"""The databases the ``nbstate.db`` tests run on: a SQLite file, and a throwaway PostgreSQL server.

:func:`postgres_cluster` starts a cluster of Debian's ``postgresql`` package (``.ci/run``
installs it) in a temporary directory: ``initdb`` and ``pg_ctl`` run as the ``postgres`` user
when the tests run as root (PostgreSQL refuses to run as root), the server listens on a free
port of 127.0.0.1 only (and a socket in that directory), with durability off (a test cluster
needs none). It is stopped by its own pid (the ``postmaster.pid`` it wrote) and its directory
removed. Where no PostgreSQL is installed, the PostgreSQL cases are skipped, except in CI
(``CI`` set), where that is a failure.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

__all__ = ["postgres_binaries", "postgres_cluster", "sqlite_url"]


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def postgres_binaries() -> Path | None:
    """The directory of ``initdb`` and ``pg_ctl``: Debian keeps them off ``PATH``, in
    ``/usr/lib/postgresql/<version>/bin``; the newest version wins."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parts[4]) if Path(p).parts[4].isdigit() else 0)
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("initdb")
    return Path(on_path).parent if on_path else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _as_postgres(argv: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


@contextlib.contextmanager
def postgres_cluster() -> Iterator[str]:
    """Start a throwaway PostgreSQL server; yield its asyncpg URL; stop it and remove it."""
    bindir = postgres_binaries()
    if bindir is None:
        message = "PostgreSQL is not installed (Debian: apt-get install postgresql)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    root = Path(tempfile.mkdtemp(prefix="nbstate-pg-"))
    data, log = root / "data", root / "server.log"
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    pid: int | None = None
    try:
        subprocess.run(_as_postgres([str(bindir / "initdb"), "-D", str(data), "-U", "postgres",
                                     "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"]),
                       check=True, capture_output=True, timeout=120)
        port = _free_port()
        options = (f"-p {port} -h 127.0.0.1 -k {root} -c fsync=off -c synchronous_commit=off "
                   "-c full_page_writes=off")
        started = subprocess.run(
            _as_postgres([str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w",
                          "-t", "60", "-o", options, "start"]),
            capture_output=True, text=True, timeout=90)
        pid_file = data / "postmaster.pid"
        if pid_file.exists():
            pid = int(pid_file.read_text().splitlines()[0])
        if started.returncode != 0:
            server_log = log.read_text() if log.exists() else ""
            raise RuntimeError(f"pg_ctl start failed: {started.stdout}{started.stderr}"
                               f"{server_log}")
        yield f"postgresql+asyncpg://postgres@127.0.0.1:{port}/postgres"
    finally:
        if pid is not None:
            _stop(pid)
        shutil.rmtree(root, ignore_errors=True)


def _stop(pid: int) -> None:
    """Fast shutdown (SIGINT) of the server with this pid, then SIGKILL if it lingers."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGINT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)

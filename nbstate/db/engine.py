"""The database URL and the async engines: made lazily, one per URL and event loop, disposed at
exit.

The URL is, in order: the one given to :func:`configure`, the environment variable
``NBSTATE_DATABASE_URL`` (read when an engine is first needed, never at import), or a SQLite file
``nbstate.db`` in the working directory through aiosqlite. PostgreSQL is one URL away:
``postgresql+asyncpg://user:password@host/dbname`` (``pip install nbstate[postgres]``).

Decisions:

- An async engine's pooled connections belong to the event loop that opened them, so there is
  one engine per URL *and loop*. A kernel (Jupyter, Voila) runs one loop, so in practice that is
  one engine per process and URL; tests and scripts that run several loops in turn get a fresh
  engine for each.
- A SQLite file is opened in WAL mode (readers and one writer do not block each other, which
  matters when two visitors' kernels share the file) with a 30 s busy timeout: a handler's
  write transaction lasts until its next flush point (:mod:`nbstate.db.session`).
- Pooled connections are closed at exit, by a hook that runs when the interpreter starts
  shutting threads down (``threading._register_atexit``, the hook ``concurrent.futures`` uses;
  ``atexit`` would be too late), on the engine's own loop when it is still open. Besides
  closing cleanly, this keeps a process from hanging at exit where aiosqlite's connection
  threads are not daemons (aiosqlite >= 0.22 with SQLAlchemy 2.0; SQLAlchemy 2.1 marks them
  daemons itself), since Python waits for such threads before ``atexit`` callbacks run.
"""

from __future__ import annotations

import asyncio
import gc
import os
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

__all__ = ["ENV", "configure", "current_url", "dispose", "engine"]

ENV = "NBSTATE_DATABASE_URL"
"""The environment variable read for the URL when :func:`configure` gave none."""

_settings: dict[str, Any] = {"url": None, "options": {}}
_engines: dict[tuple[str, asyncio.AbstractEventLoop | None], AsyncEngine] = {}
_retired: list[tuple[AsyncEngine, asyncio.AbstractEventLoop | None]] = []
_hooked: list[bool] = []


def configure(url: str | None = None, **engine_options: Any) -> None:
    """Use ``url`` (and ``engine_options`` for ``sqlalchemy.ext.asyncio.create_async_engine``)
    for the engines made from now on.

    ``url=None`` goes back to ``NBSTATE_DATABASE_URL`` or the SQLite file ``nbstate.db`` in the
    working directory. Engines made before are retired: sessions already open finish on them,
    and :func:`dispose` (or the process's exit) closes their connections.

    Raises:
        sqlalchemy.exc.ArgumentError: ``url`` is not a database URL.
    """
    if url is not None:
        make_url(url)  # a malformed URL fails here, not at the first query
    _settings["url"], _settings["options"] = url, dict(engine_options)
    for (_, loop), old in list(_engines.items()):
        _retired.append((old, loop))
    _engines.clear()


def current_url() -> str:
    """The URL new engines use (see the module docstring for where it comes from)."""
    url: str | None = _settings["url"] or os.environ.get(ENV)
    if url:
        return url
    return f"sqlite+aiosqlite:///{Path.cwd() / 'nbstate.db'}"


def engine() -> AsyncEngine:
    """The async engine for the configured URL on the running event loop, made on first use.

    Making an engine opens no connection; the first session does.
    """
    try:
        loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
    except RuntimeError:
        loop = None
    url = current_url()
    found = _engines.get((url, loop))
    if found is not None:
        return found
    for (old_url, old_loop), old in list(_engines.items()):
        if old_loop is not None and old_loop.is_closed():  # a finished asyncio.run, a test
            del _engines[(old_url, old_loop)]
            _retired.append((old, old_loop))
    made = _make(url)
    _engines[(url, loop)] = made
    if not _hooked:
        _hooked.append(True)
        register = getattr(threading, "_register_atexit", None)
        if register is not None:
            register(_dispose_at_exit)
    return made


def _make(url: str) -> AsyncEngine:
    options = dict(_settings["options"])
    parsed = make_url(url)
    sqlite_file = parsed.get_backend_name() == "sqlite" and parsed.database not in (
        None, "", ":memory:")
    if sqlite_file:
        options.setdefault("connect_args", {}).setdefault("timeout", 30)
    made = create_async_engine(url, **options)
    if sqlite_file:
        event.listen(made.sync_engine, "connect", _sqlite_wal)
    return made


def _sqlite_wal(dbapi_connection: Any, record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


async def dispose() -> None:
    """Close every pooled connection of the engines made on the running loop (and of retired
    ones); the next session makes a fresh engine. Engines of other, still running loops are left
    alone."""
    loop = asyncio.get_running_loop()
    for key, made in list(_engines.items()):
        if key[1] in (loop, None):
            del _engines[key]
            await made.dispose()
    for item in list(_retired):
        made, its_loop = item
        if its_loop in (loop, None):
            _retired.remove(item)
            await made.dispose()
        elif its_loop is not None and its_loop.is_closed():
            _retired.remove(item)
            made.sync_engine.dispose(close=False)


def _dispose_at_exit() -> None:
    everything = [(made, loop) for (_, loop), made in _engines.items()] + _retired
    _engines.clear()
    _retired.clear()
    for made, loop in everything:
        owned = loop is None or loop.is_closed()
        if owned and made.dialect.driver != "aiosqlite":
            # asyncpg's connections belong to the loop that has ended: none can close cleanly,
            # and the process's exit closes their sockets
            made.sync_engine.dispose(close=False)
            continue
        if owned:  # asyncio.run has ended; aiosqlite's threads close from a loop of our own
            loop = asyncio.new_event_loop()
        assert loop is not None
        try:
            if not loop.is_running():
                loop.run_until_complete(asyncio.wait_for(made.dispose(), 10))
                continue
        except Exception:  # a connection that cannot close cleanly at exit is dropped
            pass
        finally:
            if owned:
                loop.close()
        made.sync_engine.dispose(close=False)
    gc.collect()

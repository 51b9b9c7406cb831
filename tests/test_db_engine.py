"""Where the database is: the URL, engines per URL and loop, WAL for SQLite files, disposal at
exit, and ``ns.db`` loading SQLAlchemy only when used."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import ArgumentError

import nbstate as ns

from .databases import sqlite_url


@pytest.fixture
def clean(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    monkeypatch.delenv(ns.db.ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    ns.db.configure(None)
    yield tmp_path
    ns.db.configure(None)


def test_the_default_is_a_sqlite_file_in_the_working_directory(clean: Path) -> None:
    assert ns.db.current_url() == f"sqlite+aiosqlite:///{clean / 'nbstate.db'}"


def test_the_environment_then_configure_choose_the_url(
        clean: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ns.db.ENV, "postgresql+asyncpg://u@db.example/app")
    assert ns.db.current_url() == "postgresql+asyncpg://u@db.example/app"
    ns.db.configure("sqlite+aiosqlite:///other.db")
    assert ns.db.current_url() == "sqlite+aiosqlite:///other.db"
    ns.db.configure(None)
    assert ns.db.current_url() == "postgresql+asyncpg://u@db.example/app"


def test_a_malformed_url_fails_at_configure(clean: Path) -> None:
    with pytest.raises(ArgumentError):
        ns.db.configure("not a url")


async def test_one_engine_per_url_on_a_loop_made_lazily(clean: Path) -> None:
    first = ns.db.engine()
    assert ns.db.engine() is first
    assert not (clean / "nbstate.db").exists()  # no connection yet
    async with ns.db.session() as db:
        assert await db.scalar(text("select 1")) == 1
    assert (clean / "nbstate.db").exists()
    ns.db.configure(sqlite_url(clean / "b.db"))
    second = ns.db.engine()
    assert second is not first and str(second.url).endswith("b.db")
    await ns.db.dispose()
    assert ns.db.engine() is not second  # disposed engines are forgotten
    await ns.db.dispose()


def test_each_event_loop_gets_its_own_engine(clean: Path) -> None:
    async def use() -> object:
        made = ns.db.engine()
        async with ns.db.session() as db:
            await db.scalar(text("select 1"))
        return made

    loop = asyncio.new_event_loop()
    try:
        first = loop.run_until_complete(use())
        assert loop.run_until_complete(use()) is first
        other = asyncio.new_event_loop()
        try:
            assert other.run_until_complete(use()) is not first
            other.run_until_complete(ns.db.dispose())
        finally:
            other.close()
        loop.run_until_complete(ns.db.dispose())
    finally:
        loop.close()


async def test_a_sqlite_file_is_opened_in_wal_mode(clean: Path) -> None:
    async with ns.db.session() as db:
        assert await db.scalar(text("PRAGMA journal_mode")) == "wal"
    await ns.db.dispose()


SCRIPT = """
import asyncio, sys, threading, nbstate as ns
from sqlalchemy import event, text
if sys.argv[1] == "no-hook":
    threading._register_atexit = lambda *a: None
async def main():
    event.listen(ns.db.engine().sync_engine, "close", lambda *a: print("closed", flush=True))
    async with ns.db.session() as db:
        print(await db.scalar(text("select 41 + 1")), flush=True)
asyncio.run(main())
"""


@pytest.mark.parametrize(("hook", "printed"), [("hook", ["42", "closed"]), ("no-hook", ["42"])])
def test_a_script_that_never_disposes_exits_with_its_connections_closed(
        clean: Path, hook: str, printed: list[str]) -> None:
    # "no-hook" is the control: without the exit hook the pooled connection is never closed
    # (and with SQLAlchemy 2.0 and aiosqlite >= 0.22, its non-daemon thread would keep the
    # process alive)
    script = clean / "script.py"
    script.write_text(textwrap.dedent(SCRIPT))
    done = subprocess.run([sys.executable, str(script), hook], capture_output=True,
                          text=True, timeout=60, cwd=clean)
    assert (done.returncode, done.stdout.split()) == (0, printed), done.stderr


def test_nbstate_loads_sqlalchemy_only_when_ns_db_is_used() -> None:
    code = ("import sys, nbstate as ns\n"
            "print('sqlalchemy' in sys.modules)\n"
            "ns.db.Model\n"
            "print('sqlalchemy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["False", "True"]

"""nbstate.db on a real SQLite file and a real PostgreSQL server: the same tests on both.

CRUD through handlers; a handler's database work committed at its flush points and rolled back
with its state changes when it raises or is cancelled; sessions outside handlers and in
background handlers; concurrent sessions of two visitors; a session kept in a var refused.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import String, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

import nbstate as ns
from nbstate.testing import StateClient

from .databases import postgres_cluster, sqlite_url


class DbContact(ns.db.Model):
    __tablename__ = "test_db_contacts"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    email: Mapped[str] = mapped_column(default="")


STARTED: dict[str, asyncio.Event] = {}
"""Set by ``add_and_wait`` once it has written and is waiting (by the name it adds)."""


class DbBook(ns.State):
    contacts: list[DbContact] = []
    query: str = ""
    note: str = ""
    step: int = 0

    async def search(self) -> None:
        async with ns.db.session() as db:
            rows = await db.scalars(select(DbContact).where(DbContact.name.contains(self.query))
                                    .order_by(DbContact.id))
            self.contacts = list(rows)

    async def add(self, name: str, email: str = ""):  # type: ignore[no-untyped-def]
        async with ns.db.session() as db:
            db.add(DbContact(name=name, email=email))
        yield DbBook.search

    async def rename(self, index: int, name: str):  # type: ignore[no-untyped-def]
        self.contacts[index].name = name  # one op; the row is written back below
        async with ns.db.session() as db:
            await db.merge(ns.db.orm(self.contacts[index]))

    async def remove(self, ident: int):  # type: ignore[no-untyped-def]
        async with ns.db.session() as db:
            row = await db.get(DbContact, ident)
            assert row is not None
            await db.delete(row)
        yield DbBook.search

    async def add_then_fail(self, name: str) -> None:
        async with ns.db.session() as db:
            db.add(DbContact(name=name))
        self.note = "changed"
        raise ValueError("after the write")

    async def add_yield_add_fail(self, first: str, second: str):  # type: ignore[no-untyped-def]
        async with ns.db.session() as db:
            db.add(DbContact(name=first))
        self.step = 1
        yield
        async with ns.db.session() as db:
            db.add(DbContact(name=second))
        self.step = 2
        raise ValueError("after the second write")

    async def yield_inside_block(self, first: str, second: str):  # type: ignore[no-untyped-def]
        async with ns.db.session() as db:
            db.add(DbContact(name=first))
            self.step = 1
            yield
            db.add(DbContact(name=second))
            self.step = 2
            raise ValueError("inside the block, after the yield")

    async def add_and_wait(self, name: str) -> None:
        async with ns.db.session() as db:
            db.add(DbContact(name=name))
        self.note = "waiting"
        STARTED[name].set()
        await asyncio.Event().wait()  # until cancelled

    async def duplicate_caught(self, name: str) -> None:
        try:
            async with ns.db.session() as db:
                db.add(DbContact(name=name))
        except IntegrityError:
            self.note = "duplicate"
        async with ns.db.session() as db:
            db.add(DbContact(name=name + " (2)"))

    @ns.event(background=True)
    async def import_rows(self, names: list[str], fail: bool = False) -> None:
        for name in names:
            async with ns.db.session() as db:
                db.add(DbContact(name=name))
            async with self:
                self.step += 1
        if fail:
            raise RuntimeError("background failure after the imports")


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    with postgres_cluster() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return sqlite_url(tmp_path / "test.db")
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[str]:
    """``ns.db`` configured for a fresh copy of the tables; engines disposed afterwards."""
    ns.db.configure(database_url)
    await ns.db.drop_all()
    await ns.db.create_all()
    try:
        yield database_url
    finally:
        await ns.db.dispose()
        ns.db.configure(None)


async def names_in_db() -> list[str]:
    async with ns.db.session() as db:
        return list(await db.scalars(select(DbContact.name).order_by(DbContact.id)))


def names_in_state(client: StateClient) -> list[str]:
    return [c["name"] for c in client.document["db_book"]["contacts"]]


# --------------------------------------------------------------------------- CRUD


async def test_crud_through_handlers(database: str) -> None:
    client = StateClient(DbBook)
    book = client.session.get_state(DbBook)
    await client.dispatch("db_book.add", {"name": "Ann", "email": "ann@example.org"})
    await client.dispatch("db_book.add", {"name": "Bob"})
    assert client.errors == []
    assert names_in_state(client) == ["Ann", "Bob"] == await names_in_db()
    assert client.document["db_book"]["contacts"][0] == {
        "id": book.contacts[0].id, "name": "Ann", "email": "ann@example.org"}

    client.deltas.clear()
    await client.dispatch("db_book.rename", {"index": 1, "name": "Bobby"})
    assert client.deltas[0]["ops"] == [
        {"op": "replace", "path": "/db_book/contacts/1/name", "value": "Bobby"}]
    assert await names_in_db() == ["Ann", "Bobby"]

    await client.dispatch("db_book.remove", {"ident": book.contacts[0].id})
    assert names_in_state(client) == ["Bobby"] == await names_in_db()

    await client.set_var("db_book", "query", "zz")
    await client.dispatch("db_book.search")
    assert book.contacts == []
    assert client.document == client.session.snapshot()


# --------------------------------------------------------------------------- rollback


async def test_a_handler_that_writes_then_raises_leaves_no_row_and_no_change(
        database: str) -> None:
    client = StateClient(DbBook)
    await client.dispatch("db_book.add_then_fail", {"name": "Ghost"})
    assert client.errors[0]["handler"] == "db_book.add_then_fail"
    assert client.errors[0]["message"] == "after the write"
    assert await names_in_db() == []
    assert client.session.get_state(DbBook).note == ""
    assert client.deltas == []  # nothing of the handler ever reached the client


async def test_write_yield_write_raise_keeps_the_first_write_and_the_state_at_the_yield(
        database: str) -> None:
    client = StateClient(DbBook, flush_interval=0)
    await client.dispatch("db_book.add_yield_add_fail", {"first": "Kept", "second": "Lost"})
    assert client.errors[0]["message"] == "after the second write"
    assert await names_in_db() == ["Kept"]
    assert client.session.get_state(DbBook).step == 1
    assert client.document["db_book"]["step"] == 1
    assert [d["ops"] for d in client.deltas] == [
        [{"op": "replace", "path": "/db_book/step", "value": 1}]]


async def test_a_yield_inside_an_open_session_commits_what_came_before_it(
        database: str) -> None:
    client = StateClient(DbBook, flush_interval=0)
    await client.dispatch("db_book.yield_inside_block", {"first": "Kept", "second": "Lost"})
    assert client.errors[0]["message"] == "inside the block, after the yield"
    assert await names_in_db() == ["Kept"]
    assert client.session.get_state(DbBook).step == 1


async def test_a_cancelled_handler_rolls_back_its_rows_with_its_state(database: str) -> None:
    session = ns.Session()
    book = session.get_state(DbBook)
    started = STARTED["Ghost"] = asyncio.Event()
    task = asyncio.create_task(session.dispatch("db_book.add_and_wait", {"name": "Ghost"}))
    await started.wait()
    assert book.note == "waiting"
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert book.note == ""
    assert await names_in_db() == []


async def test_the_row_is_written_at_the_flush_point_not_at_the_block_exit(
        database: str) -> None:
    # another connection sees nothing while the handler runs past its block
    session = ns.Session()
    started = STARTED["Pending"] = asyncio.Event()
    task = asyncio.create_task(session.dispatch("db_book.add_and_wait", {"name": "Pending"}))
    await started.wait()
    assert await names_in_db() == []  # (SQLite in WAL mode: a reader never waits for a writer)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await session.dispatch("db_book.add", {"name": "Now"})
    assert await names_in_db() == ["Now"]


async def test_an_integrity_error_surfaces_at_the_block_and_can_be_caught(
        database: str) -> None:
    client = StateClient(DbBook)
    await client.dispatch("db_book.add", {"name": "Ann"})
    await client.dispatch("db_book.duplicate_caught", {"name": "Ann"})
    assert client.errors == []
    assert client.session.get_state(DbBook).note == "duplicate"
    assert await names_in_db() == ["Ann", "Ann (2)"]


# --------------------------------------------------------------------------- outside handlers


async def test_outside_handlers_a_block_commits_on_exit_and_rolls_back_on_error(
        database: str) -> None:
    async with ns.db.session() as db:
        db.add(DbContact(name="Cell"))
    assert await names_in_db() == ["Cell"]

    async def write_then_fail() -> None:
        async with ns.db.session() as db:
            db.add(DbContact(name="Broken"))
            await db.flush()
            raise KeyError("in the block")

    with pytest.raises(KeyError):
        await write_then_fail()
    assert await names_in_db() == ["Cell"]


async def test_a_background_handler_commits_each_block_at_its_exit(database: str) -> None:
    client = StateClient(DbBook)
    await client.dispatch("db_book.import_rows", {"names": ["a", "b", "c"], "fail": True})
    await client.session.drain()
    assert await names_in_db() == ["a", "b", "c"]  # committed block by block, not undone
    assert client.session.get_state(DbBook).step == 3
    assert client.errors[0]["message"] == "background failure after the imports"


# --------------------------------------------------------------------------- concurrency


async def test_two_visitors_write_concurrently_each_seeing_their_own_state(
        database: str) -> None:
    visitors = [StateClient(DbBook), StateClient(DbBook)]
    await asyncio.gather(*(v.dispatch("db_book.add", {"name": f"v{i}-{n}"})
                           for n in range(5) for i, v in enumerate(visitors)))
    assert all(v.errors == [] for v in visitors)
    assert sorted(await names_in_db()) == sorted(f"v{i}-{n}" for n in range(5) for i in (0, 1))
    await asyncio.gather(*(v.set_var("db_book", "query", f"v{i}-") for i, v in
                           enumerate(visitors)))
    await asyncio.gather(*(v.dispatch("db_book.search") for v in visitors))
    assert names_in_state(visitors[0]) == [f"v0-{n}" for n in range(5)]
    assert names_in_state(visitors[1]) == [f"v1-{n}" for n in range(5)]


async def test_one_visitor_failing_does_not_undo_the_other(database: str) -> None:
    ok, failing = StateClient(DbBook), StateClient(DbBook)
    await asyncio.gather(ok.dispatch("db_book.add", {"name": "kept"}),
                         failing.dispatch("db_book.add_then_fail", {"name": "lost"}))
    assert ok.errors == [] and len(failing.errors) == 1
    assert await names_in_db() == ["kept"]
    async with ns.db.session() as db:
        assert await db.scalar(select(func.count()).select_from(DbContact)) == 1


# --------------------------------------------------------------------------- refused


class DbKeeper(ns.State):
    anything: Any = None
    _hidden: Any = None
    _typed: AsyncSession | None = None
    items: list[Any] = []


async def test_a_session_engine_or_connection_kept_in_a_var_is_refused(database: str) -> None:
    session = ns.Session()
    keeper = session.get_state(DbKeeper)
    async with ns.db.session() as db:
        connection = await db.connection()
        for name, value in [("anything", db), ("_hidden", db), ("_typed", db),
                            ("_hidden", ns.db.engine()), ("anything", connection),
                            ("_hidden", ns.db.session())]:
            with pytest.raises(ns.VarTypeError) as caught:
                setattr(keeper, name, value)
            message = str(caught.value)
            assert message.startswith(f"db_keeper.{name}"), message
            assert "cannot be kept in a state" in message, message
            assert "ns.db" in message, message  # the fix
        with pytest.raises(ns.VarTypeError, match=r"^db_keeper\.items\[0\]: an AsyncSession"):
            keeper.items.append(db)
    assert keeper.anything is None and keeper._hidden is None and keeper.items == []
    keeper._typed = None  # the one value such a var can hold
    with pytest.raises(ns.VarTypeError, match="only None"):
        keeper._typed = 3  # type: ignore[assignment]

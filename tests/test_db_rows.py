"""Vars typed with a mapped class: rows as plain, detached, validated, tracked, stored values."""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pydantic
import pytest
from sqlalchemy import JSON, String, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

import nbstate as ns
from nbstate.testing import StateClient

from .databases import sqlite_url


class RowPerson(ns.db.Model):
    __tablename__ = "test_db_rows_people"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    email: Mapped[str] = mapped_column(default="")
    age: Mapped[int | None]
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    joined: Mapped[datetime.datetime] = mapped_column(server_default=func.now())


class RowBook(ns.State):
    people: list[RowPerson] = []
    chosen: RowPerson | None = None

    def rename_first(self, name: str) -> None:
        self.people[0].name = name

    def rename_then_fail(self, name: str) -> None:
        self.people[0].name = name
        self.people[0].tags.append("x")
        raise ValueError("undo the rename")


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[None]:
    ns.db.configure(sqlite_url(tmp_path / "rows.db"))
    await ns.db.create_all()
    try:
        yield
    finally:
        await ns.db.dispose()
        ns.db.configure(None)


async def add_people(*names: str) -> list[RowPerson]:
    async with ns.db.session() as db:
        people = [RowPerson(name=n, age=30 + i, tags=[n.lower()]) for i, n in enumerate(names)]
        db.add_all(people)
    async with ns.db.session() as db:
        return list(await db.scalars(select(RowPerson).order_by(RowPerson.id)))


def test_the_row_model_has_one_field_per_column_typed_from_its_annotation() -> None:
    row = ns.db.row_model(RowPerson)
    fields = row.model_fields
    assert list(fields) == ["id", "name", "email", "age", "tags", "joined"]
    assert fields["id"].annotation == int | None and fields["id"].default is None  # autoincrement
    assert fields["name"].is_required() and fields["name"].annotation is str
    assert fields["email"].default == ""  # a scalar column default
    assert fields["age"].annotation == int | None  # nullable
    assert fields["tags"].annotation == list[str] | None  # a callable default: filled on insert
    assert fields["joined"].annotation == datetime.datetime | None  # a server default
    assert row.__name__ == "RowPersonRow" and row.__nbstate_mapped__ is RowPerson
    assert ns.db.row_model(RowPerson) is row  # one per mapped class


def test_a_class_that_is_not_mapped_has_no_row_model() -> None:
    with pytest.raises(TypeError, match="not a mapped class"):
        ns.db.row_model(int)


async def test_orm_instances_become_plain_detached_rows(database: None) -> None:
    people = await add_people("Ann", "Bob")
    client = StateClient(RowBook)
    book = client.session.get_state(RowBook)
    book.people = people
    book.chosen = people[1]
    client.session.flush()
    assert all(isinstance(p, ns.db.Row) for p in book.people)
    assert not isinstance(book.people[0], RowPerson)
    assert "_sa_instance_state" not in vars(book.people[0])
    assert [p.name for p in book.people] == ["Ann", "Bob"]
    assert book.chosen is not None and book.chosen.name == "Bob"
    assert isinstance(book.people[0].joined, datetime.datetime)
    document = client.document["row_book"]
    assert document["people"][1] == {
        "id": people[1].id, "name": "Bob", "email": "", "age": 31, "tags": ["bob"],
        "joined": people[1].joined.isoformat()}
    assert document["chosen"]["name"] == "Bob"


async def test_a_field_change_is_one_op_and_rolls_back_with_its_handler(database: None) -> None:
    client = StateClient(RowBook)
    book = client.session.get_state(RowBook)
    book.people = await add_people("Ann")
    client.session.flush()
    client.deltas.clear()
    await client.dispatch("row_book.rename_first", {"name": "Anna"})
    assert client.deltas[0]["ops"] == [
        {"op": "replace", "path": "/row_book/people/0/name", "value": "Anna"}]
    await client.dispatch("row_book.rename_then_fail", {"name": "Annie"})
    assert book.people[0].name == "Anna" and book.people[0].tags == ["ann"]
    assert client.document == client.session.snapshot()


async def test_a_bad_value_names_the_var_and_the_field(database: None) -> None:
    session = ns.Session()
    book = session.get_state(RowBook)
    with pytest.raises(ns.VarTypeError, match=r"^row_book\.people\[0\]\.name must be a string"):
        book.people = [{"name": 3}]  # type: ignore[list-item]
    book.people = [{"name": "Cy", "age": "41"}]  # type: ignore[list-item]  # lax, as pydantic
    assert book.people[0].age == 41 and book.people[0].id is None
    with pytest.raises(ns.VarTypeError, match=r"^row_book\.people\[0\]\.age must be an integer"):
        book.people[0].age = "old"


async def test_a_column_that_is_not_loaded_is_an_error_not_a_query(database: None) -> None:
    await add_people("Ann")
    book = ns.Session().get_state(RowBook)
    async with AsyncSession(ns.db.engine()) as db:  # expire_on_commit=True, as by default
        person = (await db.scalars(select(RowPerson))).one()
        await db.commit()  # every attribute is expired now
        with pytest.raises(ns.VarTypeError, match=r"RowPerson\.id is not loaded"):
            book.chosen = person
    assert book.chosen is None


async def test_rows_are_stored_as_json_and_load_back(database: None) -> None:
    session = ns.Session()
    book = session.get_state(RowBook)
    book.people = await add_people("Ann", "Bob")
    session.flush()
    stored = session.dump()
    assert stored["states"]["row_book"]["people"][0]["name"] == "Ann"
    restored = ns.Session()
    restored.load(stored)
    again = restored.get_state(RowBook)
    assert [p.name for p in again.people] == ["Ann", "Bob"]
    assert isinstance(again.people[0], ns.db.Row)
    assert again.people[0].joined == book.people[0].joined
    assert restored.snapshot() == session.snapshot()


async def test_orm_makes_a_transient_instance_to_write_a_row_back(database: None) -> None:
    book = ns.Session().get_state(RowBook)
    book.people = await add_people("Ann")
    book.people[0].name = "Anna"
    book.people[0].tags.append("edited")
    person = ns.db.orm(book.people[0])
    assert isinstance(person, RowPerson)
    assert (person.name, person.tags, type(person.tags)) == ("Anna", ["ann", "edited"], list)
    async with ns.db.session() as db:
        await db.merge(person)
    async with ns.db.session() as db:
        stored = (await db.scalars(select(RowPerson))).one()
        assert (stored.name, stored.tags) == ("Anna", ["ann", "edited"])
    # a new row: what the database fills in is None in the row and left out of the insert
    row_model: Any = ns.db.row_model(RowPerson)  # fields made at run time: Any to mypy
    fresh: RowPerson = ns.db.orm(row_model(name="Dee"))
    async with ns.db.session() as db:
        db.add(fresh)
    assert (fresh.id, fresh.tags, fresh.age) == (2, [], None)
    assert isinstance(fresh.joined, datetime.datetime)
    assert ns.db.orm(fresh) is fresh
    with pytest.raises(TypeError, match="expects a row"):
        ns.db.orm(pydantic.TypeAdapter(int))


def test_the_row_model_follows_the_mapped_annotations_not_only_column_types() -> None:
    fields: dict[str, Any] = ns.db.row_model(RowPerson).model_fields
    assert fields["tags"].annotation != dict | None  # JSON's python_type would say dict


REDEFINED = """
from sqlalchemy.orm import Mapped, mapped_column
import nbstate as ns

class RowPet(ns.db.Model):
    __tablename__ = "test_db_rows_pets"
    id: Mapped[int] = mapped_column(primary_key=True)
    {columns}
"""


def run_cell(source: str, namespace: dict[str, Any]) -> None:
    # as a kernel runs a cell: without this module's `from __future__ import annotations`
    exec(compile(source, "<cell>", "exec", dont_inherit=True), namespace)


async def test_rerunning_the_cell_that_defines_a_mapped_class_redefines_it(
        database: None) -> None:
    # a notebook runs its cells in one namespace; running this one again must not fail
    namespace: dict[str, Any] = {"__name__": "test_db_rows_notebook"}
    run_cell(REDEFINED.format(columns="name: Mapped[str]"), namespace)
    first = namespace["RowPet"]
    run_cell(REDEFINED.format(columns="name: Mapped[str]\n    legs: Mapped[int] = "
                                  "mapped_column(default=4)"), namespace)
    second = namespace["RowPet"]
    assert second is not first
    assert list(ns.db.row_model(second).model_fields) == ["id", "name", "legs"]
    await ns.db.create_all()
    async with ns.db.session() as db:
        db.add(second(name="Rex"))
    async with ns.db.session() as db:
        assert [(p.name, p.legs) for p in await db.scalars(select(second))] == [("Rex", 4)]
    other = {"__name__": "another_module"}
    with pytest.raises(Exception, match="already defined"):
        run_cell(REDEFINED.format(columns="name: Mapped[str]"), other)  # not a redefinition

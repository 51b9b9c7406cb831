"""nbstate's database integration: SQLAlchemy 2 with an async engine (``pip install nbstate[db]``;
``nbstate[postgres]`` adds asyncpg).

``import nbstate`` does not import SQLAlchemy; ``ns.db`` loads this package on first use::

    import nbstate as ns
    from sqlalchemy import select
    from sqlalchemy.orm import Mapped, mapped_column

    class Contact(ns.db.Model):
        __tablename__ = "contacts"
        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str]
        email: Mapped[str] = mapped_column(default="")

    class Book(ns.State):
        contacts: list[Contact] = []          # rows as plain values (see nbstate.db.rows)

        async def add(self, name: str, email: str):
            async with ns.db.session() as db:  # commits with the handler (nbstate.db.session)
                db.add(Contact(name=name, email=email))
            yield Book.search

    await ns.db.create_all()                  # notebooks; migrations stay Alembic's job

- :func:`configure`, :func:`engine`, :func:`dispose`, :func:`current_url`: where the database
  is (:mod:`nbstate.db.engine`).
- :func:`session`: an ``AsyncSession`` per call, committed at the handler's flush points and
  rolled back with its state changes (:mod:`nbstate.db.session`).
- :class:`Model`, :func:`row_model`, :func:`orm`: mapped classes and their rows as var values
  (:mod:`nbstate.db.rows`).

A var never keeps a session, an engine or a connection: assigning one raises
:class:`~nbstate.VarTypeError` naming ``state.var`` and the fix.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session, sessionmaker

from ..shapes import refuse
from .engine import ENV, configure, current_url, dispose, engine
from .rows import Model, Row, orm, row_model
from .session import SessionBlock, session

__all__ = [
    "ENV",
    "Model",
    "Row",
    "configure",
    "create_all",
    "current_url",
    "dispose",
    "drop_all",
    "engine",
    "orm",
    "row_model",
    "session",
]


async def create_all() -> None:
    """Create the tables of every :class:`Model` subclass that do not exist yet.

    For notebooks and tests; an application's schema changes belong to migrations (Alembic).
    """
    async with engine().begin() as connection:
        await connection.run_sync(Model.metadata.create_all)


async def drop_all() -> None:
    """Drop the tables of every :class:`Model` subclass (for tests and demos)."""
    async with engine().begin() as connection:
        await connection.run_sync(Model.metadata.drop_all)


_FIX = "open one per call instead: 'async with ns.db.session() as db:'"
_LIVE: list[tuple[type[Any], str]] = [
    (AsyncSession, f"an AsyncSession is a live database session and cannot be kept in a state; "
                   f"{_FIX}"),
    (Session, f"a SQLAlchemy Session is a live database session and cannot be kept in a state; "
              f"{_FIX}"),
    (SessionBlock, f"an nbstate.db.session() cannot be kept in a state; {_FIX}"),
    (AsyncConnection, f"a database connection cannot be kept in a state; {_FIX}"),
    (Connection, f"a database connection cannot be kept in a state; {_FIX}"),
    (AsyncEngine, "a database engine cannot be kept in a state; nbstate keeps one per process: "
                  "ns.db.configure(url) chooses it, ns.db.engine() returns it"),
    (Engine, "a database engine cannot be kept in a state; nbstate keeps one per process: "
             "ns.db.configure(url) chooses it, ns.db.engine() returns it"),
    (async_sessionmaker, f"a session factory cannot be kept in a state; {_FIX}"),
    (sessionmaker, f"a session factory cannot be kept in a state; {_FIX}"),
]
for _cls, _why in _LIVE:
    refuse(_cls, _why)

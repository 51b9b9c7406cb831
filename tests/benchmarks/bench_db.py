"""Database benchmark: an nbstate event that runs a query and sets a var, vs the same query
through a bare SQLAlchemy ``AsyncSession``, in the same run.

Run: ``python tests/benchmarks/bench_db.py [--rounds 30] [--per-round 20] [--postgres]`` (needs
``pip install -e ".[test]"``; ``--postgres`` also needs Debian's ``postgresql``, started as a
throwaway cluster like the tests do).

A table of 100,000 contacts (id, name, email, city, age; an index on city) in a fresh SQLite file
(and, with ``--postgres``, a PostgreSQL database). Each measured operation runs one 100-row
query, with its argument alternating between two values so every run returns other rows. Two
queries, both measured:

- **page**: ``WHERE city = :city ORDER BY id LIMIT 100``: an index scan, the cheapest 100-row
  query there is, so nbstate's own cost weighs the most;
- **search**: ``WHERE name LIKE '%' || :text || '%' ORDER BY name LIMIT 100``: the contacts
  notebook's search as you type (no index can serve it, so the database scans the table).

For each:

- **bare**: ``async with AsyncSession(engine) as s: rows = list(await s.scalars(query))``;
- **nbstate**: ``await session.dispatch("bench_book.run", {...})`` with a listener
  attached, where the handler is that query in ``async with ns.db.session() as db`` and
  ``self.contacts = list(rows)``: the event's dispatch, the session's commit at the handler's
  return, 100 ORM rows validated into plain rows, tracked, the delta built and delivered.

- **event only**: the same event without the assignment (it runs the query in
  ``ns.db.session()`` and keeps the rows in a local): what dispatch, the handler's transaction
  and its commit cost apart from setting the var.

They alternate in short blocks (``--per-round`` operations each) over ``--rounds`` rounds, so a
burst of load on the machine lands on all alike; it prints the median and p95 per operation and
the ratios of the medians to bare. Target: nbstate ≤ 1.1× bare.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Index, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

import nbstate as ns  # noqa: E402
from nbstate.protocol import Delta, ErrorInfo  # noqa: E402
from tests.databases import postgres_cluster, sqlite_url  # noqa: E402

ROWS = 100_000
CITIES = ["Lyon", "Oslo", "Pune", "Lima", "Kyiv", "Oaxaca", "Perth", "Quito", "Riga", "Sendai"]


class BenchContact(ns.db.Model):
    __tablename__ = "bench_db_contacts"
    __table_args__ = (Index("bench_db_contacts_city", "city"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    email: Mapped[str] = mapped_column(default="")
    city: Mapped[str]
    age: Mapped[int]


def page(city: str) -> Any:
    return select(BenchContact).where(BenchContact.city == city).order_by(BenchContact.id).limit(
        100)


def search(text: str) -> Any:
    return select(BenchContact).where(BenchContact.name.contains(text)).order_by(
        BenchContact.name).limit(100)


QUERIES = {"page": (page, CITIES[:2]), "search": (search, ["12", "34"])}


class BenchBook(ns.State):
    contacts: list[BenchContact] = []

    async def run(self, query: str, argument: str) -> None:
        async with ns.db.session() as db:
            self.contacts = list(await db.scalars(QUERIES[query][0](argument)))

    async def run_only(self, query: str, argument: str) -> None:
        async with ns.db.session() as db:
            rows = list(await db.scalars(QUERIES[query][0](argument)))
        assert len(rows) == 100


class Counting:
    """A listener that takes each delta as a transport would, and counts them."""

    def __init__(self) -> None:
        self.deltas = 0

    def on_delta(self, delta: Delta) -> None:
        self.deltas += 1

    def on_error(self, error: ErrorInfo) -> None:
        raise AssertionError(error)

    def resync(self, document: dict[str, dict[str, Any]], revision: int) -> None:
        raise AssertionError("a resync during the benchmark")


async def fill() -> None:
    await ns.db.drop_all()
    await ns.db.create_all()
    rng = random.Random(7)
    batch = [{"name": f"Contact {i}", "email": f"c{i}@example.org", "city": rng.choice(CITIES),
              "age": rng.randrange(18, 90)} for i in range(ROWS)]
    async with ns.db.session() as db:
        for start in range(0, ROWS, 10_000):
            await db.execute(insert(BenchContact), batch[start:start + 10_000])


async def measure(label: str, url: str, rounds: int, per_round: int) -> None:
    ns.db.configure(url)
    try:
        await fill()
        for query in QUERIES:
            await measure_query(f"{label}, {query}", query, rounds, per_round)
    finally:
        await ns.db.dispose()


async def measure_query(label: str, query: str, rounds: int, per_round: int) -> None:
    make, arguments = QUERIES[query]
    engine = ns.db.engine()
    session = ns.Session()
    listener = Counting()
    session.get_state(BenchBook)
    session.subscribe(listener)
    calls = [0]

    def argument() -> str:
        calls[0] += 1
        return arguments[calls[0] % 2]

    async def bare() -> None:
        async with AsyncSession(engine) as db:
            rows = list(await db.scalars(make(argument())))
        assert len(rows) == 100

    async def ours() -> None:
        await session.dispatch("bench_book.run", {"query": query, "argument": argument()})

    async def event_only() -> None:
        await session.dispatch("bench_book.run_only", {"query": query, "argument": argument()})

    runs: dict[str, list[float]] = {"bare": [], "event only": [], "nbstate": []}
    todo: list[tuple[str, Callable[[], Awaitable[None]]]] = [
        ("bare", bare), ("event only", event_only), ("nbstate", ours)]
    for _, warm in todo:  # warm up: pool, statement caches, row model
        for _ in range(20):
            await warm()
    for r in range(rounds):
        for name, op in todo if r % 2 == 0 else todo[::-1]:
            for _ in range(per_round):
                started = time.perf_counter()
                await op()
                runs[name].append(time.perf_counter() - started)
    assert listener.deltas >= rounds * per_round, "every nbstate run must send a delta"
    assert len(session.get_state(BenchBook).contacts) == 100
    result: dict[str, float] = {}
    for name, times in runs.items():
        times.sort()
        result[f"{name} median"] = statistics.median(times) * 1e3
        result[f"{name} p95"] = times[int(len(times) * 0.95)] * 1e3
    bare_median = result["bare median"]
    cells = [f"{result[f'{name} median']:7.3f} / {result[f'{name} p95']:7.3f}"
             + ("" if name == "bare" else f" ({result[f'{name} median'] / bare_median:.2f}×)")
             for name in runs]
    print(f"{label:<18} | " + " | ".join(cells), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--per-round", type=int, default=20)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    print(f"{ROWS:,} rows, 100-row page per operation, {args.rounds}×{args.per_round} "
          "operations each; ms per operation")
    print(f"{'database, query':<18} | {'bare median / p95':<17} | "
          f"{'event only (ratio)':<25} | nbstate (ratio)")
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        urls = [("SQLite", sqlite_url(Path(tmp) / "bench.db"))]
        if args.postgres:
            urls.append(("PostgreSQL", stack.enter_context(postgres_cluster())))
        for label, url in urls:
            asyncio.run(measure(label, url, args.rounds, args.per_round))
    print("target: nbstate ≤ 1.1× bare")


if __name__ == "__main__":
    main()

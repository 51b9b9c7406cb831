"""The core's transaction hook (nbstate.context.Transaction, driven by nbstate.events), with fake
participants: commit at each flush point before the state's flush, rollback after the state is
undone when the handler fails, is cancelled or interrupted; none for background handlers."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

import nbstate as ns
from nbstate import context
from nbstate.testing import StateClient


class Recorder:
    """A participant that records each call with the client's revision at that moment (how
    many deltas of the test the client had received)."""

    def __init__(self, client: StateClient, log: list[tuple[str, int]], *,
                 fail_commit: bool = False, fail_rollback: bool = False,
                 finished_after_commit: bool = True) -> None:
        self.client, self.log = client, log
        self.fail_commit, self.fail_rollback = fail_commit, fail_rollback
        self.finished_after_commit = finished_after_commit
        self.tx = context.transaction.get()
        assert self.tx is not None and self.tx.join(self)

    async def commit(self) -> None:
        self.log.append(("commit", self.client.revision - START[0]))
        if self.fail_commit:
            raise RuntimeError("commit failed")
        if self.finished_after_commit:
            assert self.tx is not None
            self.tx.leave(self)

    async def rollback(self) -> None:
        self.log.append(("rollback", self.client.revision - START[0]))
        if self.fail_rollback:
            raise OSError("connection lost")


CLIENTS: dict[str, StateClient] = {}
START = [0]
"""The client's revision when the test began: the log holds revisions relative to it."""
LOG: list[tuple[str, int]] = []


def recorder(**options: Any) -> Recorder:
    return Recorder(CLIENTS["current"], LOG, **options)


class TxState(ns.State):
    n: int = 0
    seen: list[str] = []

    def sync_handler(self) -> None:
        recorder()
        self.n += 1

    async def steps(self):  # type: ignore[no-untyped-def]
        recorder(finished_after_commit=False)  # an open block: commits at every flush point
        self.n = 1
        yield
        self.n = 2
        yield
        self.n = 3

    def sync_steps(self):  # type: ignore[no-untyped-def]
        recorder(finished_after_commit=False)
        self.n = 1
        yield
        self.n = 2

    async def commit_fails(self):  # type: ignore[no-untyped-def]
        self.n = 1
        yield
        recorder(fail_commit=True)
        self.n = 2
        yield
        self.n = 3

    async def raises(self) -> None:
        recorder()
        self.n = 5
        raise ValueError("handler failed")

    async def rollback_fails(self) -> None:
        recorder(fail_rollback=True)
        self.n = 5
        raise ValueError("handler failed")

    async def waits(self) -> None:
        recorder()
        self.n = 7
        await asyncio.Event().wait()

    async def leaves_a_task(self) -> None:
        tx = context.transaction.get()
        assert tx is not None
        self.seen.append("joined" if tx.join(_Noop()) else "refused")
        TASKS.append(asyncio.create_task(_join_later(tx)))

    @ns.event(background=True)
    async def background(self) -> None:
        async with self:
            self.seen.append("none" if context.transaction.get() is None else "some")

    async def chains(self):  # type: ignore[no-untyped-def]
        first = context.transaction.get()
        TRANSACTIONS.append(first)
        yield TxState.record_transaction

    def record_transaction(self) -> None:
        TRANSACTIONS.append(context.transaction.get())


class _Noop:
    async def commit(self) -> None:
        pass

    async def rollback(self) -> None:
        pass


TASKS: list[asyncio.Task[bool]] = []
TRANSACTIONS: list[context.Transaction | None] = []


async def _join_later(tx: context.Transaction) -> bool:
    await asyncio.sleep(0.01)
    return tx.join(_Noop())


@pytest.fixture
def client() -> StateClient:
    LOG.clear()
    made = CLIENTS["current"] = StateClient(TxState, flush_interval=0)
    START[0] = made.revision
    return made


def test_no_transaction_outside_handlers() -> None:
    assert context.transaction.get() is None


async def test_a_sync_handler_commits_before_its_delta_is_sent(client: StateClient) -> None:
    await client.dispatch("tx_state.sync_handler")
    assert LOG == [("commit", 0)]
    assert client.revision - START[0] == 1


async def test_each_yield_commits_before_that_step_is_flushed(client: StateClient) -> None:
    await client.dispatch("tx_state.steps")
    assert LOG == [("commit", 0), ("commit", 1), ("commit", 2)]
    assert [dict(d["ops"][0])["value"] for d in client.deltas] == [1, 2, 3]


async def test_a_sync_generator_commits_at_its_yields_too(client: StateClient) -> None:
    await client.dispatch("tx_state.sync_steps")
    assert LOG == [("commit", 0), ("commit", 1)]


async def test_a_failed_commit_fails_the_handler_with_nothing_of_that_step_sent(
        client: StateClient) -> None:
    await client.dispatch("tx_state.commit_fails")
    assert client.errors[0]["message"] == "commit failed"
    assert LOG == [("commit", 1), ("rollback", 1)]
    assert client.session.get_state(TxState).n == 1
    assert [dict(d["ops"][0])["value"] for d in client.deltas] == [1]


async def test_a_failing_handler_is_undone_and_flushed_before_participants_roll_back(
        client: StateClient) -> None:
    await client.dispatch("tx_state.raises")
    assert client.errors[0]["message"] == "handler failed"
    assert LOG == [("rollback", 0)]
    assert client.session.get_state(TxState).n == 0 and client.deltas == []


async def test_a_participant_that_cannot_roll_back_is_logged_and_the_handler_error_wins(
        client: StateClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="nbstate"):
        await client.dispatch("tx_state.rollback_fails")
    assert client.errors[0]["message"] == "handler failed"
    assert "rolling back" in caplog.text and "connection lost" in caplog.text


async def test_a_cancelled_handler_rolls_back_its_participants(client: StateClient) -> None:
    task = asyncio.create_task(client.session.dispatch("tx_state.waits"))
    for _ in range(5):
        await asyncio.sleep(0)
    assert client.session.get_state(TxState).n == 7
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert LOG == [("rollback", 0)]
    assert client.session.get_state(TxState).n == 0


async def test_the_transaction_closes_when_the_handler_ends(client: StateClient) -> None:
    await client.dispatch("tx_state.leaves_a_task")
    assert client.session.get_state(TxState).seen == ["joined"]
    assert await TASKS.pop() is False  # a task the handler left running cannot join any more


async def test_background_handlers_have_no_transaction(client: StateClient) -> None:
    await client.dispatch("tx_state.background")
    await client.session.drain()
    assert client.session.get_state(TxState).seen == ["none"]


async def test_a_chained_event_runs_in_a_transaction_of_its_own(client: StateClient) -> None:
    TRANSACTIONS.clear()
    await client.dispatch("tx_state.chains")
    first, second = TRANSACTIONS
    assert first is not None and second is not None and first is not second
    assert first.closed and second.closed

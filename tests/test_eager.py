"""Starting a handler's coroutine eagerly, inside the caller."""

from __future__ import annotations

import asyncio
import contextvars

import pytest

from nbstate.eager import start_eagerly

where: contextvars.ContextVar[str] = contextvars.ContextVar("where", default="outside")


async def test_a_coroutine_that_never_waits_finishes_inside_the_call() -> None:
    ran: list[str] = []

    async def quick() -> None:
        ran.append("ran")

    assert start_eagerly(asyncio.get_running_loop(), quick()) is None
    assert ran == ["ran"]


async def test_a_coroutine_that_waits_runs_its_first_step_now_and_the_rest_in_a_task() -> None:
    steps: list[str] = []
    gate: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    async def slow() -> None:
        token = where.set("inside")
        steps.append("before")
        steps.append(await gate)
        steps.append(where.get())
        where.reset(token)  # the same context all along, or this raises

    task = start_eagerly(asyncio.get_running_loop(), slow())
    assert steps == ["before"]
    assert task is not None
    gate.set_result("after")
    await task
    assert steps == ["before", "after", "inside"]
    assert where.get() == "outside"


async def test_an_error_after_the_first_step_reaches_the_task() -> None:
    async def failing() -> None:
        await asyncio.sleep(0)
        raise ValueError("late")

    task = start_eagerly(asyncio.get_running_loop(), failing())
    assert task is not None
    with pytest.raises(ValueError, match="late"):
        await task

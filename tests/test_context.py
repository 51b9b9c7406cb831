"""Context variables: who is running, and what a computed var reads, per context."""

from __future__ import annotations

import threading

import nbstate as ns
from nbstate import context


class CxBox(ns.State):
    a: int = 1
    b: int = 2

    @ns.computed
    def inner(self) -> int:
        return self.b * 10

    @ns.computed
    def outer(self) -> int:
        return self.a + self.inner


def test_a_computed_var_records_its_own_reads_and_restores_the_outer_set() -> None:
    session = ns.Session()
    box = session.get_state(CxBox)
    outside: set[tuple[str, str]] = set()
    token = context.reading.set(outside)
    try:
        assert box.outer == 21
    finally:
        context.reading.reset(token)
    assert outside == {("cx_box", "outer")}  # the inner reads went to the computed vars
    assert context.reading.get() is None
    box.b = 3
    session.flush()
    assert session.snapshot()["cx_box"]["outer"] == 31  # outer depends on inner, inner on b


def test_reads_in_another_thread_are_not_seen_here() -> None:
    session = ns.Session()
    box = session.get_state(CxBox)
    mine: set[tuple[str, str]] = set()
    token = context.reading.set(mine)
    try:
        thread = threading.Thread(target=lambda: box.a)
        thread.start()
        thread.join()
    finally:
        context.reading.reset(token)
    assert mine == set()

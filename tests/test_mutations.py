"""Admission and the log: validated, equal values skipped, undone exactly, free code flushed."""

from __future__ import annotations

import pytest

import nbstate as ns


class MuState(ns.State):
    n: int = 0
    items: list[str] = []
    _hidden: int = 0

    @ns.computed
    def double(self) -> int:
        return self.n * 2


def test_an_assignment_is_one_logged_op_and_an_equal_one_none() -> None:
    session = ns.Session(flush_interval=1000)
    state = session.get_state(MuState)
    session.flush()
    state.n = 0
    assert len(session.mutations) == 0
    state.n = 3
    state.items.append("a")
    state._hidden = 9  # logged for undo, never sent
    assert [e.op for e in session.mutations.log.entries] == [
        {"op": "replace", "path": "/mu_state/n", "value": 3},
        {"op": "add", "path": "/mu_state/items/-", "value": "a"},
        None,
    ]
    session.mutations.rollback(1)
    assert (state.n, state.items, state._hidden) == (3, [], 0)
    session.mutations.rollback(0)
    assert state.n == 0 and state.double == 0  # the computed var saw the undo


def test_an_invalid_value_changes_nothing() -> None:
    session = ns.Session(flush_interval=1000)
    state = session.get_state(MuState)
    with pytest.raises(ns.VarTypeError, match=r"mu_state\.n"):
        state.n = "many"  # type: ignore[assignment]
    assert len(session.mutations) == 0


def test_cell_code_changes_ask_for_a_flush() -> None:
    session = ns.Session(flush_interval=0)
    state = session.get_state(MuState)
    state.n = 4  # outside any handler, no loop: flushed at once because it is due
    assert session.snapshot()["mu_state"] == {"n": 4, "items": [], "double": 8}

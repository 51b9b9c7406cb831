"""Admission and the log: validated, equal values skipped, undone exactly, free code flushed."""

from __future__ import annotations

from typing import Any

import pytest

import nbstate as ns
from nbstate.mutations import VarRoot, var_pointer
from nbstate.tracking import _link_of


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


class MuHolder(ns.State):
    maybe: Any = None
    n: int = 0


def test_a_root_exists_only_for_a_var_that_holds_a_tracked_value() -> None:
    session = ns.Session(flush_interval=1000)
    state = session.get_state(MuState)
    holder = session.get_state(MuHolder)
    session.flush()  # the next flush is not due for a while: the log keeps what follows
    assert isinstance(_link_of(state.items)[0], VarRoot)  # the list hangs from its var
    assert _link_of(holder.maybe) == (None, None)  # None: nothing hangs there
    holder.maybe = [1]  # now it does
    root = _link_of(holder.maybe)[0]
    assert isinstance(root, VarRoot) and root.var is MuHolder.maybe
    assert root.pointer == "/mu_holder/maybe"
    holder.maybe.append(2)
    old = holder.maybe
    holder.maybe = 5
    old.append(3)  # out of the tree: logged for undo only
    session.mutations.rollback(0)
    assert holder.maybe is None and old == [1]
    holder.maybe = {"k": []}
    holder.maybe["k"].append(1)
    session.flush()
    assert session.snapshot()["mu_holder"]["maybe"] == {"k": [1]}


def test_var_pointers_are_shared_between_sessions() -> None:
    one, two = ns.Session(flush_interval=1000), ns.Session(flush_interval=1000)
    for session in (one, two):
        state = session.get_state(MuState)
        session.flush()
        state.n = 1
    ops = [e.op for s in (one, two) for e in s.mutations.log.entries]
    assert ops[0] is not None and ops[1] is not None
    assert ops[0]["path"] is ops[1]["path"] is var_pointer(("mu_state", "n"))

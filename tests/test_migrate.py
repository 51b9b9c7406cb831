"""Carrying values over: what validates is kept, the rest reported once."""

from __future__ import annotations

import warnings

import pydantic
import pytest

import nbstate as ns
from nbstate.migrate import dump_state, live_values, report, restore


class MgItem(pydantic.BaseModel):
    name: str


class MgState(ns.State):
    items: list[MgItem] = []
    n: int = 0
    _obj: object = None


def test_live_values_are_json_for_base_vars_and_python_for_backend_vars() -> None:
    session = ns.Session()
    state = session.get_state(MgState)
    marker = object()
    state.items.append(MgItem(name="a"))
    state._obj = marker
    values = live_values(state)
    assert values["items"] == [{"name": "a"}]
    assert values["_obj"] is marker


def test_restore_keeps_what_validates_and_lists_the_rest() -> None:
    state = ns.Session().get_state(MgState)
    problems = restore(state, {"items": [{"name": "b"}], "n": "many", "gone": 1})
    assert state.items[0].name == "b" and state.n == 0
    assert len(problems) == 2
    assert problems[0].startswith("mg_state.n:") and "integer" in problems[0]
    assert problems[1] == "mg_state.gone: no such var any more"
    state.items.append(MgItem(name="c"))  # restored values are tracked


def test_dump_state_is_json() -> None:
    state = ns.Session().get_state(MgState)
    state.items.append(MgItem(name="a"))
    assert dump_state(state) == {"items": [{"name": "a"}], "n": 0, "_obj": None}


def test_report_warns_once_or_not_at_all() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report([], "nothing")
    with pytest.warns(ns.StateMigrationWarning, match="why; these vars .*: a; b") as warned:
        report(["a", "b"], "why")
    assert len(warned) == 1

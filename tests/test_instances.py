"""The session's states: one per class, with ancestors and substates, moved on redefinition."""

from __future__ import annotations

import pytest

import nbstate as ns


class InParent(ns.State):
    a: int = 0


class InChild(InParent):
    b: int = 0


class InGrandchild(InChild):
    c: int = 0


def test_asking_for_a_substate_makes_its_ancestors_and_its_substates() -> None:
    session = ns.Session()
    child = session.get_state(InChild)
    assert list(session.states()) == ["in_parent", "in_parent.in_child",
                                      "in_parent.in_child.in_grandchild"]
    assert session.get_state(InChild) is child
    assert session.state_at("in_parent.in_child") is child
    assert set(session.snapshot()) == set(session.states())


def test_an_unknown_path_names_the_known_ones() -> None:
    session = ns.Session()
    with pytest.raises(ns.UnknownStateError, match="in_parent"):
        session.state_at("in_nowhere")
    with pytest.raises(TypeError, match=r"subclass of nbstate\.State"):
        session.get_state(int)  # type: ignore[type-var]

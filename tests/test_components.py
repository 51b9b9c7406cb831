"""Component state: independent instances per create(), their substates, and their removal."""

from __future__ import annotations

import gc
import weakref
from typing import Any

import pytest

import nbstate as ns
from nbstate.components import components_of, is_component
from nbstate.session import bind_session


class CoCounter(ns.ComponentState):
    """A counter of its own."""

    count: int = 0
    items: list[int] = []

    @ns.computed
    def double(self) -> int:
        return self.count * 2

    @ns.output(min_interval=0)
    def label(self) -> str:
        return f"count {self.count}"

    def increment(self) -> None:
        self.count += 1
        self.items.append(self.count)


class CoStep(CoCounter):
    step: int = 1

    def bump(self) -> None:
        self.count += self.step


@pytest.fixture
def session() -> ns.Session:
    made = ns.Session()
    bind_session(made)
    return made


async def test_each_create_is_an_independent_instance(session: ns.Session) -> None:
    a, b, c = CoCounter.create(), CoCounter.create(count=10), CoCounter.create(items=[7])
    assert len({a._nb_path, b._nb_path, c._nb_path}) == 3
    assert all(isinstance(s, CoCounter) and is_component(s) for s in (a, b, c))
    await session.dispatch(f"{a._nb_path}.increment")
    await session.dispatch(f"{a._nb_path}.increment")
    await session.dispatch(f"{b._nb_path}.increment")
    assert (a.count, b.count, c.count) == (2, 11, 0)
    assert (a.items, b.items, c.items) == ([1, 2], [11], [7])
    doc = session.snapshot()
    assert doc[a._nb_path]["double"] == 4 and doc[b._nb_path]["double"] == 22
    assert doc[b._nb_path]["label"] == {"text/plain": "'count 11'"}
    assert doc[c._nb_path]["count"] == 0
    assert "co_counter" not in doc  # the template itself has no instance


async def test_substates_come_with_each_instance(session: ns.Session) -> None:
    a, b = CoCounter.create(), CoCounter.create()
    paths = set(session.snapshot())
    assert {f"{a._nb_path}.co_step", f"{b._nb_path}.co_step"} <= paths
    await session.dispatch(f"{a._nb_path}.co_step.bump")
    assert (a.count, b.count) == (1, 0)
    step = session.states()[f"{a._nb_path}.co_step"]
    assert isinstance(step, CoStep)
    with pytest.raises(TypeError, match="substate of a component"):
        CoStep.create()


def test_create_validates_its_values(session: ns.Session) -> None:
    with pytest.raises(ns.VarTypeError):
        CoCounter.create(count="many")
    with pytest.raises(ns.UnknownVarError, match="no base var 'colour'"):
        CoCounter.create(colour="red")
    with pytest.raises(ns.UnknownVarError):
        CoCounter.create(double=3)


def test_dropped_instances_leave_the_session_and_free_their_memory(
        session: ns.Session) -> None:
    kept = CoCounter.create(count=1)
    dropped = CoCounter.create(count=2)
    pinned = CoCounter.create(count=3)
    path, pinned_path = dropped._nb_path, pinned._nb_path
    components = components_of(session)
    components.pin(pinned_path, "view")
    ref = weakref.ref(dropped)
    seen: list[Any] = []
    session.subscribe(type("L", (), {"on_delta": lambda self, d: seen.append(d),
                                     "on_error": lambda self, e: None,
                                     "resync": lambda self, doc, rev: None})())
    assert components.sweep() == []  # everything is still referenced
    del dropped, pinned
    gone = components.sweep()
    assert gone == [path, f"{path}.co_step"]
    assert ref() is None
    assert set(session.snapshot()) == {kept._nb_path, f"{kept._nb_path}.co_step",
                                       pinned_path, f"{pinned_path}.co_step"}
    assert seen[-1]["ops"] == [{"op": "remove", "path": f"/{path}"},
                               {"op": "remove", "path": f"/{path}.co_step"}]
    assert kept.count == 1
    kept.count = 5  # a kept instance still works as before
    session.flush()
    assert session.snapshot()[kept._nb_path]["double"] == 10
    components.unpin("view")
    assert components.sweep() == [pinned_path, f"{pinned_path}.co_step"]
    assert not [k for k in session.computed.deps.graph.reads if k[0].startswith(path)]


def test_an_instance_held_only_by_its_own_cycle_is_freed(session: ns.Session) -> None:
    made = CoCounter.create(items=[1, 2])  # a tracked list: the state and its root form a cycle
    ref = weakref.ref(made)
    del made
    gc.collect()
    assert ref() is not None  # the session holds it
    assert len(components_of(session).sweep()) == 2
    assert ref() is None


def test_unflushed_changes_keep_an_instance_until_the_next_sweep(session: ns.Session) -> None:
    made = CoCounter.create()
    path = made._nb_path
    session.flush_interval = 10
    session.flush()
    made.count = 4  # waits in the log for a flush
    del made
    assert components_of(session).sweep() == []
    session.flush()
    assert path in components_of(session).sweep()

"""Dispatch: resolving handlers, validating before running, refusing re-entry."""

from __future__ import annotations

import pytest

import nbstate as ns


class DpState(ns.State):
    n: int = 0
    _secret: str = ""

    @ns.computed
    def double(self) -> int:
        return self.n * 2

    def bump(self, by: int = 1) -> None:
        self.n += by


@pytest.mark.parametrize(("handler", "error", "words"), [
    ("bump", ns.UnknownHandlerError, "'<state path>.<handler>'"),
    ("dp_state.nope", ns.UnknownHandlerError, "its handlers are: bump"),
    ("dp_nowhere.bump", ns.UnknownStateError, "no state class has the path"),
])
async def test_an_event_that_names_nothing_is_refused(handler: str, error: type[Exception],
                                                      words: str) -> None:
    session = ns.Session()
    session.get_state(DpState)
    with pytest.raises(error, match=words):
        await session.dispatch(handler)


async def test_a_bad_payload_runs_nothing() -> None:
    session = ns.Session()
    state = session.get_state(DpState)
    with pytest.raises(ns.PayloadError):
        await session.dispatch("dp_state.bump", {"by": "lots"})
    assert state.n == 0
    await session.dispatch("dp_state.bump", {"by": 2})
    assert state.n == 2


@pytest.mark.parametrize(("name", "error"), [("double", ns.ReadOnlyVarError),
                                             ("_secret", ns.ReadOnlyVarError),
                                             ("nope", ns.UnknownVarError),
                                             ("__class__", ns.UnknownVarError)])
async def test_a_client_sets_base_vars_only(name: str, error: type[Exception]) -> None:
    session = ns.Session()
    session.get_state(DpState)
    with pytest.raises(error):
        await session.set_var("dp_state", name, 1)
    assert session.snapshot()["dp_state"] == {"n": 0, "double": 0}

"""What a session shows outside: snapshot, live values, transports and their replays, dumps."""

from __future__ import annotations

from typing import Any

import pytest

import nbstate as ns
from nbstate.protocol import Delta, ErrorInfo


class PuBoard(ns.State):
    notes: list[str] = []

    def add(self, text: str) -> None:
        self.notes.append(text)


class Tap:
    """A transport that records deltas; ``replays`` as the WebSocket adapter's connections."""

    def __init__(self, replays: bool) -> None:
        self.replays = replays
        self.deltas: list[Delta] = []

    def on_delta(self, delta: Delta) -> None:
        self.deltas.append(delta)

    def on_error(self, error: ErrorInfo) -> None:
        raise AssertionError(error)

    def resync(self, document: dict[str, dict[str, Any]], revision: int) -> None:
        raise AssertionError(revision)


async def test_a_transport_gets_the_snapshot_then_every_delta() -> None:
    session = ns.Session()
    session.get_state(PuBoard)
    tap = Tap(replays=False)
    snapshot, revision = session.subscribe(tap)
    assert snapshot == {"pu_board": {"notes": []}} and revision == session.revision
    await session.dispatch("pu_board.add", {"text": "a"})
    assert [d["ops"] for d in tap.deltas] == [[{"op": "add", "path": "/pu_board/notes/-",
                                                "value": "a"}]]
    snapshot["pu_board"]["notes"].append("changed here")  # a copy: the session keeps its own
    assert session.document_value("pu_board", "notes") == ["a"]
    session.unsubscribe(tap)
    await session.dispatch("pu_board.add", {"text": "b"})
    assert len(tap.deltas) == 1
    with pytest.raises(KeyError):
        session.document_value("pu_board", "nope")


async def test_recent_deltas_are_kept_once_a_transport_replays() -> None:
    session = ns.Session()
    session.get_state(PuBoard)
    await session.dispatch("pu_board.add", {"text": "before"})
    assert session.deltas_since(0) is None  # nothing kept: no transport replays yet
    _, start = session.subscribe(Tap(replays=True))
    await session.dispatch("pu_board.add", {"text": "x"})
    await session.dispatch("pu_board.add", {"text": "y"})
    missed = session.deltas_since(start)
    assert missed is not None
    assert [d["rev"] for d in missed] == [start + 1, start + 2]
    assert session.deltas_since(session.revision) == []


async def test_a_dump_loads_into_a_new_session() -> None:
    session = ns.Session()
    session.get_state(PuBoard)
    await session.dispatch("pu_board.add", {"text": "kept"})
    again = ns.Session()
    again.load(session.dump())
    assert again.get_state(PuBoard).notes == ["kept"]
    assert again.revision == session.revision

"""The inbox: order by seq, validation of messages, exactly one answer each, bounded tables."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

import nbstate as ns
from nbstate import inbox as inbox_module
from nbstate.inbox import Inbox


class InBox(ns.State):
    log: list[str] = []
    n: int = 0

    def record(self, entry: str) -> None:
        self.log.append(entry)

    def interrupted(self) -> None:
        self.n = 99
        raise KeyboardInterrupt

    async def slow(self) -> None:
        self.n += 1
        await asyncio.sleep(10)


def _inbox() -> tuple[Inbox, list[dict[str, Any]]]:
    session = ns.Session()
    session.get_state(InBox)
    replies: list[dict[str, Any]] = []
    return Inbox(session), replies


async def _answers(replies: list[dict[str, Any]], count: int) -> list[dict[str, Any]]:
    for _ in range(200):
        if len(replies) >= count:
            break
        await asyncio.sleep(0.005)
    await asyncio.sleep(0.01)
    return replies


def _event(msg_id: Any, entry: str, **extra: Any) -> dict[str, Any]:
    return {"type": "event", "id": msg_id, "handler": "record", "payload": {"entry": entry},
            **extra}


async def test_messages_run_in_seq_order_whatever_the_arrival_order() -> None:
    inbox, replies = _inbox()
    for seq in (3, 1, 2):
        inbox.receive(replies.append, "in_box", _event(seq, f"m{seq}", client="c", seq=seq))
    await _answers(replies, 3)
    assert inbox.session.snapshot()["in_box"]["log"] == ["m1", "m2", "m3"]
    assert sorted(r["id"] for r in replies) == [1, 2, 3]


async def test_a_duplicate_seq_is_answered_and_the_first_one_still_runs() -> None:
    inbox, replies = _inbox()
    inbox.receive(replies.append, "in_box", _event(2, "first", client="c", seq=2))
    inbox.receive(replies.append, "in_box", _event(3, "second", client="c", seq=2))
    assert replies[-1]["id"] == 3 and "seq 2 twice" in replies[-1]["error"]["message"]
    inbox.receive(replies.append, "in_box", _event(1, "zero", client="c", seq=1))
    await _answers(replies, 3)
    assert inbox.session.snapshot()["in_box"]["log"] == ["zero", "first"]
    assert sorted(r["id"] for r in replies) == [1, 2, 3]  # one answer each


async def test_a_gap_is_given_up_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(inbox_module, "GAP_TIMEOUT", 0.05)
    inbox, replies = _inbox()
    inbox.receive(replies.append, "in_box", _event(2, "two", client="c", seq=2))
    await _answers(replies, 1)
    assert replies == [{"type": "done", "id": 2}]
    inbox.receive(replies.append, "in_box", _event(1, "late", client="c", seq=1))
    await _answers(replies, 2)
    assert inbox.session.snapshot()["in_box"]["log"] == ["two", "late"]


@pytest.mark.parametrize("msg_id", ["1", 1.5, True, None, -1, 2**60, [1], {"a": 1}])
async def test_ids_that_are_not_integers_are_refused(msg_id: Any) -> None:
    inbox, replies = _inbox()
    inbox.receive(replies.append, "in_box", _event(msg_id, "x"))
    await _answers(replies, 1)
    assert len(replies) == 1
    assert replies[0]["id"] is None and replies[0]["error"]["type"] == "ProtocolError"
    assert "'id' must be an integer" in replies[0]["error"]["message"]
    assert inbox.session.snapshot()["in_box"]["log"] == []


@pytest.mark.parametrize(("client", "seq"), [("c", 0), ("c", "1"), ("", 1), (5, 1),
                                             ("x" * 500, 1), ("c", None), (None, 1)])
async def test_bad_client_or_seq_is_refused(client: Any, seq: Any) -> None:
    inbox, replies = _inbox()
    inbox.receive(replies.append, "in_box", _event(4, "x", client=client, seq=seq))
    await _answers(replies, 1)
    assert replies == [replies[0]] and replies[0]["id"] == 4
    assert replies[0]["error"]["type"] == "ProtocolError"
    assert len(replies[0]["error"]["message"]) < 300
    assert inbox.clients == 0


async def test_an_error_about_a_lone_surrogate_can_be_sent() -> None:
    inbox, replies = _inbox()
    inbox.receive(replies.append, "in_box", {"type": "event", "id": 1, "handler": "a\ud800b"})
    await _answers(replies, 1)
    assert replies[0]["error"]["type"] == "UnknownHandlerError"
    json.dumps(replies[0], ensure_ascii=False).encode("utf-8")  # what the kernel's send does


async def test_a_huge_bad_field_gets_a_short_error() -> None:
    inbox, replies = _inbox()
    inbox.receive(replies.append, "in_box", {"type": "event", "id": 1, "handler": "x" * 10**6})
    inbox.receive(replies.append, "in_box", {"type": "set", "id": 2, "var": "n",
                                             "value": "9" * 10**6})
    await _answers(replies, 2)
    assert [r["id"] for r in replies] == [1, 2]
    assert all(len(json.dumps(r)) < 1200 for r in replies)


async def test_quiet_clients_are_forgotten(monkeypatch: pytest.MonkeyPatch) -> None:
    inbox, replies = _inbox()
    for i in range(10):
        inbox.receive(replies.append, "in_box", _event(i, "x", client=f"c{i}", seq=1))
    await _answers(replies, 10)
    assert inbox.clients == 10
    monkeypatch.setattr(inbox_module, "QUIET_AFTER", 0.001)
    inbox.receive(replies.append, "in_box", _event(99, "x", client="new", seq=1))
    assert inbox.clients == 1


async def test_the_client_table_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(inbox_module, "MAX_CLIENTS", 5)
    inbox, replies = _inbox()
    for i in range(50):
        inbox.receive(replies.append, "in_box", _event(i, "x", client=f"c{i}", seq=1))
    await _answers(replies, 50)
    assert inbox.clients <= 6
    assert len(replies) == 50


async def test_an_interrupted_handler_is_answered_undone_and_the_inbox_goes_on() -> None:
    inbox, replies = _inbox()
    inbox.receive(replies.append, "in_box", {"type": "event", "id": 1, "handler": "interrupted"})
    inbox.receive(replies.append, "in_box", _event(2, "after"))
    await _answers(replies, 2)
    assert replies[0]["id"] == 1 and replies[0]["error"]["type"] == "KeyboardInterrupt"
    assert replies[1] == {"type": "done", "id": 2}
    assert inbox.session.snapshot()["in_box"] == {"log": ["after"], "n": 0}


async def test_a_closed_inbox_answers_what_it_still_holds() -> None:
    inbox, replies = _inbox()
    inbox.receive(replies.append, "in_box", {"type": "event", "id": 1, "handler": "slow"})
    inbox.receive(replies.append, "in_box", _event(2, "queued"))
    await asyncio.sleep(0.02)
    inbox.close()
    await _answers(replies, 2)
    assert sorted(r["id"] for r in replies) == [1, 2]
    assert all(r["type"] == "error" for r in replies)
    assert inbox.session.snapshot()["in_box"]["n"] == 0  # the cancelled handler was undone


async def test_a_write_is_settled_once() -> None:
    inbox, replies = _inbox()
    outcomes: list[bool] = []
    inbox.write(replies.append, "in_box", "n", 5, outcomes.append)
    inbox.write(replies.append, "in_box", "n", "five", outcomes.append)
    await _answers(replies, 1)
    assert outcomes == [True, False]
    assert [r["type"] for r in replies] == ["error"]  # a write is answered only when refused
    assert inbox.session.snapshot()["in_box"]["n"] == 5

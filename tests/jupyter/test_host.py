"""The Jupyter host with fake comms: routing deltas to models, message order, errors."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

import nbstate as ns
from nbstate.jupyter.host import JupyterHost
from nbstate.jupyter.widget import StateWidget


class HostBasket(ns.State):
    fruits: list[str] = []
    note: str = ""
    log: list[str] = []

    @ns.computed
    def size(self) -> int:
        return len(self.fruits)

    def add(self, fruit: str) -> None:
        self.fruits.append(fruit)

    def record(self, entry: str) -> None:
        self.log.append(entry)


class HostShelf(HostBasket):
    label: str = ""


def _host() -> tuple[JupyterHost, dict[str, list[dict[str, Any]]]]:
    session = ns.Session()
    session.get_state(HostBasket)
    host = JupyterHost(session)
    sent: dict[str, list[dict[str, Any]]] = {}
    for path, widget in host.widgets.items():
        box = sent.setdefault(path, [])
        widget.send = lambda content, buffers=None, box=box: box.append(content)  # type: ignore[method-assign]
    return host, sent


def test_every_state_gets_a_model_and_children_are_linked() -> None:
    host, _ = _host()
    basket, shelf = host.widgets["host_basket"], host.widgets["host_basket.host_shelf"]
    assert basket._nb_children == [f"IPY_MODEL_{shelf.model_id}"]
    assert basket.fruits == [] and basket.size == 0
    assert not basket.has_trait("_secret")


async def test_in_place_change_is_a_patch_and_the_trait_follows() -> None:
    host, sent = _host()
    await host.session.dispatch("host_basket.add", {"fruit": "fig"})
    patch = sent["host_basket"][-1]
    assert patch["type"] == "patch"
    assert patch["ops"] == [{"op": "add", "path": "/fruits/-", "value": "fig"},
                            {"op": "replace", "path": "/size", "value": 1}]
    widget = host.widgets["host_basket"]
    assert widget.fruits == ["fig"]
    assert widget.size == 1


async def test_whole_var_change_is_a_trait_update_not_a_patch() -> None:
    host, sent = _host()
    widget = host.widgets["host_basket"]
    updates: list[Any] = []
    widget.observe(lambda change: updates.append(change["new"]), names="note")
    await host.session.set_var("host_basket", "note", "ripe")
    assert updates == ["ripe"]
    assert not [m for m in sent["host_basket"] if m["type"] == "patch"]


async def test_messages_run_in_seq_order_whatever_the_arrival_order() -> None:
    host, sent = _host()
    widget = host.widgets["host_basket"]
    host._loop = asyncio.get_running_loop()
    for seq in (3, 1, 2):
        host._receive(widget, {"type": "event", "id": str(seq), "handler": "record",
                               "payload": {"entry": f"m{seq}"}, "client": "c", "seq": seq})
    for _ in range(50):
        await asyncio.sleep(0.01)
        if len([m for m in sent["host_basket"] if m["type"] == "done"]) == 3:
            break
    assert host.session.snapshot()["host_basket"]["log"] == ["m1", "m2", "m3"]


async def test_a_message_from_another_thread_runs_on_the_loop() -> None:
    host, sent = _host()
    widget: StateWidget = host.widgets["host_basket"]
    host._loop = asyncio.get_running_loop()
    host._loop_thread = threading.get_ident()
    ran_on: list[int] = []
    original = host._receive

    def spy(*args: Any) -> None:
        ran_on.append(threading.get_ident())
        original(*args)

    host._receive = spy  # type: ignore[method-assign]
    thread = threading.Thread(target=host._on_msg, args=(widget, {
        "type": "event", "id": "t", "handler": "add", "payload": {"fruit": "kiwi"}}, []))
    thread.start()
    thread.join()
    for _ in range(50):
        await asyncio.sleep(0.01)
        if any(m.get("id") == "t" for m in sent["host_basket"]):
            break
    assert ran_on == [threading.get_ident()]
    assert {"type": "done", "id": "t"} in sent["host_basket"]


@pytest.mark.parametrize(("content", "error_type"), [
    ({"type": "event", "id": "1", "handler": "nope"}, "UnknownHandlerError"),
    ({"type": "set", "id": "2", "var": "size", "value": 3}, "ReadOnlyVarError"),
    ({"type": "set", "id": "3", "var": "note"}, "ProtocolError"),
    (["not", "an", "object"], "ProtocolError"),
])
async def test_bad_messages_get_errors(content: Any, error_type: str) -> None:
    host, sent = _host()
    before = host.session.snapshot()
    await host._handle(host.widgets["host_basket"], content)
    reply = sent["host_basket"][-1]
    assert reply["type"] == "error"
    assert reply["error"]["type"] == error_type
    assert host.session.snapshot() == before


def test_a_var_named_like_widget_machinery_gets_its_own_trait() -> None:
    host, _ = _host()
    widget = host.widgets["host_basket"]
    spec = {v["name"]: v["trait"] for v in widget._nb_spec["vars"]}
    assert spec["log"] == "_nbvar_log"
    assert spec["fruits"] == "fruits"
    assert widget._nbvar_log == []
    assert widget.log is not widget._nbvar_log  # the widget's logger is untouched

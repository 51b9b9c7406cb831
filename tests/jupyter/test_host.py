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
        widget.send = lambda content, buffers=None, box=box: box.append(content)
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


async def test_a_whole_var_change_is_a_patch_too_and_the_trait_follows_quietly() -> None:
    host, sent = _host()
    widget = host.widgets["host_basket"]
    updates: list[Any] = []
    widget.send_state = lambda key=None: updates.append(key)
    await host.session.set_var("host_basket", "note", "ripe")
    # never a trait update: a frontend could handle it after a patch sent later
    assert sent["host_basket"][-1] == {"type": "patch", "rev": host.session.revision,
                                       "ops": [{"op": "replace", "path": "/note",
                                                "value": "ripe"}]}
    assert widget.note == "ripe" and updates == []


async def test_a_message_from_another_thread_runs_on_the_loop() -> None:
    host, sent = _host()
    widget: StateWidget = host.widgets["host_basket"]
    host._loop = asyncio.get_running_loop()
    host._loop_thread = threading.get_ident()
    ran_on: list[int] = []
    original = host._receive

    def spy(widget: StateWidget, content: Any) -> None:
        ran_on.append(threading.get_ident())
        original(widget, content)

    host._receive = spy  # type: ignore[method-assign]
    thread = threading.Thread(target=host._on_msg, args=(widget, {
        "type": "event", "id": 7, "handler": "add", "payload": {"fruit": "kiwi"}}, []))
    thread.start()
    thread.join()
    for _ in range(50):
        await asyncio.sleep(0.01)
        if any(m.get("id") == 7 for m in sent["host_basket"]):
            break
    assert ran_on == [threading.get_ident()]
    assert {"type": "done", "id": 7} in sent["host_basket"]


async def _settled(sent: list[dict[str, Any]], count: int) -> None:
    for _ in range(100):
        if len(sent) >= count:
            return
        await asyncio.sleep(0.01)


@pytest.mark.parametrize(("content", "error_type"), [
    ({"type": "event", "id": 1, "handler": "nope"}, "UnknownHandlerError"),
    ({"type": "set", "id": 2, "var": "size", "value": 3}, "ReadOnlyVarError"),
    ({"type": "set", "id": 3, "var": "note"}, "ProtocolError"),
    (["not", "an", "object"], "ProtocolError"),
])
async def test_bad_messages_get_errors(content: Any, error_type: str) -> None:
    host, sent = _host()
    before = host.session.snapshot()
    host._receive(host.widgets["host_basket"], content)
    await _settled(sent["host_basket"], 1)
    reply = sent["host_basket"][-1]
    assert reply["type"] == "error"
    assert reply["error"]["type"] == error_type
    assert host.session.snapshot() == before


async def test_routing_ignores_the_spec_a_client_can_write() -> None:
    host, sent = _host()
    shelf = host.widgets["host_basket.host_shelf"]
    shelf._nb_spec = {**shelf._nb_spec, "path": "host_basket"}  # as a rewritten trait would
    host._receive(shelf, {"type": "event", "id": 1, "handler": "add",
                          "payload": {"fruit": "fig"}})
    await _settled(sent["host_basket.host_shelf"], 1)
    # the shelf inherits `add`: it runs as the shelf's own handler, on the shelf's comm
    assert sent["host_basket.host_shelf"][-1] == {"type": "done", "id": 1}


async def test_an_update_message_is_a_validated_set() -> None:
    host, sent = _host()
    widget = host.widgets["host_basket"]
    widget.set_state({"fruits": ["fig", "plum"]})  # what ipywidgets does with an `update`
    await _settled(sent["host_basket"], 1)
    assert host.session.snapshot()["host_basket"]["fruits"] == ["fig", "plum"]
    assert widget.fruits == ["fig", "plum"] and widget.size == 2


async def test_an_invalid_update_snaps_back_and_shows_the_error() -> None:
    host, sent = _host()
    widget = host.widgets["host_basket"]
    resent: list[Any] = []
    widget.send_state = lambda key=None: resent.append(key)
    widget.set_state({"fruits": "zzz"})
    await _settled(sent["host_basket"], 1)
    error = sent["host_basket"][-1]
    assert error["type"] == "error" and error["id"] is None
    assert error["error"]["type"] == "VarTypeError"
    assert host.session.snapshot()["host_basket"]["fruits"] == []
    assert widget.fruits == []
    assert resent == [["fruits", "_nb_rev"]]  # the frontend is sent the kernel's value again
    await host.session.dispatch("host_basket.add", {"fruit": "fig"})  # and nothing is wedged
    assert widget.fruits == ["fig"]


@pytest.mark.parametrize("trait", ["size", "_nb_spec", "_nb_view", "_nb_children", "_esm"])
async def test_a_client_cannot_write_computed_or_internal_traits(trait: str) -> None:
    host, sent = _host()
    widget = host.widgets["host_basket"]
    before = {name: getattr(widget, name) for name in ("size", "_nb_spec", "_nb_view",
                                                      "_nb_children", "_esm")}
    resent: list[Any] = []
    widget.send_state = lambda key=None: resent.append(key)
    widget.set_state({trait: "export default { render() { alert(1) } }"})
    assert sent["host_basket"][-1]["type"] == "error"
    assert sent["host_basket"][-1]["error"]["type"] == "ReadOnlyVarError"
    assert {name: getattr(widget, name) for name in before} == before
    assert resent == [[trait, "_nb_rev"]]


async def test_a_kernel_side_trait_write_is_a_set() -> None:
    host, sent = _host()
    widget = host.widgets["host_basket"]
    widget.note = "typed in a linked widget"  # as ipywidgets.link does
    await _settled(sent["host_basket"], 0)
    await asyncio.sleep(0.05)
    assert host.session.snapshot()["host_basket"]["note"] == "typed in a linked widget"
    widget.fruits = "not a list"
    await asyncio.sleep(0.05)
    assert widget.fruits == []  # refused: back to the session's value
    assert sent["host_basket"][-1]["error"]["type"] == "VarTypeError"


async def test_a_failed_send_is_resynced_and_the_next_event_works() -> None:
    host, sent = _host()
    widget = host.widgets["host_basket"]
    calls = 0

    def flaky(content: Any, buffers: Any = None) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise UnicodeEncodeError("utf-8", "", 0, 1, "a transport failure")
        sent["host_basket"].append(content)

    widget.send = flaky
    resent: list[Any] = []
    widget.send_state = lambda key=None: resent.append(key)
    await host.session.dispatch("host_basket.add", {"fruit": "fig"})  # its patch fails to send
    assert widget.fruits == ["fig"] and widget.size == 1  # the traits hold the document
    assert resent and "fruits" in resent[-1]
    await host.session.dispatch("host_basket.add", {"fruit": "plum"})
    assert sent["host_basket"][-1]["type"] == "patch"
    assert widget.fruits == ["fig", "plum"]


def test_a_var_named_like_widget_machinery_gets_its_own_trait() -> None:
    host, _ = _host()
    widget = host.widgets["host_basket"]
    spec = {v["name"]: v["trait"] for v in widget._nb_spec["vars"]}
    assert spec["log"] == "_nbvar_log"
    assert spec["fruits"] == "fruits"
    assert widget._nbvar_log == []
    assert widget.log is not widget._nbvar_log  # the widget's logger is untouched


async def test_stale_traits_travel_whole_after_the_cell_with_their_revision() -> None:
    host, sent = _host()
    basket = host.widgets["host_basket"]
    updates: list[list[str]] = []
    basket.send_state = lambda key=None: updates.append(list(key or []))
    await host.session.dispatch("host_basket.add", {"fruit": "fig"})
    state = host.session.get_state(HostBasket)
    state.fruits = []
    host.session.flush()
    last = sent["host_basket"][-1]
    assert last["type"] == "patch"
    assert last["ops"][0] == {"op": "replace", "path": "/fruits", "value": []}
    assert basket.fruits == [] and updates == []
    host.settle()  # after the cell: the traits travel whole, with the revision they are of
    assert updates == [["fruits", "size", "_nb_rev"]]
    assert basket._nb_rev == host.session.revision
    state.note = "ripe"
    host.session.flush()
    assert sent["host_basket"][-1]["ops"] == [{"op": "replace", "path": "/note",
                                               "value": "ripe"}]
    host.settle()
    assert updates[-1] == ["note", "_nb_rev"]
    host.settle()  # nothing is stale now
    assert len(updates) == 2


def test_a_ping_gets_a_pong() -> None:
    host, sent = _host()
    host._receive(host.widgets["host_basket"], {"type": "ping"})
    assert sent["host_basket"] == [{"type": "pong"}]


def test_every_model_names_one_runtime_model_and_a_key_of_its_own() -> None:
    host, _ = _host()
    basket, shelf = host.widgets["host_basket"], host.widgets["host_basket.host_shelf"]
    assert basket._nb_runtime == shelf._nb_runtime
    runtime = host._runtime
    assert runtime is not None and basket._nb_runtime == f"IPY_MODEL_{runtime.model_id}"
    assert "nbstate" in runtime.source or runtime.source
    assert basket._nb_key and shelf._nb_key and basket._nb_key != shelf._nb_key


def test_a_closed_comm_gets_a_new_model_with_its_substates() -> None:
    host, _ = _host()
    old = dict(host.widgets)
    for widget in old.values():
        widget.comm.close()  # as marimo does when the showing cell runs again
    state = host.session.get_state(HostBasket)
    new = host.widget_for(state)
    assert new is not old["host_basket"]
    shelf = host.widgets["host_basket.host_shelf"]
    assert shelf is not old["host_basket.host_shelf"]
    assert new._nb_children == [f"IPY_MODEL_{shelf.model_id}"]


async def test_an_update_with_a_lone_surrogate_is_refused_and_the_rest_applied() -> None:
    host, sent = _host()
    widget = host.widgets["host_basket"]
    frames: list[Any] = []
    widget._send = lambda msg, buffers=None: frames.append(msg)
    widget.set_state({"fruits": ["\ud800"], "note": "ripe"})
    echo = frames[0]
    assert echo["method"] == "echo_update"
    assert echo["state"] == {"fruits": [], "note": "ripe"}  # the kernel's value, not the bad one
    await _settled(sent["host_basket"], 2)
    errors = [m for m in sent["host_basket"] if m["type"] == "error"]
    assert [e["error"]["type"] for e in errors] == ["VarTypeError"]
    assert host.session.snapshot()["host_basket"]["note"] == "ripe"
    assert host.session.snapshot()["host_basket"]["fruits"] == []

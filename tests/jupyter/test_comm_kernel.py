"""The comm protocol against a real ipykernel: open, event, update, patch, error, runtime."""

from __future__ import annotations

import itertools
import queue
import textwrap
import time
from collections.abc import Iterator
from typing import Any

import pytest
from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_client.manager import KernelManager, start_new_kernel

pytestmark = pytest.mark.kernel

SETUP = textwrap.dedent('''
    import asyncio
    import nbstate as ns

    class Shop(ns.State):
        items: list[str] = []
        count: int = 0
        _secret: str = "never sent"

        @ns.computed
        def total(self) -> int:
            return len(self.items)

        def add(self, text: str):
            self.items.append(text)

        async def slow_add(self, text: str):
            self.count += 1
            yield
            await asyncio.sleep(0.05)
            self.items.append(text)

        def boom(self):
            self.count = 99
            raise ValueError("no stock")

    class Cart(Shop):
        coupon: str = ""

    ns.show(Shop)
''')


@pytest.fixture(scope="module")
def kernel() -> Iterator[tuple[KernelManager, BlockingKernelClient]]:
    km, kc = start_new_kernel(kernel_name="python3")
    try:
        yield km, kc
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


_ids = itertools.count(1)


def _drain(kc: BlockingKernelClient, timeout: float = 0.5) -> list[dict[str, Any]]:
    out = []
    while True:
        try:
            out.append(kc.get_iopub_msg(timeout=timeout))
        except queue.Empty:
            return out


def _execute(kc: BlockingKernelClient, code: str) -> list[dict[str, Any]]:
    msg_id = kc.execute(code)
    reply = kc.get_shell_msg(timeout=30)
    # jupyter_client's wait_for_ready may ask kernel_info more than once and read one answer
    while reply["msg_type"] == "kernel_info_reply":
        reply = kc.get_shell_msg(timeout=30)
    assert reply["parent_header"]["msg_id"] == msg_id, reply["msg_type"]
    assert reply["content"]["status"] == "ok", reply["content"]
    return _drain(kc)


def _values(kc: BlockingKernelClient, code: str) -> str:
    out = _execute(kc, f"print({code})")
    return "".join(m["content"]["text"] for m in out if m["msg_type"] == "stream").strip()


def _send(kc: BlockingKernelClient, comm_id: str, content: dict[str, Any]) -> None:
    msg = kc.session.msg("comm_msg", {"comm_id": comm_id,
                                      "data": {"method": "custom", "content": content}})
    kc.shell_channel.send(msg)


def _until(kc: BlockingKernelClient, pred: Any, timeout: float = 10) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            msg = kc.get_iopub_msg(timeout=0.2)
        except queue.Empty:
            continue
        seen.append(msg)
        if pred(msg):
            return seen
    raise AssertionError(f"no matching message in {timeout}s; saw {[m['msg_type'] for m in seen]}")


def _custom(msg: dict[str, Any]) -> dict[str, Any] | None:
    if msg["msg_type"] != "comm_msg":
        return None
    data = msg["content"]["data"]
    return data.get("content") if data.get("method") == "custom" else None


def _reply_to(msg_id: int) -> Any:
    return lambda m: (_custom(m) or {}).get("id") == msg_id


@pytest.fixture(scope="module")
def models(kernel: tuple[KernelManager, BlockingKernelClient]) -> dict[str, dict[str, Any]]:
    _, kc = kernel
    msgs = _execute(kc, SETUP)
    opens = [m for m in msgs if m["msg_type"] == "comm_open"]
    by_path = {}
    for m in opens:
        state = m["content"]["data"]["state"]
        if "_nb_spec" in state:
            by_path[state["_nb_spec"]["path"]] = {"comm_id": m["content"]["comm_id"],
                                                  "state": state}
    return by_path


def test_comm_open_carries_vars_spec_and_children(models: dict[str, dict[str, Any]]) -> None:
    assert set(models) == {"shop", "shop.cart"}
    shop = models["shop"]["state"]
    assert shop["items"] == [] and shop["count"] == 0 and shop["total"] == 0
    assert "_secret" not in shop
    assert [v["name"] for v in shop["_nb_spec"]["vars"]] == ["items", "count", "total"]
    assert {h["name"] for h in shop["_nb_spec"]["handlers"]} == {"add", "slow_add", "boom"}
    cart_id = models["shop.cart"]["comm_id"]
    assert shop["_nb_children"] == [f"IPY_MODEL_{cart_id}"]
    assert len(shop["_esm"]) < 4096, "the per-state ESM must stay small"


def test_runtime_is_sent_on_request(kernel: Any, models: dict[str, dict[str, Any]]) -> None:
    _, kc = kernel
    _send(kc, models["shop"]["comm_id"], {"type": "runtime_request"})
    seen = _until(kc, lambda m: (_custom(m) or {}).get("type") == "runtime")
    source = _custom(seen[-1])["source"]  # type: ignore[index]
    assert "export" in source and len(source) > 1000


def test_event_patches_then_done(kernel: Any, models: dict[str, dict[str, Any]]) -> None:
    _, kc = kernel
    msg_id = next(_ids)
    _send(kc, models["shop"]["comm_id"],
          {"type": "event", "id": msg_id, "handler": "add", "payload": {"text": "tea"}})
    seen = _until(kc, _reply_to(msg_id))
    patches = [c for m in seen if (c := _custom(m)) and c.get("type") == "patch"]
    assert patches and patches[-1]["ops"] == [
        {"op": "add", "path": "/items/-", "value": "tea"},
        {"op": "replace", "path": "/total", "value": 1},
    ]
    assert _custom(seen[-1]) == {"type": "done", "id": msg_id}
    # the kernel-side trait holds the same value a reloaded page would read
    out = _execute(kc, "from nbstate.jupyter.display import kernel_host\n"
                       "print(kernel_host().widgets['shop'].items)")
    assert any("['tea']" in m["content"].get("text", "") for m in out)


def test_yield_flushes_an_intermediate_update(kernel: Any,
                                              models: dict[str, dict[str, Any]]) -> None:
    _, kc = kernel
    msg_id = next(_ids)
    _send(kc, models["shop"]["comm_id"],
          {"type": "event", "id": msg_id, "handler": "slow_add", "payload": {"text": "jam"}})
    seen = _until(kc, _reply_to(msg_id))
    patches = [c for m in seen if (c := _custom(m)) and c.get("type") == "patch"]
    assert patches[0]["ops"] == [{"op": "replace", "path": "/count", "value": 1}], (
        "the yield must flush count before the sleep")
    assert patches[-1]["ops"][0] == {"op": "add", "path": "/items/-", "value": "jam"}
    # no whole values after a comm message: only after a cell (the comm package ends each
    # message with IPython's post_execute)
    assert not [m for m in seen if m["msg_type"] == "comm_msg"
                and m["content"]["data"].get("method") == "update"]


def test_var_set_from_browser(kernel: Any, models: dict[str, dict[str, Any]]) -> None:
    _, kc = kernel
    msg_id = next(_ids)
    _send(kc, models["shop.cart"]["comm_id"],
          {"type": "set", "id": msg_id, "var": "coupon", "value": "SAVE"})
    seen = _until(kc, _reply_to(msg_id))
    assert _custom(seen[-1]) == {"type": "done", "id": msg_id}
    out = _execute(kc, "print(ns.get_state(Cart).coupon)")
    assert any("SAVE" in m["content"].get("text", "") for m in out)


@pytest.mark.parametrize(
    ("content", "error_type", "words"),
    [
        ({"type": "event", "handler": "nope", "payload": {}}, "UnknownHandlerError",
         "no event handler 'nope'"),
        ({"type": "event", "handler": "add", "payload": {"text": 5}}, "PayloadError",
         "text"),
        ({"type": "event", "handler": "boom", "payload": {}}, "ValueError", "no stock"),
        ({"type": "set", "var": "count", "value": "many"}, "VarTypeError", "shop.count"),
        ({"type": "set", "var": "total", "value": 3}, "ReadOnlyVarError", "shop.total"),
        ({"type": "set", "var": "_secret", "value": "x"}, "ReadOnlyVarError", "_secret"),
        ({"type": "teleport"}, "ProtocolError", "unknown message type"),
        ({"type": "event", "handler": 7}, "ProtocolError", "'handler'"),
    ],
)
def test_bad_input_gets_an_error_and_changes_nothing(
        kernel: Any, models: dict[str, dict[str, Any]], content: dict[str, Any],
        error_type: str, words: str) -> None:
    _, kc = kernel
    before = _execute(kc, "import json; print(json.dumps(ns.default_session().snapshot(), "
                          "sort_keys=True))")
    msg_id = next(_ids)
    _send(kc, models["shop"]["comm_id"], {**content, "id": msg_id})
    seen = _until(kc, _reply_to(msg_id))
    reply = _custom(seen[-1])
    assert reply is not None and reply["type"] == "error"
    assert reply["error"]["type"] == error_type
    assert words in reply["error"]["message"]
    after = _execute(kc, "import json; print(json.dumps(ns.default_session().snapshot(), "
                         "sort_keys=True))")
    text = [m["content"]["text"] for m in before if m["msg_type"] == "stream"]
    assert text == [m["content"]["text"] for m in after if m["msg_type"] == "stream"]
    # the kernel keeps answering
    ok_id = next(_ids)
    _send(kc, models["shop"]["comm_id"], {"type": "set", "id": ok_id, "var": "count", "value": 0})
    assert _custom(_until(kc, _reply_to(ok_id))[-1]) == {"type": "done", "id": ok_id}


def test_cell_mutation_reaches_the_model(kernel: Any, models: dict[str, dict[str, Any]]) -> None:
    _, kc = kernel
    msgs = _execute(kc, "ns.get_state(Shop).count = 41")
    mine = [m["content"]["data"] for m in msgs if m["msg_type"] == "comm_msg"
            and m["content"]["comm_id"] == models["shop"]["comm_id"]]
    patch = next(d["content"] for d in mine if d.get("method") == "custom")
    assert patch["type"] == "patch"
    assert patch["ops"] == [{"op": "replace", "path": "/count", "value": 41}]
    # after the cell, the whole value the notebook's widget state records, with its revision
    update = next(d["state"] for d in mine if d.get("method") == "update")
    assert update == {"count": 41, "_nb_rev": patch["rev"]}


def test_redefining_the_class_keeps_values_and_the_view(
        kernel: Any, models: dict[str, dict[str, Any]]) -> None:
    _, kc = kernel
    _execute(kc, "ns.get_state(Shop).items = ['kept']")
    msgs = _execute(kc, textwrap.dedent('''
        class Shop(ns.State):
            items: list[str] = []
            count: str = "was an int"
            rating: int = 5

            @ns.computed
            def total(self) -> int:
                return len(self.items) * 10

            def add(self, text: str):
                self.items.append(text.upper())
    '''))
    assert not [m for m in msgs if m["msg_type"] == "error"]
    updates = [m["content"]["data"]["state"] for m in msgs if m["msg_type"] == "comm_msg"
               and m["content"]["comm_id"] == models["shop"]["comm_id"]]
    merged = {k: v for u in updates for k, v in u.items()}
    assert "items" not in merged  # unchanged: it still validates, so it was kept
    assert merged["count"] == "was an int"  # 0 is not a str: the new default
    assert merged["rating"] == 5 and merged["total"] == 10
    assert "rating" in [v["name"] for v in merged["_nb_spec"]["vars"]]
    # the displayed model runs the new handler code
    msg_id = next(_ids)
    _send(kc, models["shop"]["comm_id"],
          {"type": "event", "id": msg_id, "handler": "add", "payload": {"text": "new"}})
    seen = _until(kc, _reply_to(msg_id))
    assert _custom(seen[-1]) == {"type": "done", "id": msg_id}
    out = _execute(kc, "print(ns.get_state(Shop).items)")
    assert any("['kept', 'NEW']" in m["content"].get("text", "") for m in out)


# ipykernel 7.4 keeps, per comm, the subshell of every outgoing message whose content has a
# string "id" (ipykernel/comm/comm.py, `BaseComm.publish_msg`) until a frontend reply with that
# id pops it: an open request.
OPEN_REQUESTS = "_reply_subshell_ids"


def _open_requests(kc: BlockingKernelClient, path: str) -> int:
    """How many outgoing requests the kernel holds for the comm of the model at ``path``."""
    comm = f"kernel_host().widgets[{path!r}].comm"
    found = _values(kc, f"hasattr({comm}, {OPEN_REQUESTS!r}), "
                        f"len(getattr({comm}, {OPEN_REQUESTS!r}, ()))").split()
    assert found[0] == "True", f"ipykernel's comm has no {OPEN_REQUESTS}: check the kernel's " \
                               "comm module for where it now keeps outgoing requests"
    return int(found[1])


def test_replies_leave_nothing_behind_in_the_kernel(
        kernel: Any, models: dict[str, dict[str, Any]]) -> None:
    """nbstate's numeric ids keep its replies out of ipykernel's open-request table, so events
    do not grow kernel memory."""
    _, kc = kernel
    _execute(kc, "from nbstate.jupyter.display import kernel_host")
    before = _open_requests(kc, "shop")
    for _ in range(5):
        msg_id = next(_ids)
        _send(kc, models["shop"]["comm_id"],
              {"type": "event", "id": msg_id, "handler": "add", "payload": {"text": "x"}})
        _until(kc, _reply_to(msg_id))
    assert _open_requests(kc, "shop") == before
    # the count is the table ipykernel fills: a message with a string id does grow it
    _execute(kc, "kernel_host().widgets['shop'].send({'type': 'probe', 'id': 'held'})")
    assert _open_requests(kc, "shop") == before + 1
    _execute(kc, f"kernel_host().widgets['shop'].comm.{OPEN_REQUESTS}.pop('held')")


GAUGE = textwrap.dedent('''
    import time
    from typing import Annotated
    import ipywidgets
    import pydantic

    class Gauge(ns.State):
        count: Annotated[int, pydantic.Field(ge=0, le=10)] = 1
        _secret: str = "never sent"

        @ns.computed
        def double(self) -> int:
            return self.count * 2

        def spin(self):
            self.count = 9
            started = time.monotonic()
            while time.monotonic() - started < 20:  # a handler stuck in a compute loop
                pass

        def bump(self):
            self.count += 1

    ns.show(Gauge)
''')


@pytest.fixture(scope="module")
def gauge(kernel: tuple[KernelManager, BlockingKernelClient],
          models: dict[str, dict[str, Any]]) -> str:
    _, kc = kernel
    msgs = _execute(kc, GAUGE)
    comm_id: str = next(
        m["content"]["comm_id"] for m in msgs if m["msg_type"] == "comm_open"
        and m["content"]["data"]["state"].get("_nb_spec", {}).get("path") == "gauge")
    return comm_id


def _update(kc: BlockingKernelClient, comm_id: str, state: dict[str, Any]) -> None:
    msg = kc.session.msg("comm_msg", {"comm_id": comm_id, "data": {
        "method": "update", "state": state, "buffer_paths": []}})
    kc.shell_channel.send(msg)


def test_an_update_message_is_validated_like_a_set(kernel: Any, gauge: str) -> None:
    _, kc = kernel
    _update(kc, gauge, {"count": "zzz"})
    seen = _until(kc, lambda m: (_custom(m) or {}).get("type") == "error")
    assert _custom(seen[-1])["error"]["type"] == "VarTypeError"  # type: ignore[index]
    snap = [m["content"]["data"]["state"] for m in _drain(kc) + seen
            if m["msg_type"] == "comm_msg" and m["content"]["data"].get("method") == "update"]
    assert [s["count"] for s in snap if "count" in s] == [1]  # the kernel's value, sent back
    assert _values(kc, "ns.get_state(Gauge).count, ns.get_state(Gauge).double, "
                       "kernel_host().widgets['gauge'].count") == "1 2 1"
    _update(kc, gauge, {"count": 4})
    _until(kc, lambda m: {"op": "replace", "path": "/double", "value": 8}
           in (_custom(m) or {}).get("ops", []))
    assert _values(kc, "ns.get_state(Gauge).count") == "4"
    _execute(kc, "ns.get_state(Gauge).count = 1")


@pytest.mark.parametrize("trait", ["_nb_spec", "_nb_view", "_nb_children", "_esm", "double"])
def test_a_client_cannot_rewrite_internal_traits(kernel: Any, gauge: str, trait: str) -> None:
    _, kc = kernel
    before = _values(kc, f"repr(kernel_host().widgets['gauge'].{trait})")
    _update(kc, gauge, {trait: {"path": "shop"} if trait == "_nb_spec" else "alert(1)"})
    seen = _until(kc, lambda m: (_custom(m) or {}).get("type") == "error")
    assert _custom(seen[-1])["error"]["type"] == "ReadOnlyVarError"  # type: ignore[index]
    assert _values(kc, f"repr(kernel_host().widgets['gauge'].{trait})") == before
    msg_id = next(_ids)  # routing still goes to the model's own state
    _send(kc, gauge, {"type": "event", "id": msg_id, "handler": "add", "payload": {"text": "x"}})
    reply = _custom(_until(kc, _reply_to(msg_id))[-1])
    assert reply is not None and reply["error"]["type"] == "UnknownHandlerError"


def test_a_linked_slider_goes_through_validation(kernel: Any, gauge: str) -> None:
    _, kc = kernel
    _execute(kc, textwrap.dedent('''
        from nbstate.jupyter.display import kernel_host
        slider = ipywidgets.IntSlider(min=0, max=20, value=1)
        link = ipywidgets.link((slider, "value"), (kernel_host().widgets["gauge"], "count"))
        slider.value = 15
    '''))
    time.sleep(0.3)
    assert _values(kc, "slider.value, ns.get_state(Gauge).count") == "1 1"
    _execute(kc, "slider.value = 7")
    time.sleep(0.3)
    assert _values(kc, "slider.value, ns.get_state(Gauge).count, ns.get_state(Gauge).double, "
                       "kernel_host().widgets['gauge'].double") == "7 7 14 14"
    _execute(kc, "link.unlink(); ns.get_state(Gauge).count = 1")


def test_an_interrupted_handler_is_undone_and_answered(kernel: Any, gauge: str) -> None:
    km, kc = kernel
    msg_id = next(_ids)
    _send(kc, gauge, {"type": "event", "id": msg_id, "handler": "spin", "payload": {}})
    time.sleep(0.5)
    km.interrupt_kernel()
    reply = _custom(_until(kc, _reply_to(msg_id))[-1])
    assert reply is not None and reply["type"] == "error"
    assert reply["error"]["type"] == "KeyboardInterrupt"
    assert _values(kc, "ns.get_state(Gauge).count") == "1"
    ok_id = next(_ids)
    _send(kc, gauge, {"type": "event", "id": ok_id, "handler": "bump", "payload": {}})
    assert _custom(_until(kc, _reply_to(ok_id))[-1]) == {"type": "done", "id": ok_id}
    _execute(kc, "ns.get_state(Gauge).count = 1")

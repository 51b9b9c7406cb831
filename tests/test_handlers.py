"""Handler descriptors, event specs and payload validation."""

from __future__ import annotations

import types
from typing import Any, Literal

import pydantic
import pytest

import nbstate as ns
from nbstate.handlers import EventHandler, EventSpec, HandlerRef, is_handler_function
from nbstate.testing import StateClient


class HdPoint(pydantic.BaseModel):
    x: int
    y: int = 0


class HdForm(ns.State):
    log: list[Any] = []

    def plain(self) -> None:
        self.log.append("plain")

    def typed(self, n: int, text: str = "d", flag: bool = False) -> None:
        self.log.append([n, text, flag])

    def untyped(self, value):  # type: ignore[no-untyped-def]
        self.log.append(value)

    def rich(self, point: HdPoint, mode: Literal["a", "b"], tags: list[str]) -> None:
        self.log.append([point.x, point.y, mode, tags])

    def calls_other(self) -> None:
        self.plain()  # handlers are ordinary methods on an instance
        self.typed(1)

    def _private(self) -> None:
        self.log.append("private")

    @staticmethod
    def helper() -> int:
        return 1

    @property
    def shown(self) -> int:
        return len(self.log)

    @ns.computed
    def size(self) -> int:
        return len(self.log)

    @ns.event(background=True)
    async def slow(self, n: int) -> None:
        async with self:
            self.log.append(n)

    @ns.event
    def marked(self) -> None:
        self.log.append("marked")


def test_public_functions_become_handlers() -> None:
    handlers = HdForm.__nbstate_handlers__
    assert {"plain", "typed", "untyped", "rich", "calls_other", "slow", "marked"} <= set(handlers)
    assert not {"_private", "helper", "shown", "size", "get_state"} & set(handlers)
    assert handlers["slow"].background is True
    assert handlers["plain"].background is False
    assert is_handler_function("x", lambda: None)
    assert not is_handler_function("_x", lambda: None)
    assert not is_handler_function("x", staticmethod(len))


def test_class_access_gives_references_and_specs() -> None:
    ref = HdForm.typed
    assert isinstance(ref, HandlerRef)
    assert ref.path == "hd_form.typed"
    assert ref.spec() == EventSpec("hd_form.typed")
    assert ref(3, text="t") == EventSpec("hd_form.typed", {"n": 3, "text": "t"})
    assert repr(ref) == "<event handler hd_form.typed>"
    with pytest.raises(ns.PayloadError, match="takes 3 arguments, got 4"):
        ref(1, "a", True, 4)


def test_instance_access_gives_bound_methods() -> None:
    session = ns.Session()
    form = session.get_state(HdForm)
    assert isinstance(form.plain, types.MethodType)
    form.calls_other()
    session.flush()
    assert form.log == ["plain", [1, "d", False]]


def test_background_must_be_async() -> None:
    with pytest.raises(TypeError, match="must be 'async def'"):
        ns.event(background=True)(lambda self: None)


@pytest.mark.parametrize(("handler", "payload", "expected"), [
    ("typed", {"n": 1}, {"n": 1, "text": "d", "flag": False}),
    ("typed", {"n": "2", "text": "x", "flag": True}, {"n": 2, "text": "x", "flag": True}),
    ("typed", {"n": 2.0}, {"n": 2, "text": "d", "flag": False}),
    ("untyped", {"value": {"any": ["thing"]}}, {"value": {"any": ["thing"]}}),
    ("plain", {}, {}),
    ("plain", None, {}),
])
def test_payload_validation_accepts(handler: str, payload: Any, expected: dict[str, Any]) -> None:
    method: EventHandler = HdForm.__nbstate_handlers__[handler]
    assert method.validate(f"hd_form.{handler}", payload) == expected


def test_payload_builds_models() -> None:
    method = HdForm.__nbstate_handlers__["rich"]
    kwargs = method.validate("hd_form.rich", {"point": {"x": 1}, "mode": "b", "tags": ["t"]})
    assert kwargs["point"] == HdPoint(x=1)
    assert kwargs["mode"] == "b"


@pytest.mark.parametrize(("handler", "payload", "fragment"), [
    ("typed", {}, "n: Field required"),
    ("typed", {"n": "many"}, "n: Input should be a valid integer"),
    ("typed", {"n": 1, "other": 2}, "other: Extra inputs are not permitted"),
    ("typed", [1], "must be an object"),
    ("typed", "n=1", "must be an object"),
    ("plain", {"x": 1}, "takes no parameters"),
    ("rich", {"point": {"x": "a"}, "mode": "c", "tags": "t"}, "point.x"),
    ("rich", {"point": {"x": 1}, "mode": "c", "tags": []}, "mode"),
])
def test_payload_validation_rejects(handler: str, payload: Any, fragment: str) -> None:
    method = HdForm.__nbstate_handlers__[handler]
    with pytest.raises(ns.PayloadError) as info:
        method.validate(f"hd_form.{handler}", payload)
    assert fragment in str(info.value)
    assert f"hd_form.{handler}" in str(info.value)
    assert isinstance(info.value, TypeError)


def test_payload_error_lists_the_parameters() -> None:
    method = HdForm.__nbstate_handlers__["typed"]
    with pytest.raises(ns.PayloadError, match=r"typed\(n: int, text: str, flag: bool\)"):
        method.validate("hd_form.typed", {"n": "x"})


@pytest.mark.parametrize(("payload", "fragment"), [
    ({"n": "x"}, "valid integer"), ({"nn": 1}, "Extra inputs"), ({}, "Field required")])
async def test_bad_payload_does_not_run_the_handler(payload: dict[str, Any], fragment: str) -> None:
    client = StateClient(HdForm)
    await client.dispatch("hd_form.typed", payload)
    assert client.errors[0]["type"] == "PayloadError"
    assert client.errors[0]["handler"] == "hd_form.typed"
    assert fragment in client.errors[0]["message"]
    assert client.session.get_state(HdForm).log == []
    assert client.deltas == []
    with pytest.raises(ns.PayloadError):
        await client.session.dispatch("hd_form.typed", payload)


async def test_bad_payload_for_background_handler() -> None:
    client = StateClient(HdForm)
    await client.dispatch("hd_form.slow", {"n": "x"})
    await client.session.drain()
    assert client.errors[0]["type"] == "PayloadError"
    assert client.session.get_state(HdForm).log == []


async def test_marked_and_untyped_handlers_run() -> None:
    client = StateClient(HdForm)
    await client.dispatch("hd_form.marked")
    await client.dispatch("hd_form.untyped", {"value": [1, {"a": None}]})
    await client.dispatch("hd_form.slow", {"n": 5})
    await client.session.drain()
    assert client.document["hd_form"]["log"] == ["marked", [1, {"a": None}], 5]
    assert client.document == client.session.snapshot()
    assert not client.errors


def test_handler_keeps_docstring() -> None:
    class HdDocumented(ns.State):
        def go(self) -> None:
            """Go somewhere."""

    assert HdDocumented.__nbstate_handlers__["go"].__doc__ == "Go somewhere."

"""Handler descriptors, event specs and payload validation."""

from __future__ import annotations

import json
import math
import types
import typing
from typing import Annotated, Any, Literal, Optional

import pydantic
import pytest

import nbstate as ns
from nbstate.handlers import (
    EventHandler,
    EventSpec,
    HandlerRef,
    Parameter,
    is_handler_function,
)
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
    ("typed", {}, "hd_form.typed.n is required; it takes hd_form.typed(n: int, text: str = 'd', "
                  "flag: bool = False)"),
    ("typed", {"n": "many"}, "hd_form.typed.n must be an integer, got 'many'"),
    ("typed", {"n": 1, "other": 2}, "hd_form.typed.other is not expected; it takes"),
    ("typed", [1], "must be an object"),
    ("typed", "n=1", "must be an object"),
    ("plain", {"x": 1}, "takes no parameters"),
    ("rich", {"point": {"x": "a"}, "mode": "c", "tags": "t"},
     "hd_form.rich.point.x must be an integer, got 'a'; hd_form.rich.mode must be 'a' or 'b', "
     "got 'c'; and 1 more"),
    ("rich", {"point": {"x": 1}, "mode": "c", "tags": []}, "hd_form.rich.mode must be 'a' or 'b'"),
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
    with pytest.raises(ns.PayloadError, match=r"typed\(n: int, text: str = 'd', flag: bool = "):
        method.validate("hd_form.typed", {"n": 1, "x": 2})


@pytest.mark.parametrize(("payload", "fragment"), [
    ({"n": "x"}, "must be an integer"), ({"nn": 1}, "nn is not expected"), ({}, "is required")])
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


class HdShop(ns.State):
    log: list[Any] = []

    def add(self, qty: Annotated[int, pydantic.Field(ge=1, le=99)], note: str = "") -> None:
        self.log.append([qty, note])

    def measure(self, value: float, values: list[float] = [],  # noqa: B006
                label: Optional[str] = None) -> None:  # noqa: UP045
        self.log.append([value, values, label])

    def anything(self, data: Any = None) -> None:
        self.log.append(data)

    def nothing(self) -> None:
        self.log.append("nothing")


def _shop(name: str) -> EventHandler:
    handler: EventHandler = HdShop.__nbstate_handlers__[name]
    return handler


@pytest.mark.parametrize(("payload", "message"), [
    ({"qty": 0}, "hd_shop.add.qty must be ≥ 1, got 0"),
    ({"qty": 100}, "hd_shop.add.qty must be ≤ 99, got 100"),
    ({"qty": "two"}, "hd_shop.add.qty must be an integer, got 'two'"),
    ({"qty": 1, "note": 5}, "hd_shop.add.note must be a string, got 5"),
])
def test_payload_errors_say_the_constraint_in_plain_words(payload: dict[str, Any],
                                                          message: str) -> None:
    with pytest.raises(ns.PayloadError) as info:
        _shop("add").validate("hd_shop.add", payload)
    assert str(info.value) == message
    assert isinstance(info.value.__cause__, pydantic.ValidationError)
    assert info.value.detail[0]["loc"] == (list(payload)[-1],)


def test_payload_error_messages_stay_short() -> None:
    with pytest.raises(ns.PayloadError) as info:
        _shop("add").validate("hd_shop.add", {"qty": "9" * 1_000_000, "note": ["x"] * 100_000})
    assert len(str(info.value)) <= 300
    with pytest.raises(ns.PayloadError) as info:
        _shop("nothing").validate("hd_shop.nothing", {f"k{i}": i for i in range(100_000)})
    assert len(str(info.value)) <= 300


LONE = json.loads('"a\\ud83db"')  # half an emoji, as a browser's JSON.stringify sends it


@pytest.mark.parametrize(("handler", "payload", "message"), [
    ("add", {"qty": 1, "note": LONE}, "hd_shop.add.note: contains a lone surrogate \\ud83d at "
                                      "index 1"),
    ("measure", {"value": float("nan")}, "hd_shop.measure.value: NaN is not JSON"),
    ("measure", {"value": "nan"}, "hd_shop.measure.value: NaN is not JSON"),
    ("measure", {"value": "-Infinity"}, "hd_shop.measure.value: -Infinity is not JSON"),
    ("measure", {"value": 1, "values": [1, "inf"]}, "hd_shop.measure.values[1]: Infinity is "),
    ("measure", {"value": 1, "label": LONE}, "hd_shop.measure.label: contains a lone surrogate"),
    ("anything", {"data": {"k": [1, float("inf")]}}, "hd_shop.anything.data.k[1]: Infinity"),
    ("anything", {"data": {LONE: 1}}, "hd_shop.anything.data: a key contains a lone surrogate"),
    ("anything", json.loads('{"data": NaN}'), "hd_shop.anything.data: NaN is not JSON"),
])
async def test_payload_values_json_cannot_carry_are_refused(handler: str, payload: Any,
                                                            message: str) -> None:
    with pytest.raises(ns.PayloadError) as info:
        _shop(handler).validate(f"hd_shop.{handler}", payload)
    assert str(info.value).startswith(message)
    assert info.value.detail[0]["type"] == "not_json"
    client = StateClient(HdShop)
    await client.dispatch(f"hd_shop.{handler}", payload)
    assert client.errors[0]["type"] == "PayloadError"
    assert client.errors[0]["message"].encode("utf-8")  # the error itself can travel
    assert client.session.get_state(HdShop).log == []


@pytest.mark.parametrize("payload", [0, "", False, [], 1, "x", True, [1], 0.0])
def test_only_none_means_an_empty_payload(payload: Any) -> None:
    for name in ("nothing", "anything"):
        with pytest.raises(ns.PayloadError, match=f"hd_shop.{name} must be an object"):
            _shop(name).validate(f"hd_shop.{name}", payload)
    assert _shop("nothing").validate("hd_shop.nothing", None) == {}
    assert _shop("anything").validate("hd_shop.anything", None) == {"data": None}


@pytest.mark.parametrize("payload", [0, "", False, []])
async def test_falsy_payloads_do_not_run_the_handler(payload: Any) -> None:
    client = StateClient(HdShop)
    with pytest.raises(ns.PayloadError):
        await client.session.dispatch("hd_shop.nothing", payload)
    assert client.session.get_state(HdShop).log == []


def test_parameters_are_described_readably() -> None:
    assert _shop("add").describe_params() == ["qty: int", "note: str = ''"]
    assert _shop("measure").describe_params() == [
        "value: float", "values: list[float] = []", "label: str | None = None"]
    assert _shop("anything").describe_params() == ["data: Any = None"]


def test_defaults_are_not_checked_as_payload() -> None:
    class HdDefaults(ns.State):
        def go(self, x: float = float("nan")) -> None:
            pass

    handler = HdDefaults.__nbstate_handlers__["go"]
    assert math.isnan(handler.validate("hd_defaults.go", {})["x"])
    with pytest.raises(ns.PayloadError, match="NaN is not JSON"):
        handler.validate("hd_defaults.go", {"x": "nan"})


def test_parameters_are_read_once_with_their_constraints() -> None:
    add = _shop("add")
    qty, note = add.parameters
    assert (qty.name, qty.annotated, qty.required) == ("qty", True, True)
    base, field = typing.get_args(qty.annotation)  # the constraints kept: Field(ge=1, le=99)
    assert base is int
    assert [type(m).__name__ for m in field.metadata] == ["Ge", "Le"]
    assert note == Parameter("note", str, True, "")
    assert not note.required
    assert add.parameters is add.parameters  # cached
    assert _shop("nothing").parameters == ()
    assert HdForm.__nbstate_handlers__["untyped"].parameters == (Parameter("value"),)


class HdLater(ns.State):
    def go(self, item: HdDefinedLater) -> None:  # a type defined after the state class
        pass

    def rest(self, first: int, *more: int, **options: str) -> None:
        pass


class HdDefinedLater(pydantic.BaseModel):
    n: int = 0


def test_parameters_may_name_types_defined_after_the_state() -> None:
    (item,) = HdLater.__nbstate_handlers__["go"].parameters
    assert item.annotation is HdDefinedLater


def test_star_parameters_are_not_payload_keys() -> None:
    rest = HdLater.__nbstate_handlers__["rest"]
    assert [p.name for p in rest.parameters] == ["first"]
    assert rest.describe_params() == ["first: int"]
    assert rest.validate("hd_later.rest", {"first": "2"}) == {"first": 2}
    with pytest.raises(ns.PayloadError, match="more is not expected"):
        rest.validate("hd_later.rest", {"first": 1, "more": [2]})
    ref: Any = HdLater.rest
    with pytest.raises(ns.PayloadError, match=r"takes 1 arguments, got 2; it takes "
                                              r"hd_later\.rest\(first: int\)"):
        ref(1, 2)


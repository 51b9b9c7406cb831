"""Tracked models and dataclasses: attribute sets are ops; a model whose JSON form is more than
its fields' is sent whole."""

from __future__ import annotations

import ast
import dataclasses
import inspect
from collections.abc import Callable
from typing import Annotated, Any

import pydantic
import pytest

import nbstate as ns
from nbstate import models
from nbstate.models import track_object, trackable_object
from nbstate.plain import plain_type, untrack
from nbstate.protocol import encode
from nbstate.shapes import Shape
from nbstate.testing import StateClient
from tests.boxes import (
    ACTION,
    Case,
    ChInner,
    ChSlotted,
    P,
    actions,
    assert_ops,
    assert_rolls_back,
    with_ops,
)

CASES: list[Case] = [
    ("model attr", lambda s: setattr(s.model.inner, "n", 4),
     [{"op": "replace", "path": f"{P}/model/inner/n", "value": 4}]),
    ("model list at depth", lambda s: s.model.inner.tags.append("t"),
     [{"op": "add", "path": f"{P}/model/inner/tags/-", "value": "t"}]),
    ("model dict of models", lambda s: s.model.by_name.__setitem__("k", ChInner(n=2)),
     [{"op": "add", "path": f"{P}/model/by_name/k", "value": {"tags": [], "n": 2}}]),
    ("model new submodel then mutate", lambda s: (
        s.model.__setattr__("inner", ChInner(n=1)), s.model.inner.tags.append("u")), [
        {"op": "replace", "path": f"{P}/model/inner", "value": {"tags": [], "n": 1}},
        {"op": "add", "path": f"{P}/model/inner/tags/-", "value": "u"}]),
    ("dataclass attr", lambda s: setattr(s.pair, "left", 2),
     [{"op": "replace", "path": f"{P}/pair/left", "value": 2}]),
    ("dataclass model at depth", lambda s: setattr(s.pair.inner, "n", 8),
     [{"op": "replace", "path": f"{P}/pair/inner/n", "value": 8}]),
    ("dataclass list", lambda s: s.pair.notes.append("x"),
     [{"op": "add", "path": f"{P}/pair/notes/-", "value": "x"}]),
    ("strict model list", lambda s: s.strict.values.append(1),
     [{"op": "add", "path": f"{P}/strict/values/-", "value": 1}]),
    ("strict model assign then append", lambda s: (
        s.strict.__setattr__("values", [1]), s.strict.values.append(2)),
     [{"op": "replace", "path": f"{P}/strict/values", "value": [1]},
      {"op": "add", "path": f"{P}/strict/values/-", "value": 2}]),
    ("slotted dataclass", lambda s: setattr(s, "slotted", ChSlotted(a=3)),
     [{"op": "replace", "path": f"{P}/slotted", "value": {"a": 3}}]),
    ("equal model attr", lambda s: setattr(s.model.inner, "n", 0), []),
    ("equal dataclass attr", lambda s: setattr(s.pair, "left", 0), []),
]


@pytest.mark.parametrize(("action", "expected"), with_ops(CASES))
async def test_mutation_ops(action: Callable[[Any], Any], expected: list[dict[str, Any]]) -> None:
    await assert_ops(action, expected)


@pytest.mark.parametrize("action", actions(CASES))
async def test_mutation_rolls_back(action: Callable[[Any], Any]) -> None:
    await assert_rolls_back(action)


# --------------------------------------------------------------------------- custom JSON forms


class ChComputed(pydantic.BaseModel):
    cents: int = 0
    tags: list[str] = []

    @pydantic.computed_field  # type: ignore[prop-decorator]
    @property
    def euros(self) -> float:
        return self.cents / 100


class ChExcluded(pydantic.BaseModel):
    shown: int = 0
    hidden: str = pydantic.Field(default="h", exclude=True)


class ChSerialized(pydantic.BaseModel):
    tags: list[str] = []
    n: int = 0

    @pydantic.field_serializer("tags")
    def _joined(self, tags: list[str]) -> str:
        return ",".join(tags)


class ChModelSerialized(pydantic.BaseModel):
    n: int = 0

    @pydantic.model_serializer
    def _as_text(self) -> str:
        return f"n={self.n}"


class ChAnnotated(pydantic.BaseModel):
    n: Annotated[int, pydantic.PlainSerializer(lambda v: f"#{v}")] = 0


class ChAliased(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(serialize_by_alias=True)
    first_name: str = pydantic.Field(default="", serialization_alias="firstName")


class ChHolder(pydantic.BaseModel):
    label: str = ""
    inner: ChComputed = ChComputed()


class ChWallet(ns.State):
    computed: ChComputed = ChComputed()
    excluded: ChExcluded = ChExcluded()
    serialized: ChSerialized = ChSerialized()
    model_serialized: ChModelSerialized = ChModelSerialized()
    annotated: ChAnnotated = ChAnnotated()
    aliased: ChAliased = ChAliased()
    holders: list[ChHolder] = [ChHolder()]

    def apply(self) -> None:
        ACTION[0](self)

    def apply_then_fail(self) -> None:
        ACTION[0](self)
        raise RuntimeError("boom")


W = "/ch_wallet"
WALLET_CASES = [
    ("computed field", lambda s: setattr(s.computed, "cents", 250),
     [{"op": "replace", "path": f"{W}/computed",
       "value": {"cents": 250, "tags": [], "euros": 2.5}}]),
    ("computed nested list", lambda s: s.computed.tags.append("t"),
     [{"op": "replace", "path": f"{W}/computed",
       "value": {"cents": 0, "tags": ["t"], "euros": 0.0}}]),
    ("excluded field", lambda s: setattr(s.excluded, "hidden", "x"),
     [{"op": "replace", "path": f"{W}/excluded", "value": {"shown": 0}}]),
    ("field serializer", lambda s: (s.serialized.tags.append("a"), s.serialized.tags.append("b")),
     [{"op": "add", "path": f"{W}/serialized", "value": {"tags": "a,b", "n": 0}}]),  # compacted
    ("model serializer", lambda s: setattr(s.model_serialized, "n", 2),
     [{"op": "replace", "path": f"{W}/model_serialized", "value": "n=2"}]),
    ("annotated serializer", lambda s: setattr(s.annotated, "n", 3),
     [{"op": "replace", "path": f"{W}/annotated", "value": {"n": "#3"}}]),
    ("alias", lambda s: setattr(s.aliased, "first_name", "Ada"),
     [{"op": "replace", "path": f"{W}/aliased", "value": {"firstName": "Ada"}}]),
    ("plain model around one", lambda s: (s.holders[0].__setattr__("label", "L"),
                                         s.holders[0].inner.__setattr__("cents", 1)), [
        {"op": "replace", "path": f"{W}/holders/0/label", "value": "L"},
        {"op": "replace", "path": f"{W}/holders/0/inner",
         "value": {"cents": 1, "tags": [], "euros": 0.01}}]),
]


@pytest.mark.parametrize(("action", "expected"),
                         [pytest.param(a, e, id=n) for n, a, e in WALLET_CASES])
async def test_custom_json_forms_are_sent_whole(action: Callable[[Any], Any],
                                                expected: list[dict[str, Any]]) -> None:
    client = StateClient(ChWallet)
    wallet = client.session.get_state(ChWallet)
    before, before_values = client.session.snapshot(), untrack(wallet._nb_values)
    ACTION[:] = [action]
    await client.dispatch("ch_wallet.apply_then_fail")
    assert client.session.snapshot() == before
    assert untrack(wallet._nb_values) == before_values
    await client.dispatch("ch_wallet.apply")
    assert client.deltas[-1]["ops"] == expected
    snapshot = client.session.snapshot()
    assert client.document == snapshot
    for name in ChWallet.__nbstate_vars__:
        assert snapshot["ch_wallet"][name] == encode(getattr(wallet, name)), name


# --------------------------------------------------------------------------- refused values


class ChMeasure(pydantic.BaseModel):
    x: float = 0.0
    note: str = ""
    step: Annotated[int, pydantic.Field(ge=1)] = 1


class ChRatio(pydantic.BaseModel):
    """Sent whole: its serializer makes NaN from a value that is fine as it is."""

    d: int = 1

    @pydantic.field_serializer("d")
    def _inverse(self, d: int) -> float:
        return 1 / d if d else float("nan")


class ChGauge(ns.State):
    measures: list[ChMeasure] = [ChMeasure()]
    ratio: ChRatio = ChRatio()
    _private: ChMeasure = ChMeasure()

    def apply(self) -> None:
        ACTION[0](self)


LONE = "a\udc00"

REFUSED = [
    ("float NaN", lambda s: setattr(s.measures[0], "x", float("nan")),
     "ch_gauge.measures[0].x: NaN is not JSON"),
    ("lax infinity", lambda s: setattr(s.measures[0], "x", "-inf"),
     "ch_gauge.measures[0].x: -Infinity is not JSON"),
    ("lone surrogate", lambda s: setattr(s.measures[0], "note", LONE),
     "ch_gauge.measures[0].note: contains a lone surrogate \\udc00 at index 1"),
    ("constraint", lambda s: setattr(s.measures[0], "step", 0),
     "ch_gauge.measures[0].step must be ≥ 1, got 0"),
    ("type", lambda s: setattr(s.measures[0], "x", "far"),
     "ch_gauge.measures[0].x must be a number, got 'far'"),
    ("new model", lambda s: s.measures.append({"x": "nan"}),
     "ch_gauge.measures[1].x: NaN is not JSON"),
    ("serializer", lambda s: setattr(s.ratio, "d", 0),
     "ch_gauge.ratio.d: NaN is not JSON"),
]


@pytest.mark.parametrize(("action", "message"), [pytest.param(a, m, id=n) for n, a, m in REFUSED])
async def test_model_fields_refuse_what_json_cannot_carry(action: Callable[[Any], Any],
                                                          message: str) -> None:
    client = StateClient(ChGauge)
    gauge = client.session.get_state(ChGauge)
    before, before_values = client.session.snapshot(), untrack(gauge._nb_values)
    ACTION[:] = [action]
    await client.dispatch("ch_gauge.apply")
    assert client.errors[0]["type"] == "VarTypeError"
    assert client.errors[0]["message"].startswith(message)
    assert client.session.snapshot() == before
    with pytest.raises(ns.VarTypeError) as info:
        action(gauge)  # in cell code
    assert str(info.value).startswith(message)
    assert client.session.flush() is None
    assert untrack(gauge._nb_values) == before_values
    assert client.document == before


def test_models_in_backend_vars_are_not_checked_for_json() -> None:
    gauge = ns.Session().get_state(ChGauge)
    gauge._private.x = float("nan")
    gauge._private.note = LONE
    with pytest.raises(ns.VarTypeError, match=r"ch_gauge\._private\.step must be ≥ 1"):
        gauge._private.step = 0


class ChBounded(pydantic.BaseModel):
    low: int = pydantic.Field(default=1, ge=1)
    code: Annotated[str, pydantic.Field(max_length=2)] = "a"


@dataclasses.dataclass
class ChBoundedPair:
    n: Annotated[int, pydantic.Field(le=5)] = 0


class ChLimits(ns.State):
    bounded: ChBounded = ChBounded()
    pair: ChBoundedPair = ChBoundedPair()


@pytest.mark.parametrize(("action", "message"), [
    (lambda s: setattr(s.bounded, "low", 0), "ch_limits.bounded.low must be ≥ 1, got 0"),
    (lambda s: setattr(s.bounded, "code", "abc"),
     "ch_limits.bounded.code must have at most 2 characters, got 'abc'"),
    (lambda s: setattr(s.pair, "n", 6), "ch_limits.pair.n must be ≤ 5, got 6"),
])
def test_field_constraints_hold_for_attribute_sets(action: Callable[[Any], Any],
                                                   message: str) -> None:
    limits = ns.Session().get_state(ChLimits)
    with pytest.raises(ns.VarTypeError) as info:
        action(limits)
    assert str(info.value) == message
    assert limits.bounded == ChBounded()
    assert limits.pair == ChBoundedPair()


# --------------------------------------------------------------------------- layering


def test_models_do_not_import_the_containers() -> None:
    """The containers build on this module; it gets their ``wrap`` passed in, at any depth."""
    tree = ast.parse(inspect.getsource(models))
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert "containers" not in imported


@dataclasses.dataclass
class ChNote:
    text: str = ""
    tags: list[str] = dataclasses.field(default_factory=list)


def test_tracked_fields_go_through_the_wrap_passed_in() -> None:
    calls: list[tuple[Any, str, bool]] = []

    def wrap(value: Any, shape: Shape, parent: Any, key: Any, *, within: bool = False) -> Any:
        calls.append((value, key, within))
        return value

    note = ChNote(tags=["a"])
    assert trackable_object(note)
    assert track_object(note, wrap) is note
    assert plain_type(note) is ChNote
    assert calls == [(["a"], "tags", True)]  # the str field is a scalar: nothing to wrap
    note.tags = ["b"]  # out of every state: validated, wrapped, not logged
    assert calls[-1] == (["b"], "tags", False)
    assert note == ChNote(tags=["b"])
    assert not trackable_object(ChSlotted())
    assert not trackable_object(ChNote)


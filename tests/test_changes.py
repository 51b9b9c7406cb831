"""The mutation log: every in-place change becomes the smallest op, and undoes exactly."""

from __future__ import annotations

import copy
import dataclasses
import json
import pickle
from collections.abc import Callable
from typing import Annotated, Any

import pydantic
import pytest

import nbstate as ns
from nbstate.changes import Entry, TrackedDict, TrackedList, TrackedSet, compact, untrack
from nbstate.protocol import encode
from nbstate.testing import StateClient


class ChInner(pydantic.BaseModel):
    tags: list[str] = []
    n: int = 0


class ChOuter(pydantic.BaseModel):
    inner: ChInner = ChInner()
    by_name: dict[str, ChInner] = {}


@dataclasses.dataclass
class ChPair:
    left: int = 0
    inner: ChInner = dataclasses.field(default_factory=ChInner)
    notes: list[str] = dataclasses.field(default_factory=list)


class ChStrict(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(validate_assignment=True)
    values: list[int] = []


@dataclasses.dataclass(slots=True)
class ChSlotted:
    a: int = 0


_action: list[Callable[[Any], Any]] = []


class ChBox(ns.State):
    items: list[str] = ["a", "b", "c"]
    nums: list[int] = [3, 1, 2]
    d: dict[str, int] = {"x": 1, "y": 2}
    tags: set[str] = {"p"}
    model: ChOuter = ChOuter()
    pair: ChPair = ChPair()
    rows: list[dict[str, int]] = [{"n": 1}, {"n": 2}]
    groups: dict[str, list[int]] = {"a": [1]}
    anything: Any = None
    strict: ChStrict = ChStrict()
    slotted: ChSlotted = ChSlotted()
    _secret: list[int] = []

    def apply(self) -> None:
        _action[0](self)

    def apply_then_fail(self) -> None:
        _action[0](self)
        raise RuntimeError("boom")


SYNCED = [n for n, v in ChBox.__nbstate_vars__.items() if v.synced]


def values(box: ChBox) -> dict[str, Any]:
    """Plain deep copies of every var's Python value."""
    return {name: untrack(box._nb_values[name]) for name in ChBox.__nbstate_vars__}


def check_consistent(client: StateClient) -> None:
    box = client.session.get_state(ChBox)
    snapshot = client.session.snapshot()
    assert client.document == snapshot
    for name in SYNCED:
        assert snapshot["ch_box"][name] == encode(getattr(box, name)), name


async def run(action: Callable[[Any], Any]) -> tuple[StateClient, list[dict[str, Any]]]:
    client = StateClient(ChBox)
    _action[:] = [action]
    await client.session.dispatch("ch_box.apply")
    assert not client.errors
    check_consistent(client)
    ops = [op for d in client.deltas for op in d["ops"]]
    return client, ops


P = "/ch_box"

CASES: list[tuple[str, Callable[[Any], Any], list[dict[str, Any]]]] = [
    ("append", lambda s: s.items.append("d"),
     [{"op": "add", "path": f"{P}/items/-", "value": "d"}]),
    ("iadd", lambda s: s.items.__iadd__(["d", "e"]), [
        {"op": "add", "path": f"{P}/items/-", "value": "d"},
        {"op": "add", "path": f"{P}/items/-", "value": "e"}]),
    ("extend", lambda s: s.nums.extend([7]), [{"op": "add", "path": f"{P}/nums/-", "value": 7}]),
    ("insert", lambda s: s.items.insert(1, "z"),
     [{"op": "add", "path": f"{P}/items/1", "value": "z"}]),
    ("insert negative", lambda s: s.items.insert(-1, "z"),
     [{"op": "add", "path": f"{P}/items/2", "value": "z"}]),
    ("insert past end", lambda s: s.items.insert(99, "z"),
     [{"op": "add", "path": f"{P}/items/3", "value": "z"}]),
    ("pop", lambda s: s.items.pop(), [{"op": "remove", "path": f"{P}/items/2"}]),
    ("pop 0", lambda s: s.items.pop(0), [{"op": "remove", "path": f"{P}/items/0"}]),
    ("pop negative", lambda s: s.items.pop(-2), [{"op": "remove", "path": f"{P}/items/1"}]),
    ("remove", lambda s: s.items.remove("b"), [{"op": "remove", "path": f"{P}/items/1"}]),
    ("setitem", lambda s: s.items.__setitem__(1, "B"),
     [{"op": "replace", "path": f"{P}/items/1", "value": "B"}]),
    ("setitem negative", lambda s: s.items.__setitem__(-1, "C"),
     [{"op": "replace", "path": f"{P}/items/2", "value": "C"}]),
    ("delitem", lambda s: s.items.__delitem__(0), [{"op": "remove", "path": f"{P}/items/0"}]),
    ("sort", lambda s: s.nums.sort(), [{"op": "replace", "path": f"{P}/nums", "value": [1, 2, 3]}]),
    ("sort reverse", lambda s: s.nums.sort(reverse=True),
     [{"op": "replace", "path": f"{P}/nums", "value": [3, 2, 1]}]),
    ("reverse", lambda s: s.items.reverse(),
     [{"op": "replace", "path": f"{P}/items", "value": ["c", "b", "a"]}]),
    ("slice set", lambda s: s.items.__setitem__(slice(0, 2), ["q"]),
     [{"op": "replace", "path": f"{P}/items", "value": ["q", "c"]}]),
    ("slice del", lambda s: s.items.__delitem__(slice(None, None, 2)),
     [{"op": "replace", "path": f"{P}/items", "value": ["b"]}]),
    ("clear list", lambda s: s.items.clear(),
     [{"op": "replace", "path": f"{P}/items", "value": []}]),
    ("imul", lambda s: s.nums.__imul__(2),
     [{"op": "replace", "path": f"{P}/nums", "value": [3, 1, 2, 3, 1, 2]}]),
    ("dict add", lambda s: s.d.__setitem__("z", 9),
     [{"op": "add", "path": f"{P}/d/z", "value": 9}]),
    ("dict replace", lambda s: s.d.__setitem__("x", 5),
     [{"op": "replace", "path": f"{P}/d/x", "value": 5}]),
    ("dict del", lambda s: s.d.__delitem__("x"), [{"op": "remove", "path": f"{P}/d/x"}]),
    ("dict update", lambda s: s.d.update({"x": 1, "y": 3}, w=4), [
        {"op": "replace", "path": f"{P}/d/y", "value": 3},
        {"op": "add", "path": f"{P}/d/w", "value": 4}]),
    ("dict ior", lambda s: s.d.__ior__({"q": 0}), [{"op": "add", "path": f"{P}/d/q", "value": 0}]),
    ("dict setdefault new", lambda s: s.d.setdefault("n", 0),
     [{"op": "add", "path": f"{P}/d/n", "value": 0}]),
    ("dict setdefault existing", lambda s: s.d.setdefault("x", 0), []),
    ("dict pop", lambda s: s.d.pop("y"), [{"op": "remove", "path": f"{P}/d/y"}]),
    ("dict pop default", lambda s: s.d.pop("nope", None), []),
    ("dict popitem", lambda s: s.d.popitem(), [{"op": "remove", "path": f"{P}/d/y"}]),
    ("dict clear", lambda s: s.d.clear(), [
        {"op": "remove", "path": f"{P}/d/x"}, {"op": "remove", "path": f"{P}/d/y"}]),
    ("dict key escaping", lambda s: s.d.__setitem__("a/b~c", 1),
     [{"op": "add", "path": f"{P}/d/a~1b~0c", "value": 1}]),
    ("set add", lambda s: s.tags.add("q"), [{"op": "replace", "path": f"{P}/tags"}]),
    ("set add existing", lambda s: s.tags.add("p"), []),
    ("set discard", lambda s: s.tags.discard("p"),
     [{"op": "replace", "path": f"{P}/tags", "value": []}]),
    ("set update", lambda s: s.tags.update({"x", "y"}), [{"op": "replace", "path": f"{P}/tags"}]),
    ("set ior", lambda s: s.tags.__ior__({"x"}), [{"op": "replace", "path": f"{P}/tags"}]),
    ("set isub", lambda s: s.tags.__isub__({"p"}),
     [{"op": "replace", "path": f"{P}/tags", "value": []}]),
    ("set clear", lambda s: s.tags.clear(), [{"op": "replace", "path": f"{P}/tags", "value": []}]),
    ("model attr", lambda s: setattr(s.model.inner, "n", 4),
     [{"op": "replace", "path": f"{P}/model/inner/n", "value": 4}]),
    ("model list at depth", lambda s: s.model.inner.tags.append("t"),
     [{"op": "add", "path": f"{P}/model/inner/tags/-", "value": "t"}]),
    ("model dict of models", lambda s: s.model.by_name.__setitem__("k", ChInner(n=2)),
     [{"op": "add", "path": f"{P}/model/by_name/k", "value": {"tags": [], "n": 2}}]),
    ("model new submodel then mutate", lambda s: (
        setattr(s.model, "inner", ChInner(n=1)), s.model.inner.tags.append("u")), [
        {"op": "replace", "path": f"{P}/model/inner", "value": {"tags": [], "n": 1}},
        {"op": "add", "path": f"{P}/model/inner/tags/-", "value": "u"}]),
    ("dataclass attr", lambda s: setattr(s.pair, "left", 2),
     [{"op": "replace", "path": f"{P}/pair/left", "value": 2}]),
    ("dataclass model at depth", lambda s: setattr(s.pair.inner, "n", 8),
     [{"op": "replace", "path": f"{P}/pair/inner/n", "value": 8}]),
    ("dataclass list", lambda s: s.pair.notes.append("x"),
     [{"op": "add", "path": f"{P}/pair/notes/-", "value": "x"}]),
    ("list of dicts", lambda s: s.rows[1].__setitem__("n", 5),
     [{"op": "replace", "path": f"{P}/rows/1/n", "value": 5}]),
    ("list of dicts add", lambda s: s.rows.append({"n": 3}),
     [{"op": "add", "path": f"{P}/rows/-", "value": {"n": 3}}]),
    ("list of dicts moved", lambda s: (s.rows.insert(0, {"n": 0}), s.rows[2].update(m=1)), [
        {"op": "add", "path": f"{P}/rows/0", "value": {"n": 0}},
        {"op": "add", "path": f"{P}/rows/2/m", "value": 1}]),
    ("list of dicts after sort", lambda s: (s.rows.reverse(), s.rows[0].__setitem__("n", 7)), [
        {"op": "replace", "path": f"{P}/rows", "value": [{"n": 2}, {"n": 1}]},
        {"op": "replace", "path": f"{P}/rows/0/n", "value": 7}]),
    ("move an item", lambda s: s.rows.append(s.rows.pop(0)), [
        {"op": "remove", "path": f"{P}/rows/0"},
        {"op": "add", "path": f"{P}/rows/-", "value": {"n": 1}}]),
    ("pop and edit", lambda s: s.rows.pop(0).__setitem__("n", 9),
     [{"op": "remove", "path": f"{P}/rows/0"}]),
    ("replace and edit the old", lambda s: (s.pair.notes.append("n"), setattr(s, "pair", ChPair()),
                                             s.pair.notes.append("new")), [
        {"op": "replace", "path": f"{P}/pair", "value": {"left": 0, "inner": {"tags": [], "n": 0},
                                                          "notes": []}},
        {"op": "add", "path": f"{P}/pair/notes/-", "value": "new"}]),
    ("dict of lists", lambda s: s.groups["a"].append(2),
     [{"op": "add", "path": f"{P}/groups/a/-", "value": 2}]),
    ("dict of lists new key", lambda s: s.groups.setdefault("b", []).append(5), [
        {"op": "add", "path": f"{P}/groups/b", "value": []},
        {"op": "add", "path": f"{P}/groups/b/-", "value": 5}]),
    ("any var nested", lambda s: (setattr(s, "anything", {"k": [1]}), s.anything["k"].append(2)), [
        {"op": "replace", "path": f"{P}/anything", "value": {"k": [1]}},
        {"op": "add", "path": f"{P}/anything/k/-", "value": 2}]),
    ("strict model list", lambda s: s.strict.values.append(1),
     [{"op": "add", "path": f"{P}/strict/values/-", "value": 1}]),
    ("strict model assign then append", lambda s: (
        setattr(s.strict, "values", [1]), s.strict.values.append(2)),
     [{"op": "replace", "path": f"{P}/strict/values", "value": [1]},
      {"op": "add", "path": f"{P}/strict/values/-", "value": 2}]),
    ("slotted dataclass", lambda s: setattr(s, "slotted", ChSlotted(a=3)),
     [{"op": "replace", "path": f"{P}/slotted", "value": {"a": 3}}]),
    ("backend var", lambda s: s._secret.append(1), []),
    # a later op on the same object member drops the earlier ones; "add" sets a member either way
    ("compaction same key", lambda s: [s.d.__setitem__("x", i) for i in range(5)],
     [{"op": "add", "path": f"{P}/d/x", "value": 4}]),
    ("compaction add then replace", lambda s: (s.d.__setitem__("n", 1), s.d.__setitem__("n", 2)),
     [{"op": "add", "path": f"{P}/d/n", "value": 2}]),
    ("compaction under replaced var", lambda s: (s.items.append("x"), setattr(s, "items", ["y"])),
     [{"op": "replace", "path": f"{P}/items", "value": ["y"]}]),
    ("compaction add then remove", lambda s: (s.d.__setitem__("n", 1), s.d.pop("n")), [
        {"op": "add", "path": f"{P}/d/n", "value": 1}, {"op": "remove", "path": f"{P}/d/n"}]),
    ("equal list item", lambda s: s.items.__setitem__(0, "a"), []),
    ("sort a sorted list", lambda s: s.items.sort(), []),
    ("empty slice deletion", lambda s: s.items.__delitem__(slice(5, None)), []),
    ("times one", lambda s: s.nums.__imul__(1), []),
    ("equal dict value", lambda s: s.d.__setitem__("x", 1), []),
    ("equal model attr", lambda s: setattr(s.model.inner, "n", 0), []),
    ("equal dataclass attr", lambda s: setattr(s.pair, "left", 0), []),
]


def _ops_match(actual: list[dict[str, Any]], expected: list[dict[str, Any]]) -> bool:
    if len(actual) != len(expected):
        return False
    for a, e in zip(actual, expected, strict=True):
        if {k: v for k, v in a.items() if k != "value"} != {
                k: v for k, v in e.items() if k != "value"}:
            return False
        if "value" in e and a.get("value") != e["value"]:
            return False
    return True


@pytest.mark.parametrize(("action", "expected"), [pytest.param(a, e, id=n) for n, a, e in CASES])
async def test_mutation_ops(action: Callable[[Any], Any], expected: list[dict[str, Any]]) -> None:
    _, ops = await run(action)
    assert _ops_match(ops, expected), ops


@pytest.mark.parametrize("action", [pytest.param(a, id=n) for n, a, _ in CASES])
async def test_mutation_rolls_back(action: Callable[[Any], Any]) -> None:
    client = StateClient(ChBox)
    box = client.session.get_state(ChBox)
    before_snapshot, before_values = client.session.snapshot(), values(box)
    _action[:] = [action]
    await client.dispatch("ch_box.apply_then_fail")
    assert client.errors == [
        {"handler": "ch_box.apply_then_fail", "type": "RuntimeError", "message": "boom"}]
    assert client.session.snapshot() == before_snapshot
    assert values(box) == before_values
    assert client.document == before_snapshot
    # the values are still tracked: the same action now reaches the client
    await client.dispatch("ch_box.apply")
    check_consistent(client)


async def test_set_ops_carry_the_whole_set() -> None:
    _, ops = await run(lambda s: s.tags.update({"x", "y"}))
    assert sorted(ops[0]["value"]) == ["p", "x", "y"]


async def test_detached_node_is_no_longer_tracked() -> None:
    def action(s: ChBox) -> None:
        row = s.rows.pop(0)
        row["n"] = 100  # left the tree: a plain change
        s.groups.pop("a").append(9)
        old_inner = s.model.inner
        s.model.inner = ChInner(n=1)
        old_inner.n = 5

    _, ops = await run(action)
    assert [op["path"] for op in ops] == [f"{P}/rows/0", f"{P}/groups/a", f"{P}/model/inner"]


async def test_one_object_at_two_places_is_copied() -> None:
    def action(s: ChBox) -> None:
        s.rows.append(s.rows[0])
        s.rows[-1]["n"] = 50

    client, _ = await run(action)
    box = client.session.get_state(ChBox)
    assert box.rows == [{"n": 1}, {"n": 2}, {"n": 50}]
    assert box.rows[0] is not box.rows[2]


async def test_item_validation_against_the_annotation() -> None:
    client = StateClient(ChBox)
    _action[:] = [lambda s: s.nums.append("seven")]
    await client.dispatch("ch_box.apply")
    assert client.errors[0]["type"] == "VarTypeError"
    assert "ch_box.nums" in client.errors[0]["message"]
    assert client.session.get_state(ChBox).nums == [3, 1, 2]
    box = client.session.get_state(ChBox)
    with pytest.raises(ns.VarTypeError, match=r"ch_box\.model"):
        box.model.inner.n = "many"  # type: ignore[assignment]
    with pytest.raises(TypeError):
        box.d["x"] = [1]
    assert box.d == {"x": 1, "y": 2}
    assert box.model.inner.n == 0


async def test_item_coercion_follows_pydantic_lax_mode() -> None:
    client, ops = await run(lambda s: (s.nums.append("7"), s.rows.append({"n": "8"})))
    box = client.session.get_state(ChBox)
    assert box.nums[-1] == 7
    assert box.rows[-1] == {"n": 8}
    assert ops[0]["value"] == 7


async def test_tracked_values_behave_like_builtins() -> None:
    client = StateClient(ChBox)
    box = client.session.get_state(ChBox)
    assert isinstance(box.items, list)
    assert isinstance(box.items, TrackedList)
    assert isinstance(box.d, TrackedDict)
    assert isinstance(box.tags, TrackedSet)
    assert isinstance(box.model, ChOuter)
    assert box.model == ChOuter()
    assert ChOuter() == box.model
    assert box.pair == ChPair()
    assert json.loads(json.dumps(box.items)) == ["a", "b", "c"]
    for value in (box.items, box.d, box.tags, box.model, box.pair, box.rows):
        assert type(copy.deepcopy(value)) in (list, dict, set, ChOuter, ChPair)
        assert copy.deepcopy(value) == value
        assert pickle.loads(pickle.dumps(value)) == value
    assert type(pickle.loads(pickle.dumps(box.model))) is ChOuter
    assert box.model.model_dump() == {"inner": {"tags": [], "n": 0}, "by_name": {}}
    assert type(untrack(box.model)) is ChOuter
    assert type(untrack(box.rows)[0]) is dict


def test_defaults_are_not_shared_or_mutated() -> None:
    a = ns.Session().get_state(ChBox)
    b = ns.Session().get_state(ChBox)
    assert a.rows is not b.rows
    assert a.model.inner is not b.model.inner
    a.rows[0]["n"] = 99
    a.model.inner.tags.append("x")
    a.pair.notes.append("y")
    assert b.rows == [{"n": 1}, {"n": 2}]
    assert b.model.inner.tags == []
    assert b.pair.notes == []
    assert ChBox.__nbstate_vars__["model"].default == ChOuter()
    assert ChBox.__nbstate_vars__["pair"].default == ChPair()


def _entry(op: str, path: str, value: Any = None, stable: bool = True) -> Entry:
    raw = {"op": op, "path": path} if op == "remove" else {"op": op, "path": path, "value": value}
    return Entry(raw, lambda: None, ("s", "v"), stable)


def test_compact_keeps_unrelated_and_index_ops() -> None:
    entries = [
        _entry("add", "/s/l/-", 1, stable=False),
        _entry("add", "/s/l/-", 2, stable=False),
        _entry("replace", "/s/l/0", 3, stable=False),
        _entry("replace", "/s/a", 1),
        _entry("replace", "/s/ab", 2),
    ]
    assert compact(entries) == [e.op for e in entries]


def test_compact_drops_covered_paths() -> None:
    entries = [
        _entry("add", "/s/d/k", {}),
        _entry("add", "/s/d/k/x", 1),
        _entry("add", "/s/d/kk", 1),
        _entry("replace", "/s/d/k", {"y": 2}),
        Entry(None, lambda: None, ("s", "_b"), True),
    ]
    assert compact(entries) == [
        {"op": "add", "path": "/s/d/kk", "value": 1},
        {"op": "add", "path": "/s/d/k", "value": {"y": 2}},
    ]


def test_compact_keeps_remove_before_add() -> None:
    entries = [_entry("add", "/s/d/k", 1), _entry("remove", "/s/d/k"), _entry("add", "/s/d/k", 2)]
    assert compact(entries) == [{"op": "add", "path": "/s/d/k", "value": 2}]
    entries = [_entry("replace", "/s/d/k", 1), _entry("remove", "/s/d/k")]
    assert compact(entries) == [e.op for e in entries]


async def test_set_items_are_validated() -> None:
    client = StateClient(ChBox)
    box = client.session.get_state(ChBox)
    with pytest.raises(ns.VarTypeError, match=r"ch_box\.tags"):
        box.tags.add(1)  # type: ignore[arg-type]
    for change in (lambda: box.tags.update({"ok"}, [2]), lambda: box.tags.__ior__({3}),
                   lambda: box.tags.symmetric_difference_update([4])):
        with pytest.raises(ns.VarTypeError, match=r"ch_box\.tags"):
            change()
    assert box.tags == {"p"}
    box.tags ^= {"q", "p"}
    client.session.flush()
    assert box.tags == {"q"}
    assert client.document["ch_box"]["tags"] == ["q"]


class ChOpaque:
    """A value with no JSON form."""


@pytest.mark.parametrize("action", [
    lambda s: setattr(s, "anything", ChOpaque()),
    lambda s: (setattr(s, "anything", [1]), s.anything.append(ChOpaque())),
    lambda s: (setattr(s, "anything", {}), s.anything.__setitem__("k", ChOpaque())),
    lambda s: (setattr(s, "anything", [1]), s.anything.insert(0, ChOpaque())),
    lambda s: (setattr(s, "anything", [1]), s.anything.__setitem__(slice(None), [ChOpaque()])),
])
async def test_value_without_json_form_changes_nothing(action: Callable[[Any], Any]) -> None:
    client = StateClient(ChBox)
    box = client.session.get_state(ChBox)
    _action[:] = [action]
    await client.dispatch("ch_box.apply")
    assert client.errors[0]["type"] == "PydanticSerializationError"
    assert box.anything is None
    assert client.document == client.session.snapshot()
    box.anything = [0]
    with pytest.raises(ValueError, match="serialize"):
        box.anything.append(ChOpaque())
    assert box.anything == [0]


async def test_augmented_assignment_on_a_var() -> None:
    def action(s: ChBox) -> None:
        s.items += ["d"]
        s.d |= {"z": 0}

    _, ops = await run(action)
    assert ops == [{"op": "add", "path": f"{P}/items/-", "value": "d"},
                   {"op": "add", "path": f"{P}/d/z", "value": 0}]


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
        _action[0](self)

    def apply_then_fail(self) -> None:
        _action[0](self)
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
    ("plain model around one", lambda s: (setattr(s.holders[0], "label", "L"),
                                         setattr(s.holders[0].inner, "cents", 1)), [
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
    _action[:] = [action]
    await client.dispatch("ch_wallet.apply_then_fail")
    assert client.session.snapshot() == before
    assert untrack(wallet._nb_values) == before_values
    await client.dispatch("ch_wallet.apply")
    assert client.deltas[-1]["ops"] == expected
    snapshot = client.session.snapshot()
    assert client.document == snapshot
    for name in ChWallet.__nbstate_vars__:
        assert snapshot["ch_wallet"][name] == encode(getattr(wallet, name)), name


async def test_a_moved_node_is_the_same_object() -> None:
    client = StateClient(ChBox)
    box = client.session.get_state(ChBox)
    box.anything = [{"n": 1}, {"n": 2}]  # typed items would be validated into a copy
    client.session.flush()
    first = box.anything[0]
    _action[:] = [lambda s: s.anything.append(s.anything.pop(0))]
    await client.dispatch("ch_box.apply")
    assert box.anything[1] is first
    first["n"] = 5  # still tracked at its new place
    client.session.flush()
    assert client.document["ch_box"]["anything"] == [{"n": 2}, {"n": 5}]


async def test_a_removed_node_edited_later_is_restored_as_it_was() -> None:
    client = StateClient(ChBox)
    box = client.session.get_state(ChBox)
    kept: list[Any] = []

    def action(s: ChBox) -> None:
        kept.append(s.rows.pop(0))
        kept[0]["n"] = 100
        kept[0]["extra"] = 1
        old_model = s.model
        s.model = ChOuter(by_name={"k": ChInner()})
        old_model.inner.tags.append("lost")

    _action[:] = [action]
    await client.dispatch("ch_box.apply_then_fail")
    assert [e["type"] for e in client.errors] == ["RuntimeError"]
    assert box.rows == [{"n": 1}, {"n": 2}]
    assert box.rows[0] is kept[0]
    assert box.model == ChOuter()
    assert client.document == client.session.snapshot()
    # once the removal is flushed, the node is on its own
    await client.dispatch("ch_box.apply")
    assert len(client.errors) == 1
    kept[-1]["n"] = 7
    client.session.flush()
    assert box.rows == [{"n": 2}]
    assert client.document["ch_box"]["rows"] == [{"n": 2}]


async def test_rollback_restores_dict_order() -> None:
    client = StateClient(ChBox)
    box = client.session.get_state(ChBox)
    box.d.update(z=3, w=4)
    client.session.flush()
    order = list(box.d)
    for delete in (lambda s: s.d.pop("y"), lambda s: s.d.popitem(), lambda s: s.d.clear(),
                   lambda s: (s.d.__delitem__("x"), s.d.__delitem__("w"))):
        _action[:] = [delete]
        await client.dispatch("ch_box.apply_then_fail")
        assert list(box.d) == order


@pytest.mark.parametrize(("before", "after"), [
    ([1], [True]), ({"a": 0}, {"a": False}), ([1], [1.0]), ([[0]], [[False]]), (1, True),
    (0, 0.0)])
async def test_equal_in_python_but_not_in_json_is_a_change(before: Any, after: Any) -> None:
    client = StateClient(ChBox)
    box = client.session.get_state(ChBox)
    box.anything = before
    client.session.flush()
    box.anything = after
    client.session.flush()
    assert json.dumps(client.document["ch_box"]["anything"]) == json.dumps(after)
    assert json.dumps(encode(box.anything)) == json.dumps(after)


async def test_scalar_over_a_container_detaches_the_container() -> None:
    client = StateClient(ChBox)
    box = client.session.get_state(ChBox)
    box.anything = [1]
    client.session.flush()
    old = box.anything
    box.anything = 5
    old.append(2)
    client.session.flush()
    assert client.document["ch_box"]["anything"] == 5
    assert client.document == client.session.snapshot()

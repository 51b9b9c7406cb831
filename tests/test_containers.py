"""The tracked containers: every list and dict mutation becomes the smallest op, and undoes
exactly; tracked containers (sets too) still behave like the builtins."""

from __future__ import annotations

import copy
import json
import pickle
from collections.abc import Callable
from typing import Any

import pytest

import nbstate as ns
from nbstate.containers import TrackedDict, TrackedList
from nbstate.plain import untrack
from nbstate.sets import TrackedSet
from nbstate.testing import StateClient
from tests.boxes import (
    ACTION,
    Case,
    ChBox,
    ChOuter,
    ChPair,
    P,
    actions,
    assert_ops,
    assert_rolls_back,
    check_consistent,
    run,
    with_ops,
)

CASES: list[Case] = [
    ("append", lambda s: s.items.append("d"),
     [{"op": "add", "path": f"{P}/items/-", "value": "d"}]),
    # a bulk change of a short list: the whole list is smaller than an add per item
    ("iadd", lambda s: s.items.__iadd__(["d", "e"]),
     [{"op": "replace", "path": f"{P}/items", "value": ["a", "b", "c", "d", "e"]}]),
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
    ("dict update", lambda s: s.d.update({"x": 1, "y": 3}, w=4),
     [{"op": "replace", "path": f"{P}/d", "value": {"x": 1, "y": 3, "w": 4}}]),
    ("dict update one key", lambda s: s.d.update({"x": 1, "y": 3}),
     [{"op": "replace", "path": f"{P}/d/y", "value": 3}]),
    ("dict ior", lambda s: s.d.__ior__({"q": 0}), [{"op": "add", "path": f"{P}/d/q", "value": 0}]),
    ("dict setdefault new", lambda s: s.d.setdefault("n", 0),
     [{"op": "add", "path": f"{P}/d/n", "value": 0}]),
    ("dict setdefault existing", lambda s: s.d.setdefault("x", 0), []),
    ("dict pop", lambda s: s.d.pop("y"), [{"op": "remove", "path": f"{P}/d/y"}]),
    ("dict pop default", lambda s: s.d.pop("nope", None), []),
    ("dict popitem", lambda s: s.d.popitem(), [{"op": "remove", "path": f"{P}/d/y"}]),
    ("dict clear", lambda s: s.d.clear(), [{"op": "replace", "path": f"{P}/d", "value": {}}]),
    ("dict clear one key", lambda s: (s.d.pop("y"), s.d.clear()), [
        {"op": "remove", "path": f"{P}/d/y"}, {"op": "remove", "path": f"{P}/d/x"}]),
    ("dict key escaping", lambda s: s.d.__setitem__("a/b~c", 1),
     [{"op": "add", "path": f"{P}/d/a~1b~0c", "value": 1}]),
    ("list of dicts", lambda s: s.rows[1].__setitem__("n", 5),
     [{"op": "replace", "path": f"{P}/rows/1/n", "value": 5}]),
    ("list of dicts add", lambda s: s.rows.append({"n": 3}),
     [{"op": "add", "path": f"{P}/rows/-", "value": {"n": 3}}]),
    ("dict of lists", lambda s: s.groups["a"].append(2),
     [{"op": "add", "path": f"{P}/groups/a/-", "value": 2}]),
    ("dict of lists new key", lambda s: s.groups.setdefault("b", []).append(5), [
        {"op": "add", "path": f"{P}/groups/b", "value": []},
        {"op": "add", "path": f"{P}/groups/b/-", "value": 5}]),
    ("equal list item", lambda s: s.items.__setitem__(0, "a"), []),
    ("sort a sorted list", lambda s: s.items.sort(), []),
    ("empty slice deletion", lambda s: s.items.__delitem__(slice(5, None)), []),
    ("times one", lambda s: s.nums.__imul__(1), []),
    ("equal dict value", lambda s: s.d.__setitem__("x", 1), []),
]


@pytest.mark.parametrize(("action", "expected"), with_ops(CASES))
async def test_mutation_ops(action: Callable[[Any], Any], expected: list[dict[str, Any]]) -> None:
    await assert_ops(action, expected)


@pytest.mark.parametrize("action", actions(CASES))
async def test_mutation_rolls_back(action: Callable[[Any], Any]) -> None:
    await assert_rolls_back(action)


async def test_one_object_at_two_places_is_copied() -> None:
    def action(s: ChBox) -> None:
        s.rows.append(s.rows[0])
        s.rows[-1]["n"] = 50

    client, _ = await run(action)
    box = client.session.get_state(ChBox)
    assert box.rows == [{"n": 1}, {"n": 2}, {"n": 50}]
    assert box.rows[0] is not box.rows[2]


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


async def test_augmented_assignment_on_a_var() -> None:
    def action(s: ChBox) -> None:
        s.items += ["d"]
        s.d |= {"z": 0}

    _, ops = await run(action)
    assert ops == [{"op": "add", "path": f"{P}/items/-", "value": "d"},
                   {"op": "add", "path": f"{P}/d/z", "value": 0}]


async def test_rollback_restores_dict_order() -> None:
    client = StateClient(ChBox)
    box = client.session.get_state(ChBox)
    box.d.update(z=3, w=4)
    client.session.flush()
    order = list(box.d)
    for delete in (lambda s: s.d.pop("y"), lambda s: s.d.popitem(), lambda s: s.d.clear(),
                   lambda s: (s.d.__delitem__("x"), s.d.__delitem__("w"))):
        ACTION[:] = [delete]
        await client.dispatch("ch_box.apply_then_fail")
        assert list(box.d) == order


LONE = json.loads('"x\\ud800"')  # a lone surrogate, as a browser's JSON.stringify sends it
NAN = float("nan")

NOT_JSON: list[tuple[str, Callable[[Any], Any], str]] = [
    ("append", lambda s: s.items.append(LONE), "ch_box.items[3]: contains a lone surrogate"),
    ("insert", lambda s: s.items.insert(0, LONE), "ch_box.items[0]: contains a lone surrogate"),
    ("setitem", lambda s: s.items.__setitem__(1, LONE), "ch_box.items[1]: contains"),
    ("dict value", lambda s: s.rows[0].__setitem__("n", LONE),
     "ch_box.rows[0].n must be valid Unicode text"),
    ("dict key", lambda s: s.d.__setitem__(LONE, 1), "ch_box.d: a key contains a lone surrogate"),
    ("list at depth", lambda s: s.model.inner.tags.append(LONE),
     "ch_box.model.inner.tags[0]: contains a lone surrogate"),
    ("dict of models", lambda s: s.model.by_name.__setitem__("k", {"tags": [LONE]}),
     "ch_box.model.by_name.k.tags[0]: contains a lone surrogate"),
    ("dataclass list", lambda s: s.pair.notes.append(LONE), "ch_box.pair.notes[0]: contains"),
    ("any: NaN", lambda s: s.anything.append(NAN), "ch_box.anything[1]: NaN is not JSON"),
    ("any: lax inf", lambda s: s.anything.append({"v": [float("inf")]}),
     "ch_box.anything[1].v[0]: Infinity is not JSON"),
    ("any: no JSON form", lambda s: s.anything.append(object()),
     "ch_box.anything[1]: a object has no JSON form"),
    ("any dict", lambda s: s.anything.__setitem__(0, {"k": float("-inf")}),
     "ch_box.anything[0].k: -Infinity is not JSON"),
    ("any dict of text", lambda s: s.anything.__setitem__(0, {"k": ["ok", LONE]}),
     "ch_box.anything[0].k[1]: contains a lone surrogate"),
]


@pytest.mark.parametrize(("action", "message"), [
    pytest.param(a, m, id=n) for n, a, m in NOT_JSON])
async def test_items_json_cannot_carry_are_refused(action: Callable[[Any], Any],
                                                   message: str) -> None:
    client = StateClient(ChBox)
    box = client.session.get_state(ChBox)
    box.anything = [0]
    client.session.flush()
    before = client.session.snapshot()
    ACTION[:] = [action]
    await client.dispatch("ch_box.apply")
    assert client.errors[0]["type"] == "VarTypeError"
    assert client.errors[0]["message"].startswith(message)
    assert client.errors[0]["message"].encode("utf-8")  # the error itself can travel
    assert client.session.snapshot() == before
    with pytest.raises(ns.VarTypeError, match=message.replace("[", r"\[").replace("]", r"\]")):
        action(box)  # in cell code: refused where it enters, nothing changed
    assert client.session.flush() is None
    assert client.session.snapshot() == before


def _catching(change: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``change`` in a handler that catches the error and returns normally."""
    def action(s: Any) -> None:
        with pytest.raises(ns.VarTypeError):
            change(s)
    return action


BULK: list[tuple[str, Callable[[Any], Any]]] = [
    ("extend", lambda s: s.items.extend(["d", "e", None])),
    ("extend a generator", lambda s: s.nums.extend(n for n in (4, 5, "x"))),
    ("extend surrogate", lambda s: s.items.extend(["d", LONE])),
    ("iadd", lambda s: s.items.__iadd__(["d", 1.5])),
    ("iadd on the var", lambda s: setattr(s, "items", s.items.__iadd__(["d", None]))),
    ("slice set", lambda s: s.items.__setitem__(slice(0, 1), ["x", None])),
    ("slice set extended", lambda s: s.nums.__setitem__(slice(None, None, 2), [9, "z"])),
    ("dict update", lambda s: s.d.update({"z": 3, "w": "bad"})),
    ("dict update kwargs", lambda s: s.d.update({"z": 3}, w="bad")),
    ("dict update key", lambda s: s.d.update({"z": 3, LONE: 4})),
    ("dict ior", lambda s: s.d.__ior__({"z": 3, "x": 5, "w": None})),
    ("models in a list", lambda s: s.model.by_name.update(a={"n": 1}, b={"n": "x"})),
]


@pytest.mark.parametrize("change", actions([(n, a, []) for n, a in BULK]))
async def test_bulk_changes_are_all_or_nothing(change: Callable[[Any], Any]) -> None:
    client = StateClient(ChBox)
    box = client.session.get_state(ChBox)
    before = client.session.snapshot(), untrack(box._nb_values)
    ACTION[:] = [_catching(change)]
    await client.dispatch("ch_box.apply")  # in a handler that goes on after the error
    assert not client.errors
    assert client.deltas == []
    assert (client.session.snapshot(), untrack(box._nb_values)) == before
    with pytest.raises(ns.VarTypeError):
        change(box)  # in cell code
    assert client.session.flush() is None
    assert (client.session.snapshot(), untrack(box._nb_values)) == before


LONG = list(range(300))
LONG_D = {f"k{i}": i for i in range(300)}

# (name, set-up, change, the kinds of op expected: one per item, or the whole value)
SMALLER: list[tuple[str, Callable[[Any], Any], Callable[[Any], Any], list[str]]] = [
    ("extend a long list", lambda s: setattr(s, "nums", LONG),
     lambda s: s.nums.extend([1, "2"]), ["add", "add"]),
    ("extend an empty list by many", lambda s: setattr(s, "nums", []),
     lambda s: s.nums.extend(LONG), ["replace"]),
    ("iadd a long list", lambda s: setattr(s, "nums", LONG),
     lambda s: s.nums.__iadd__([5]), ["add"]),
    ("slice in the middle", lambda s: setattr(s, "nums", LONG),
     lambda s: s.nums.__setitem__(slice(100, 102), [7, 8, 9]), ["replace", "replace", "add"]),
    ("slice that shrinks", lambda s: setattr(s, "nums", LONG),
     lambda s: s.nums.__setitem__(slice(100, 103), [7]), ["replace", "remove", "remove"]),
    ("slice deletion", lambda s: setattr(s, "nums", LONG),
     lambda s: s.nums.__delitem__(slice(10, 13)), ["remove", "remove", "remove"]),
    ("insertion by a slice", lambda s: setattr(s, "nums", LONG),
     lambda s: s.nums.__setitem__(slice(5, 5), [1, 2]), ["add", "add"]),
    ("sort a long list", lambda s: setattr(s, "nums", LONG[::-1]),
     lambda s: s.nums.sort(), ["replace"]),
    ("sort a nearly sorted list", lambda s: setattr(s, "nums", [*LONG[:150], 151, 150,
                                                               *LONG[152:]]),
     lambda s: s.nums.sort(), ["replace", "replace"]),
    ("reverse a long list", lambda s: setattr(s, "nums", LONG),
     lambda s: s.nums.reverse(), ["replace"]),
    ("extended slice of a long list", lambda s: setattr(s, "nums", LONG),
     lambda s: s.nums.__delitem__(slice(None, None, 2)), ["replace"]),
    ("clear a long list", lambda s: setattr(s, "nums", LONG),
     lambda s: s.nums.clear(), ["replace"]),
    ("times two", lambda s: setattr(s, "nums", LONG), lambda s: s.nums.__imul__(2), ["replace"]),
    ("update a big dict", lambda s: setattr(s, "d", LONG_D),
     lambda s: s.d.update(k1=-1, k2=-2, new=0), ["add", "add", "add"]),
    ("update an empty dict by many", lambda s: setattr(s, "d", {}),
     lambda s: s.d.update(LONG_D), ["replace"]),
    ("clear a big dict", lambda s: setattr(s, "d", LONG_D), lambda s: s.d.clear(), ["replace"]),
    ("slice of dicts", lambda s: setattr(s, "rows", [{"n": i} for i in range(100)]),
     lambda s: s.rows.__setitem__(slice(50, 51), [{"n": -1}, {"n": -2}]), ["replace", "add"]),
]


async def _sent(setup: Callable[[Any], Any], change: Callable[[Any], Any], *,
                fail: bool = False) -> tuple[StateClient, list[dict[str, Any]]]:
    client = StateClient(ChBox)
    setup(client.session.get_state(ChBox))
    client.session.flush()
    ACTION[:] = [change]
    await client.dispatch("ch_box.apply_then_fail" if fail else "ch_box.apply")
    check_consistent(client)
    return client, [dict(op) for op in client.deltas[-1]["ops"]]


def _size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":")))


@pytest.mark.parametrize(("setup", "change", "kinds"),
                         [pytest.param(s, c, k, id=n) for n, s, c, k in SMALLER])
async def test_a_bulk_change_is_sent_in_its_smaller_form(setup: Callable[[Any], Any],
                                                         change: Callable[[Any], Any],
                                                         kinds: list[str]) -> None:
    client, ops = await _sent(setup, change)
    assert [op["op"] for op in ops] == kinds, ops
    path = ops[0]["path"].split("/")[2]
    whole = [{"op": "replace", "path": f"{P}/{path}",
              "value": client.document["ch_box"][path]}]
    assert _size(ops) <= _size(whole)
    if kinds != ["replace"] or ops[0]["path"] != whole[0]["path"]:
        assert _size(ops) < _size(whole)  # the per-item form was chosen for being smaller


@pytest.mark.parametrize(("setup", "change"),
                         [pytest.param(s, c, id=n) for n, s, c, _ in SMALLER])
async def test_a_bulk_change_rolls_back(setup: Callable[[Any], Any],
                                        change: Callable[[Any], Any]) -> None:
    client = StateClient(ChBox)
    box = client.session.get_state(ChBox)
    setup(box)
    client.session.flush()
    before = client.session.snapshot(), untrack(box._nb_values)
    ACTION[:] = [change]
    await client.dispatch("ch_box.apply_then_fail")
    assert (client.session.snapshot(), untrack(box._nb_values)) == before
    await client.dispatch("ch_box.apply")  # still tracked: the same change reaches the client
    check_consistent(client)


async def test_nodes_a_slice_moves_stay_the_same_objects_and_tracked() -> None:
    def swap(s: ChBox) -> None:
        first, second = s.rows[0], s.rows[1]
        s.rows[0:2] = [second, first, first]  # `first` twice: its second place is a copy
        assert s.rows[0] is second and s.rows[1] is first and s.rows[2] is not first
        first["n"] = 10
        s.rows[2]["n"] = 20

    client, _ = await run(swap)
    assert client.document["ch_box"]["rows"] == [{"n": 2}, {"n": 10}, {"n": 20}]


async def test_a_bulk_change_names_the_item_that_fails() -> None:
    client = StateClient(ChBox)
    box = client.session.get_state(ChBox)
    with pytest.raises(ns.VarTypeError, match=r"ch_box\.nums\[5\] must be an integer"):
        box.nums.extend([1, 2, "x"])  # type: ignore[list-item]  # a str, to check it is refused
    with pytest.raises(ns.VarTypeError, match=r"ch_box\.d\.bad must be an integer"):
        box.d.update(ok=1, bad="x")  # type: ignore[call-overload]  # a str, refused
    with pytest.raises(ns.VarTypeError, match=r"ch_box\.nums\[1\] must be an integer"):
        box.nums[0:2] = [0, "x"]  # type: ignore[list-item]  # a str, to check it is refused
    assert client.session.flush() is None


async def test_backend_containers_are_not_checked_for_json() -> None:
    client = StateClient(ChBox)
    box = client.session.get_state(ChBox)
    box._secret.append(1)
    with pytest.raises(ns.VarTypeError, match=r"ch_box\._secret\[1\] must be an integer"):
        box._secret.append("x")  # type: ignore[arg-type]  # a str, to check it is refused
    assert box._secret == [1]

"""Property tests: any sequence of mutations keeps the client, the session document and the
Python values in agreement, and a failed handler leaves no trace.

The mutations include bulk changes of long lists and dicts (sent one op per item or as the
whole value, whichever is smaller), inserts before tracked nodes that are then changed (their
indices found again), and computed vars whose values are diffed (filters, windows, copies)."""

from __future__ import annotations

import asyncio
import copy
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nbstate as ns
from nbstate.patch import apply_patch
from nbstate.plain import untrack
from nbstate.protocol import Delta, ErrorInfo, encode
from nbstate.testing import StateClient

# --------------------------------------------------------------------------- values

# bools, ints and floats that Python finds equal (True == 1 == 1.0) but JSON does not
leaf = (st.integers(-3, 3) | st.sampled_from([True, False, 1.0, 0.0])
        | st.text("ab/~", max_size=2))
keys = st.text("abk/~", max_size=2)


def containers(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4)


depth1 = containers(leaf)
depth2 = containers(leaf | depth1)
depth3 = containers(leaf | depth1 | depth2)
json_value = leaf | depth1 | depth2 | depth3
json_list = st.lists(leaf | depth1 | depth2, max_size=4)
json_dict = st.dictionaries(keys, leaf | depth1 | depth2, max_size=4)

VARS = ("value", "items", "mapping")
COMPUTED = ("scalars", "window", "echo")
LIST_OPS = ("append", "insert", "pop", "setitem", "delitem", "extend", "sort", "reverse",
            "clear", "slice", "remove", "iadd", "pop and edit", "extend many", "small slice",
            "insert and edit", "nearly sort")
DICT_OPS = ("set", "del", "update", "setdefault", "pop", "popitem", "clear", "ior",
            "pop and edit", "update many")

# (var, which container, which operation, index, key, value); one operation in ten
# reassigns the whole var instead
step = st.tuples(st.sampled_from(VARS), st.integers(0, 50), st.integers(0, 99),
                 st.integers(-6, 6), keys, json_value)
steps = st.lists(step, min_size=1, max_size=10)
initial = st.tuples(json_value, json_list, json_dict)


# --------------------------------------------------------------------------- the state

_plan: list[tuple[Any, ...]] = []


class PrTree(ns.State):
    value: Any = None
    items: list[Any] = []
    mapping: dict[str, Any] = {}

    @ns.computed
    def scalars(self) -> list[Any]:  # a filter: items come and go anywhere
        return [v for v in self.items if not isinstance(v, (list, dict))]

    @ns.computed
    def window(self) -> list[Any]:  # the last items: a sliding window
        return copy.deepcopy(self.items[-3:])

    @ns.computed
    def echo(self) -> Any:  # all of `value` and `mapping`, diffed at any depth
        return copy.deepcopy([self.value, self.mapping])

    def run(self):  # type: ignore[no-untyped-def]
        for step in _plan:
            apply_step(self, step)
            yield

    def run_then_fail(self) -> None:
        for step in _plan:
            apply_step(self, step)
        raise RuntimeError("rolled back")


def all_containers(value: Any) -> list[Any]:
    found: list[Any] = []
    if isinstance(value, (list, dict)):
        found.append(value)
        for child in value if isinstance(value, list) else value.values():
            found.extend(all_containers(child))
    return found


def apply_step(state: PrTree, step: tuple[Any, ...]) -> None:
    var, which, kind, index, key, value = step
    value = copy.deepcopy(value)
    if kind % 10 == 9:
        if var == "items":
            value = value if isinstance(value, list) else [value]
        elif var == "mapping":
            value = value if isinstance(value, dict) else {key: value}
        setattr(state, var, value)
        return
    found = all_containers(getattr(state, var))
    if not found:
        return
    target = found[which % len(found)]
    if isinstance(target, list):
        apply_list(target, LIST_OPS[kind % len(LIST_OPS)], index, value)
    else:
        apply_dict(target, DICT_OPS[kind % len(DICT_OPS)], key, value)


def apply_list(target: list[Any], op: str, index: int, value: Any) -> None:
    n = len(target)
    if op == "append":
        target.append(value)
    elif op == "insert":
        target.insert(index, value)
    elif op == "extend":
        target.extend([value, index])
    elif op == "iadd":
        target += [value]
    elif op == "sort":
        target.sort(key=repr, reverse=index < 0)
    elif op == "reverse":
        target.reverse()
    elif op == "clear":
        target.clear()
    elif op == "slice":
        target[index % (n + 1):] = [value]
    elif op == "extend many":
        target.extend([copy.deepcopy(value) for _ in range(index % 4 + 2)] + list(range(12)))
    elif op == "small slice":
        at = index % (n + 1)
        target[at:at + index % 3] = [value]
    elif op == "insert and edit":
        target.insert(0, value)
        for child in list(target):
            if isinstance(child, (list, dict)):
                edit_removed(child, index)  # a node whose index the insert moved
    elif op == "nearly sort":
        if n > 1:
            target[0], target[-1] = target[-1], target[0]
    elif n == 0:
        target.append(value)
    elif op == "pop":
        target.pop(index % n)
    elif op == "setitem":
        target[index % n] = value
    elif op == "delitem":
        del target[index % n]
    elif op == "remove":
        target.remove(target[index % n])
    elif op == "pop and edit":
        nested = [i for i, v in enumerate(target) if isinstance(v, (list, dict))] or [*range(n)]
        edit_removed(target.pop(nested[index % len(nested)]), value)


def apply_dict(target: dict[str, Any], op: str, key: str, value: Any) -> None:
    existing = list(target)
    if op == "set":
        target[key] = value
    elif op == "update":
        target.update({key: value, key + "u": 1})
    elif op == "ior":
        target |= {key: value}
    elif op == "setdefault":
        target.setdefault(key, value)
    elif op == "update many":
        target.update({f"{key}{x}": copy.deepcopy(value) for x in range(len(key) + 3)})
    elif op == "clear":
        target.clear()
    elif not existing:
        target[key] = value
    elif op == "del":
        del target[existing[len(key) % len(existing)]]
    elif op == "pop":
        target.pop(existing[len(key) % len(existing)])
    elif op == "popitem":
        target.popitem()
    elif op == "pop and edit":
        nested = [k for k in existing if isinstance(target[k], (list, dict))] or existing
        edit_removed(target.pop(nested[len(key) % len(nested)]), value)


def edit_removed(node: Any, value: Any) -> None:
    """Change a node that just left the tree: no client sees it, but a rollback restores it."""
    if isinstance(node, list):
        node.append(value)
    elif isinstance(node, dict):
        node["edited"] = value


# --------------------------------------------------------------------------- checks


class Checker:
    """Subscribed after the client: at every flush, compares all three views.

    A session never lets a listener's exception fail the handler that flushed (it logs it and
    re-syncs the listener), so what goes wrong here is kept and raised by :meth:`verify`.
    """

    def __init__(self, client: StateClient) -> None:
        self.client = client
        self.flushes = 0
        self.failures: list[str] = []
        client.session.subscribe(self)

    def on_delta(self, delta: Delta) -> None:
        self.flushes += 1
        try:
            check(self.client)
        except AssertionError as exc:
            self.failures.append(f"at revision {delta['rev']}: {exc}")
            raise

    def on_error(self, error: ErrorInfo) -> None:
        pass

    def resync(self, document: dict[str, dict[str, Any]], revision: int) -> None:
        self.failures.append(f"re-synced at revision {revision}")

    def verify(self) -> None:
        assert not self.failures, "\n".join(self.failures)


def check(client: StateClient) -> None:
    session = client.session
    snapshot = session.snapshot()
    assert as_json(client.document) == as_json(snapshot)  # True is not 1 here
    state = session.get_state(PrTree)
    for var in (*VARS, *COMPUTED):
        assert as_json(snapshot["pr_tree"][var]) == as_json(encode(getattr(state, var))), var


def as_json(value: Any, *, ordered: bool = False) -> str:
    """JSON text: ``True`` is not ``1`` here; key order counts only when ``ordered``."""
    return json.dumps(value, sort_keys=not ordered)


def python_values(state: PrTree) -> str:
    """The vars' Python values as JSON, in the dicts' own key order."""
    return as_json({var: untrack(getattr(state, var)) for var in VARS}, ordered=True)


SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def set_up(client: StateClient, start: tuple[Any, Any, Any]) -> PrTree:
    state = client.session.get_state(PrTree)
    for var, value in zip(VARS, start, strict=True):
        setattr(state, var, value)
    client.session.flush()
    check(client)
    return state


@SETTINGS
@given(start=initial, plan=steps)
def test_every_flush_agrees(start: tuple[Any, Any, Any], plan: list[tuple[Any, ...]]) -> None:
    async def scenario() -> None:
        client = StateClient(PrTree, flush_interval=0)
        checker = Checker(client)
        first = client.session.snapshot()
        set_up(client, start)
        for steps_ in (plan, plan[::-1]):
            _plan[:] = steps_
            await client.session.dispatch("pr_tree.run")
            check(client)
        assert not client.errors
        # the deltas alone rebuild the document from the first snapshot
        doc = first
        for delta in client.deltas:
            doc = apply_patch(doc, delta["ops"])
        assert as_json(doc) == as_json(client.session.snapshot())
        assert checker.flushes == len(client.deltas)
        checker.verify()

    asyncio.run(scenario())


@SETTINGS
@given(start=initial, plan=steps, after=steps)
def test_failed_handler_leaves_no_trace(start: tuple[Any, Any, Any],
                                        plan: list[tuple[Any, ...]],
                                        after: list[tuple[Any, ...]]) -> None:
    async def scenario() -> None:
        client = StateClient(PrTree)
        checker = Checker(client)
        state = set_up(client, start)
        snapshot, values = client.session.snapshot(), python_values(state)
        _plan[:] = plan
        await client.dispatch("pr_tree.run_then_fail")
        assert client.errors == [{"handler": "pr_tree.run_then_fail", "type": "RuntimeError",
                                  "message": "rolled back"}]
        assert as_json(client.session.snapshot()) == as_json(snapshot)
        assert python_values(state) == values
        check(client)
        # what was restored is still tracked
        _plan[:] = after
        await client.session.dispatch("pr_tree.run")
        check(client)
        checker.verify()

    asyncio.run(scenario())

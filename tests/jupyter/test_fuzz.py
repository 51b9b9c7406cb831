"""Protocol fuzzing against one real ipykernel: everything a hostile frontend can send.

Each example starts a fresh session in the kernel, shown through a ``JupyterHost`` made as the
kernel's own is (``fuzz_kernel.py`` holds the kernel side), so examples are independent and a
failure shrinks to its own cause; it then sends a batch of comm messages exactly as a frontend
would, over the shell channel:

- nbstate custom messages: events with valid, random and ill-typed payloads; unknown handlers;
  sets of base, computed, backend, unknown and internal vars; every field missing or of every
  JSON type; contents that are not objects; huge strings; lone surrogates (sent as JSON escapes:
  jupyter_client's own packer refuses them); ``NaN``/``Infinity``; deep nesting; and ``client``/
  ``seq`` stamps that arrive in order, out of order, duplicated, with gaps, or malformed;
- ipywidgets ``update`` messages (Jupyter widget message spec) writing var traits, computed
  traits and the model's internal traits (``_nb_spec``, ``_nb_view``, ``_nb_children``,
  ``_esm``, ``_css``), and malformed ones.

After each batch (and one last ``ping`` event that must answer ``done``) it requires:

1. the kernel still runs a cell;
2. the session document equals the encoded Python value of every var and every model's var
   trait; computed vars equal a fresh computation; the document is I-JSON (RFC 7493: no
   ``NaN``/``Infinity``, no lone surrogates), so every frontend can receive it; vars satisfy
   their declared constraints; the backend var and the internal traits are unchanged;
3. a frontend's copy of every model (its own ``update`` writes, then the kernel's
   ``comm_open``, ``update``, ``echo_update`` and ``patch`` messages in order, applied as
   ipywidgets 8 and the nbstate runtime apply them) ends equal to the kernel's traits: what the
   kernel holds reached the browser, and a write it refused was reverted there;
4. every event/set message is answered exactly once on its own model. A message ``id`` is
   valid when it is a JSON integer from 0 to 2**53 (:class:`nbstate.protocol.EventMessage`:
   a number JavaScript holds exactly): such a message gets exactly one ``done`` or ``error``
   with that id. Every other message except ``runtime_request`` (not an object, no id, an id
   of another type or out of range) gets exactly one ``error`` with ``id: null``. Replies
   with ``id: null`` cannot be told apart, so they are counted per model; an ipywidgets
   ``update`` has no id and may be refused with an ``error`` (``id: null``) per written key,
   so a model's ``id: null`` errors must number at least the messages that need one and at
   most that plus the keys its updates wrote. A ``runtime_request`` gets one ``runtime``;
5. the messages of a client whose ``seq`` numbers are exactly 1..n are answered in ``seq``
   order, whatever order they arrived in;
6. the backend var's value never appears in any iopub message;
7. nbstate logs no error: a hostile message is refused by a check, never by an exception
   nbstate catches in itself, and every send succeeds.

Besides, a set of a var that neither the addressed state nor its parents declare, of a
computed or internal one, an event naming no handler of the state (or its parents), or one
whose payload is not an object must be refused (a conservative subset; the rest may go either
way as long as 1-7 hold).

Decisions: the kernel gives up waiting for a missing ``seq`` after 0.2 s instead of 2 s, so a
batch with a gap settles quickly; a client whose gap was given up on (the kernel logs it) is
left out of check 5, since a slow batch can rightly outlast the timeout. A failure is shrunk
(Hypothesis replays batches for up to five minutes), hence the long timeout.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import itertools
import json
import pathlib
import queue
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_client.jsonutil import json_default
from jupyter_client.manager import KernelManager, start_new_kernel

pytestmark = pytest.mark.kernel

ROOT, CHILD = "fuzz", "fuzz.note"
SENTINEL = "SECRET-" + "SENTINEL"
MAX_ID = 2**53
EXAMPLES = 90
MIN_MESSAGES = 2000

KERNEL_SIDE = pathlib.Path(__file__).with_name("fuzz_kernel.py")


# --------------------------------------------------------------------------- the kernel

def _pack(obj: Any) -> bytes:
    """jupyter_client's packer refuses lone surrogates and NaN; a hostile frontend sends both as
    JSON text (``"\\ud800"``, ``NaN``), and so does this one."""
    return json.dumps(obj, ensure_ascii=True, allow_nan=True, default=json_default).encode()


@pytest.fixture(scope="module")
def kernel() -> Iterator[BlockingKernelClient]:
    km: KernelManager
    km, kc = start_new_kernel(kernel_name="python3")
    kc.session.pack = _pack
    # the kernel echoes deeply nested values back; decoding them here needs the room
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10_000))
    try:
        status, out = _run_cell(kc, KERNEL_SIDE.read_text(encoding="utf-8"), [])
        assert status == "ok", out
        yield kc
    finally:
        sys.setrecursionlimit(limit)
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def _run_cell(kc: BlockingKernelClient, code: str,
              sink: list[dict[str, Any]]) -> tuple[str, str]:
    """Run ``code``; every iopub message up to its idle goes to ``sink``. Returns the reply
    status and the cell's stdout."""
    msg_id = kc.execute(code)
    deadline = time.monotonic() + 60
    out: list[str] = []
    while True:
        try:
            msg = kc.get_iopub_msg(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            raise AssertionError(
                f"the kernel did not finish a cell in 60 s: {code[:80]!r}") from None
        sink.append(msg)
        mine = msg["parent_header"].get("msg_id") == msg_id
        if mine and msg["msg_type"] == "stream" and msg["content"]["name"] == "stdout":
            out.append(msg["content"]["text"])
        if mine and msg["msg_type"] == "error":
            out.append("\n".join(msg["content"]["traceback"]))
        if mine and msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            break
    reply = kc.get_shell_msg(timeout=60)
    # jupyter_client's wait_for_ready may ask kernel_info more than once and read one answer
    while reply["parent_header"].get("msg_id") != msg_id and \
            reply["msg_type"] == "kernel_info_reply":
        reply = kc.get_shell_msg(timeout=60)
    assert reply["parent_header"]["msg_id"] == msg_id, reply["msg_type"]
    return reply["content"]["status"], "".join(out)


# --------------------------------------------------------------------------- what is sent

class Auto:
    """Placeholder for the next valid message id of the batch."""

    def __repr__(self) -> str:
        return "AUTO"


AUTO = Auto()


@dataclasses.dataclass(frozen=True)
class Big:
    """A huge string, built only when sent (keeps failing examples readable)."""

    unit: str
    times: int

    def build(self) -> str:
        return self.unit * self.times


@dataclasses.dataclass(frozen=True)
class Deep:
    """``depth`` nested lists or objects around ``leaf``, built only when sent."""

    depth: int
    kind: str
    leaf: Any

    def build(self) -> Any:
        value = _materialise(self.leaf)
        for _ in range(self.depth):
            value = [value] if self.kind == "list" else {"k": value}
        return value


@dataclasses.dataclass
class Custom:
    """An nbstate custom message (``method: "custom"``) to the model of ``target``."""

    target: str
    content: Any


@dataclasses.dataclass
class Update:
    """An ipywidgets comm message (``data``) to the model of ``target``: normally an update."""

    target: str
    data: Any


Message = Custom | Update


def _materialise(value: Any, ids: Callable[[], int] | None = None) -> Any:
    if isinstance(value, Big | Deep):
        return value.build()
    if isinstance(value, Auto):
        assert ids is not None
        return ids()
    if isinstance(value, list):
        return [_materialise(v, ids) for v in value]
    if isinstance(value, dict):
        return {k: _materialise(v, ids) for k, v in value.items()}
    return value


def _describe(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=True, allow_nan=True, default=repr)
    return text if len(text) <= 400 else text[:397] + "..."


# --------------------------------------------------------------------------- strategies

SURROGATES = ["\ud800", "\udbff", "\udc00", "\udfff", "\udc80", "a\ud83d", "\ude00b"]
ODD_TEXT = [*SURROGATES, "", " ", "\x00", "\u2028", "\ufeff", "é", "\U0001f600", "-", "~1", "/",
            "__proto__", "IPY_MODEL_x", "</script>", "null"]
BASE_VARS = {ROOT: ["tags", "items", "level", "name", "meta"], CHILD: ["text"]}
COMPUTED = {ROOT: ["summary", "stock", "secret_size"], CHILD: ["shout"]}
INTERNAL = ["_nb_spec", "_nb_view", "_nb_children", "_esm", "_css"]
OTHERS = {ROOT: [], CHILD: ["tags", "level", "summary"]}  # the parent's, not the substate's
ODD_NAMES = ["", "nope", "_secret", "__class__", "__dict__", "__init__", "_nb_values",
             "_nb_path", "comm", "keys", "model_id", "__nbstate_vars__", "Fuzz", "fuzz.ping",
             "ping ", "PING", "ping\x00", "\ud800", "model_validate", "get_state", "mro",
             "__aenter__", "add_tag.x", "note.write", "tags/0", "_nbvar_tags"]

small_text = st.text(max_size=10) | st.sampled_from(ODD_TEXT)
big_text = st.builds(Big, st.sampled_from(["x", "é", "\ud800", "ab\udfff"]),
                     st.sampled_from([5_000, 70_000, 300_000]))
text = st.one_of(
    small_text,
    st.text(st.characters(categories=["Cs"]), min_size=1, max_size=4),
    big_text,
)
numbers = st.one_of(
    st.integers(-3, 12),
    st.integers(),
    st.floats(),
    st.sampled_from([2**53, 2**53 + 1, 2**64, -(2**63), 1e308, -0.0, 0.5, 5.0,
                     float("nan"), float("inf"), float("-inf")]),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, text)
deep = st.builds(Deep, st.sampled_from([20, 150, 400, 700]), st.sampled_from(["list", "dict"]),
                 st.sampled_from([0, "\ud800", None, float("nan")]))
json_values = st.one_of(
    st.recursive(scalars, lambda kids: st.lists(kids, max_size=4)
                 | st.dictionaries(small_text, kids, max_size=4), max_leaves=8),
    deep,
)
item_values = st.fixed_dictionaries(
    {"label": text}, optional={"qty": st.integers(-2, 5) | json_values,
                               "price": st.floats() | json_values})

PAYLOADS: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "ping": st.just({}),
    "add_tag": st.fixed_dictionaries({"tag": text}),
    "add_item": st.fixed_dictionaries({"label": text},
                                      optional={"qty": st.integers(-2, 5), "price": st.floats()}),
    "restock": st.fixed_dictionaries({"index": st.integers(-3, 4), "qty": st.integers(-2, 5)}),
    "configure": st.fixed_dictionaries({"name": text, "level": st.integers(-2, 12),
                                        "tags": st.lists(text, max_size=3)}),
    "drop": st.fixed_dictionaries({"index": st.integers(-3, 3)}),
    "annotate": st.fixed_dictionaries({"key": small_text, "value": json_values}),
    "forget": st.fixed_dictionaries({"key": small_text}),
    "explode": st.just({}) | st.fixed_dictionaries({"tag": text}),
    "slow": st.fixed_dictionaries({"tag": text}, optional={"times": st.integers(0, 3)}),
    "write": st.fixed_dictionaries({"text": text}),
}
HANDLERS = {ROOT: [h for h in PAYLOADS if h != "write"], CHILD: ["write", "ping", "add_tag"]}
VAR_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "tags": st.lists(text, max_size=4),
    "items": st.lists(item_values, max_size=3),
    "level": st.integers(-2, 12) | st.sampled_from([5.0, 2.5, "7", True]),
    "name": text,
    "text": text,
    "meta": st.dictionaries(small_text, json_values, max_size=3)
    | st.fixed_dictionaries({"k": deep}),
}


@st.composite
def payloads(draw: st.DrawFn, handler: str) -> Any:
    """A payload for ``handler``: well typed, or with one key wrong, missing or extra, or any
    JSON at all (or none)."""
    payload = dict(draw(PAYLOADS.get(handler, st.just({}))))
    how = draw(st.sampled_from(["valid"] * 5 + ["retype", "drop", "extra", "any", "absent"]))
    if how == "retype" and payload:
        payload[draw(st.sampled_from(sorted(payload)))] = draw(json_values)
    elif how == "drop" and payload:
        del payload[draw(st.sampled_from(sorted(payload)))]
    elif how == "extra":
        payload[draw(small_text)] = draw(json_values)
    elif how == "any":
        return draw(json_values)
    elif how == "absent":
        return _ABSENT
    return payload


_ABSENT = object()
FIELDS = ["type", "id", "handler", "payload", "var", "value", "client", "seq"]


@st.composite
def customs(draw: st.DrawFn) -> Custom:
    target = draw(st.sampled_from([ROOT] * 4 + [CHILD]))
    kind = draw(st.sampled_from(["event"] * 5 + ["set"] * 3 + ["other", "runtime"]))
    content: dict[str, Any]
    if kind == "event":
        handler = draw(st.sampled_from(HANDLERS[target]) | st.sampled_from(ODD_NAMES)
                       | small_text)
        content = {"type": "event", "id": AUTO, "handler": handler}
        payload = draw(payloads(handler))
        if payload is not _ABSENT:
            content["payload"] = payload
    elif kind == "set":
        var = draw(st.sampled_from(BASE_VARS[target] * 3 + COMPUTED[target] + INTERNAL
                                   + OTHERS[target] + ODD_NAMES) | small_text)
        value = draw(VAR_VALUES[var] | json_values if var in VAR_VALUES else json_values)
        content = {"type": "set", "id": AUTO, "var": var, "value": value}
    elif kind == "runtime":
        return Custom(target, {"type": "runtime_request"})
    else:
        return Custom(target, draw(json_values.filter(lambda v: not isinstance(v, dict))
                                   | st.fixed_dictionaries({"type": small_text | json_values})))
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 1, 2]))):
        field = draw(st.sampled_from(FIELDS))
        if draw(st.booleans()):
            content.pop(field, None)
        elif field == "type":
            content["type"] = draw(st.sampled_from(["EVENT", "Set", "runtime_request", "done",
                                                    "error", "patch", ""]) | json_values)
        elif field == "id":
            content["id"] = draw(st.sampled_from([0, MAX_ID, MAX_ID + 1, -1, 1.0, "7", True,
                                                  None, [1], {"id": 1}]) | json_values)
        else:
            content[field] = draw(json_values)
    return Custom(target, content)


PLAUSIBLE: dict[str, st.SearchStrategy[Any]] = {
    "_nb_spec": st.just({"protocol": 1, "path": "evil", "vars": [], "handlers": []}),
    "_nb_children": st.just(["IPY_MODEL_evil"]),
    "_nb_view": st.just("export default { render() { alert(1) } }"),
    "_esm": st.just("export default { render() { alert(1) } }"),
    "_css": st.just("* { display: none }"),
}


@st.composite
def updates(draw: st.DrawFn) -> Update:
    target = draw(st.sampled_from([ROOT] * 3 + [CHILD]))
    traits = BASE_VARS[target] * 2 + COMPUTED[target] + INTERNAL + OTHERS[target] + [
        "_secret", "nope"]
    state: dict[str, Any] = {}
    for trait in draw(st.lists(st.sampled_from(traits), min_size=1, max_size=3, unique=True)):
        plausible = PLAUSIBLE[trait] if trait in PLAUSIBLE else VAR_VALUES.get(trait,
                                                                                json_values)
        state[trait] = draw(plausible | json_values)
    how = draw(st.sampled_from(["update"] * 8 + ["no-state", "bad-state", "buffers", "request",
                                                 "method"]))
    data: dict[str, Any] = {"method": "update", "state": state, "buffer_paths": []}
    if how == "no-state":
        del data["state"]
    elif how == "bad-state":
        data["state"] = draw(json_values.filter(lambda v: not isinstance(v, dict)))
    elif how == "buffers":
        data["buffer_paths"] = [[next(iter(state))]]
    elif how == "request":
        data = {"method": "request_state"}
    elif how == "method":
        data["method"] = draw(st.sampled_from(["custom", "echo_update", "UPDATE"]) | small_text)
    return Update(target, data)


STAMPS = ["none"] * 8 + ["next"] * 7 + ["dup", "skip", "junk"]


@st.composite
def stamps(draw: st.DrawFn) -> tuple[str, str, int, Any, Any]:
    """How an event or set is stamped: ``(how, client, step, junk client, junk seq)``."""
    how = draw(st.sampled_from(STAMPS))
    client = draw(st.sampled_from(["c1", "c2"]))
    step = draw(st.integers(1, 2)) if how in ("dup", "skip") else 0
    if how != "junk":
        return how, client, step, None, None
    return (how, client, step, draw(st.sampled_from(["c1", ""]) | json_values),
            draw(st.sampled_from([0, -1, True, 1.5, "2", MAX_ID + 1]) | json_values))


@st.composite
def batches(draw: st.DrawFn) -> list[Message]:
    """About 30 messages, drawn as a few lists so that shrinking can drop any of them; events
    and sets stamped with ``client``/``seq`` mostly in order, some duplicated, skipped,
    malformed or swapped."""
    element = st.tuples(st.one_of(customs(), customs(), customs(), updates()), stamps())
    groups = [draw(st.lists(element, max_size=12)) for _ in range(draw(st.integers(6, 12)))]
    out: list[Message] = []
    next_seq = {"c1": 1, "c2": 1}
    for msg, (how, client, step, junk_client, junk_seq) in (e for g in groups for e in g):
        if isinstance(msg, Custom) and isinstance(msg.content, dict) and \
                msg.content.get("type") in ("event", "set") and how != "none" and \
                "client" not in msg.content and "seq" not in msg.content:
            msg = Custom(msg.target, dict(msg.content))
            content = msg.content
            if how == "next":
                content["client"], content["seq"] = client, next_seq[client]
                next_seq[client] += 1
            elif how == "dup":
                content["client"], content["seq"] = client, max(1, next_seq[client] - step)
            elif how == "skip":
                next_seq[client] += step
                content["client"], content["seq"] = client, next_seq[client]
                next_seq[client] += 1
            else:
                content["client"], content["seq"] = junk_client, junk_seq
        out.append(msg)
    n = len(out)
    for index in draw(st.lists(st.integers(0, max(n - 2, 0)), max_size=4 if n > 1 else 0)):
        out[index], out[index + 1] = out[index + 1], out[index]
    return out


# --------------------------------------------------------------------------- what comes back

class Broken:
    """A var whose patch did not apply to the frontend's copy."""

    def __repr__(self) -> str:
        return "<a patch that did not apply>"


BROKEN = Broken()


def _canon(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=True, allow_nan=True,
                      separators=(",", ":"))


def _digest(value: Any) -> str:
    if value is BROKEN:
        return "a patch did not apply"
    return hashlib.sha256(_canon(value).encode("ascii")).hexdigest()[:16]


def _apply_op(doc: dict[str, Any], op: dict[str, Any], traits: dict[str, str]) -> None:
    """RFC 6902 add/remove/replace on a model's vars (the ops nbstate sends)."""
    tokens = [t.replace("~1", "/").replace("~0", "~") for t in op["path"].split("/")[1:]]
    tokens[0] = traits.get(tokens[0], tokens[0])
    parent: Any = doc
    for token in tokens[:-1]:
        parent = parent[int(token)] if isinstance(parent, list) else parent[token]
    last = tokens[-1]
    if isinstance(parent, list):
        index = len(parent) if last == "-" else int(last)
        if op["op"] == "add":
            if not 0 <= index <= len(parent):
                raise IndexError(index)
            parent.insert(index, op["value"])
        elif op["op"] == "remove":
            del parent[index]
        else:
            parent[index] = op["value"]
    elif isinstance(parent, dict):
        if op["op"] == "remove":
            del parent[last]
        else:
            if op["op"] == "replace" and last not in parent:
                raise KeyError(last)
            parent[last] = op["value"]
    else:
        raise TypeError(f"cannot apply {op['op']} under a {type(parent).__name__}")


@dataclasses.dataclass
class Model:
    """One model as an ipywidgets 8 frontend holds it: its own writes set at once, then the
    kernel's messages in order; an ``echo_update`` of a key the frontend wrote again since is
    skipped (``WidgetModel._handle_comm_msg``)."""

    path: str
    state: dict[str, Any]
    echo: dict[str, str] = dataclasses.field(default_factory=dict)  # key → latest write's id

    def write(self, msg_id: str, state: dict[str, Any]) -> None:
        self.state.update(copy.deepcopy(state))
        self.echo.update(dict.fromkeys(state, msg_id))

    def receive(self, method: str, state: dict[str, Any], parent: str) -> None:
        for key, value in state.items():
            if method == "echo_update" and key in self.echo:
                if self.echo[key] != parent:
                    continue
                del self.echo[key]
            self.state[key] = value

    def traits(self) -> dict[str, str]:
        spec = self.state.get("_nb_spec")
        vars_ = spec.get("vars") if isinstance(spec, dict) else None
        return {v["name"]: str(v.get("trait", v["name"])) for v in vars_
                if isinstance(v, dict) and isinstance(v.get("name"), str)
                and isinstance(v.get("trait", ""), str)} if isinstance(vars_, list) else {}

    def patch(self, ops: list[dict[str, Any]]) -> None:
        traits = self.traits()
        for op in ops:
            name = traits.get(op["path"].split("/")[1], op["path"].split("/")[1])
            if self.state.get(name) is BROKEN:
                continue
            try:
                _apply_op(self.state, op, traits)
            except (LookupError, TypeError, ValueError):
                self.state[name] = BROKEN


@dataclasses.dataclass
class Ledger:
    """What one batch sent and what came back."""

    models: dict[str, Model]  # comm id → model
    want: Counter[tuple[str, int]] = dataclasses.field(default_factory=Counter)
    want_null: Counter[str] = dataclasses.field(default_factory=Counter)
    null_slack: Counter[str] = dataclasses.field(default_factory=Counter)
    want_runtime: Counter[str] = dataclasses.field(default_factory=Counter)
    must_fail: Counter[tuple[str, int]] = dataclasses.field(default_factory=Counter)
    must_succeed: Counter[tuple[str, int]] = dataclasses.field(default_factory=Counter)
    got: dict[tuple[str, int], list[dict[str, Any]]] = dataclasses.field(default_factory=dict)
    got_null: Counter[str] = dataclasses.field(default_factory=Counter)
    got_runtime: Counter[str] = dataclasses.field(default_factory=Counter)
    answered: list[int] = dataclasses.field(default_factory=list)
    problems: list[str] = dataclasses.field(default_factory=list)
    leaks: list[str] = dataclasses.field(default_factory=list)

    def settled(self) -> bool:
        return (all(len(self.got.get(k, [])) >= n for k, n in self.want.items())
                and all(self.got_null[c] >= n for c, n in self.want_null.items())
                and all(self.got_runtime[c] >= n for c, n in self.want_runtime.items()))

    def receive(self, msg: dict[str, Any]) -> None:
        if SENTINEL in repr(msg) or any(SENTINEL.encode() in bytes(b) for b in msg["buffers"]):
            self.leaks.append(f"the backend var's value is in an iopub {msg['msg_type']}: "
                              f"{repr(msg['content'])[:300]}")
        if msg["msg_type"] != "comm_msg":
            return
        comm = msg["content"]["comm_id"]
        data = msg["content"]["data"]
        model = self.models.get(comm)
        if model is None:  # a model of an earlier batch, or not nbstate's
            return
        method = data.get("method")
        if method in ("update", "echo_update"):
            model.receive(method, data["state"], msg["parent_header"].get("msg_id", ""))
        elif method == "custom":
            self.reply(comm, model, data["content"])

    def reply(self, comm: str, model: Model, content: dict[str, Any]) -> None:
        kind = content.get("type")
        if kind == "patch":
            model.patch(content["ops"])
        elif kind == "runtime":
            self.got_runtime[comm] += 1
        elif kind in ("done", "error"):
            shape = {"type", "id"} if kind == "done" else {"type", "id", "error"}
            error = content.get("error")
            if set(content) != shape or (kind == "error" and not (
                    isinstance(error, dict) and set(error) == {"handler", "type", "message"}
                    and all(isinstance(v, str) for v in error.values()))):
                self.problems.append(f"a malformed reply: {_describe(content)}")
            ident = content.get("id")
            if ident is None:
                if kind == "done":
                    self.problems.append(f"a done without an id on {model.path}")
                self.got_null[comm] += 1
            elif type(ident) is not int or (comm, ident) not in self.want:
                self.problems.append(f"a reply to id {ident!r} on {model.path}, which no "
                                     f"message there carried: {_describe(content)}")
            else:
                self.got.setdefault((comm, ident), []).append(content)
                self.answered.append(ident)


def _expect(ledger: Ledger, comm: str, content: Any, target: str) -> None:
    """Record the answer ``content`` must get (see the module docstring, 4)."""
    if isinstance(content, dict) and content.get("type") == "runtime_request":
        ledger.want_runtime[comm] += 1
        return
    ident = content.get("id") if isinstance(content, dict) else None
    if type(ident) is not int or not 0 <= ident <= MAX_ID:
        ledger.want_null[comm] += 1
        return
    assert isinstance(content, dict)
    ledger.want[comm, ident] += 1
    if _must_fail(content, target):
        ledger.must_fail[comm, ident] += 1


def _must_fail(content: dict[str, Any], target: str) -> bool:
    """Messages no correct kernel may run (a conservative subset). A substate inherits its
    parent's handlers; a set of the parent's var through it is left undecided."""
    kind = content.get("type")
    handlers = set(HANDLERS[ROOT]) | ({"write"} if target == CHILD else set())
    base = set(BASE_VARS[ROOT]) | set(BASE_VARS[target])
    if kind == "event":
        payload = content.get("payload")
        return (not isinstance(content.get("handler"), str)
                or content["handler"] not in handlers
                or (payload is not None and not isinstance(payload, dict)))
    if kind == "set":
        var, value = content.get("var"), content.get("value")
        return (not isinstance(var, str) or var not in base or "value" not in content
                or (var in ("tags", "items") and not isinstance(value, list))
                or (var == "meta" and not isinstance(value, dict))
                or (var in ("name", "text") and not isinstance(value, str))
                or (var == "level" and type(value) is int and not 0 <= value <= 10))
    return True


def _in_order(batch: list[dict[str, Any]], answered: list[int], gaps: list[str]) -> list[str]:
    """Clients whose seq numbers are exactly 1..n must be answered in seq order (unless the
    kernel gave up waiting for one of them: a slow batch can outlast the gap timeout)."""
    by_client: dict[str, list[tuple[Any, Any]]] = {}
    shared = Counter(repr(c.get("id")) for c in batch if isinstance(c, dict))
    for content in batch:
        if isinstance(content, dict) and isinstance(content.get("client"), str):
            by_client.setdefault(content["client"], []).append(
                (content.get("seq"), content.get("id")))
    problems = []
    position = {ident: i for i, ident in reversed(list(enumerate(answered)))}
    for client, pairs in by_client.items():
        seqs = [s for s, _ in pairs]
        ids = [i for _, i in pairs]
        clean = (all(type(s) is int for s in seqs) and sorted(seqs) == list(
            range(1, len(seqs) + 1)) and all(type(i) is int and 0 <= i <= MAX_ID for i in ids)
                 and all(shared[repr(i)] == 1 for i in ids))
        if not clean or client in gaps:
            continue
        order = [i for _, i in sorted(pairs)]
        got = sorted((i for i in order if i in position), key=lambda i: position[i])
        if got != [i for i in order if i in position]:
            problems.append(f"client {client!r} sent ids {order} in seq order but they were "
                            f"answered as {got}")
    return problems


def _reply_problems(ledger: Ledger) -> list[str]:
    problems = list(ledger.problems)
    for key, n in ledger.want.items():
        got = ledger.got.get(key, [])
        if len(got) != n:
            problems.append(f"id {key[1]} on {ledger.models[key[0]].path}: {len(got)} answers "
                            f"for {n} messages")
        elif sum(r["type"] == "error" for r in got) < ledger.must_fail[key]:
            problems.append(f"id {key[1]} must be refused but was answered done")
        elif sum(r["type"] == "done" for r in got) < ledger.must_succeed[key]:
            problems.append(f"id {key[1]} (a plain ping) got {_describe(got)}")
    for comm, model in ledger.models.items():
        need, slack = ledger.want_null[comm], ledger.null_slack[comm]
        if not need <= ledger.got_null[comm] <= need + slack:
            problems.append(f"{model.path}: {ledger.got_null[comm]} errors with id null; "
                            f"expected {need} for malformed messages (+ up to {slack} for "
                            "updates)")
        if ledger.got_runtime[comm] != ledger.want_runtime[comm]:
            problems.append(f"{model.path}: {ledger.got_runtime[comm]} runtime replies for "
                            f"{ledger.want_runtime[comm]} requests")
    return problems


def _frontend_problems(ledger: Ledger, traits: dict[str, Any]) -> list[str]:
    problems = []
    for path, held in traits.items():
        model = ledger.models.get(held["comm"])
        if model is None:
            problems.append(f"{path}: a model the kernel never opened ({held['comm']})")
            continue
        for trait, digest in held["state"].items():
            if _digest(model.state.get(trait, BROKEN)) != digest:
                problems.append(f"{path}.{trait}: the frontend holds "
                                f"{_describe(model.state.get(trait, '<never sent>'))}, which "
                                "is not the kernel's trait value")
    return problems


def _failure(title: str, problems: list[str]) -> str:
    return "\n".join([f"{title}:", *problems])


# --------------------------------------------------------------------------- the test

_ids = itertools.count(10_000)


def run_batch(kc: BlockingKernelClient, batch: list[Message], sent: Counter[str]) -> None:
    """Send ``batch`` to a fresh session and check everything the module docstring lists."""
    sink: list[dict[str, Any]] = []
    status, out = _run_cell(kc, "fuzz_reset()", sink)
    assert status == "ok", f"the kernel could not start a session: {out[-2000:]}"
    comms: dict[str, str] = json.loads(out.strip().splitlines()[-1])
    opens = {m["content"]["comm_id"]: m["content"]["data"]["state"] for m in sink
             if m["msg_type"] == "comm_open"}
    ledger = Ledger({comm: Model(path, dict(opens[comm])) for path, comm in comms.items()})
    for reply in sink:
        ledger.receive(reply)

    wire: list[dict[str, Any]] = []
    for msg in [*batch, Custom(ROOT, {"type": "event", "id": AUTO, "handler": "ping",
                                      "payload": {}})]:
        comm = comms[msg.target]
        if isinstance(msg, Custom):
            content = _materialise(msg.content, lambda: next(_ids))
            data = {"method": "custom", "content": content}
            _expect(ledger, comm, content, msg.target)
            wire.append(content)
            sent["custom"] += 1
        else:
            data = _materialise(msg.data)
            state = data.get("state")
            ledger.null_slack[comm] += len(state) if isinstance(state, dict) else 1
            sent["update"] += 1
        shown = msg.content if isinstance(msg, Custom) else msg.data
        if isinstance(shown, dict) and isinstance(shown.get("id"), Auto):
            shown = {**shown, "id": data["content"]["id"]}
        note(f"{msg.target} <- {_describe(shown)}")
        frame = kc.session.msg("comm_msg", {"comm_id": comm, "data": data})
        if data.get("method") == "update" and isinstance(data.get("state"), dict) and \
                data.get("buffer_paths") == []:  # what a frontend sends after setting it
            ledger.models[comm].write(frame["header"]["msg_id"], data["state"])
        kc.shell_channel.send(frame)
    barrier = comms[ROOT], wire[-1]["id"]
    ledger.must_succeed[barrier] += 1
    sent["custom"] -= 1  # the closing ping is not fuzz

    # Messages run one at a time in arrival order, so once the closing ping is answered only
    # those held back for a missing seq (released within the gap timeout) can still answer.
    start = last = time.monotonic()
    while not ledger.settled() and time.monotonic() - start < 20:
        if barrier in ledger.got and time.monotonic() - last > 1:
            break
        try:
            ledger.receive(kc.get_iopub_msg(timeout=0.2))
            last = time.monotonic()
        except queue.Empty:
            continue
    sink = []
    status, out = _run_cell(kc, "fuzz_check()", sink)
    for reply in sink:
        ledger.receive(reply)
    report = json.loads(out.strip().splitlines()[-1]) if status == "ok" else {}
    state = report.get("problems", {})
    # Separate assertions, so that Hypothesis reports (and shrinks) each kind of failure
    # on its own.
    assert not ledger.leaks, _failure("the backend var leaked", ledger.leaks)
    assert status == "ok", f"the kernel cannot run a cell any more: {out[-2000:]}"
    assert not (replies := _reply_problems(ledger)), _failure("wrong answers", replies)
    assert not state["json"], _failure("non-JSON in the session document", state["json"])
    assert not state["vars"], _failure("document, python and traits differ", state["vars"])
    assert not state["constraints"], _failure("a var broke its type", state["constraints"])
    assert not state["computed"], _failure("a computed var is stale", state["computed"])
    assert not state["backend"], _failure("the backend var changed", state["backend"])
    assert not state["internal"], _failure("an internal trait changed", state["internal"])
    assert not state["logged"], _failure("nbstate logged an error", state["logged"])
    assert not (lost := _frontend_problems(ledger, report["traits"])), _failure(
        "the frontend's copy is not the kernel's", lost)
    assert not (order := _in_order(wire, ledger.answered, report["gaps"])), _failure(
        "out of order", order)


@pytest.mark.timeout(900)
def test_hostile_frontend(kernel: BlockingKernelClient) -> None:
    sent = Counter[str]()

    @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                     HealthCheck.filter_too_much,
                                     HealthCheck.large_base_example],
              print_blob=False)
    @given(batches())
    def run(batch: list[Message]) -> None:
        run_batch(kernel, batch, sent)

    run()
    total = sent["custom"] + sent["update"]
    print(f"fuzz: {total} messages ({sent['custom']} custom, {sent['update']} update)")
    assert total >= MIN_MESSAGES

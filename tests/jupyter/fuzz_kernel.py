"""The kernel side of ``test_fuzz.py``: run as a cell in the kernel under test.

It defines the fuzzed state (``Fuzz`` and its substate ``Note``), ``fuzz_reset()`` (a new
session with its own Jupyter host, printing ``{state path: model id}``) and ``fuzz_check()``
(printing the problems it finds by kind, and a digest of every model trait for the frontend
replay).
"""

import asyncio
import hashlib
import importlib
import json
import logging
import math
import traceback
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

import pydantic

import nbstate as ns
from nbstate.jupyter.host import JupyterHost
from nbstate.jupyter.widget import trait_name
from nbstate.protocol import encode

for _name in ("nbstate.inbox", "nbstate.jupyter.host"):
    try:
        _module = importlib.import_module(_name)
    except ImportError:
        continue
    if hasattr(_module, "GAP_TIMEOUT"):
        setattr(_module, "GAP_TIMEOUT", 0.2)  # noqa: B010 - a batch with a gap settles sooner


class LogWatch(logging.Handler):
    """What nbstate logs: the clients whose missing ``seq`` it gave up waiting for (their later
    messages may rightly run out of order), and every error (a failure nbstate caught in
    itself, such as an exception in a handler of a message or a send that failed)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.gaps: set[str] = set()
        self.errors: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if "never arrived" in str(record.msg) and isinstance(record.args, tuple):
            self.gaps.add(str(record.args[-1]))
        if record.levelno >= logging.ERROR:
            text = record.getMessage()[:200]
            if record.exc_info:
                text += "\n" + "".join(traceback.format_exception(*record.exc_info))[-1200:]
            self.errors.append(text.encode("ascii", "backslashreplace").decode())


watch = LogWatch()
logging.getLogger("nbstate").addHandler(watch)

SECRET = "SECRET-" + "SENTINEL"  # never whole in a cell: iopub echoes every cell's source
INTERNAL = ("_nb_spec", "_nb_view", "_nb_children", "_esm", "_css")
VARS = {"fuzz": ("tags", "items", "level", "name", "meta", "summary", "stock", "secret_size"),
        "fuzz.note": ("text", "shout")}


class Item(pydantic.BaseModel):
    label: str
    qty: Annotated[int, pydantic.Field(ge=0)] = 0
    price: float = 0.0


def summary_of(name: str, level: int, tags: list[str]) -> str:
    return f"{name}:{level}:{len(tags)}:{'|'.join(tags[:3])}"


class Fuzz(ns.State):
    _esm = "export default { render({ model, el }) { el.textContent = model.get('name'); } }"
    _css = ".fuzz { color: teal }"

    tags: list[str] = []
    items: list[Item] = []
    level: Annotated[int, pydantic.Field(ge=0, le=10)] = 0
    name: str = ""
    meta: dict[str, Any] = {}
    _secret: str = SECRET

    @ns.computed
    def summary(self) -> str:
        return summary_of(self.name, self.level, list(self.tags))

    @ns.computed
    def stock(self) -> int:
        return sum(item.qty for item in self.items)

    @ns.computed
    def secret_size(self) -> int:
        return len(self._secret)

    def ping(self) -> None:
        pass

    def add_tag(self, tag: str) -> None:
        self.tags.append(tag)

    def add_item(self, label: str, qty: int = 0, price: float = 0.0) -> None:
        self.items.append(Item(label=label, qty=qty, price=price))

    def restock(self, index: int, qty: int) -> None:
        self.items[index].qty = qty

    def configure(self, name: str, level: int, tags: list[str]) -> None:
        self.name = name
        self.tags = tags
        self.level = level

    def drop(self, index: int) -> None:
        del self.tags[index]

    def annotate(self, key: str, value: Any) -> None:
        self.meta[key] = value

    def forget(self, key: str) -> None:
        del self.meta[key]

    def explode(self, tag: str = "x") -> None:
        self.tags.append(tag)
        self.items.append(Item(label=tag, qty=1))
        self.name = "exploding"
        self.meta["exploded"] = [tag]
        self.level = 10
        self._secret = "changed"
        raise RuntimeError("exploded after changing every var")

    async def slow(self, tag: str, times: int = 1) -> AsyncIterator[None]:
        self.name = tag
        yield
        for _ in range(max(0, min(times, 3))):
            await asyncio.sleep(0.001)
            self.tags.append(tag)
            yield
        self.level = min(len(self.tags), 10)


class Note(Fuzz):
    text: str = ""

    @ns.computed
    def shout(self) -> str:
        return self.text.upper()

    def write(self, text: str) -> None:
        self.text = text


def canon(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=True, allow_nan=True,
                      separators=(",", ":"))


def digest(value: Any) -> str:
    try:
        text = canon(value)
    except Exception as exc:
        return f"not JSON: {type(exc).__name__}"
    return hashlib.sha256(text.encode("ascii")).hexdigest()[:16]


internal: dict[str, dict[str, str]] = {}
hosts: list[JupyterHost] = []


def fuzz_reset() -> None:
    """A new session and host (as the kernel's own are made), so every batch starts from the
    same world."""
    while hosts:
        hosts.pop().close()
    session = ns.Session()
    session.get_state(Note)
    host = JupyterHost(session)
    hosts.append(host)
    internal.clear()
    watch.gaps.clear()
    watch.errors.clear()
    for path, widget in host.widgets.items():
        internal[path] = {t: canon(getattr(widget, t)) for t in INTERNAL if widget.has_trait(t)}
    print(json.dumps({path: w.model_id for path, w in host.widgets.items()}))


def fuzz_check() -> None:
    problems: dict[str, list[str]] = {
        "json": [], "vars": [], "computed": [], "constraints": [], "backend": [], "internal": [],
        "logged": list(watch.errors)}

    def problem(kind: str, text: str) -> None:
        problems[kind].append(text[:600])

    host = hosts[-1]
    try:
        examine(host, problem)
    except Exception:
        problem("vars", f"examining the state raised: {traceback.format_exc()[-500:]}")
    traits = {path: {"comm": w.model_id,
                     "state": {k: digest(v) for k, v in w.get_state().items()}}
              for path, w in host.widgets.items()}
    print(json.dumps({"problems": problems, "traits": traits, "gaps": sorted(watch.gaps)},
                     ensure_ascii=True))


def shown(value: Any) -> str:
    try:
        return canon(value)
    except Exception as exc:
        return f"<no JSON form: {type(exc).__name__}: {exc}>"


def examine(host: JupyterHost, problem: Callable[[str, str], None]) -> None:
    session = host.session
    doc = session.snapshot()
    states = session.states()
    if set(doc) != set(VARS) or set(states) != set(VARS):
        problem("vars", f"states {sorted(states)}, document {sorted(doc)}")
    try:
        json.dumps(doc, allow_nan=False, ensure_ascii=False).encode("utf-8")
    except Exception as exc:
        problem("json", f"the session document is not I-JSON ({type(exc).__name__}: {exc}): "
                        f"{shown(doc)[:300]}")
    for path, names in VARS.items():
        state, values, widget = states.get(path), doc.get(path, {}), host.widgets.get(path)
        if state is None or widget is None:
            problem("vars", f"{path}: no state or no model")
            continue
        if set(values) != set(names):
            problem("vars", f"{path}: document vars {sorted(values)}, expected {sorted(names)}")
        for name in names:
            held = shown(values.get(name))
            try:
                python = shown(encode(getattr(state, name)))
            except Exception as exc:
                python = f"<cannot encode: {type(exc).__name__}: {exc}>"
            trait = shown(getattr(widget, trait_name(name), "<no trait>"))
            if not held == python == trait:
                problem("vars", f"{path}.{name}: document {held[:150]}, python {python[:150]}, "
                                f"trait {trait[:150]}")
        for name, text in internal.get(path, {}).items():
            now = shown(getattr(widget, name, None))
            if now != text:
                problem("internal", f"{path}: internal trait {name} is now {now[:200]}")
    root, note = states.get("fuzz"), states.get("fuzz.note")
    if isinstance(root, Fuzz):
        if root._secret != SECRET:
            problem("backend", f"the backend var changed (to a {len(root._secret)}-char str)")
        tags, items, level, name = root.tags, root.items, root.level, root.name
        if type(level) is not int or not 0 <= level <= 10:
            problem("constraints", f"fuzz.level breaks Field(ge=0, le=10): {level!r}")
        if not isinstance(name, str) or not all(isinstance(t, str) for t in tags):
            problem("constraints", f"fuzz.name/tags hold non-strings: {name!r} {list(tags)!r}")
        for item in items:
            if not isinstance(item, Item) or type(item.qty) is not int or item.qty < 0 or \
                    not isinstance(item.label, str) or not math.isfinite(item.price):
                problem("constraints", f"fuzz.items holds an item its model refuses: {item!r}")
        fresh = {"summary": summary_of(name, level, list(tags)),
                 "stock": sum(i.qty for i in items), "secret_size": len(root._secret)}
        for var, value in fresh.items():
            held = shown(doc.get("fuzz", {}).get(var))
            if held != shown(value):
                problem("computed", f"fuzz.{var} is stale: {held[:200]}, fresh "
                                    f"{shown(value)[:200]}")
    if isinstance(note, Note) and shown(doc.get("fuzz.note", {}).get("shout")) != shown(
            note.text.upper()):
        problem("computed", "fuzz.note.shout is stale")

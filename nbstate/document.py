"""The session document: what every client holds, at a revision, with recent deltas.

The document is ``{"<state path>": {"<var>": JSON value}}`` holding every base var and computed
var of every instantiated state (never backend vars). Each committed delta (RFC 6902 JSON Patch
ops whose paths are JSON Pointers into it, ``/todo/items/-``) bumps :attr:`revision` by one.
A bulk change logged as one internal op (``splice``, ``merge``; :mod:`nbstate.jsondiff`) is
turned here into its smaller RFC 6902 form, so a delta never carries anything else.

History — where it lives and how much of it: recent deltas are kept only for a transport that
can replay them to a client that reconnects with its revision (the WebSocket adapter). The
Jupyter host never replays: a reloaded page re-reads every model's traits, so a session keeps no
history until a transport that replays attaches (:meth:`History.keep`, called by the session
when a listener with ``replays = True`` subscribes), and from then on for the session's life, as
its clients may come back at any time. What it keeps is bounded by bytes, not by count:
:data:`DEFAULT_HISTORY_BYTES` (1 MiB) of compact JSON per session unless configured, oldest
deltas dropped first. A client further behind, or behind a delta larger than the bound, gets a
snapshot.

Shared entries: a state's entry in a new session's document is usually its class's defaults,
the same JSON in every session of the process (the WebSocket adapter serves many). The first
such entry is kept and handed to every later session whose entry is the same JSON, and a
session copies it the first time a delta changes something in it (copy on write), so an idle
session holds no copy of its own.
"""

from __future__ import annotations

import collections
import json
from typing import Any

from .jsondiff import MERGE, SPLICE, expand, same
from .patch import apply_patch_in_place, parse_pointer
from .protocol import Delta, copy_json

__all__ = ["DEFAULT_HISTORY_BYTES", "History", "SessionDocument"]

DEFAULT_HISTORY_BYTES = 1 << 20
"""Bytes of recent deltas (as compact JSON) a session keeps for clients that reconnect."""

_dumps = json.JSONEncoder(separators=(",", ":")).encode


class History:
    """Recent deltas, oldest first, bounded by their size as compact JSON.

    Keeps nothing until :meth:`keep` is called; ``limit`` is the bound in bytes.
    """

    __slots__ = ("_deltas", "_size", "limit")

    def __init__(self, limit: int = DEFAULT_HISTORY_BYTES) -> None:
        self.limit = limit
        self._deltas: collections.deque[tuple[Delta, int]] | None = None
        self._size = 0

    def keep(self) -> None:
        """Start keeping deltas (a transport that replays them attached)."""
        if self._deltas is None:
            self._deltas = collections.deque()

    @property
    def kept(self) -> bool:
        """Whether deltas are being kept."""
        return self._deltas is not None

    @property
    def size(self) -> int:
        """Bytes of the deltas held."""
        return self._size

    def add(self, delta: Delta) -> None:
        deltas = self._deltas
        if deltas is None:
            return
        size = len(_dumps(delta))
        if size > self.limit:
            # no replay can step over it: a client older than it needs a snapshot
            deltas.clear()
            self._size = 0
            return
        deltas.append((delta, size))
        self._size += size
        while self._size > self.limit:
            self._size -= deltas.popleft()[1]

    def clear(self) -> None:
        if self._deltas is not None:
            self._deltas.clear()
        self._size = 0

    def __iter__(self) -> Any:
        return iter([d for d, _ in self._deltas or ()])

    def __len__(self) -> int:
        return len(self._deltas or ())

    def since(self, revision: int, current: int) -> list[Delta] | None:
        """The deltas after ``revision`` (the document being at ``current``), or ``None``."""
        if revision == current:
            return []
        deltas = self._deltas
        if not deltas or deltas[0][0]["rev"] > revision + 1 or revision > current:
            return None
        return [d for d, _ in deltas if d["rev"] > revision]


class SessionDocument:
    """The JSON document of a session, its revision and its recent deltas.

    Args:
        history_bytes: the bound of :attr:`history` (kept only once :meth:`History.keep` is
            called).
    """

    __slots__ = ("data", "history", "revision")

    def __init__(self, history_bytes: int = DEFAULT_HISTORY_BYTES) -> None:
        self.data: dict[str, dict[str, Any]] = {}
        """The live document; read it, never change it (use :meth:`commit`)."""
        self.revision = 0
        """The revision of :attr:`data`; each delta with ops bumps it by one."""
        self.history = History(history_bytes)
        """Recent deltas for clients that reconnect (see the module docstring)."""

    def commit(self, ops: list[dict[str, Any]]) -> Delta:
        """Apply ``ops`` and make them the next revision's delta.

        Internal ``splice`` and ``merge`` ops are applied and replaced, in the delta, by their
        smaller RFC 6902 form.

        Raises:
            JsonPatchError: an op does not apply; the document may then be partly changed,
                which only a bug of nbstate's can cause (ops are made from the same values).
        """
        ops = self._apply(ops)
        self.revision += 1
        delta: Delta = {"rev": self.revision, "ops": ops}  # type: ignore[typeddict-item]
        self.history.add(delta)
        return delta

    def _apply(self, ops: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out = ops
        data = self.data
        # containers found at a path, for the next op below them: valid while the ops only
        # replace scalars (anything else may move or replace them)
        found: dict[str, Any] = {}
        for i, op in enumerate(ops):
            kind = op["op"]
            path = op["path"]
            if kind == "replace" and type(value := op["value"]) in _SCALARS and "~" not in path:
                # the most frequent op: a field or item deep in a var set to a plain value
                parent_path, _, last = path.rpartition("/")
                parent = found.get(parent_path)
                if parent is None:
                    parent = found[parent_path] = self._container_at(parent_path, found)
                if type(parent) is dict and last in parent:
                    parent[last] = value
                elif type(parent) is list and last.isdigit() and (
                        last[0] != "0" or last == "0") and int(last) < len(parent):
                    parent[int(last)] = value
                else:
                    parent = None
                if parent is not None:
                    if out is not ops:
                        out.append(op)
                    continue
            found.clear()
            state, _, below = path[1:].partition("/")  # a state path holds no "/" nor "~"
            entry = None
            if below:
                entry = data.get(state)
                if entry is not None and id(entry) in _SHARED_IDS:
                    data[state] = entry = copy_json(entry)  # copy on write
                whole_var = "/" not in below and "~" not in below
                if whole_var and entry is not None and (
                        kind == "add" or (kind == "replace" and below in entry)):
                    value = op["value"]  # a whole var: the common case
                    entry[below] = copy_json(value) if isinstance(value, (list, dict)) else value
                    if out is not ops:
                        out.append(op)
                    continue
            elif kind != "remove" and isinstance(op.get("value"), dict):
                data[state] = _shared_entry(state, op["value"])
                continue
            if kind in (SPLICE, MERGE):
                if out is ops:
                    out = ops[:i]
                out.extend(expand(self._at(path), op))
                continue
            if entry is None or "~" in below or not _apply_plain(entry, kind, below, op):
                self._own_all()  # the general applier may touch any state's entry
                self.data = data = apply_patch_in_place(data, [op])
            if out is not ops:
                out.append(op)
        return out

    def _container_at(self, path: str, found: dict[str, Any]) -> Any:
        """The list or dict at ``path`` (an absolute path with no escapes; a state's entry is
        copied first when it is shared), or ``None``; each container on the way is kept in
        ``found``."""
        head, _, token = path.rpartition("/")
        if not head:
            entry = self.data.get(token)
            if entry is not None and id(entry) in _SHARED_IDS:
                self.data[token] = entry = copy_json(entry)  # copy on write
            return entry
        parent = found.get(head)
        if parent is None:
            parent = found[head] = self._container_at(head, found)
        try:
            node = parent[int(token)] if type(parent) is list else parent[token]
        except (KeyError, IndexError, ValueError, TypeError):
            return None
        return node if type(node) is list or type(node) is dict else None

    def _own_all(self) -> None:
        for state, entry in self.data.items():
            if id(entry) in _SHARED_IDS:
                self.data[state] = copy_json(entry)

    def _at(self, path: str) -> Any:
        node: Any = self.data
        for token in parse_pointer(path):
            node = node[int(token)] if isinstance(node, list) else node[token]
        return node

    def value(self, path: str, name: str) -> Any:
        """The live JSON value of var ``name`` of the state at ``path`` (do not change it).

        Raises:
            KeyError: no such state or var in the document.
        """
        return self.data[path][name]

    def snapshot(self) -> dict[str, dict[str, Any]]:
        """A copy of the document, sharing nothing with it."""
        snapshot: dict[str, dict[str, Any]] = copy_json(self.data)
        return snapshot

    def deltas_since(self, revision: int) -> list[Delta] | None:
        """The deltas after ``revision`` if still held, else ``None`` (send a snapshot)."""
        return self.history.since(revision, self.revision)


_SCALARS = frozenset({str, int, float, bool, type(None)})

_DEFAULTS: dict[str, dict[str, Any]] = {}
"""The first entry each state path had in a document of this process, shared with every later
document whose entry for that path is the same JSON (see the module docstring)."""
_SHARED_IDS: set[int] = {id(entry) for entry in _DEFAULTS.values()}


def _shared_entry(state: str, value: dict[str, Any]) -> dict[str, Any]:
    """The entry a document takes for ``state`` from an op's ``value``: the shared one if it
    is the same JSON, else a copy of its own. The shared entries live as long as the process,
    so their ids in :data:`_SHARED_IDS` never name another object."""
    shared = _DEFAULTS.get(state)
    if shared is not None and same(shared, value):
        return shared
    entry: dict[str, Any] = copy_json(value)
    if shared is None:
        _DEFAULTS[state] = entry
        _SHARED_IDS.add(id(entry))
    return entry


def _apply_plain(entry: Any, kind: str, below: str, op: dict[str, Any]) -> bool:
    """Apply an ``add``, ``replace`` or ``remove`` at ``below`` (a path with no escapes) in a
    state's ``entry``, in place.

    Returns ``False``, having changed nothing, where the general applier must do it (another
    op, or one that does not apply: it then raises the proper error).
    """
    if kind not in ("add", "replace", "remove"):
        return False
    tokens = below.split("/")
    parent = entry
    try:
        for token in tokens[:-1]:
            parent = parent[int(token)] if type(parent) is list else parent[token]
    except (KeyError, IndexError, ValueError, TypeError):
        return False
    last = tokens[-1]
    if type(parent) is dict:
        if kind != "add" and last not in parent:
            return False
        if kind == "remove":
            del parent[last]
        else:
            value = op["value"]
            parent[last] = copy_json(value) if isinstance(value, (list, dict)) else value
        return True
    if type(parent) is not list or not (last.isdigit() or (last == "-" and kind == "add")):
        return False
    index = len(parent) if last == "-" else int(last)
    if index > len(parent) or (index == len(parent) and kind != "add") or (
            len(last) > 1 and last[0] == "0"):
        return False
    if kind == "remove":
        del parent[index]
        return True
    value = op["value"]
    value = copy_json(value) if isinstance(value, (list, dict)) else value
    if kind == "add":
        parent.insert(index, value)
    else:
        parent[index] = value
    return True

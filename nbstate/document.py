"""The session document: what every client holds, at a revision, with recent deltas.

The document is ``{"<state path>": {"<var>": JSON value}}`` holding every base var and computed
var of every instantiated state (never backend vars). Each committed delta (RFC 6902 JSON Patch
ops whose paths are JSON Pointers into it, ``/todo/items/-``) bumps :attr:`revision` by one and
is kept in :attr:`history` for clients that reconnect.
"""

from __future__ import annotations

import collections
from typing import Any

from .patch import apply_patch_in_place
from .protocol import Delta, copy_json

__all__ = ["SessionDocument"]


class SessionDocument:
    """The JSON document of a session, its revision and its recent deltas.

    Args:
        history: how many recent deltas are kept for clients that reconnect.
    """

    def __init__(self, history: int = 256) -> None:
        self.data: dict[str, dict[str, Any]] = {}
        """The live document; read it, never change it (use :meth:`commit`)."""
        self.revision = 0
        """The revision of :attr:`data`; each delta with ops bumps it by one."""
        self.history: collections.deque[Delta] = collections.deque(maxlen=history)
        """The most recent deltas, oldest first."""

    def commit(self, ops: list[dict[str, Any]]) -> Delta:
        """Apply ``ops`` and make them the next revision's delta.

        Raises:
            JsonPatchError: an op does not apply; the document may then be partly changed,
                which only a bug of nbstate's can cause (ops are made from the same values).
        """
        self._apply(ops)
        self.revision += 1
        delta: Delta = {"rev": self.revision, "ops": ops}  # type: ignore[typeddict-item]
        self.history.append(delta)
        return delta

    def _apply(self, ops: list[dict[str, Any]]) -> None:
        doc = self.data
        for op in ops:
            path = op["path"]
            if op["op"] != "remove" and path.count("/") == 2 and "~" not in path:
                _, state_path, name = path.split("/")  # a whole var: the common case
                value = op["value"]
                doc[state_path][name] = copy_json(value) if isinstance(value, (list, dict)) \
                    else value
            else:
                self.data = doc = apply_patch_in_place(doc, [op])

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
        if revision == self.revision:
            return []
        if not self.history or self.history[0]["rev"] > revision + 1 or revision > self.revision:
            return None
        return [d for d in self.history if d["rev"] > revision]

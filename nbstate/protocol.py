"""Wire messages of nbstate and the JSON encoding of values.

Deltas are RFC 6902 JSON Patch operation lists; paths are RFC 6901 JSON Pointers into the
session document ``{"<state path>": {"<var>": value}}`` (``/todo/items/-``). In Jupyter, each
state is one widget model and a patch addresses that model's vars (``/items/-``); the messages
travel as custom messages of the Jupyter widget message spec (``method: "custom"``), and
``js/src/protocol.ts`` mirrors every shape here.

Browser → kernel (one ordered path for events and var sets: the ipywidgets frontend throttles
trait updates but not custom messages, so two paths could arrive out of order):

- :class:`EventMessage` ``{"type": "event", "id", "handler", "payload"}``
- :class:`SetMessage` ``{"type": "set", "id", "var", "value"}``

Kernel → browser:

- :class:`DoneMessage` ``{"type": "done", "id"}`` — the event or set with that id finished.
- :class:`ErrorMessage` ``{"type": "error", "id", "error": {"handler", "type", "message"}}``;
  ``id`` is ``None`` for a background handler's error.
- :class:`PatchMessage` ``{"type": "patch", "rev", "ops"}`` — in-place container changes, applied
  by the JS runtime, which then fires ``change:<var>``.

The JS runtime itself is shipped once per page: the tiny per-state ESM sends
:class:`RuntimeRequest` ``{"type": "runtime_request"}`` and the kernel answers with
:class:`RuntimeMessage` ``{"type": "runtime", "source"}``.

The WebSocket adapter (``/_nbstate/ws``, JSON text frames) speaks the same messages, with paths
relative to the session document instead of a model: an event's ``handler`` is the full path
(``"todo.add"``), a set names its ``state``, and deltas arrive whole. Before anything else:

- client → server :class:`HelloMessage` ``{"type": "hello", "protocol", "token", "rev"}``;
- server → client :class:`WelcomeMessage` ``{"type": "welcome", "protocol", "token", "rev"}``,
  then :class:`SnapshotMessage` ``{"type": "snapshot", "rev", "document"}`` or, when the
  client's ``rev`` is still held, only the missed :class:`DeltaMessage` frames
  ``{"type": "delta", "rev", "ops"}``;
- :class:`PingMessage` / :class:`PongMessage` both ways.
"""

from __future__ import annotations

import sys
from typing import Any, Literal, TypedDict

import pydantic_core

if sys.version_info >= (3, 11):
    from typing import NotRequired
else:  # pydantic depends on typing_extensions
    from typing_extensions import NotRequired

__all__ = [
    "PROTOCOL_VERSION",
    "AddOp",
    "Delta",
    "DeltaMessage",
    "DoneMessage",
    "ErrorInfo",
    "ErrorMessage",
    "EventMessage",
    "HelloMessage",
    "Op",
    "PatchMessage",
    "PingMessage",
    "PongMessage",
    "RemoveOp",
    "ReplaceOp",
    "RuntimeMessage",
    "RuntimeRequest",
    "SetMessage",
    "SnapshotMessage",
    "WelcomeMessage",
    "copy_json",
    "encode",
    "escape_token",
    "pointer",
    "to_text",
]

PROTOCOL_VERSION = 1
"""Bumped on any incompatible change; the JS runtime refuses to talk to another version."""


class AddOp(TypedDict):
    op: Literal["add"]
    path: str
    value: Any


class RemoveOp(TypedDict):
    op: Literal["remove"]
    path: str


class ReplaceOp(TypedDict):
    op: Literal["replace"]
    path: str
    value: Any


Op = AddOp | RemoveOp | ReplaceOp
"""The operations nbstate emits. The appliers accept all six of RFC 6902."""


class Delta(TypedDict):
    """One flush: the ops that take a client from revision ``rev - 1`` to ``rev``."""

    rev: int
    ops: list[Op]


class ErrorInfo(TypedDict):
    handler: str
    type: str
    message: str


class EventMessage(TypedDict):
    type: Literal["event"]
    id: int
    """Unique per page. A number: ipykernel 7 tracks outgoing comm messages with a *string*
    ``id`` as requests awaiting a reply, and a ``done`` is never answered."""
    handler: str
    """Jupyter: the handler's name on the model's state; WebSocket: its full path."""
    payload: dict[str, Any]
    client: NotRequired[str]
    """The sending connection (one per page and kernel); with ``seq``, its message order."""
    seq: NotRequired[int]
    """1, 2, 3, … across the client's models: the kernel runs messages in this order."""


class SetMessage(TypedDict):
    type: Literal["set"]
    id: int
    var: str
    value: Any
    state: NotRequired[str]
    """WebSocket only: the state's path (in Jupyter the model's comm names it)."""
    client: NotRequired[str]
    seq: NotRequired[int]


class DoneMessage(TypedDict):
    type: Literal["done"]
    id: int


class ErrorMessage(TypedDict):
    type: Literal["error"]
    id: int | None
    error: ErrorInfo


class PatchMessage(TypedDict):
    type: Literal["patch"]
    rev: int
    ops: list[Op]


class HelloMessage(TypedDict):
    type: Literal["hello"]
    protocol: int
    token: str | None
    """The session token kept in the tab's ``sessionStorage``; ``None`` for a new session."""
    rev: int | None
    """The last revision the client applied; ``None`` for none."""
    done_in_delta: NotRequired[bool]
    """``True``: the client reads a ``done`` carried by a delta (:class:`DeltaMessage`)."""


class WelcomeMessage(TypedDict):
    type: Literal["welcome"]
    protocol: int
    token: str
    rev: int


class SnapshotMessage(TypedDict):
    type: Literal["snapshot"]
    rev: int
    document: dict[str, dict[str, Any]]


class DeltaMessage(TypedDict):
    type: Literal["delta"]
    rev: int
    ops: list[Op]
    done: NotRequired[int]
    """The id of the event or set this delta ended, in place of a ``done`` frame after it; sent
    only to a client whose hello said ``done_in_delta``."""


class PingMessage(TypedDict):
    type: Literal["ping"]


class PongMessage(TypedDict):
    type: Literal["pong"]


class RuntimeRequest(TypedDict):
    type: Literal["runtime_request"]


class RuntimeMessage(TypedDict):
    type: Literal["runtime"]
    source: str


def encode(value: Any) -> Any:
    """Return ``value`` as JSON-ready Python data (dict, list, str, int, float, bool, None).

    Encoding goes through pydantic, so datetimes, dates, Decimals, UUIDs, Enums, pydantic models
    and dataclasses take pydantic's JSON forms. Sets become lists. NaN, ±Infinity and strings
    with lone surrogates pass through as they are: what JSON cannot carry is refused where it
    enters a state (:mod:`nbstate.travel`), not here.

    Raises:
        pydantic_core.PydanticSerializationError: the value has no JSON form.
    """
    if value is None or type(value) in _SCALARS:
        return value
    return pydantic_core.to_jsonable_python(value)


_SCALARS = frozenset({str, int, float, bool})


def to_text(message: Any) -> str:
    """Return ``message`` (JSON-ready data: a frame, a delta) as compact JSON text (RFC 8259).

    pydantic-core's encoder writes it, non-ASCII characters as themselves (UTF-8 once the
    transport sends it). Values reach a message only after :mod:`nbstate.travel` admitted them,
    so NaN, ±Infinity and lone surrogates never get here.

    Raises:
        pydantic_core.PydanticSerializationError: a value has no JSON form.
    """
    return pydantic_core.to_json(message).decode()


def escape_token(token: str) -> str:
    """Escape one JSON Pointer reference token (RFC 6901 §3: ``~`` → ``~0``, ``/`` → ``~1``)."""
    if "~" in token or "/" in token:
        return token.replace("~", "~0").replace("/", "~1")
    return token


def pointer(*tokens: str | int) -> str:
    """Build a JSON Pointer from reference tokens.

    ``pointer("todo", "items", 3)`` → ``/todo/items/3``.
    """
    return "".join("/" + escape_token(str(t)) for t in tokens)


def copy_json(value: Any) -> Any:
    """A copy of JSON data that shares no list or dict with ``value``.

    pydantic-core's encoder makes it: for JSON data its output is a new copy of the input, two to
    five times faster than a copy in Python (and than ``copy.deepcopy`` by far).
    """
    if isinstance(value, (list, dict)):
        return pydantic_core.to_jsonable_python(value)
    return value

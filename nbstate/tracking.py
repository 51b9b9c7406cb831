"""The tree of tracked nodes: where each node sits, and how a change to it is reported.

A tracked node — a :class:`TrackedContainer` (``list`` or ``dict`` from
:mod:`nbstate.containers`, ``set`` from :mod:`nbstate.sets`) or an instance of a tracking
subclass of a pydantic model or dataclass (:mod:`nbstate.models`) — is linked to its parent and
its key there; the chain of links ends at a :class:`~nbstate.changes.Root`, the var that owns
the value. A mutation finds its node's path from those links (:func:`_locate`), makes the
change, and logs it with its undo (:func:`_emit`); a node a change takes out of the tree is
retired (:func:`retire`).

Decisions:

- Each tracked node knows its parent and its key there. A list child's index can move (an
  ``insert`` before it), so the index is a hint checked on use and found again by identity.
- A node that leaves the tree (``pop``, ``del``, an overwrite) is unlinked: later mutations of
  it are plain Python changes and reach no client.

Layering: this module imports the log (:mod:`nbstate.changes`), plain values
(:mod:`nbstate.plain`) and the JSON checks (:mod:`nbstate.travel`); item validation
(:mod:`nbstate.validation`), the tracked models and the containers build on it, and it knows
them only through :class:`TrackedContainer` and the tracking mark on model classes.
"""

from __future__ import annotations

import weakref
from typing import Any, ClassVar, SupportsIndex

import pydantic_core

from .changes import Entry, Root, Undo
from .checks import opaque
from .errors import VarTypeError
from .messages import cap, location
from .plain import SCALAR_TYPES, TRACKED_MARK, is_tracked_object
from .protocol import encode, pointer
from .shapes import Shape
from .travel import NotJSON, check_any, explain_json, no_json_form

__all__ = [
    "Place",
    "TrackedContainer",
    "attach",
    "detach",
    "link_object",
    "retire",
]

_MISSING = object()

# A tracked node's place: (parent, key). The parent is a tracked node or a Root.
_Parent = Any
_MODEL_LINKS: dict[int, tuple[weakref.ref[Any], _Parent, Any]] = {}


class TrackedContainer:
    """Base of :class:`~nbstate.containers.TrackedList`, :class:`~nbstate.containers.TrackedDict`
    and :class:`~nbstate.sets.TrackedSet`.

    Each keeps its link in slots of its own (a base with slots could not be combined with
    ``list``, ``dict`` or ``set``); a tracked model's link is in a table keyed by its ``id``.
    """

    __slots__ = ()
    _nb_parent: _Parent
    _nb_key: Any
    _nb_shape: Shape | None
    _nb_plain: ClassVar[type]
    """The builtin it extends: what a copy or a pickle of it becomes."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # the slots themselves are each subclass's (see above)
        self._nb_parent = None
        self._nb_key = None
        self._nb_shape = None  # type: ignore[misc]

    def __reduce_ex__(self, protocol: SupportsIndex) -> Any:
        return (self._nb_plain, (self._nb_plain(self),))


# --------------------------------------------------------------------------- links


def _link_of(node: Any) -> tuple[_Parent, Any]:
    if isinstance(node, TrackedContainer):
        return node._nb_parent, node._nb_key
    entry = _MODEL_LINKS.get(id(node))
    if entry is None or entry[0]() is not node:
        return None, None
    return entry[1], entry[2]


def _set_link(node: Any, parent: _Parent, key: Any) -> None:
    if isinstance(node, TrackedContainer):
        node._nb_parent, node._nb_key = parent, key
    elif is_tracked_object(node):
        ident = id(node)
        if parent is None:
            _MODEL_LINKS.pop(ident, None)
        else:
            old = _MODEL_LINKS.get(ident)
            ref = old[0] if old and old[0]() is node else _ref(node, ident)
            _MODEL_LINKS[ident] = (ref, parent, key)


def link_object(node: Any, parent: _Parent, key: Any) -> None:
    """Link a tracked model or dataclass instance that has no link yet to ``parent[key]``."""
    ident = id(node)
    _MODEL_LINKS[ident] = (_ref(node, ident), parent, key)


class _Ref(weakref.ref[Any]):
    """A weak reference to a tracked model that knows the ``id`` its link is filed under."""

    __slots__ = ("ident",)
    ident: int


def _ref(node: Any, ident: int) -> _Ref:
    # the ident set here, not in an __init__ of its own: weakref's is C, one Python frame less
    ref = _Ref(node, _forget_link)
    ref.ident = ident
    return ref


def _forget_link(ref: _Ref, links: dict[int, Any] = _MODEL_LINKS) -> None:
    # ``links`` bound here: at interpreter exit the module's globals may be gone
    links.pop(ref.ident, None)


# --------------------------------------------------------------------------- places


Place = tuple[Root, tuple[str, ...] | None, bool, Any]
"""Where a change happens: the root, the path tokens, whether the path is free of array
indices, and the value to send whole instead of a fine-grained op (or ``None``)."""


def _locate(node: Any, *, whole_values: bool = True) -> Place | None:
    """Find where ``node`` sits; ``None`` when it is detached from every state.

    Inside a model whose JSON form is not field by field (:func:`~nbstate.checks.opaque`), the
    place is the outermost such model, sent whole: an op on one of its fields could not
    reproduce its JSON.
    """
    kinds = _KINDS
    kind = kinds.get(type(node)) or _kind_of(type(node))
    if kind == _MODEL and (row := _row(node)) is not None:  # the usual: a row of a list var
        row_root, index = row
        base = row_root.where()
        return row_root, None if base is None else (*base, str(index)), False, None
    keys: list[str] = []
    stable = True
    whole: Any = None
    depth = 0  # how many of ``keys`` lie below ``whole``
    if whole_values and kind == _WHOLE:
        whole = node
    while True:
        if kind < _MODEL:
            parent, key = node._nb_parent, node._nb_key
        else:
            link = _MODEL_LINKS.get(id(node))
            if link is None or link[0]() is not node:
                return None
            _, parent, key = link
        if parent is None:
            return None
        kind = kinds.get(type(parent)) or _kind_of(type(parent))
        if kind == _LIST:
            stable = False
            if not (type(key) is int and key < len(parent) and parent[key] is node):
                key = _reindex(parent, node)
                if key is None:
                    return None
        elif kind == _DICT:
            if dict.get(parent, key, _MISSING) is not node:
                return None
        elif kind >= _MODEL:
            if getattr(parent, key, _MISSING) is not node:
                return None
        else:  # the root: a var, or the place of a node a change took out
            if kind == _GONE and parent.entry.flushed:
                return None  # it left the tree for good
            base = parent.where()
            if base is None:
                return parent, None, stable, whole
            keys.reverse()
            return parent, base + tuple(keys[:len(keys) - depth] if depth else keys), stable, whole
        keys.append(str(key))
        node = parent
        if whole_values and kind == _WHOLE:
            whole, depth, stable = node, len(keys), True  # from here on: the path above it


def _row(node: Any) -> tuple[Root, int] | None:
    """``(root, index)`` of a tracked model at its place in a list that is a var's value (a
    row), else ``None``."""
    link = _MODEL_LINKS.get(id(node))
    if link is None or link[0]() is not node:
        return None
    parent, key = link[1], link[2]
    if not (type(key) is int and _KINDS.get(type(parent)) == _LIST and key < len(parent)
            and parent[key] is node):
        return None
    root = parent._nb_parent
    return (root, key) if _KINDS.get(type(root)) == _ROOT else None


def row_place(node: Any) -> tuple[Root, str] | None:
    """``(root, the node's JSON Pointer)`` for a tracked model that is a row of a synced list
    var; ``None`` for any other node (use :func:`_locate`). Raises as :meth:`Root.where` does
    when the var may not be changed now."""
    if _KINDS.get(type(node)) != _MODEL or (row := _row(node)) is None:
        return None
    root, key = row
    return None if root.where() is None else (root, f"{root.pointer}/{key}")


# What a node or a parent is, by class: _locate's type checks in one lookup.
_LIST, _DICT, _SET, _ROOT, _GONE, _MODEL, _WHOLE = 1, 2, 3, 4, 5, 6, 7
_KINDS: dict[type, int] = {}


def _kind_of(cls: type) -> int:
    if issubclass(cls, list):
        kind = _LIST
    elif issubclass(cls, dict):
        kind = _DICT
    elif issubclass(cls, TrackedContainer):
        kind = _SET
    elif getattr(cls, TRACKED_MARK, False) is True:
        kind = _WHOLE if opaque(cls.__mro__[1]) else _MODEL  # sent whole (see opaque)
    elif issubclass(cls, _Removed):
        kind = _GONE
    else:
        kind = _ROOT
    _KINDS[cls] = kind
    return kind


_JSON_SCALARS = frozenset({str, int, float, bool, type(None)})


def _path(tokens: tuple[str, ...], keys: tuple[str | int, ...]) -> str:
    """The JSON Pointer of ``tokens`` and then ``keys`` (as :func:`~nbstate.protocol.pointer`,
    without a call per token where none needs escaping)."""
    if not keys:
        parts = tokens
    elif len(keys) == 1:  # the usual: one key below the node located
        key = keys[0]
        parts = (*tokens, key if type(key) is str else str(key))
    else:
        parts = (*tokens, *map(str, keys))
    text = "/".join(parts)
    if "~" in text or text.count("/") != len(parts) - 1:
        return pointer(*parts)  # a token holds "~" or "/"
    return "/" + text


def _reindex(parent: list[Any], node: Any) -> int | None:
    """Where ``node`` is in ``parent``, its key there having gone stale (an insert or removal
    before it). Every child's key is set again on the way, so after a change that moved them
    all, each finds its place at once: n changes after an ``insert(0)`` cost O(n), not O(n²).
    """
    found = None
    links = _MODEL_LINKS
    scalars = SCALAR_TYPES
    for i, child in enumerate(parent):
        if type(child) in scalars:
            continue
        if child is node:
            found = i
        link = links.get(id(child))
        if link is not None:  # a tracked model's link: (ref, parent, key)
            if link[1] is parent and link[2] != i and link[0]() is child:
                links[id(child)] = (link[0], parent, i)
        elif isinstance(child, TrackedContainer) and child._nb_parent is parent:
            child._nb_key = i
    return found


def _emit(op: str, keys: tuple[str | int, ...], value: Any, undo: Undo,
          place: Place | None, extra: dict[str, Any] | None = None,
          encoded: bool = False) -> Entry | None:
    """Log one change found at ``place`` (from :func:`_locate`, taken before the change).

    ``extra`` holds the fields of an internal ``splice`` or ``merge`` op
    (:mod:`nbstate.jsondiff`) beside its value; ``encoded``: ``value`` is JSON data already.
    """
    if place is None:
        return None
    root, tokens, stable, whole = place
    if tokens is None:
        return root.record(None, undo, False)
    if whole is None and extra is None and (op == "remove" or encoded
                                            or type(value) in _JSON_SCALARS):
        # the common case: no encoding, nothing that can fail
        entry: dict[str, Any] = {"op": op, "path": _path(tokens, keys)}
        if op != "remove":
            entry["value"] = value
        return root.record(
            entry, undo, stable and not (keys and (type(keys[0]) is int or keys[0] == "-")))
    if whole is not None:
        op, keys, value, extra, encoded = "replace", (), whole, None, False
    entry = {"op": op, "path": _path(tokens, keys)}
    if op != "remove":
        try:
            entry["value"] = value if encoded else encode(value)
            if whole is not None:
                # what enters is checked before; a model sent whole goes through its own
                # serializers, which may still make what JSON cannot carry
                check_any(entry["value"])
        except Exception as exc:
            undo()  # the change must not stay without its undo
            if isinstance(exc, NotJSON):
                raise VarTypeError(explain_json(location(tokens[0], tokens[1:]), exc),
                                   detail=[exc.detail(value)]) from None
            if isinstance(exc, (pydantic_core.PydanticSerializationError, UnicodeError)):
                raise VarTypeError(cap(f"{location(tokens[0], tokens[1:])}: "
                                       f"{no_json_form(value, exc)}")) from exc
            raise
    if extra is not None:
        entry.update(extra)
        return root.record(entry, undo, False)  # it covers nothing: not a whole value
    # An op on a list item, or an add to a list, is not stable: later ops can shift its index.
    return root.record(
        entry, undo, stable and not (keys and (isinstance(keys[0], int) or keys[0] == "-")))


# --------------------------------------------------------------------------- leaving the tree


class _Removed:
    """The place of a node that a change not yet flushed took out of the tree.

    Changes to the node reach no client but are logged for undo, so a rollback that puts it
    back puts it back as it was. Once that change is flushed, the node is detached for good.
    """

    __slots__ = ("entry", "root")

    def __init__(self, root: Root, entry: Entry) -> None:
        self.root = root
        self.entry = entry

    def where(self) -> None:
        self.root.where()  # the same checks (a background handler outside its lock, ...)
        return None

    def record(self, op: dict[str, Any] | None, undo: Undo, stable: bool) -> Entry:
        return self.root.record(None, undo, False)


def retire(value: Any, root: Root, entry: Entry) -> None:
    """Unlink ``value``, which the change logged as ``entry`` took out of the tree."""
    if type(value) not in SCALAR_TYPES:
        _set_link(value, _Removed(root, entry), None)


def _retire(value: Any, place: Place | None, entry: Entry | None) -> None:
    if place is None or entry is None:
        _unlink(value)
    else:
        retire(value, place[0], entry)


def detach(value: Any) -> None:
    """Unlink a value that left the tree so its later mutations reach no client."""
    _unlink(value)


def attach(value: Any, parent: Any, key: Any) -> None:
    """Link an existing tracked value back at ``parent[key]`` (used by undo)."""
    _relink(parent, key, value)


def _unlink(value: Any) -> None:
    if type(value) not in SCALAR_TYPES:
        _set_link(value, None, None)


def _relink(container: Any, key: Any, value: Any) -> None:
    if type(value) not in SCALAR_TYPES:
        _set_link(value, container, key)

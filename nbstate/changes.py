"""The mutation log: tracked containers that turn in-place changes into JSON Patch ops.

Values held by a state are *tracked*: lists, dicts and sets become :class:`TrackedList`,
:class:`TrackedDict` and :class:`TrackedSet` (subclasses, so ``isinstance`` and JSON encoding
keep working), and pydantic models and dataclasses get their class swapped to a cached tracking
subclass with the same layout. Every mutation — ``append``, ``x[i] = v``, ``del d[k]``,
``update``, an attribute set on a nested model, at any depth — reports the smallest RFC 6902
op that reproduces it (``add /todo/items/-`` for an append) together with an *undo* callable
that restores the Python value exactly. The session keeps both in its :class:`ChangeLog`; a
flush turns the ops into a delta and a rollback runs the undos in reverse.

Decisions:

- Each tracked node knows its parent and its key there. A list child's index can move (an
  ``insert`` before it), so the index is a hint checked on use and found again by identity.
- Values added to a tracked container are validated against the container's item type (from
  the var's annotation, through pydantic) before anything changes, then wrapped.
- A JSON array has no set semantics, so any change to a set replaces the set's value (one op).
- A node that leaves the tree (``pop``, ``del``, an overwrite) is unlinked: later mutations of
  it are plain Python changes and reach no client.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
import weakref
from collections.abc import Callable, Iterable
from typing import Any, Protocol, SupportsIndex

import pydantic
from pydantic import TypeAdapter

from .errors import VarTypeError
from .protocol import encode, pointer

__all__ = [
    "ChangeLog",
    "Entry",
    "Root",
    "Shape",
    "TrackedDict",
    "TrackedList",
    "TrackedSet",
    "plain_type",
    "retire",
    "same_value",
    "shape_of",
    "untrack",
    "wrap",
]

Undo = Callable[[], None]


class Root(Protocol):
    """The owner of a var's value: where a tracked node's path begins."""

    def where(self) -> tuple[str, ...] | None:
        """Reference tokens of the var in the session document, checking it may be mutated.

        Returns ``None`` when changes to this value are not sent to clients (backend vars).
        Raises when the caller may not mutate the state now.
        """

    def record(self, op: dict[str, Any] | None, undo: Undo, stable: bool) -> Entry:
        """Append one change to the session's log (``op`` is ``None`` for backend vars)."""


@dataclasses.dataclass(eq=False, slots=True)
class Entry:
    """One logged change: the op sent to clients (``None`` for backend vars) and its undo."""

    op: dict[str, Any] | None
    undo: Undo
    var: tuple[str, str]
    stable: bool
    """True when the op's path holds no array index, so later ops cannot shift it."""
    flushed: bool = False
    """Set when a flush took the entry: it can no longer be undone."""


class ChangeLog:
    """The ordered changes since the last flush, each with the undo that reverts it."""

    __slots__ = ("entries",)

    def __init__(self) -> None:
        self.entries: list[Entry] = []

    def __len__(self) -> int:
        return len(self.entries)

    def take(self, upto: int | None = None) -> list[Entry]:
        """Remove and return the entries before position ``upto`` (all when ``None``)."""
        if upto is None or upto >= len(self.entries):
            taken, self.entries = self.entries, []
        else:
            taken, self.entries = self.entries[:upto], self.entries[upto:]
        for entry in taken:
            entry.flushed = True
        return taken

    def rollback(self, since: int = 0) -> None:
        """Undo, newest first, every change from position ``since`` on."""
        while len(self.entries) > since:
            self.entries.pop().undo()


# --------------------------------------------------------------------------- shapes


@dataclasses.dataclass(frozen=True, eq=False)
class Shape:
    """How to validate values of one annotated type and of the items it contains."""

    adapter: TypeAdapter[Any] | None
    """Validates a whole value; ``None`` for ``Any`` (accepted as is)."""
    item: Shape | None = None
    """The element shape of a list or set, the value shape of a dict."""

    def validate(self, value: Any) -> Any:
        return value if self.adapter is None else self.adapter.validate_python(value)


ANY = Shape(None)


@functools.lru_cache(maxsize=1024)
def shape_of(annotation: Any) -> Shape:
    """The :class:`Shape` of a type annotation (``list[str]``, ``dict[str, Model]``, …)."""
    if annotation is Any or annotation is object:
        return ANY
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    item: Shape | None = None
    if origin in (list, set, typing.List, typing.Set) and args:  # noqa: UP006
        item = shape_of(args[0])
    elif origin in (dict, typing.Dict) and len(args) == 2:  # noqa: UP006
        item = shape_of(args[1])
    return Shape(TypeAdapter(annotation), item)


@functools.lru_cache(maxsize=1024)
def _field_shape(cls: type, name: str) -> Shape | None:
    if isinstance(cls, type) and issubclass(cls, pydantic.BaseModel):
        field = cls.model_fields.get(name)
        return None if field is None else shape_of(typing.cast(Any, field.annotation))
    if dataclasses.is_dataclass(cls):
        hints = typing.get_type_hints(cls)
        names = {f.name for f in dataclasses.fields(cls)}
        return shape_of(hints[name]) if name in names else None
    return None


# --------------------------------------------------------------------------- links

# A tracked node's place: (parent, key). The parent is a tracked node or a Root.
_Parent = Any
_MODEL_LINKS: dict[int, tuple[weakref.ref[Any], _Parent, Any]] = {}


def _link_of(node: Any) -> tuple[_Parent, Any]:
    if isinstance(node, (TrackedList, TrackedDict, TrackedSet)):
        return node._nb_parent, node._nb_key
    entry = _MODEL_LINKS.get(id(node))
    if entry is None or entry[0]() is not node:
        return None, None
    return entry[1], entry[2]


def _set_link(node: Any, parent: _Parent, key: Any) -> None:
    if isinstance(node, (TrackedList, TrackedDict, TrackedSet)):
        node._nb_parent, node._nb_key = parent, key
    elif _is_tracked_object(node):
        ident = id(node)
        if parent is None:
            _MODEL_LINKS.pop(ident, None)
        else:
            old = _MODEL_LINKS.get(ident)
            ref = old[0] if old and old[0]() is node else weakref.ref(node, _forget_link(ident))
            _MODEL_LINKS[ident] = (ref, parent, key)


def _forget_link(ident: int) -> Callable[[Any], None]:
    links = _MODEL_LINKS  # held here: at interpreter exit the module's globals may be gone

    def forget(_ref: Any) -> None:
        links.pop(ident, None)

    return forget


Place = tuple[Root, tuple[str, ...] | None, bool, Any]
"""Where a change happens: the root, the path tokens, whether the path is free of array
indices, and the value to send whole instead of a fine-grained op (or ``None``)."""


def _locate(node: Any, *, whole_values: bool = True) -> Place | None:
    """Find where ``node`` sits; ``None`` when it is detached from every state.

    Inside a model whose JSON form is not field by field (:func:`_opaque`), the place is the
    outermost such model, sent whole: an op on one of its fields could not reproduce its JSON.
    """
    keys: list[str] = []
    stable = True
    whole: Any = None
    depth = 0  # how many of ``keys`` lie below ``whole``
    if whole_values and _is_tracked_object(node) and _opaque(plain_type(node)):
        whole = node
    while True:
        parent, key = _link_of(node)
        if parent is None:
            return None
        if isinstance(parent, (TrackedList, TrackedDict, TrackedSet)) or _is_tracked_object(
                parent):
            if isinstance(parent, list):
                stable = False
                if not (isinstance(key, int) and key < len(parent) and parent[key] is node):
                    key = next((i for i, v in enumerate(parent) if v is node), None)
                    if key is None:
                        return None
                    _set_link(node, parent, key)
            elif isinstance(parent, dict):
                if dict.get(parent, key, _MISSING) is not node:
                    return None
            elif getattr(parent, key, _MISSING) is not node:
                return None
            keys.append(str(key))
            node = parent
            if whole_values and _is_tracked_object(node) and _opaque(plain_type(node)):
                whole, depth, stable = node, len(keys), True  # from here on: the path above it
            continue
        if isinstance(parent, _Removed) and parent.entry.flushed:
            return None  # it left the tree for good
        base = parent.where()
        if base is None:
            return parent, None, stable, whole
        keys.reverse()
        return parent, (*base, *keys[:len(keys) - depth]), stable, whole


@functools.cache
def _opaque(cls: type) -> bool:
    """Whether the JSON form of a ``cls`` instance is more than its fields' own JSON forms.

    Computed or excluded fields, field or model serializers, serialization settings and extra
    fields make it so (pydantic models and pydantic dataclasses; a plain dataclass never is).
    """
    decorators = getattr(cls, "__pydantic_decorators__", None)
    if decorators is not None and (decorators.field_serializers or decorators.model_serializers
                                   or decorators.computed_fields):
        return True
    fields: dict[str, Any] = getattr(cls, "__pydantic_fields__", None) or {}
    for field in fields.values():
        if field.exclude or getattr(field, "exclude_if", None) is not None or any(
                isinstance(m, (pydantic.PlainSerializer, pydantic.WrapSerializer))
                for m in field.metadata):
            return True
    config: dict[str, Any] = (getattr(cls, "model_config", None)  # models
                              or getattr(cls, "__pydantic_config__", None) or {})  # dataclasses
    return config.get("extra") == "allow" or any(
        k.startswith("ser_") or k in ("serialize_by_alias", "json_encoders") for k in config)


_MISSING = object()


def _emit(op: str, keys: tuple[str | int, ...], value: Any, undo: Undo,
          place: Place | None) -> Entry | None:
    """Log one change found at ``place`` (from :func:`_locate`, taken before the change)."""
    if place is None:
        return None
    root, tokens, stable, whole = place
    if tokens is None:
        return root.record(None, undo, False)
    if whole is not None:
        op, keys, value = "replace", (), whole
    entry: dict[str, Any] = {"op": op, "path": pointer(*tokens, *keys)}
    if op != "remove":
        try:
            entry["value"] = encode(value)
        except Exception:
            undo()  # a value with no JSON form: the change must not stay without its undo
            raise
    # An op on a list item, or an add to a list, is not stable: later ops can shift its index.
    return root.record(
        entry, undo, stable and not (keys and (isinstance(keys[0], int) or keys[0] == "-")))


# --------------------------------------------------------------------------- wrapping


def wrap(value: Any, shape: Shape, parent: _Parent, key: Any, *, within: bool = False) -> Any:
    """Return ``value`` (already validated) as a tracked node linked to ``parent[key]``.

    A value that is already tracked elsewhere is deep-copied first, so one object never sits
    at two places of the tree. ``within`` marks the walk over the children of a container being
    (re)wrapped: a child already linked to that very container is its own, not a copy's.
    """
    kind = type(value)
    if kind in _SCALAR_TYPES:
        return value
    if isinstance(value, (TrackedList, TrackedDict, TrackedSet)) or _is_tracked_object(value):
        linked = _link_of(value)[0]
        # a detached node put back keeps its children, so their undo entries still apply
        if not isinstance(linked, (type(None), _Removed)) and not (within and linked is parent):
            value = untrack(value)
    kind = type(value)
    item = shape.item or ANY
    if isinstance(value, list):
        node: Any = value if kind is TrackedList else TrackedList(value)
        for i, v in enumerate(node):
            if type(v) not in _SCALAR_TYPES:
                list.__setitem__(node, i, wrap(v, item, node, i, within=True))
    elif isinstance(value, dict):
        node = value if kind is TrackedDict else TrackedDict(value)
        for k, v in node.items():
            if type(v) not in _SCALAR_TYPES:
                dict.__setitem__(node, k, wrap(v, item, node, k, within=True))
    elif isinstance(value, set):
        node = value if kind is TrackedSet else TrackedSet(value)
    elif _trackable_object(value):
        node = value
        if not _is_tracked_object(node):
            plain: Any = type(node)
            node.__class__ = _tracked_class(plain)
        for name in _field_names(node):
            v = node.__dict__.get(name, _MISSING) if hasattr(node, "__dict__") else _MISSING
            if v is _MISSING or type(v) in _SCALAR_TYPES:
                continue
            wrapped = wrap(v, _field_shape(plain_type(node), name) or ANY, node, name,
                           within=True)
            if wrapped is not v:
                node.__dict__[name] = wrapped
    else:
        return value
    if not _is_tracked_object(node):
        node._nb_shape = shape
    _set_link(node, parent, key)
    return node


def _trackable_object(value: Any) -> bool:
    """A pydantic model or dataclass instance whose attribute sets can be tracked.

    Tracking needs an instance ``__dict__`` and weak references; a slotted class has neither,
    so its instances are kept as opaque values (they change by reassignment only).
    """
    if not (isinstance(value, pydantic.BaseModel) or (
            dataclasses.is_dataclass(value) and not isinstance(value, type))):
        return False
    return hasattr(value, "__dict__") and type(value).__weakrefoffset__ != 0


def untrack(value: Any) -> Any:
    """A deep plain copy of ``value``: builtin containers and the user's own classes."""
    if type(value) in _SCALAR_TYPES:
        return value
    if isinstance(value, list):
        return [untrack(v) for v in value]
    if isinstance(value, dict):
        return {k: untrack(v) for k, v in value.items()}
    if isinstance(value, set):
        return set(value)
    if _is_tracked_object(value):
        plain = plain_type(value)
        copy: Any = object.__new__(plain)
        if isinstance(value, pydantic.BaseModel):
            for slot in ("__pydantic_fields_set__", "__pydantic_extra__", "__pydantic_private__"):
                object.__setattr__(copy, slot, _copy_attr(getattr(value, slot)))
        object.__setattr__(copy, "__dict__", {k: untrack(v) for k, v in value.__dict__.items()})
        return copy
    return value


def same_value(old: Any, new: Any) -> bool:
    """Whether ``new`` changes nothing a client sees: equal, and of the same JSON types all the
    way down (``True`` is not ``1`` and ``1.0`` is not ``1``, though Python finds them equal).

    Models and dataclasses compare by their class (a tracked one is its plain class) and ``==``.
    """
    return old is new or (bool(old == new) and _same_types(old, new))


def _same_types(a: Any, b: Any) -> bool:
    if isinstance(a, list):
        return isinstance(b, list) and all(
            x is y or _same_types(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return isinstance(b, dict) and all(v is b[k] or _same_types(v, b[k]) for k, v in a.items())
    if isinstance(a, set):
        return isinstance(b, set)
    return plain_type(a) is plain_type(b)


def _copy_attr(v: Any) -> Any:
    return None if v is None else type(v)(v)


def _unlink(value: Any) -> None:
    if type(value) not in _SCALAR_TYPES:
        _set_link(value, None, None)


def _adopt(parent: Any, value: Any, key: Any) -> Any:
    shape = parent._nb_shape if isinstance(parent, (TrackedList, TrackedDict, TrackedSet)) else ANY
    item = (shape or ANY).item or ANY
    return wrap(_validate(item, value, parent, key), item, parent, key)


def _validate(shape: Shape, value: Any, node: Any, key: Any) -> Any:
    """``shape.validate(value)`` for ``node[key]``; a failure names the var and the place."""
    try:
        return shape.validate(value)
    except pydantic.ValidationError as exc:
        place = _locate(node, whole_values=False)
        tokens = place[1] if place is not None else None
        where = "a var" if tokens is None else f"{tokens[0]}.{tokens[1]}"
        inner = pointer(*(tokens or ())[2:], str(key))
        details = "; ".join(e["msg"] for e in exc.errors()[:3])
        raise VarTypeError(
            f"{where} at {inner} cannot hold {_short_repr(value)} ({type(value).__name__}): "
            f"{details}") from None


def _short_repr(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


_SCALAR_TYPES = frozenset({str, int, float, bool, type(None), bytes})


# --------------------------------------------------------------------------- list


class TrackedList(list[Any]):
    """A ``list`` whose mutations are logged as JSON Patch ops on its path."""

    __slots__ = ("_nb_key", "_nb_parent", "_nb_shape")

    def __init__(self, iterable: Iterable[Any] = ()) -> None:
        super().__init__(iterable)
        self._nb_parent: _Parent = None
        self._nb_key: Any = None
        self._nb_shape: Shape | None = None

    def __reduce_ex__(self, protocol: SupportsIndex) -> Any:
        return (list, (list(self),))

    def append(self, value: Any) -> None:
        place = _locate(self)
        value = _adopt(self, value, len(self))
        list.append(self, value)
        _emit("add", ("-",), value, functools.partial(_list_pop_last, self), place)

    def extend(self, values: Iterable[Any]) -> None:
        for v in list(values):
            self.append(v)

    def __iadd__(self, values: Iterable[Any]) -> TrackedList:  # type: ignore[misc]
        self.extend(values)
        return self

    def insert(self, index: SupportsIndex, value: Any) -> None:
        i = _clamp(int(index), len(self))
        place = _locate(self)
        value = _adopt(self, value, i)
        list.insert(self, i, value)
        _emit("add", (i,), value, functools.partial(_list_del, self, i), place)

    def pop(self, index: SupportsIndex = -1) -> Any:
        i = int(index)
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError("pop index out of range")
        place = _locate(self)
        value = list.pop(self, i)
        _retire(value, place, _emit("remove", (i,), None,
                                    functools.partial(_list_insert, self, i, value), place))
        return value

    def remove(self, value: Any) -> None:
        self.pop(self.index(value))

    def clear(self) -> None:
        if self:
            self._replace_all([])

    def sort(self, *, key: Callable[[Any], Any] | None = None, reverse: bool = False) -> None:
        self._replace_all(sorted(self, key=key, reverse=reverse))

    def reverse(self) -> None:
        self._replace_all(self[::-1])

    def __setitem__(self, index: Any, value: Any) -> None:
        if isinstance(index, slice):
            items = list(self)
            items[index] = list(value)
            self._replace_all(items)
            return
        i = int(index)
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError("list assignment index out of range")
        place = _locate(self)
        value = _adopt(self, value, i)
        old = list.__getitem__(self, i)
        if same_value(old, value):
            return
        list.__setitem__(self, i, value)
        _retire(old, place,
                _emit("replace", (i,), value, functools.partial(_list_set, self, i, old), place))

    def __delitem__(self, index: Any) -> None:
        if isinstance(index, slice):
            items = list(self)
            del items[index]
            self._replace_all(items)
            return
        self.pop(index)

    def __imul__(self, n: SupportsIndex) -> TrackedList:
        self._replace_all(list(self) * int(n))
        return self

    def _replace_all(self, items: list[Any]) -> None:
        """A change that reorders or rewrites the list: one ``replace`` of the whole list."""
        if len(items) == len(self) and all(a is b for a, b in zip(items, self, strict=True)):
            return  # nothing moved (sorting a sorted list, an empty slice deletion)
        place = _locate(self)
        members = {id(v) for v in self}
        seen: set[int] = set()
        new = []
        for i, v in enumerate(items):
            if id(v) in members and id(v) not in seen and type(v) not in _SCALAR_TYPES:
                seen.add(id(v))
                new.append(v)
            else:
                new.append(_adopt(self, untrack(v), i))
        old = list(self)
        list.__setitem__(self, slice(None), new)
        entry = _emit("replace", (), self, functools.partial(_list_restore, self, old), place)
        for v in old:
            if id(v) not in seen:
                _retire(v, place, entry)


def _clamp(i: int, n: int) -> int:
    if i < 0:
        i = max(0, i + n)
    return min(i, n)


def _relink(container: Any, key: Any, value: Any) -> None:
    if type(value) not in _SCALAR_TYPES:
        _set_link(value, container, key)


def _list_pop_last(lst: TrackedList) -> None:
    _unlink(list.pop(lst))


def _list_del(lst: TrackedList, i: int) -> None:
    _unlink(list.pop(lst, i))


def _list_insert(lst: TrackedList, i: int, value: Any) -> None:
    list.insert(lst, i, value)
    _relink(lst, i, value)


def _list_set(lst: TrackedList, i: int, value: Any) -> None:
    _unlink(list.__getitem__(lst, i))
    list.__setitem__(lst, i, value)
    _relink(lst, i, value)


def _list_restore(lst: TrackedList, items: list[Any]) -> None:
    list.__setitem__(lst, slice(None), items)
    for i, v in enumerate(items):
        _relink(lst, i, v)


# --------------------------------------------------------------------------- dict


class TrackedDict(dict[Any, Any]):
    """A ``dict`` whose mutations are logged as JSON Patch ops on its path."""

    __slots__ = ("_nb_key", "_nb_parent", "_nb_shape")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._nb_parent: _Parent = None
        self._nb_key: Any = None
        self._nb_shape: Shape | None = None

    def __reduce_ex__(self, protocol: SupportsIndex) -> Any:
        return (dict, (dict(self),))

    def __setitem__(self, key: Any, value: Any) -> None:
        place = _locate(self)
        value = _adopt(self, value, key)
        old = dict.get(self, key, _MISSING)
        if same_value(old, value):
            return
        dict.__setitem__(self, key, value)
        if old is _MISSING:
            _emit("add", (str(key),), value,
                  functools.partial(_dict_del, self, key), place)
        else:
            _retire(old, place, _emit("replace", (str(key),), value,
                                      functools.partial(_dict_set, self, key, old), place))

    def __delitem__(self, key: Any) -> None:
        place = _locate(self)
        at = _position(self, key)
        old = dict.pop(self, key)
        _retire(old, place, _emit("remove", (str(key),), None,
                                  functools.partial(_dict_insert, self, at, key, old), place))

    def pop(self, key: Any, *default: Any) -> Any:
        if key not in self:
            if default:
                return default[0]
            raise KeyError(key)
        value = dict.__getitem__(self, key)
        del self[key]
        return value

    def popitem(self) -> tuple[Any, Any]:
        if not self:
            raise KeyError("popitem(): dictionary is empty")
        key = next(reversed(self.keys()))
        return key, self.pop(key)

    def setdefault(self, key: Any, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return dict.__getitem__(self, key)

    def update(self, *args: Any, **kwargs: Any) -> None:
        for k, v in dict(*args, **kwargs).items():
            self[k] = v

    def __ior__(self, other: Any) -> TrackedDict:  # type: ignore[misc]
        self.update(other)
        return self

    def clear(self) -> None:
        for k in list(self):
            del self[k]


def _position(d: TrackedDict, key: Any) -> int:
    """Where ``key`` is in ``d``'s order (cheap at either end, as for ``clear`` and ``popitem``).

    Raises:
        KeyError: ``key`` is not in ``d``.
    """
    if key not in d:
        raise KeyError(key)
    if key == next(iter(d)):
        return 0
    if key == next(reversed(d)):
        return len(d) - 1
    return list(d).index(key)


def _dict_insert(d: TrackedDict, at: int, key: Any, value: Any) -> None:
    """Undo a deletion: put ``key`` back where it was, so the dict's order is restored too."""
    if at >= len(d):
        dict.__setitem__(d, key, value)
    else:
        items = list(dict.items(d))
        items.insert(at, (key, value))
        dict.clear(d)
        dict.update(d, items)
    _relink(d, key, value)


def _dict_del(d: TrackedDict, key: Any) -> None:
    _unlink(dict.pop(d, key))


def _dict_set(d: TrackedDict, key: Any, value: Any) -> None:
    old = dict.get(d, key, _MISSING)
    if old is not _MISSING:
        _unlink(old)
    dict.__setitem__(d, key, value)
    _relink(d, key, value)


# --------------------------------------------------------------------------- set


def _set_mutator(name: str) -> Callable[..., Any]:
    method = getattr(set, name)

    def mutate(self: TrackedSet, *args: Any) -> Any:
        place = _locate(self)
        item = (self._nb_shape or ANY).item or ANY
        if name == "add":
            args = (_validate(item, args[0], self, "-"),)
        elif name in _SET_ADDS and item.adapter is not None:
            args = tuple({_validate(item, v, self, "-") for v in arg} for arg in args)
        before = set(self)
        result = method(self, *args)
        if before != set(self):
            _emit("replace", (), self, functools.partial(_set_restore, self, before),
                  place)
        return self if name.startswith("__i") else result

    mutate.__name__ = name
    return mutate


_SET_ADDS = frozenset({"update", "symmetric_difference_update", "__ior__", "__ixor__"})


def _set_restore(s: TrackedSet, items: set[Any]) -> None:
    set.clear(s)
    set.update(s, items)


class TrackedSet(set[Any]):
    """A ``set`` whose changes are logged; each change replaces the set's JSON array."""

    __slots__ = ("_nb_key", "_nb_parent", "_nb_shape")

    def __init__(self, iterable: Iterable[Any] = ()) -> None:
        super().__init__(iterable)
        self._nb_parent: _Parent = None
        self._nb_key: Any = None
        self._nb_shape: Shape | None = None

    def __reduce_ex__(self, protocol: SupportsIndex) -> Any:
        return (set, (set(self),))

    add = _set_mutator("add")
    discard = _set_mutator("discard")
    remove = _set_mutator("remove")
    pop = _set_mutator("pop")
    clear = _set_mutator("clear")
    update = _set_mutator("update")
    difference_update = _set_mutator("difference_update")
    intersection_update = _set_mutator("intersection_update")
    symmetric_difference_update = _set_mutator("symmetric_difference_update")
    __ior__ = _set_mutator("__ior__")
    __iand__ = _set_mutator("__iand__")
    __isub__ = _set_mutator("__isub__")
    __ixor__ = _set_mutator("__ixor__")


# --------------------------------------------------------------------------- models


_TRACKED_MARK = "__nbstate_tracked__"


def _is_tracked_object(value: Any) -> bool:
    return getattr(type(value), _TRACKED_MARK, False) is True


def plain_type(value: Any) -> type:
    """The user's class of ``value``: the model or dataclass behind its tracking subclass."""
    cls = type(value)
    return cls.__mro__[1] if getattr(cls, _TRACKED_MARK, False) is True else cls


def _field_names(node: Any) -> Iterable[str]:
    if isinstance(node, pydantic.BaseModel):
        return type(node).model_fields.keys()
    return (f.name for f in dataclasses.fields(node))


@functools.cache
def _tracked_class(cls: type) -> type:
    """A subclass of a pydantic model or dataclass whose attribute sets are logged.

    It adds no slots, so an instance's ``__class__`` can be swapped in place; it compares equal
    to instances of the plain class with the same fields.
    """
    base_setattr = typing.cast(Callable[[Any, str, Any], None], cls.__setattr__)
    is_model = issubclass(cls, pydantic.BaseModel)

    def __setattr__(self: Any, name: str, value: Any) -> None:
        shape = _field_shape(cls, name)
        if shape is None:
            base_setattr(self, name, value)
            return
        place = _locate(self)
        value = wrap(_validate(shape, value, self, name), shape, self, name)
        old = self.__dict__.get(name, _MISSING)
        if same_value(old, value):
            return
        base_setattr(self, name, value)
        stored = self.__dict__.get(name, _MISSING)
        if stored is not value and stored is not _MISSING:
            # validate_assignment models store a validated copy: track that one instead
            value = self.__dict__[name] = wrap(stored, shape, self, name)
        entry = _emit("replace", (name,), value, functools.partial(_object_set, self, name, old),
                      place)
        if old is not _MISSING:
            _retire(old, place, entry)

    def __eq__(self: Any, theirs: object) -> bool:
        if not isinstance(theirs, cls) or plain_type(theirs) is not cls:
            return NotImplemented
        other: Any = theirs
        if is_model:
            return bool(self.__dict__ == other.__dict__
                        and self.__pydantic_private__ == other.__pydantic_private__
                        and self.__pydantic_extra__ == other.__pydantic_extra__)
        return all(getattr(self, f.name) == getattr(other, f.name)
                   for f in dataclasses.fields(cls) if f.compare)

    namespace = {
        "__slots__": (),
        "__setattr__": __setattr__,
        "__eq__": __eq__,
        "__hash__": cls.__hash__,
        "__module__": cls.__module__,
        "__qualname__": cls.__qualname__,
        _TRACKED_MARK: True,
    }
    # copies and pickles are plain, as for tracked containers: a copy is not part of any state
    namespace["__reduce_ex__"] = lambda self, _p: (_restore_model, (cls, untrack(self)))
    namespace["__deepcopy__"] = lambda self, memo=None: untrack(self)
    return types.new_class(cls.__name__, (cls,), {}, lambda ns: ns.update(namespace))


def _restore_model(cls: type, plain: Any) -> Any:
    return plain


def _object_set(obj: Any, name: str, value: Any) -> None:
    # Straight into __dict__: the undo restores the exact object, which a validating
    # __setattr__ (pydantic's validate_assignment) would replace with a copy.
    old = obj.__dict__.get(name, _MISSING)
    if old is not _MISSING:
        _unlink(old)
    if value is _MISSING:
        obj.__dict__.pop(name, None)
        return
    obj.__dict__[name] = value
    _relink(obj, name, value)


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
    if type(value) not in _SCALAR_TYPES:
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


def compact(entries: list[Entry]) -> list[dict[str, Any]]:
    """The ops of ``entries`` with those made irrelevant by a later op dropped.

    A later ``replace``/``add`` at a path that holds no array index replaces everything at and
    below it, so earlier ops there are dropped; when one at the very same path is dropped, the
    later op is sent as ``add`` (on an object member ``add`` sets whether or not it exists).
    """
    covered: set[str] = set()
    out: list[dict[str, Any]] = []
    for entry in reversed(entries):
        op = entry.op
        if op is None:
            continue
        path = op["path"]
        hit = _covering(path, covered)
        if hit is not None:
            if hit == path and out:
                _promote(out, path)
            continue
        out.append(op)
        if entry.stable and op["op"] != "remove":
            covered.add(path)
    out.reverse()
    return out


def _covering(path: str, covered: set[str]) -> str | None:
    if not covered:
        return None
    if path in covered:
        return path
    i = path.rfind("/")
    while i > 0:
        prefix = path[:i]
        if prefix in covered:
            return prefix
        i = path.rfind("/", 0, i)
    return None


def _promote(out: list[dict[str, Any]], path: str) -> None:
    for i in range(len(out) - 1, -1, -1):
        if out[i]["path"] == path:
            if out[i]["op"] == "replace":
                out[i] = {"op": "add", "path": path, "value": out[i]["value"]}
            return

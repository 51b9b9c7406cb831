"""Apply RFC 6902 JSON Patch documents to JSON data.

nbstate's clients keep a copy of the session document and apply each delta to it; this is the
Python applier (``js/src/core/patch.ts`` is its twin). It supports all six operations
(``add``, ``remove``, ``replace``, ``move``, ``copy``, ``test``) with RFC 6901 JSON Pointers,
and passes the public json-patch-tests conformance suite.

:func:`apply_patch` never mutates its input: it works on a deep copy and returns it, so a patch
that fails part-way leaves the caller's document untouched (RFC 6902 §5: a patch is atomic).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from .errors import NbStateError

__all__ = ["JsonPatchError", "apply_patch", "apply_patch_in_place", "parse_pointer"]


class JsonPatchError(NbStateError, ValueError):
    """A patch operation is malformed or does not apply to the document."""


def parse_pointer(pointer: str) -> list[str]:
    """Split an RFC 6901 JSON Pointer into unescaped reference tokens.

    Raises:
        JsonPatchError: the pointer is neither empty nor starts with ``/``.
    """
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise JsonPatchError(f"JSON Pointer {pointer!r} must be empty or start with '/'")
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]


def apply_patch(document: Any, ops: Iterable[Mapping[str, Any]]) -> Any:
    """Return a new document: ``document`` with the RFC 6902 ``ops`` applied in order.

    Raises:
        JsonPatchError: an operation is malformed, or its path (or ``from``) does not exist,
            or a ``test`` fails. ``document`` is left unchanged.
    """
    return apply_patch_in_place(copy.deepcopy(document), ops)


def apply_patch_in_place(document: Any, ops: Iterable[Mapping[str, Any]]) -> Any:
    """Apply ``ops`` to ``document`` in place where possible and return the new root.

    Cheaper than :func:`apply_patch` for a client that owns its copy, but not atomic: on
    :class:`JsonPatchError` the document may hold the operations before the failing one.
    """
    for op in ops:
        document = _apply_one(document, op)
    return document


def _apply_one(doc: Any, op: Mapping[str, Any]) -> Any:
    if not isinstance(op, Mapping):
        raise JsonPatchError(f"a patch operation must be an object, got {op!r}")
    name = op.get("op")
    path = op.get("path")
    if not isinstance(path, str):
        raise JsonPatchError(f"operation {op!r} has no string 'path'")
    if name in ("add", "replace", "test") and "value" not in op:
        raise JsonPatchError(f"{name!r} operation at {path!r} has no 'value'")
    if name == "add":
        return _add(doc, parse_pointer(path), _copy(op["value"]))
    if name == "remove":
        doc, _ = _remove(doc, parse_pointer(path))
        return doc
    if name == "replace":
        tokens = parse_pointer(path)
        doc, _ = _remove(doc, tokens)
        return _add(doc, tokens, _copy(op["value"]))
    if name in ("move", "copy"):
        source = op.get("from")
        if not isinstance(source, str):
            raise JsonPatchError(f"{name!r} operation at {path!r} has no string 'from'")
        src, dst = parse_pointer(source), parse_pointer(path)
        if name == "move":
            if src == dst:
                return doc
            if dst[: len(src)] == src:
                raise JsonPatchError(f"cannot move {source!r} into its own child {path!r}")
            doc, value = _remove(doc, src)
        else:
            value = copy.deepcopy(_get(doc, src))
        return _add(doc, dst, value)
    if name == "test":
        if not _json_equal(_get(doc, parse_pointer(path)), op["value"]):
            raise JsonPatchError(f"test failed at {path!r}: value is not {op['value']!r}")
        return doc
    raise JsonPatchError(f"unknown operation {name!r}; expected one of add, remove, replace, "
                         "move, copy, test")


def _copy(value: Any) -> Any:
    return copy.deepcopy(value) if isinstance(value, (list, dict)) else value


def _json_equal(a: Any, b: Any) -> bool:
    # JSON has one number type, but true is not 1: compare bools by identity of kind.
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_json_equal(x, y) for x, y in zip(a, b, strict=True))
    return (type(a) in (int, float) and type(b) in (int, float) and a == b) or (
        type(a) is type(b) and a == b
    )


def _index(token: str, size: int, *, for_add: bool) -> int:
    if token == "-" and for_add:
        return size
    if not token.isdigit() or (token != "0" and token.startswith("0")):
        raise JsonPatchError(f"array index {token!r} is not a non-negative integer")
    i = int(token)
    if i > size or (i == size and not for_add):
        raise JsonPatchError(f"array index {i} is out of range (length {size})")
    return i


def _get(doc: Any, tokens: list[str]) -> Any:
    for t in tokens:
        if isinstance(doc, dict):
            if t not in doc:
                raise JsonPatchError(f"path member {t!r} does not exist")
            doc = doc[t]
        elif isinstance(doc, list):
            doc = doc[_index(t, len(doc), for_add=False)]
        else:
            raise JsonPatchError(f"cannot index into {type(doc).__name__} with {t!r}")
    return doc


def _add(doc: Any, tokens: list[str], value: Any) -> Any:
    if not tokens:
        return value
    parent = _get(doc, tokens[:-1])
    last = tokens[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        parent.insert(_index(last, len(parent), for_add=True), value)
    else:
        raise JsonPatchError(f"cannot add {last!r} to a {type(parent).__name__}")
    return doc


def _remove(doc: Any, tokens: list[str]) -> tuple[Any, Any]:
    if not tokens:
        return None, doc
    parent = _get(doc, tokens[:-1])
    last = tokens[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise JsonPatchError(f"path member {last!r} does not exist")
        return doc, parent.pop(last)
    if isinstance(parent, list):
        return doc, parent.pop(_index(last, len(parent), for_add=False))
    raise JsonPatchError(f"cannot remove {last!r} from a {type(parent).__name__}")

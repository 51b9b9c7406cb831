"""Smallest patches: the RFC 6902 ops for a change of a JSON value, never larger than the value.

RFC 6902 has no multi-add and no splice: a change of many items of an array (``extend``, a
slice, ``sort``) or many members of an object (``update``) has two correct forms, one op per
item or one ``replace`` of the whole value. The session logs such a change as one internal op,
never sent (:data:`SPLICE` for a list, :data:`MERGE` for a dict), and the session document
turns it into the smaller form when it commits it (:func:`expand`), where the JSON value before
the change is at hand. :func:`diff` does the same for a computed var whose new value is close
to its old one: a filtered list that gained one item is one ``add``, not the whole list.

Sizes are those of compact JSON text (``json.dumps(..., separators=(",", ":"))``). The bytes of
the new items appear in both forms, so a choice compares only what differs: each op's framing
(``{"op":"add","path":"/todo/items/-","value":…}``) against the items the change kept. Finding
the size of kept items stops once it exceeds the other form, so choosing costs no more than
the smaller form; a lower bound (every JSON value is at least one byte) usually decides
without looking at them at all.

Exactness: values compare as JSON (:func:`same`: ``True`` is not ``1``, ``1.0`` is not ``1``),
and :func:`diff` pairs array items by position around a common prefix and suffix, never by a
quadratic edit distance, so its work is linear in the two values.
"""

from __future__ import annotations

import json
from itertools import compress, count, islice
from operator import is_not
from typing import Any

from .protocol import copy_json, escape_token

__all__ = ["MERGE", "SPLICE", "diff", "expand", "json_size", "same"]

SPLICE = "splice"
"""Internal op on a list: ``{"op": "splice", "path", "at", "remove", "value": [new items]}``
(``"scalars": True`` when every new item is a string, number, bool or ``None``)."""
MERGE = "merge"
"""Internal op on a dict: ``{"op": "merge", "path", "value": {key: new value}}``."""

_dumps = json.JSONEncoder(separators=(",", ":")).encode
# the framing of one op, without its path's own text and its value
_REPLACE = len('{"op":"replace","path":"","value":},')
_ADD = len('{"op":"add","path":"","value":},')
_REMOVE = len('{"op":"remove","path":""},')


def json_size(value: Any, limit: int) -> int:
    """The length of ``value`` as compact JSON, or some number above ``limit`` once it is.

    The work is proportional to ``min(size, limit)``, plus at most one chunk of items.
    """
    if isinstance(value, list):
        return 2 + _own_size(value, limit, pairs=False) + max(len(value) - 1, 0)
    if isinstance(value, dict):
        return 2 + _own_size(list(value.items()), limit, pairs=True) + max(len(value) - 1, 0)
    return len(_dumps(value))


def _own_size(items: list[Any], limit: int, *, pairs: bool) -> int:
    """The bytes of the items' own texts (a list's items, or a dict's ``"key":value`` pairs),
    without separators; some number above ``limit`` once they pass it."""
    total, at, chunk = 0, 0, 32
    while at < len(items) and total <= limit:
        part = items[at:at + chunk]
        text = _dumps(dict(part) if pairs else part)
        total += len(text) - 2 - (len(part) - 1)
        at += chunk
        chunk *= 2
    return total


def same(a: Any, b: Any) -> bool:
    """Whether two JSON values are the same JSON (``True`` is not ``1``, ``1.0`` is not ``1``)."""
    if a is b:
        return True
    kind = type(a)
    if kind is not type(b):
        return False
    if kind is list:
        return len(a) == len(b) and _prefix(a, b, 0, len(a)) == len(a)
    if kind is dict:
        return a.keys() == b.keys() and all(same(v, b[k]) for k, v in a.items())
    return bool(a == b)


def _prefix(a: list[Any], b: list[Any], start: int, stop: int) -> int:
    """The first index in ``start..stop`` where ``a`` and ``b`` differ as JSON (``stop`` if
    none)."""
    return start + _run(a, start, b, start, stop - start)


def _run(a: list[Any], i: int, b: list[Any], j: int, most: int) -> int:
    """How many items ``a[i:]`` and ``b[j:]`` share as JSON from their starts, at most ``most``.
    Items that are the same object are skipped at C speed."""
    others = compress(count(), map(is_not, islice(a, i, i + most), islice(b, j, j + most)))
    for t in others:
        if not same(a[i + t], b[j + t]):
            return t
    return most


def _suffix(a: list[Any], b: list[Any], most: int) -> int:
    """How many trailing items ``a`` and ``b`` share as JSON, at most ``most``."""
    n, k = len(a), len(b)
    others = compress(count(), map(is_not, islice(reversed(a), most), islice(reversed(b), most)))
    for s in others:
        if not same(a[n - 1 - s], b[k - 1 - s]):
            return s
    return most


def _digits(lo: int, hi: int) -> int:
    """The characters of the indices ``lo..hi-1`` written out: ``sum(len(str(i)))``."""
    total, width, bound = 0, 1, 10
    while lo < hi:
        while lo >= bound:
            width, bound = width + 1, bound * 10
        stop = min(hi, bound)
        total += (stop - lo) * width
        lo = stop
    return total


# --------------------------------------------------------------------------- bulk changes


def expand(target: Any, op: dict[str, Any]) -> list[dict[str, Any]]:
    """Apply an internal ``splice`` or ``merge`` op to ``target`` (the list or dict at
    ``op["path"]`` in a document) in place, and return the RFC 6902 ops that do the same:
    one per item, or one ``replace`` of the whole value, whichever is smaller.

    Values in the returned ops share nothing with ``target``.
    """
    if op["op"] == SPLICE:
        return _splice(target, op["path"], op["at"], op["remove"], op["value"],
                       op.get("scalars", False))
    return _merge(target, op["path"], op["value"])


def _splice(target: list[Any], path: str, at: int, remove: int, values: list[Any],
            scalars: bool) -> list[dict[str, Any]]:
    n, k = len(target), len(values)
    kept, shared = n - remove, min(remove, k)
    tail = at + remove == n  # adds go to the end: their token is "-"
    # what the per-item form spends beyond the new values: one framing per op
    plen = len(path) + 1
    ops_extra = shared * (_REPLACE + plen) + _digits(at, at + shared)
    if k > remove:
        adds = k - remove
        ops_extra += adds * (_ADD + plen) + (adds if tail else _digits(at + shared, at + k))
    else:
        ops_extra += (remove - k) * (_REMOVE + plen + len(str(at + k)))
    # what the whole form spends beyond them: its framing, the kept items and the commas
    budget = ops_extra - (_REPLACE + len(path) + 2 + max(kept + k - 1, 0))
    new = values if scalars else copy_json(values)
    if budget > kept and _kept_size(target, at, remove, budget) < budget:
        target[at:at + remove] = new
        whole = values if kept == 0 else copy_json(target)
        return [{"op": "replace", "path": path, "value": whole}]
    ops: list[dict[str, Any]] = [
        {"op": "replace", "path": f"{path}/{at + i}", "value": values[i]} for i in range(shared)]
    if k > remove:
        ops.extend({"op": "add", "path": f"{path}/{'-' if tail else at + i}", "value": values[i]}
                   for i in range(shared, k))
    else:
        ops.extend({"op": "remove", "path": f"{path}/{at + k}"} for _ in range(remove - k))
    target[at:at + remove] = new
    return ops


def _kept_size(target: list[Any], at: int, remove: int, limit: int) -> int:
    """The bytes of the items a splice keeps (their own texts), or more than ``limit``."""
    head = _own_size(target[:at], limit, pairs=False)
    if head > limit:
        return head
    return head + _own_size(target[at + remove:], limit - head, pairs=False)


def _merge(target: dict[str, Any], path: str, values: dict[str, Any]) -> list[dict[str, Any]]:
    plen = len(path) + 1
    ops_extra = sum(_ADD + plen + len(escape_token(k)) for k in values)
    kept = len(target) - sum(k in target for k in values)
    # the whole form: framing, every key of the merge as text, and each kept member (at least
    # `"":0,` each: a lower bound that usually decides without looking at them)
    budget = ops_extra - (_REPLACE + len(path) + 2 + sum(len(_dumps(k)) + 2 for k in values))
    if budget > 5 * kept and json_size({k: v for k, v in target.items() if k not in values},
                                       budget) < budget:
        for key, value in values.items():
            target[key] = copy_json(value)
        return [{"op": "replace", "path": path, "value": copy_json(target)}]
    # `add` sets a member whether or not it exists (RFC 6902 §4.1), and is shorter
    ops = [{"op": "add", "path": f"{path}/{escape_token(key)}", "value": value}
           for key, value in values.items()]
    for key, value in values.items():
        target[key] = copy_json(value)
    return ops


# --------------------------------------------------------------------------- computed vars


def diff(old: Any, new: Any, path: str) -> list[dict[str, Any]]:
    """The ops that take JSON value ``old`` at ``path`` to ``new``: ``[]`` when they are the
    same JSON, one ``replace`` when no smaller patch exists, else the ops of the changed items
    (arrays compared around their common prefix and suffix, objects by key, at any depth).

    Bounded: where more than about half of an array's items or an object's members changed,
    that value is replaced whole rather than diffed item by item.
    """
    if same(old, new):
        return []
    ops: list[dict[str, Any]] = []
    _diff_into(old, new, path, ops)
    if len(ops) == 1 and ops[0]["path"] == path:
        return ops
    size = len(_dumps(ops))
    if json_size(new, size) + _REPLACE + len(path) <= size:
        return [{"op": "replace", "path": path, "value": new}]
    return ops


def _diff_into(old: Any, new: Any, path: str, ops: list[dict[str, Any]]) -> None:
    """Append to ``ops`` what takes ``old`` to ``new`` (they differ)."""
    kind = type(new)
    if kind is not type(old) or kind not in (list, dict):
        ops.append({"op": "replace", "path": path, "value": new})
    elif kind is dict:
        removed = [key for key in old if key not in new]
        changed = [key for key, value in new.items() if key not in old
                   or not same(old[key], value)]
        if len(removed) + len(changed) > len(new) // 2 + 4:
            ops.append({"op": "replace", "path": path, "value": new})
            return
        ops.extend({"op": "remove", "path": f"{path}/{escape_token(key)}"} for key in removed)
        for key in changed:
            at = f"{path}/{escape_token(key)}"
            if key in old:
                _diff_into(old[key], new[key], at, ops)
            else:
                ops.append({"op": "add", "path": at, "value": new[key]})
    else:
        _diff_list(old, new, path, ops)


_SHIFTS = 4
"""How many items a diff looks for, removed or inserted at the front of a changed span: a
sliding window drops one at the front and gains one at the end."""


def _diff_list(old: list[Any], new: list[Any], path: str, ops: list[dict[str, Any]]) -> None:
    n, k = len(old), len(new)
    p = _prefix(old, new, 0, min(n, k))
    s = _suffix(old, new, min(n, k) - p)
    m, j = n - s - p, k - s - p  # the span that changed: m old items became j new ones
    # the best alignment of the span: `shift` items removed (> 0) or inserted (< 0) at its
    # front, after which `run` items are the same
    shift = run = 0
    if min(m, j) > 1:
        for d in range(1, _SHIFTS + 1):
            if d < m:
                got = _run(old, p + d, new, p, min(m - d, j))
                if got > run:
                    shift, run = d, got
            if d < j:
                got = _run(old, p, new, p + d, min(m, j - d))
                if got > run:
                    shift, run = -d, got
    if abs(shift) + max(m - max(shift, 0) - run, j - max(-shift, 0) - run) >= max(m, j):
        shift = run = 0  # aligning saves nothing: pair the span's items by position
    if abs(shift) + max(m, j) - run > k // 2 + 4:
        ops.append({"op": "replace", "path": path, "value": new})  # mostly rewritten
        return
    if shift > 0:
        ops.extend({"op": "remove", "path": f"{path}/{p}"} for _ in range(shift))
        at, m, j = p + run, m - shift - run, j - run
    elif shift < 0:
        ops.extend({"op": "add", "path": f"{path}/{p + i}", "value": new[p + i]}
                   for i in range(-shift))
        at, m, j = p - shift + run, m - run, j + shift - run
    else:
        at = p
    # what is left: m old items from old[at + shift] become j new ones from new[at], at `at`
    for i in range(min(m, j)):
        if not same(old[at + shift + i], new[at + i]):
            _diff_into(old[at + shift + i], new[at + i], f"{path}/{at + i}", ops)
    if j > m:
        ops.extend({"op": "add", "path": f"{path}/{'-' if s == 0 else at + i}",
                    "value": new[at + i]} for i in range(m, j))
    else:
        ops.extend({"op": "remove", "path": f"{path}/{at + j}"} for _ in range(m - j))

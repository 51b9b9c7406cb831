"""Tracked pydantic models and dataclasses: attribute sets logged like container mutations.

A model or dataclass instance put into a state gets its class swapped to a cached tracking
subclass of its own class (:func:`_tracked_class`) with the same layout, so ``isinstance``,
``==`` and JSON encoding keep working; copies and pickles are of the plain class. Setting one of
its fields validates the value against the field's annotation, tracks it, and logs a
``replace`` of that field with the undo that puts the old value back (the exact object, not a
validated copy). Instances of slotted classes are not tracked: they change by reassignment only.

Layering: this module builds on :mod:`nbstate.tracking`, :mod:`nbstate.validation` and
:mod:`nbstate.shapes`. Tracking a model's fields needs :func:`~nbstate.containers.wrap`, which
sits above this module (it also builds the containers): its caller passes it in, as a
:class:`Wrap`, to :func:`track_object`, and the tracking subclass's ``__setattr__`` keeps it.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Callable
from math import isfinite
from typing import Any, Protocol

import pydantic

from .changes import Entry
from .plain import SCALAR_TYPES, TRACKED_MARK, plain_type, same_value, untrack
from .shapes import ANY, Shape, field_shape
from .tracking import (
    _JSON_SCALARS,
    _MISSING,
    _emit,
    _locate,
    _path,
    _relink,
    _retire,
    _unlink,
    row_place,
)
from .validation import JSON_SCALARS, validate_item

__all__ = ["Wrap", "track_object", "trackable_object"]


class Wrap(Protocol):
    """:func:`nbstate.containers.wrap`: ``value`` (validated) as a tracked node at
    ``parent[key]``. Hashable: the tracking classes made with it are cached per class and wrap.
    """

    def __call__(self, value: Any, shape: Shape, parent: Any, key: Any, *,
                 within: bool = False) -> Any: ...

    def __hash__(self) -> int: ...


def trackable_object(value: Any) -> bool:
    """A pydantic model or dataclass instance whose attribute sets can be tracked.

    Tracking needs an instance ``__dict__`` and weak references; a slotted class has neither,
    so its instances are kept as opaque values (they change by reassignment only).
    """
    if not (isinstance(value, pydantic.BaseModel) or (
            dataclasses.is_dataclass(value) and not isinstance(value, type))):
        return False
    return hasattr(value, "__dict__") and type(value).__weakrefoffset__ != 0


def track_object(node: Any, wrap: Wrap) -> Any:
    """``node`` (a :func:`trackable_object`) with its class swapped for tracking and its fields
    tracked by ``wrap``; not yet linked to a parent."""
    cls: type = type(node)
    if getattr(cls, TRACKED_MARK, False) is True:
        cls = cls.__mro__[1]
    else:  # past pydantic's __setattr__, which has nothing to do for it and takes ~1 µs
        object.__setattr__(node, "__class__", _tracked_class(cls, wrap))
    fields = node.__dict__
    for name in _field_names(cls):
        v = fields.get(name, _MISSING)
        if v is _MISSING or type(v) in SCALAR_TYPES:
            continue
        wrapped = wrap(v, field_shape(cls, name) or ANY, node, name, within=True)
        if wrapped is not v:
            fields[name] = wrapped
    return node


@functools.cache
def _field_names(cls: type) -> tuple[str, ...]:
    fields = getattr(cls, "__pydantic_fields__", None)  # models, pydantic dataclasses
    if fields is not None:
        return tuple(fields)
    return tuple(f.name for f in dataclasses.fields(cls))


@functools.cache
def _tracked_class(cls: type, wrap: Wrap) -> type:
    """A subclass of a pydantic model or dataclass whose attribute sets are logged, and whose
    new field values ``wrap`` tracks.

    It adds no slots, so an instance's ``__class__`` can be swapped in place; it compares equal
    to instances of the plain class with the same fields.
    """
    base_setattr = typing.cast(Callable[[Any, str, Any], None], cls.__setattr__)
    is_model = issubclass(cls, pydantic.BaseModel)
    # a __setattr__ of the class's own (pydantic's, with validate_assignment) may store a
    # validated copy of the value set; object's stores the value itself
    copies = base_setattr is not object.__setattr__
    shapes: dict[str, Shape | None] = {}  # field shapes by name, as first asked for

    def __setattr__(self: Any, name: str, value: Any) -> None:
        if name in shapes:
            shape = shapes[name]
        else:
            shape = shapes[name] = field_shape(cls, name)
        if shape is None:
            base_setattr(self, name, value)
            return
        kind = type(value)
        if kind is shape.annotation and kind in JSON_SCALARS and (
                kind is not str or value.isascii()) and (kind is not float or isfinite(value)):
            # the common case, a field set to a plain value of its own type: no validation
            # (pydantic would return it as it is), nothing to track
            row = row_place(self)
            old = self.__dict__.get(name, _MISSING)
            if old is value or (type(old) is kind and old == value):
                if row is None:
                    _locate(self)  # raises where the var may not be changed now
                return
            if row is not None and not copies and (old is _MISSING
                                                   or type(old) in SCALAR_TYPES):
                # a row of a list var: its pointer at once, and the op logged
                base_setattr(self, name, value)
                row[0].record({"op": "replace", "path": f"{row[1]}/{name}", "value": value},
                              functools.partial(_object_set, self, name, old), False)
                return
            place = _locate(self)
        else:
            place = _locate(self)
            value = validate_item(shape, value, self, name, place)
            if type(value) not in SCALAR_TYPES:
                value = wrap(value, shape, self, name)
            old = self.__dict__.get(name, _MISSING)
            if old is value or same_value(old, value):
                return
        base_setattr(self, name, value)
        if copies:
            stored = self.__dict__.get(name, _MISSING)  # validate_assignment put in a new dict
            if stored is not value and stored is not _MISSING:
                # validate_assignment models store a validated copy: track that one instead
                value = self.__dict__[name] = wrap(stored, shape, self, name)
        undo = functools.partial(_object_set, self, name, old)
        entry: Entry | None
        if place is not None and place[1] is not None and place[3] is None and (
                type(value) in _JSON_SCALARS):  # as _emit's common case, one call less
            entry = place[0].record({"op": "replace", "path": _path(place[1], (name,)),
                                     "value": value}, undo, place[2])
        else:
            entry = _emit("replace", (name,), value, undo, place)
        if old is not _MISSING and type(old) not in SCALAR_TYPES:
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
        TRACKED_MARK: True,
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

"""Vars of a state class: base vars, backend vars and computed vars, as descriptors.

- A **base var** is an annotated public field. Reads return the tracked value; assignments are
  validated by pydantic (lax mode, as a pydantic model with ``validate_assignment`` would), an
  equal value is a no-op, and a change is logged as a ``replace`` op.
- A base var holds only what JSON can carry to a browser: a string with a lone surrogate, NaN
  or ±Infinity, or an object with no JSON form is refused (:class:`~nbstate.VarTypeError`)
  where it enters, by assignment or into a container or model inside the var, with nothing
  changed (checks in :mod:`nbstate.travel`).
- A **backend var** (``_name``) is validated and rolled back like a base var but never reaches a
  client, so it is not checked for JSON (NaN, a lone surrogate or an object of an ``Any`` var
  may stay on the server); its type is still validated.
- A **computed var** (``@computed``) is derived. Its dependencies are the vars (and other
  computed vars) it *read* the last time it ran, recorded at run time, so attribute reads through
  helper methods, properties, comprehensions, lambdas and parent states are all seen. A
  dependency that a branch did not read cannot have affected the result. Explicit
  ``deps=[...]`` replaces tracking.

A var lives on the instance of the class that declares it; a substate reading a parent's var
gets the parent instance's value (``self.items`` in ``Filters`` reads ``Todo.items``).
"""

from __future__ import annotations

import copy
import dataclasses
import math
import typing
from collections.abc import Callable, Iterable
from typing import Any, Generic, TypeVar, overload

import pydantic

from .containers import wrap
from .context import StatePort, VarKey, reading
from .errors import ComputedVarError, ReadOnlyVarError, VarTypeError
from .messages import explain
from .protocol import encode
from .shapes import Shape, shape_of
from .travel import NotJSON, explain_json, surrogate

__all__ = ["BackendVar", "BaseVar", "ComputedVar", "VarKey", "computed"]

T = TypeVar("T")


class BaseVar(Generic[T]):
    """Descriptor of a base var (or, subclassed, a backend var) of a state class."""

    synced = True

    def __init__(self, name: str, annotation: Any, default: Any) -> None:
        self.name = name
        self.annotation = annotation
        self.default = default
        self.bind("", name)
        self.shape: Shape = shape_of(annotation)
        # A value of exactly this type needs no validation (the hot path of `self.n = 1`).
        self.exact: type | None = annotation if annotation in (int, str, float, bool) else None

    def bind(self, owner_path: str, name: str) -> None:
        """Called by the class set-up: the var belongs to the state at ``owner_path``."""
        self.owner_path, self.name = owner_path, name
        self.key: VarKey = (owner_path, name)

    @overload
    def __get__(self, instance: None, owner: type) -> BaseVar[T]: ...
    @overload
    def __get__(self, instance: StatePort, owner: type) -> T: ...
    def __get__(self, instance: StatePort | None, owner: type) -> Any:
        if instance is None:
            return self
        reads = reading.get()
        if reads is not None:
            reads.add(self.key)
        state = instance if instance._nb_path == self.owner_path else instance._nb_owner(
            self.owner_path)
        return state._nb_values[self.name]

    def __set__(self, instance: StatePort, value: Any) -> None:
        state = instance if instance._nb_path == self.owner_path else instance._nb_owner(
            self.owner_path)
        state._nb_session.assign(state, self, value)

    def validate(self, state_path: str, value: Any) -> Any:
        """Validate ``value`` for this var; a base var also refuses what JSON cannot carry.

        Raises:
            VarTypeError: naming ``state path.var`` and what is wrong, in plain words
                (``todo.step must be ≥ 1, got 0``, ``todo.ratio: NaN is not JSON; …``); its
                ``detail`` (and ``__cause__``) keeps pydantic's errors.
        """
        kind = type(value)
        if kind is self.exact and (kind is int or kind is bool or not self.synced or (
                (value.isascii() or surrogate(value) is None) if kind is str
                else math.isfinite(value))):
            return value  # pydantic would return it as it is
        try:
            return self.shape.validate(value, self.synced)
        except pydantic.ValidationError as exc:
            raise VarTypeError(explain(f"{state_path}.{self.name}", exc, self.annotation),
                               detail=exc.errors()) from exc
        except NotJSON as exc:
            raise VarTypeError(explain_json(f"{state_path}.{self.name}", exc),
                               detail=[exc.detail(value)]) from None

    def initial(self, state_path: str) -> Any:
        """A fresh, validated copy of the default for a new instance."""
        return self.validate(state_path, copy.deepcopy(self.default))

    def wrap(self, value: Any, root: Any) -> Any:
        return wrap(value, self.shape, root, self.name)


class BackendVar(BaseVar[T]):
    """Descriptor of a backend var: server-side only, never serialised to a client."""

    synced = False


@dataclasses.dataclass(eq=False)
class _Cached:
    value: Any = None
    stale: bool = True


class ComputedVar(Generic[T]):
    """Descriptor of a computed var: ``fget(self)`` derived from other vars, cached."""

    def __init__(self, fget: Callable[[Any], T], *, cache: bool = True,
                 deps: Iterable[str] | None = None) -> None:
        self.fget = fget
        self.cache = cache
        self.explicit_deps = None if deps is None else tuple(deps)
        self.bind("", fget.__name__)
        self.__doc__ = fget.__doc__
        hints = typing.get_type_hints(fget) if fget.__annotations__ else {}
        self.annotation: Any = hints.get("return", Any)

    def bind(self, owner_path: str, name: str) -> None:
        """Called by the class set-up: the var belongs to the state at ``owner_path``."""
        self.owner_path, self.name = owner_path, name
        self.key: VarKey = (owner_path, name)

    @overload
    def __get__(self, instance: None, owner: type) -> ComputedVar[T]: ...
    @overload
    def __get__(self, instance: StatePort, owner: type) -> T: ...
    def __get__(self, instance: StatePort | None, owner: type) -> Any:
        if instance is None:
            return self
        reads = reading.get()
        if reads is not None:
            reads.add(self.key)
        state = instance if instance._nb_path == self.owner_path else instance._nb_owner(
            self.owner_path)
        return self.value(state)

    def __set__(self, instance: StatePort, value: Any) -> None:
        raise ReadOnlyVarError(
            f"{instance._nb_path}.{self.name} is a computed var and cannot be assigned; "
            "assign the vars it is computed from instead"
        )

    def value(self, state: StatePort) -> T:
        """The current value, recomputed first when stale or uncached."""
        cached: _Cached = state._nb_computed.setdefault(self.name, _Cached())
        if cached.stale or not self.cache:
            cached.value = self.compute(state)
            cached.stale = False
        return typing.cast(T, cached.value)

    def compute(self, state: StatePort) -> T:
        reads: set[VarKey] = set()
        token = reading.set(reads)
        try:
            value = self.fget(state)
        except Exception as exc:
            raise ComputedVarError(
                f"computed var {state._nb_path}.{self.name} raised "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        finally:
            reading.reset(token)
        if self.explicit_deps is None:
            reads.discard(self.key)
            state._nb_session.track(state, self, reads)
        return value

    def encoded(self, state: StatePort) -> Any:
        return encode(self.value(state))


@overload
def computed(fget: Callable[[Any], T], /) -> ComputedVar[T]: ...
@overload
def computed(
    *, cache: bool = True, deps: Iterable[str] | None = None,
) -> Callable[[Callable[[Any], T]], ComputedVar[T]]: ...
def computed(fget: Callable[[Any], T] | None = None, /, *, cache: bool = True,
             deps: Iterable[str] | None = None) -> Any:
    """Declare a computed var: ``@computed`` or ``@computed(cache=False, deps=["items"])``.

    ``cache=False`` recomputes on every read and every flush. ``deps`` names the vars (of this
    state or an ancestor; ``"todo.items"`` for another state) that invalidate the value, instead
    of tracking reads. The return annotation gives the var's type for views.
    """
    if fget is not None:
        return ComputedVar(fget)
    return lambda f: ComputedVar(f, cache=cache, deps=deps)

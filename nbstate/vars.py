"""Vars of a state class: base vars, backend vars and computed vars, as descriptors.

- A **base var** is an annotated public field. Reads return the tracked value; assignments are
  validated by pydantic (lax mode, as a pydantic model with ``validate_assignment`` would), an
  equal value is a no-op, and a change is logged as a ``replace`` op.
- A base var holds only what JSON can carry to a browser: a string with a lone surrogate, NaN
  or ±Infinity, or an object with no JSON form is refused (:class:`~nbstate.VarTypeError`)
  where it enters, by assignment or into a container or model inside the var, with nothing
  changed (checks in :mod:`nbstate.shapes`).
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
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

import pydantic

from .containers import wrap
from .errors import ComputedVarError, ReadOnlyVarError, VarTypeError
from .messages import explain
from .protocol import encode
from .shapes import Shape, shape_of
from .travel import NotJSON, explain_json, surrogate

if TYPE_CHECKING:
    from .state import State

__all__ = ["BackendVar", "BaseVar", "ComputedVar", "Dependencies", "VarKey", "computed"]

T = TypeVar("T")
VarKey = tuple[str, str]
"""``(state path, var name)``: a var's identity within a session."""

# Stack of the read sets of the computed vars being evaluated, innermost last.
_reads: list[set[VarKey]] = []


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
    def __get__(self, instance: State, owner: type) -> T: ...
    def __get__(self, instance: State | None, owner: type) -> Any:
        if instance is None:
            return self
        if _reads:
            _reads[-1].add((self.owner_path, self.name))
        state = instance if instance._nb_path == self.owner_path else instance._nb_owner(
            self.owner_path)
        return state._nb_values[self.name]

    def __set__(self, instance: State, value: Any) -> None:
        state = instance if instance._nb_path == self.owner_path else instance._nb_owner(
            self.owner_path)
        state._nb_session._assign(state, self, value)

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
    def __get__(self, instance: State, owner: type) -> T: ...
    def __get__(self, instance: State | None, owner: type) -> Any:
        if instance is None:
            return self
        if _reads:
            _reads[-1].add((self.owner_path, self.name))
        state = instance if instance._nb_path == self.owner_path else instance._nb_owner(
            self.owner_path)
        return self.value(state)

    def __set__(self, instance: State, value: Any) -> None:
        raise ReadOnlyVarError(
            f"{instance._nb_path}.{self.name} is a computed var and cannot be assigned; "
            "assign the vars it is computed from instead"
        )

    def value(self, state: State) -> T:
        """The current value, recomputed first when stale or uncached."""
        cached: _Cached = state._nb_computed.setdefault(self.name, _Cached())
        if cached.stale or not self.cache:
            cached.value = self.compute(state)
            cached.stale = False
        return typing.cast(T, cached.value)

    def compute(self, state: State) -> T:
        reads: set[VarKey] = set()
        _reads.append(reads)
        try:
            value = self.fget(state)
        except Exception as exc:
            raise ComputedVarError(
                f"computed var {state._nb_path}.{self.name} raised "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        finally:
            _reads.pop()
        if self.explicit_deps is None:
            reads.discard(self.key)
            state._nb_session._deps.track(state, self, reads)
        return value

    def encoded(self, state: State) -> Any:
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


class Dependencies:
    """A session's dependency graph: which computed vars read which vars.

    ``invalidate(key)`` marks every computed var that (transitively) depends on ``key`` stale
    and remembers it, so a flush recomputes and diffs only those.
    """

    def __init__(self) -> None:
        self.dependents: dict[VarKey, set[tuple[State, ComputedVar[Any]]]] = {}
        self._reads: dict[tuple[int, str], set[VarKey]] = {}
        self.dirty: dict[tuple[int, str], tuple[State, ComputedVar[Any]]] = {}

    def track(self, state: State, var: ComputedVar[Any], reads: Iterable[VarKey]) -> None:
        ident = (id(state), var.name)
        for key in self._reads.pop(ident, ()):
            self.dependents.get(key, set()).discard((state, var))
        keys = set(reads)
        self._reads[ident] = keys
        for key in keys:
            self.dependents.setdefault(key, set()).add((state, var))

    def invalidate(self, key: VarKey) -> None:
        dependents = self.dependents.get(key)
        if not dependents:
            return
        for state, var in list(dependents):
            cached = state._nb_computed.get(var.name)
            ident = (id(state), var.name)
            if ident in self.dirty and (cached is None or cached.stale):
                continue
            if cached is not None:
                cached.stale = True
            self.dirty[ident] = (state, var)
            self.invalidate(var.key)

    def forget(self, state: State) -> None:
        """Drop every edge of a state leaving the session (a redefined class)."""
        for ident in [i for i in self._reads if i[0] == id(state)]:
            for key in self._reads.pop(ident):
                self.dependents[key] = {
                    d for d in self.dependents.get(key, set()) if d[0] is not state}
        self.dirty = {i: d for i, d in self.dirty.items() if d[0] is not state}

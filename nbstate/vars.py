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

**Var options.** What pydantic describes comes from pydantic: constraints, ``title`` and
``description`` of a ``Field`` in ``Annotated[...]`` or as the default
(``min_stock: int = Field(5, ge=0, title="Minimum stock")``). What pydantic has no word for
comes from :func:`var`, in the same two places: ``read_only`` (clients cannot set it, its
handlers still do) and ``hidden`` (left out of the default view, still synced for custom views):
``saving: bool = ns.var(False, read_only=True)`` or
``saving: Annotated[bool, ns.var(read_only=True)] = False``. :func:`var_declaration` reads both
into a :class:`VarOptions` and the annotation validation uses.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import typing
from collections.abc import Callable, Iterable
from typing import Any, Generic, TypeVar, overload

import pydantic
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from .containers import wrap
from .context import StatePort, VarKey, reading
from .errors import ComputedVarError, ReadOnlyVarError, VarTypeError
from .messages import explain
from .protocol import encode
from .shapes import Shape, shape_of
from .travel import NotJSON, explain_json, surrogate

__all__ = ["BackendVar", "BaseVar", "ComputedVar", "VarKey", "VarOptions", "computed", "var",
           "var_declaration"]

T = TypeVar("T")

NO_DEFAULT: Any = object()
"""The default of a var declared without one."""


@dataclasses.dataclass(frozen=True)
class VarOptions:
    """How clients and the default view treat a var (see the module docstring)."""

    read_only: bool = False
    """Clients cannot set it (:class:`~nbstate.ReadOnlyVarError`); handlers and cell code can."""
    hidden: bool = False
    """The default view leaves it out; it is still synced, so custom views can read it."""
    title: str | None = None
    """The label a view shows (pydantic's ``Field(title=...)``)."""
    description: str | None = None
    """Help text a view shows (pydantic's ``Field(description=...)``)."""

    def with_field(self, field: FieldInfo) -> VarOptions:
        return dataclasses.replace(self, title=field.title or self.title,
                                   description=field.description or self.description)


class VarInfo:
    """What :func:`var` returns: nbstate's options of one var, and maybe its default."""

    __slots__ = ("default", "default_factory", "hidden", "read_only")

    def __init__(self, default: Any, default_factory: Callable[[], Any] | None, read_only: bool,
                 hidden: bool) -> None:
        self.default, self.default_factory = default, default_factory
        self.read_only, self.hidden = read_only, hidden

    def __repr__(self) -> str:
        return f"var(read_only={self.read_only}, hidden={self.hidden})"


def var(default: Any = NO_DEFAULT, *, default_factory: Callable[[], Any] | None = None,
        read_only: bool = False, hidden: bool = False) -> Any:
    """Options of a base var that pydantic has no word for, as its default or in ``Annotated``.

    ``saving: bool = ns.var(False, read_only=True)``,
    ``items: list[str] = ns.var(default_factory=list, read_only=True)`` or
    ``saving: Annotated[bool, ns.var(read_only=True)] = False``.

    Args:
        default: the var's default (as the value after ``=``); not inside ``Annotated``.
        default_factory: makes the default instead (``list``).
        read_only: clients (the default view, custom views, ``jslink``) cannot set the var;
            handlers and cell code still change it.
        hidden: the default view does not show the var; it is still synced to the browser.

    Typed ``Any``, as pydantic's ``Field`` is, so ``x: bool = ns.var(False)`` type-checks.
    """
    if default is not NO_DEFAULT and default_factory is not None:
        raise TypeError("ns.var() takes a default or a default_factory, not both")
    return VarInfo(default, default_factory, read_only, hidden)


def var_declaration(where: str, hint: Any, default: Any) -> tuple[Any, Any, VarOptions]:
    """The annotation to validate with, the default and the options of a declared var.

    ``hint`` is the class body's annotation (``Annotated`` metadata included) and ``default``
    the value after ``=`` (:data:`NO_DEFAULT` if none); either may carry a pydantic ``Field``
    or an :func:`var`. ``where`` (``todo.saving``) names the var in errors.

    Raises:
        TypeError: a default given inside ``Annotated``, or an option it does not know.
    """
    options = VarOptions()
    if typing.get_origin(hint) is typing.Annotated:
        base, *metadata = typing.get_args(hint)
        kept = []
        for item in metadata:
            if isinstance(item, VarInfo):
                if item.default is not NO_DEFAULT or item.default_factory is not None:
                    raise TypeError(f"var {where}: give the default after '=', not in "
                                    "ns.var() inside Annotated[...]")
                options = _merge(options, item)
                continue
            if isinstance(item, FieldInfo):
                options = options.with_field(item)
            kept.append(item)
        hint = _annotated(base, kept)
    if isinstance(default, VarInfo):
        options = _merge(options, default)
        default = default.default_factory() if default.default_factory else default.default
    elif isinstance(default, FieldInfo):
        options = options.with_field(default)
        if default.metadata:
            hint = _annotated(hint, default.metadata)
        if default.default_factory is not None:
            default = default.default_factory()  # type: ignore[call-arg]
        else:
            default = NO_DEFAULT if default.default is PydanticUndefined else default.default
    return hint, default, options


def _annotated(base: Any, metadata: list[Any]) -> Any:
    """``Annotated[base, *metadata]`` (``base`` when there is none)."""
    args = (base, *metadata)
    return typing.Annotated[args] if metadata else base


def _merge(options: VarOptions, info: VarInfo) -> VarOptions:
    return dataclasses.replace(options, read_only=options.read_only or info.read_only,
                               hidden=options.hidden or info.hidden)


class BaseVar(Generic[T]):
    """Descriptor of a base var (or, subclassed, a backend var) of a state class."""

    synced = True

    def __init__(self, name: str, annotation: Any, default: Any,
                 options: VarOptions = VarOptions()) -> None:
        self.name = name
        self.annotation = annotation
        self.default = default
        self.options = options
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


@dataclasses.dataclass(eq=False, slots=True)  # one per computed var per session
class _Cached:
    value: Any = None
    stale: bool = True


class ComputedVar(Generic[T]):
    """Descriptor of a computed var: ``fget(self)`` derived from other vars, cached."""

    is_output = False
    """True for an output (:mod:`nbstate.outputs`): its value is a mime bundle."""

    def __init__(self, fget: Callable[[Any], T], *, cache: bool = True,
                 deps: Iterable[str] | None = None, hidden: bool = False) -> None:
        self.fget = fget
        self.cache = cache
        self.explicit_deps = None if deps is None else tuple(deps)
        self.bind("", fget.__name__)
        self.__doc__ = fget.__doc__
        hints = typing.get_type_hints(fget, include_extras=True) if fget.__annotations__ else {}
        # a Field's title and description, or ns.var(hidden=True), in the return annotation
        self.annotation, _, options = var_declaration(fget.__qualname__, hints.get("return", Any),
                                                      NO_DEFAULT)
        self.options = dataclasses.replace(options, read_only=True,
                                           hidden=options.hidden or hidden)

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
    *, cache: bool = True, deps: Iterable[str] | None = None, hidden: bool = False,
) -> Callable[[Callable[[Any], T]], ComputedVar[T]]: ...
def computed(fget: Callable[[Any], T] | None = None, /, *, cache: bool = True,
             deps: Iterable[str] | None = None, hidden: bool = False) -> Any:
    """Declare a computed var: ``@computed`` or ``@computed(cache=False, deps=["items"])``.

    ``cache=False`` recomputes on every read and every flush. ``deps`` names the vars (of this
    state or an ancestor; ``"todo.items"`` for another state) that invalidate the value, instead
    of tracking reads. ``hidden=True`` leaves it out of the default view (still synced). The
    return annotation gives the var's type for views; a pydantic ``Field(title=...,
    description=...)`` in it (``-> Annotated[int, Field(title="Left")]``) its label and help.
    """
    if fget is not None:
        return ComputedVar(fget)
    return lambda f: ComputedVar(f, cache=cache, deps=deps, hidden=hidden)

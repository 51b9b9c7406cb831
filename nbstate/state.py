"""The state class tree.

A state class is a subclass of :class:`State`. Its chain of ``State`` ancestors gives its path
in the tree (``Todo`` → ``todo``, ``class Filters(Todo)`` → ``todo.filters``). Class set-up is
done once per class by :func:`_set_up`, which reads the annotations into var descriptors,
finds computed vars and wraps public methods as event handlers; it is all visible as class
attributes (descriptors), nothing is hidden in registries a type checker cannot see, except the
path registry that maps a path back to its class.

Instances are made only by a session (one per state class per session); user code reaches them
through ``session.get_state(Todo)`` or, inside a handler, ``await self.get_state(Todo)``. A
state reaches its session only through :class:`~nbstate.context.SessionPort`, so this module
imports nothing above it.

:data:`classes` maps each path to its class. Re-running a notebook cell that redefines a class
with the same module and qualified name replaces the class at its path (and tells the sessions,
which move their instances to it); any other class claiming a taken path is an error.
"""

from __future__ import annotations

import inspect
import re
import sys
import typing
import weakref
from collections.abc import Callable, ItemsView
from typing import Any, ClassVar, Protocol, TypeVar

from .context import SessionPort, VarKey
from .errors import DuplicateStateError, UnknownVarError
from .handlers import EventHandler, is_handler_function
from .hints import strip_annotated
from .plain import SCALAR_TYPES
from .vars import NO_DEFAULT, BackendVar, BaseVar, ComputedVar, var_declaration

__all__ = ["RESERVED_NAMES", "State", "StateRegistry", "classes", "registry", "state_path"]

S = TypeVar("S", bound="State")

RESERVED_NAMES = frozenset({"_esm", "_css"})
"""Class attributes that configure a state's view (anywidget-style), never backend vars."""

class Redefinable(Protocol):
    def redefined(self, cls: type[State]) -> None:
        """``cls`` replaced the class at its path."""


class StateRegistry:
    """Every defined state class by path, and who to tell when one is redefined.

    State classes are module-level definitions, shared by every session of the process, so one
    registry serves the process; sessions (one per visitor) listen to it, weakly held.
    """

    def __init__(self) -> None:
        self._by_path: dict[str, type[State]] = {}
        self._listeners: weakref.WeakSet[Any] = weakref.WeakSet()

    def get(self, path: str, default: type[State] | None = None) -> type[State] | None:
        return self._by_path.get(path, default)

    def paths(self) -> list[str]:
        return list(self._by_path)

    def items(self) -> ItemsView[str, type[State]]:
        return self._by_path.items()

    def on_redefinition(self, listener: Redefinable) -> None:
        """Call ``listener.redefined(cls)`` whenever a state class replaces its older self."""
        self._listeners.add(listener)

    def register(self, cls: type[State]) -> None:
        """Put ``cls`` at its path.

        Raises:
            DuplicateStateError: another class (not an older definition of it) has the path.
        """
        path = cls.__nbstate_path__
        old = self._by_path.get(path)
        if old is not None and old is not cls and (
                old.__module__, old.__qualname__) != (cls.__module__, cls.__qualname__):
            raise DuplicateStateError(
                f"state path {path!r} is taken by {old.__module__}.{old.__qualname__}; "
                f"{cls.__module__}.{cls.__qualname__} would claim it too. Rename one of the "
                "classes")
        self._by_path[path] = cls
        if old is not None and old is not cls:
            for listener in list(self._listeners):
                listener.redefined(cls)


classes = StateRegistry()
"""The process's state classes by path."""


def registry() -> dict[str, type[State]]:
    """A copy of the path → state class map of every defined state class."""
    return dict(classes.items())


def state_path(cls: type[State]) -> str:
    return cls.__nbstate_path__


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


class State:
    """Base class of every state: annotated public fields are base vars, ``_fields`` backend
    vars, ``@computed`` methods computed vars and public methods event handlers.
    """

    __nbstate_path__: ClassVar[str] = ""
    __nbstate_parent__: ClassVar[type[State] | None] = None
    __nbstate_vars__: ClassVar[dict[str, BaseVar[Any]]] = {}
    """Own base and backend vars by name."""
    __nbstate_computed__: ClassVar[dict[str, ComputedVar[Any]]] = {}
    """Own computed vars by name."""
    __nbstate_handlers__: ClassVar[dict[str, EventHandler]] = {}
    """Event handlers by name, own and inherited."""
    __nbstate_names__: ClassVar[frozenset[str]] = frozenset()
    """Every var name, own and inherited."""
    __nbstate_setters__: ClassVar[dict[str, BaseVar[Any] | ComputedVar[Any]]] = {}
    """Every var descriptor by name, own and inherited (assignment goes straight to it)."""

    _nb_session: SessionPort
    _nb_path: str
    _nb_values: dict[str, Any]
    _nb_computed: dict[str, Any]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.__dict__.get("__nbstate_abstract__"):
            _set_up(cls)  # not a base such as ComponentState, or a component's template

    def __init__(self, session: SessionPort) -> None:
        """Made by a :class:`~nbstate.Session` only: one instance per class per session."""
        set_ = object.__setattr__
        set_(self, "_nb_session", session)
        set_(self, "_nb_path", type(self).__nbstate_path__)
        set_(self, "_nb_values", {})
        set_(self, "_nb_computed", {})
        for var in type(self).__nbstate_vars__.values():
            value = var.initial(self._nb_path)
            # a root (where tracked values hang) only for a var that holds one
            self._nb_values[var.name] = value if type(value) in SCALAR_TYPES else var.wrap(
                value, session.root(self, var))

    def __setattr__(self, name: str, value: Any) -> None:
        var = type(self).__nbstate_setters__.get(name)
        if var is not None:
            if var.owner_path == self._nb_path and isinstance(var, BaseVar):
                self._nb_session.assign(self, var, value)  # the common case, one call less
            else:
                var.__set__(self, value)
            return
        raise UnknownVarError(
            f"{self._nb_path} has no var {name!r}; declare it in the class body as "
            f"'{name}: <type> = <default>' (a leading underscore makes it a backend var)"
        )

    def __repr__(self) -> str:
        values = ", ".join(f"{k}={v!r}" for k, v in self._nb_values.items()
                           if not k.startswith("_"))
        return f"<{type(self).__qualname__} {self._nb_path!r} {values}>"

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any] | None:
        """In a Jupyter kernel the state displays as its live view (see ``nbstate.jupyter``)."""
        hook = _display_hook
        return None if hook is None else hook(self)

    # ----------------------------------------------------------------- internals

    def _nb_owner(self, path: str) -> State:
        """The session's instance that holds vars declared at ``path`` (an ancestor)."""
        state: State = self._nb_session.state_at(path)
        return state

    # ----------------------------------------------------------------- public API

    async def get_state(self, cls: type[S]) -> S:
        """The session's instance of ``cls`` (any state of the same session)."""
        state: S = self._nb_session.get_state(cls)
        return state

    async def __aenter__(self: S) -> S:
        """In a background handler: take the session lock to mutate; the exit flushes."""
        await self._nb_session.enter_block(self)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._nb_session.exit_block(self, failed=exc[0] is not None)


_display_hook: Callable[[State], dict[str, Any] | None] | None = None


def set_display_hook(hook: Callable[[State], dict[str, Any] | None] | None) -> None:
    """Installed by the Jupyter host so a state as a cell's last expression shows its view."""
    global _display_hook
    _display_hook = hook


def _set_up(cls: type[State]) -> None:
    """Read ``cls``'s body into descriptors and register its path."""
    parent = next((b for b in cls.__mro__[1:] if issubclass(b, State) and b is not State
                   and b.__nbstate_path__), None)
    # a component's instance or a free output names its own path (nbstate.components,
    # nbstate.outputs); no class name can clash with it
    own = cls.__dict__.get("__nbstate_name__") or _snake(cls.__name__)
    cls.__nbstate_parent__ = parent
    cls.__nbstate_path__ = own if parent is None else f"{parent.__nbstate_path__}.{own}"
    path = cls.__nbstate_path__

    hints = _own_hints(cls)
    state_vars: dict[str, BaseVar[Any]] = {}
    for name, hint in hints.items():
        if typing.get_origin(hint) is ClassVar or hint is ClassVar or name in RESERVED_NAMES:
            continue
        if name.startswith("__") or name.startswith("_nb_"):
            continue
        kind = BackendVar if name.startswith("_") else BaseVar
        hint, default, options = var_declaration(f"{path}.{name}", hint,
                                                 cls.__dict__.get(name, NO_DEFAULT))
        var: BaseVar[Any] = kind(name, hint, _default_for(path, name, hint, default), options)
        var.bind(path, name)
        setattr(cls, name, var)
        state_vars[name] = var
    cls.__nbstate_vars__ = state_vars

    computed_vars: dict[str, ComputedVar[Any]] = {}
    for name, value in list(cls.__dict__.items()):
        if isinstance(value, ComputedVar):
            value.bind(path, name)
            computed_vars[name] = value
    cls.__nbstate_computed__ = computed_vars

    for name, value in list(cls.__dict__.items()):
        if is_handler_function(name, value):
            setattr(cls, name, EventHandler(value))
        if isinstance(value, EventHandler):
            value.__set_name__(cls, name)
    handlers: dict[str, EventHandler] = {}
    for klass in reversed(cls.__mro__):
        for name, value in klass.__dict__.items():
            if isinstance(value, EventHandler):
                handlers[name] = value
    cls.__nbstate_handlers__ = handlers

    names: set[str] = set()
    for klass in cls.__mro__:
        if isinstance(klass, type) and issubclass(klass, State):
            names.update(klass.__dict__.get("__nbstate_vars__", {}))
            names.update(klass.__dict__.get("__nbstate_computed__", {}))
    cls.__nbstate_names__ = frozenset(names)
    cls.__nbstate_setters__ = {name: getattr(cls, name) for name in names}
    if not cls.__dict__.get("__nbstate_component__"):
        classes.register(cls)  # a component's instance classes belong to their session only


def _own_hints(cls: type[State]) -> dict[str, Any]:
    """The class body's own annotations, string annotations evaluated where the class lives."""
    namespace = dict(vars(sys.modules[cls.__module__])) if cls.__module__ in sys.modules else {}
    namespace.update(vars(cls))
    hints: dict[str, Any] = {}
    for name, hint in inspect.get_annotations(cls).items():
        if isinstance(hint, str):
            try:
                hint = eval(hint, namespace)  # the class's own annotation text
            except NameError as exc:
                raise TypeError(f"state {cls.__nbstate_path__}: cannot resolve the annotation "
                                f"of {name!r} ({exc}); define the types it names before the "
                                "state class") from None
        hints[name] = hint
    return hints


def _default_for(path: str, name: str, hint: Any, default: Any) -> Any:
    if default is not NO_DEFAULT:
        return default
    hint = strip_annotated(hint)
    origin = typing.get_origin(hint) or hint
    if type(None) in typing.get_args(hint):
        return None
    if isinstance(origin, type):
        try:
            return origin()
        except TypeError:
            pass
    raise TypeError(f"var {path}.{name} has no default and {hint!r} has no empty value; "
                    f"give it one: '{name}: ... = <default>'")


def resolve_dep(cls: type[State], dep: str) -> VarKey:
    """The var key named by an explicit computed-var dependency (``"items"``, ``"todo.items"``)."""
    if "." in dep:
        path, _, name = dep.rpartition(".")
        return (path, name)
    descriptor = getattr(cls, dep, None)
    if isinstance(descriptor, (BaseVar, ComputedVar)):
        return descriptor.key
    raise UnknownVarError(f"{cls.__nbstate_path__} has no var {dep!r} to depend on")

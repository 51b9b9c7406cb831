"""Component state: local state with one independent instance per ``create()``.

``class Counter(ns.ComponentState)`` is written like a state (base vars, backend vars, computed
vars, outputs, event handlers, substates as subclasses), but it is a *template*: it has no path
and no session instance of its own. Each ``Counter.create(count=10)`` makes a new instance in
the current session with its own path, ``counter-<n>`` (a name no state class can take), and
substates ``counter-<n>.<substate>``; it is shown with ``ns.show`` and its handlers run as a
state's do.

How: ``create()`` makes, for this one instance, a class per template (a subclass of it, so
``isinstance(c, Counter)`` holds) whose body repeats the template's and whose path is the
instance's. The ordinary class set-up then gives it its descriptors, so vars, tracking, the
document, the hosts and the view need nothing of their own for components. These classes are
not in the process's registry (:data:`nbstate.state.classes`): they belong to the one session
and go with the instance.

**Lifetime.** A session keeps a component while a view of it is pinned (a host pins the views
it shows and unpins them when they are closed; the Jupyter host when the cell that showed them
runs again) or while anything else references it. :meth:`Components.sweep` removes every
unpinned instance that nothing references any more — its document entries (``remove`` ops) and
its memory — and returns their paths (hosts close their models). To tell, it lifts the instance
out of the session and sees whether it survives a garbage collection; an instance still
referenced is put back unchanged.
"""

from __future__ import annotations

import copy
import gc
import inspect
import itertools
import weakref
from collections.abc import Callable, Hashable
from typing import Any, ClassVar, TypeVar

from .errors import UnknownVarError
from .handlers import EventHandler, is_handler_function
from .instances import encode_state
from .plain import SCALAR_TYPES
from .protocol import pointer
from .session import Session, current_session
from .state import RESERVED_NAMES, State, _snake, resolve_dep
from .vars import BaseVar, ComputedVar

__all__ = ["ComponentState", "Components", "components_of", "is_component"]

C = TypeVar("C", bound="ComponentState")

_numbers = itertools.count(1)  # paths unique in the process, so never reused in a session


class ComponentState(State):
    """Base class of local state: each :meth:`create` is a new, independent instance."""

    __nbstate_abstract__ = True
    __nbstate_template__: ClassVar[type[ComponentState] | None] = None
    """On an instance's class: the template it was made from."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        if not cls.__dict__.get("__nbstate_component__"):
            cls.__nbstate_abstract__ = True  # a template: create() makes the classes
            cls.__nbstate_subtemplates__ = []  # type: ignore[attr-defined]
            parent = _template_parent(cls)
            if parent is not None:
                subs = parent.__dict__["__nbstate_subtemplates__"]
                subs[:] = [s for s in subs if s.__qualname__ != cls.__qualname__
                           or s.__module__ != cls.__module__] + [cls]
        super().__init_subclass__(**kwargs)

    @classmethod
    def create(cls: type[C], **values: Any) -> C:
        """A new instance in the current session, with its substates, ``values`` set on it.

        Raises:
            TypeError: called on a component's substate (create the component itself).
            UnknownVarError: a name in ``values`` is not a base or backend var of the class.
            VarTypeError: a value does not validate.
        """
        template = cls.__dict__.get("__nbstate_template__") or cls
        parent = _template_parent(template)
        if parent is not None:
            raise TypeError(f"{template.__qualname__} is a substate of a component; create the "
                            f"component ({parent.__qualname__}) instead")
        name = f"{_snake(template.__name__)}-{next(_numbers)}"
        made = _instance_classes(template, name, None)
        state: C = components_of(current_session()).add(made, values)  # type: ignore[assignment]
        return state


def is_component(state: State) -> bool:
    """Whether ``state`` is a component's instance (or one of its substates)."""
    return bool(type(state).__dict__.get("__nbstate_component__"))


def _template_parent(cls: type) -> type[ComponentState] | None:
    for base in cls.__mro__[1:]:
        if (isinstance(base, type) and issubclass(base, ComponentState)
                and base is not ComponentState and "__nbstate_subtemplates__" in base.__dict__):
            return base
    return None


def _instance_classes(template: type[ComponentState], name: str,
                      parent: type[State] | None) -> list[type[State]]:
    """The classes of one instance: ``template``'s (path ``name``), then its substates'."""
    annotations = dict(inspect.get_annotations(template))
    namespace: dict[str, Any] = {
        "__module__": template.__module__, "__qualname__": template.__qualname__,
        "__doc__": template.__doc__, "__nbstate_component__": True,
        "__nbstate_template__": template, "__annotations__": annotations}
    if parent is None:
        namespace["__nbstate_name__"] = name
    for key, value in template.__dict__.items():
        if key in annotations or key in RESERVED_NAMES:
            namespace[key] = value
        elif isinstance(value, ComputedVar):
            namespace[key] = copy.copy(value)  # set-up binds it to this instance's path
        elif isinstance(value, EventHandler):
            namespace[key] = EventHandler(value.fn, background=value.background)
        elif is_handler_function(key, value):
            namespace[key] = value
    bases = (template,) if parent is None else (parent, template)
    made: type[State] = type(template.__name__, bases, namespace)
    classes = [made]
    for sub in template.__dict__["__nbstate_subtemplates__"]:
        classes += _instance_classes(sub, name, made)
    return classes


class Components:
    """The component instances of one session, their pins and their removal.

    Args:
        session: the session they live in.
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        self.roots: dict[str, list[str]] = {}
        """Path of each component → its paths and its substates' paths."""
        self.pins: dict[str, set[Hashable]] = {}
        """Path of each component → who pins it (views a host shows)."""
        self.removed: list[Callable[[list[str]], None]] = []
        """Called with the paths of the states :meth:`sweep` removed (hosts close models)."""

    def add(self, classes: list[type[State]], values: dict[str, Any]) -> State:
        """Instances of ``classes`` (a component's, then its substates'), in the session and
        its document; ``values`` set on the first.

        Raises:
            UnknownVarError, VarTypeError: see :meth:`ComponentState.create`.
        """
        session = self.session
        states = [cls(session) for cls in classes]
        root = states[0]
        for key, value in values.items():
            var = type(root).__nbstate_vars__.get(key)
            if not isinstance(var, BaseVar):
                raise UnknownVarError(
                    f"{type(root).__qualname__} has no base var {key!r} to create it with; "
                    f"its vars: {', '.join(type(root).__nbstate_vars__) or 'none'}")
            checked = var.validate(root._nb_path, value)
            root._nb_values[key] = checked if type(checked) in SCALAR_TYPES else var.wrap(
                checked, session.root(root, var))
        ops = []
        for state in states:
            session.computed.add(state, resolve_dep)
            session.instances.by_path[state._nb_path] = state
        for state in states:
            ops.append({"op": "add", "path": pointer(state._nb_path),
                        "value": encode_state(state)})
        self.roots[root._nb_path] = [s._nb_path for s in states]
        session._publish(ops)
        return root

    def pin(self, path: str, by: Hashable) -> None:
        """Keep the component at ``path`` (a substate's path pins its component) for ``by``."""
        root = path.partition(".")[0]
        if root in self.roots:
            self.pins.setdefault(root, set()).add(by)

    def unpin(self, by: Hashable) -> None:
        """``by`` no longer shows any component (its views were closed)."""
        for pins in self.pins.values():
            pins.discard(by)

    def sweep(self) -> list[str]:
        """Remove every unpinned component that nothing references; their paths (with their
        substates'), after their ``remove`` ops went out."""
        loose = [root for root in self.roots if not self.pins.get(root)]
        if not loose or len(self.session.mutations):
            return []  # unflushed changes hold their states; the next sweep looks again
        by_path = self.session.instances.by_path
        refs: dict[str, weakref.ref[State]] = {}
        for root in loose:
            state = by_path.pop(root)
            self.session.computed.forget(state)
            refs[root] = weakref.ref(state)
        del state
        if any(ref() is not None for ref in refs.values()):
            gc.collect()  # what only a reference cycle of its own holds
        gone: list[str] = []
        for root, ref in refs.items():
            alive = ref()
            if alive is not None:
                by_path[root] = alive
                self.session.computed.add(alive, resolve_dep)
                continue
            gone += self._remove(root)
        if gone:
            for tell in list(self.removed):
                tell(gone)
        return gone

    def _remove(self, root: str) -> list[str]:
        paths = self.roots.pop(root)
        self.pins.pop(root, None)
        session = self.session
        for path in paths[1:]:
            state = session.instances.by_path.pop(path, None)
            if state is not None:
                session.computed.forget(state)
        deps = session.computed.deps
        for path in paths:
            deps.graph = deps.graph.keeping(path, ())
        deps.dependents = deps.graph.dependents
        session._publish([{"op": "remove", "path": pointer(p)} for p in paths])
        return paths


_KEY = "_nb_components"


def components_of(session: Session) -> Components:
    """The :class:`Components` of ``session`` (made on first use, kept on the session)."""
    found = getattr(session, _KEY, None)
    if isinstance(found, Components):
        return found
    made = Components(session)
    setattr(session, _KEY, made)
    return made

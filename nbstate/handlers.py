"""Event handler descriptors and event specs.

Every public method of a state class is an event handler; :func:`event` sets options
(``background=True``). On an instance a handler is an ordinary bound method, so handlers can
call each other. On the class it is a reference that can be yielded or returned to chain an
event: ``yield Todo.save`` or ``return Other.load(42)`` (calling it on the class builds an
:class:`EventSpec`, it does not run it).

A handler's parameters are read once, into :attr:`EventHandler.parameters`: the payload model,
the JSON checks, the signature in error messages, positional arguments of a chained event and
the view's spec (:mod:`nbstate.jupyter.spec`) all come from that one list.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import types
import typing
from collections.abc import Callable
from typing import Any, TypeVar, overload

import pydantic

from .checks import travel_check
from .errors import PayloadError
from .hints import type_name
from .messages import cap, excerpt, explain
from .travel import Check, NotJSON, explain_json

__all__ = ["EventHandler", "EventSpec", "HandlerRef", "Parameter", "event", "is_handler_function"]

F = TypeVar("F", bound=Callable[..., Any])


@dataclasses.dataclass(frozen=True)
class EventSpec:
    """An event to run: the handler path (``todo.add``) and its payload."""

    handler: str
    payload: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Parameter:
    """One parameter of an event handler: a key of the payload a client sends."""

    name: str
    annotation: Any = Any
    """Its type hint, with ``Annotated`` constraints (``Field(ge=1)`` must hold); ``Any`` when
    it has none."""
    annotated: bool = False
    """Whether the function gives it a type hint at all."""
    default: Any = inspect.Parameter.empty
    """Its default value; ``inspect.Parameter.empty`` when a payload must give it."""

    @property
    def required(self) -> bool:
        return self.default is inspect.Parameter.empty

    def describe(self) -> str:
        """``name: type`` and its default, for a message: ``"note: str = ''"``."""
        text = f"{self.name}: {type_name(self.annotation)}" if self.annotated else self.name
        if not self.required:
            text += f" = {excerpt(self.default)}"
        return text


class EventHandler:
    """Descriptor wrapping one handler function of a state class."""

    def __init__(self, fn: Callable[..., Any], *, background: bool = False) -> None:
        self.fn = fn
        self.name = fn.__name__
        self.background = background
        self.__doc__ = fn.__doc__
        if background and not inspect.iscoroutinefunction(fn) and not inspect.isasyncgenfunction(
                fn):
            raise TypeError(f"background handler {fn.__qualname__} must be 'async def'")
        self._signature = inspect.signature(fn)

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, instance: None, owner: type) -> HandlerRef: ...
    @overload
    def __get__(self, instance: object, owner: type) -> Callable[..., Any]: ...
    def __get__(self, instance: object | None, owner: type) -> Any:
        if instance is None:
            return HandlerRef(self, owner)
        return types.MethodType(self.fn, instance)

    @functools.cached_property
    def parameters(self) -> tuple[Parameter, ...]:
        """The parameters a payload fills, in order: all but ``self``, ``*args`` and
        ``**kwargs`` (a JSON object has nothing to give those).

        Read on first use, not when the class is made, so a string annotation may name a type
        defined after the state class.
        """
        named = [p for p in list(self._signature.parameters.values())[1:]
                 if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        if not named:
            return ()
        hints = typing.get_type_hints(self.fn, include_extras=True)
        return tuple(Parameter(p.name, hints.get(p.name, Any), p.name in hints, p.default)
                     for p in named)

    @functools.cached_property
    def payload_model(self) -> type[pydantic.BaseModel]:
        """A pydantic model of the handler's :attr:`parameters` (unknown keys are refused)."""
        fields: dict[str, Any] = {
            p.name: (p.annotation, ... if p.required else p.default) for p in self.parameters}
        return pydantic.create_model(
            f"{self.name}_payload", __config__=pydantic.ConfigDict(extra="forbid"), **fields)

    @functools.cached_property
    def _checks(self) -> list[tuple[str, Check]]:
        """The JSON checks of the parameters whose values may need one (not ``int``s)."""
        checks = []
        for p in self.parameters:
            check = travel_check(p.annotation)
            if check is not None:
                checks.append((p.name, check))
        return checks

    def validate(self, handler_path: str, payload: Any) -> dict[str, Any]:
        """Keyword arguments for the handler from a JSON payload object.

        Only ``None`` means "no parameters": any other value that is not an object (``0``,
        ``""``, ``false``, ``[]``) is refused, not taken as empty.

        Raises:
            PayloadError: the payload is not an object, has unknown keys, misses a required
                parameter, has a value of the wrong type or one JSON cannot carry (a string
                with a lone surrogate, NaN, ±Infinity). The message names ``handler.param`` in
                plain words (``shop.add.qty must be ≥ 1, got 0``); ``detail`` and
                ``__cause__`` keep pydantic's errors. The handler must not run.
        """
        if payload is None:
            payload = {}
        if not isinstance(payload, dict):
            raise PayloadError(cap(
                f"the payload of {handler_path} must be an object of parameters "
                f"({self._signature_text(handler_path)}), got {excerpt(payload)} "
                f"({type(payload).__name__})"))
        if not self.parameters:
            if payload:
                raise PayloadError(cap(f"{handler_path} takes no parameters, got "
                                       f"{excerpt(sorted(payload, key=str))}; send an empty "
                                       "payload"))
            return {}
        try:
            model = self.payload_model.model_validate(payload)
        except pydantic.ValidationError as exc:
            message = explain(handler_path, exc)
            if any(e["type"] in ("missing", "extra_forbidden") for e in exc.errors()):
                message = cap(f"{message}; it takes {self._signature_text(handler_path)}")
            raise PayloadError(message, detail=exc.errors()) from exc
        kwargs = {name: getattr(model, name) for name in type(model).model_fields}
        for name, check in self._checks:
            if name not in payload:
                continue  # a default came from the code, not from a client
            try:
                check(kwargs[name])
            except NotJSON as problem:
                raise PayloadError(explain_json(f"{handler_path}.{name}", problem),
                                   detail=[problem.detail(kwargs[name])]) from None
        return kwargs

    def describe_params(self) -> list[str]:
        """``name: type`` of each parameter, and its default: ``["qty: int", "note: str = ''"]``."""
        return [p.describe() for p in self.parameters]

    def _signature_text(self, handler_path: str) -> str:
        return f"{handler_path}({', '.join(self.describe_params())})"


class HandlerRef:
    """A handler read from a state class: yield or return it to chain the event."""

    __slots__ = ("handler", "owner")

    def __init__(self, handler: EventHandler, owner: type) -> None:
        self.handler = handler
        self.owner = owner

    @property
    def path(self) -> str:
        return f"{self.owner.__nbstate_path__}.{self.handler.name}"  # type: ignore[attr-defined]

    def __call__(self, *args: Any, **kwargs: Any) -> EventSpec:
        names = [p.name for p in self.handler.parameters]
        if len(args) > len(names):
            raise PayloadError(f"{self.path} takes {len(names)} arguments, got {len(args)}; it "
                               f"takes {self.handler._signature_text(self.path)}")
        payload = dict(zip(names, args, strict=False))
        payload.update(kwargs)
        return EventSpec(self.path, payload)

    def spec(self) -> EventSpec:
        return EventSpec(self.path)

    def __repr__(self) -> str:
        return f"<event handler {self.path}>"


@overload
def event(fn: F, /) -> F: ...
@overload
def event(*, background: bool = False) -> Callable[[F], F]: ...
def event(fn: Any = None, /, *, background: bool = False) -> Any:
    """Mark a method as an event handler with options: ``@event(background=True)``.

    A background handler is ``async``, runs without holding the session lock and mutates state
    only inside ``async with self:``.

    Raises:
        TypeError: ``background=True`` on a function that is not ``async def``.
    """
    if fn is not None:
        return EventHandler(fn)
    return lambda f: EventHandler(f, background=background)


def is_handler_function(name: str, value: Any) -> bool:
    """Whether a class attribute is a plain public function that becomes an event handler."""
    return not name.startswith("_") and isinstance(value, types.FunctionType)

"""Outputs: ``@output`` methods and functions whose result is shown, re-rendered when what they
read changed.

An **output** is a computed var whose value is a *mime bundle*, the Jupyter display data format
``{mime type: data}`` (``{"image/png": "<base64>", "text/plain": "<Figure …>"}``): the function
runs with its reads tracked exactly as a computed var's (:mod:`nbstate.recompute`), and what it
returns is rendered by the session's renderer (:func:`set_renderer`; nbstate installs one that
goes through IPython's display formatter, :mod:`nbstate.jupyter.render`). So an output travels in
the session document like a computed var and every host shows it: a page reload, Voila, a
static export, the WebSocket adapter.

- It re-runs at most once per flush, and only when a var or computed var it read changed.
- It re-runs at most every ``min_interval`` seconds: a change sooner than that is rendered
  when the interval has passed (one flush later), so a dragged slider renders at most
  ``1 + duration / min_interval`` times and always ends on the final value. Without a running
  event loop (plain scripts) nothing could flush later, so it renders at once.
- An output that raises shows the error in its place (:func:`error_bundle`, the user's own
  frames only); nothing is rolled back and the rest of the session flushes as usual.

On a state class, ``@output`` decorates a method (``def chart(self)``). On a function with no
parameters it makes a **free output**: a small state of its own at path ``output-<name>``
whose one output has the function's name; displaying the function (a cell's last expression,
``ns.show(summary)``) shows its live view, and ``ns.get_state(...)`` inside it reads the
session the output belongs to.
"""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import inspect
import os
import time
import traceback
from collections.abc import Callable
from typing import Any, Generic, Protocol, TypeVar, overload

from . import context
from . import state as states
from .context import StatePort, VarKey, reading
from .travel import NotJSON, check_any
from .vars import ComputedVar, VarOptions, _Cached

__all__ = ["DEFAULT_MIN_INTERVAL", "ERROR_MIME", "FreeOutput", "Output", "RenderTimer",
           "error_bundle",
           "output", "render", "set_renderer"]

T = TypeVar("T")

DEFAULT_MIN_INTERVAL = 0.1
"""Seconds between two renders of one output, by default."""

ERROR_MIME = "application/vnd.nbstate.error+json"
"""The mime type of an output's error: ``{"ename": str, "evalue": str, "traceback": [str]}``
(the fields of a Jupyter ``error`` output; ``traceback`` holds plain text lines)."""

_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep

Renderer = Callable[[Any], dict[str, Any]]
"""A value → its mime bundle ``{mime type: JSON data}``; ``{}`` shows nothing."""

_renderer: list[Renderer] = []


def set_renderer(renderer: Renderer) -> None:
    """Render every output's result with ``renderer`` (nbstate's ``__init__`` installs IPython's
    display formatter; the core itself imports no display library)."""
    _renderer[:] = [renderer]


def render(value: Any) -> dict[str, Any]:
    """The mime bundle of ``value`` through the installed renderer (``text/plain`` of its
    ``repr`` where none is installed); ``None`` is ``{}``."""
    if value is None:
        return {}
    if _renderer:
        return _renderer[0](value)
    return {"text/plain": repr(value)}


def error_bundle(exc: BaseException) -> dict[str, Any]:
    """The mime bundle of an output that raised: :data:`ERROR_MIME` and ``text/plain``.

    The traceback keeps the user's frames only: nbstate's own frames (the machinery that
    called the output, a computed var it read) are left out, and a computed var's error shows
    the exception raised inside it.
    """
    while exc.__cause__ is not None and _ours(exc):
        exc = exc.__cause__  # a computed var's error: what the user's code raised
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if not f.filename.startswith(_PACKAGE)]
    lines = ["Traceback (most recent call last):\n", *traceback.format_list(frames)] if frames \
        else []
    lines += traceback.format_exception_only(type(exc), exc)
    text = "".join(lines).rstrip("\n")
    return {ERROR_MIME: {"ename": type(exc).__name__, "evalue": str(exc),
                         "traceback": text.split("\n")},
            "text/plain": text}


def _ours(exc: BaseException) -> bool:
    return type(exc).__module__.startswith("nbstate")


@dataclasses.dataclass(eq=False, slots=True)
class _Rendered(_Cached):
    at: float = -1e9
    """``time.monotonic()`` of the last render."""


class Output(ComputedVar[dict[str, Any]]):
    """Descriptor of an output: a computed var whose value is a mime bundle (see the module).

    Args:
        fget: the method (``fget(self)``); a free output's takes no argument.
        min_interval: seconds; renders of one output are at least this far apart.
    """

    is_output = True

    def __init__(self, fget: Callable[..., Any], *, min_interval: float = DEFAULT_MIN_INTERVAL,
                 free: bool = False) -> None:
        if min_interval < 0:
            raise ValueError(f"output {fget.__qualname__}: min_interval must be ≥ 0 seconds, "
                             f"got {min_interval}")
        self.fget = fget
        self.free = free
        self.cache = True
        self.explicit_deps = None
        self.min_interval = min_interval
        self.bind("", fget.__name__)
        self.__doc__ = fget.__doc__
        self.annotation = dict[str, Any]
        self.options = VarOptions(read_only=True)

    def value(self, state: StatePort) -> dict[str, Any]:
        cached = state._nb_computed.get(self.name)
        if cached is None:
            cached = state._nb_computed[self.name] = _Rendered()
        if cached.stale:
            cached.value = self.compute(state)
            cached.stale = False
            cached.at = time.monotonic()
        value: dict[str, Any] = cached.value
        return value

    def wait(self, state: StatePort) -> float:
        """Seconds until this output may render again in ``state`` (≤ 0: now)."""
        cached = state._nb_computed.get(self.name)
        return 0.0 if cached is None else cached.at + self.min_interval - time.monotonic()

    def compute(self, state: StatePort) -> dict[str, Any]:
        reads: set[VarKey] = set()
        token = reading.set(reads)
        bound = context.evaluating.set(state._nb_session)
        try:
            result = self.fget() if self.free else self.fget(state)  # type: ignore[call-arg]
            bundle = render(result)
            check_any(bundle)
        except NotJSON as exc:
            bundle = error_bundle(ValueError(f"output {state._nb_path}.{self.name} rendered "
                                             f"what JSON cannot carry: {exc}"))
        except Exception as exc:
            bundle = error_bundle(exc)
        finally:
            context.evaluating.reset(bound)
            reading.reset(token)
        reads.discard(self.key)
        state._nb_session.track(state, self, reads)
        return bundle

    def encoded(self, state: StatePort) -> Any:
        return self.value(state)


class RenderTimer:
    """A session's one timer for outputs held back by their ``min_interval``: calling it with a
    delay asks for ``flush()`` that many seconds from now (the earliest asked for wins).
    Returns ``False`` without a running event loop, where no later flush could come."""

    __slots__ = ("_flush", "_holding", "_timer")

    def __init__(self, flush: Callable[[], Any]) -> None:
        self._flush = flush
        self._timer: asyncio.TimerHandle | None = None
        self._holding = True

    def __call__(self, delay: float) -> bool:
        loop = asyncio.events._get_running_loop()
        if loop is None or not self._holding:
            return False
        timer = self._timer
        if timer is not None and timer.when() <= loop.time() + delay:
            return True
        if timer is not None:
            timer.cancel()
        # a context of its own: the flush must not run as the handler that asked for it
        self._timer = loop.call_later(delay, self._due, context=contextvars.Context())
        return True

    def _due(self) -> None:
        self._timer = None
        self._flush()  # a handler holding the lock flushes the outputs itself

    def flush_now(self) -> None:
        """Render the held-back outputs now, whatever their interval (a host at the end of a
        notebook cell: what the cell left must be in the saved widget state)."""
        if self._timer is None:
            return
        self._timer.cancel()
        self._timer = None
        self._holding = False
        try:
            self._flush()
        finally:
            self._holding = True


class FreeOutput(Generic[T]):
    """What ``@output`` makes of a function with no parameters: shows as its live view.

    ``summary()`` still calls the function; ``summary.state_class`` is the state that carries
    it (path ``output-<name>``).
    """

    def __init__(self, fn: Callable[[], T], min_interval: float) -> None:
        self.fn = fn
        self.__doc__ = fn.__doc__
        self.__name__ = fn.__name__
        self.__wrapped__ = fn
        namespace: dict[str, Any] = {
            "__module__": fn.__module__, "__qualname__": f"{fn.__qualname__}.<output>",
            "__doc__": fn.__doc__, "__nbstate_name__": f"output-{fn.__name__}",
            "__nbstate_title__": "",
            fn.__name__: Output(fn, min_interval=min_interval, free=True)}
        self.state_class: type[states.State] = type(f"{fn.__name__}_output", (states.State,),
                                                    namespace)

    def __call__(self) -> T:
        return self.fn()

    def __repr__(self) -> str:
        return f"<output {self.fn.__qualname__}>"

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any] | None:
        """In a widget host, the live view of this output in the current session."""
        hook = states._display_hook
        if hook is None:
            return None
        return hook(context.current_session().get_state(self.state_class))


class _Decorator(Protocol):
    @overload
    def __call__(self, fn: Callable[[], T], /) -> FreeOutput[T]: ...
    @overload
    def __call__(self, fn: Callable[[Any], Any], /) -> Output: ...


@overload
def output(fn: Callable[[], T], /) -> FreeOutput[T]: ...
@overload
def output(fn: Callable[[Any], Any], /) -> Output: ...
@overload
def output(*, min_interval: float = DEFAULT_MIN_INTERVAL) -> _Decorator: ...
def output(fn: Callable[..., T] | None = None, /, *,
           min_interval: float = DEFAULT_MIN_INTERVAL) -> Any:
    """Declare an output: ``@output`` or ``@output(min_interval=0.5)``.

    On a state method (``def chart(self)``) it is an :class:`Output` of that state
    (``model.get("chart")`` in a view reads its mime bundle). On a function with no parameters
    it is a :class:`FreeOutput`, displayed where the cell shows it. The result may be anything
    IPython can display: a matplotlib figure (rendered as PNG, then closed), a pandas DataFrame
    (HTML), ``Markdown``, ``HTML``, an object with ``_repr_*_`` methods; ``None`` shows nothing.

    Args:
        min_interval: seconds between two renders (default 0.1); later changes are rendered
            once the interval has passed.

    Raises:
        ValueError: ``min_interval`` is negative.
        TypeError: the function has parameters other than ``self``.
    """
    def make(f: Callable[..., T]) -> Any:
        params = list(inspect.signature(f).parameters)
        if not params:
            return FreeOutput(f, min_interval)
        if len(params) > 1:
            raise TypeError(f"output {f.__qualname__} takes only 'self' (a method) or nothing "
                            f"(a free output), not {', '.join(params)}")
        return Output(f, min_interval=min_interval)

    return make if fn is None else make(fn)

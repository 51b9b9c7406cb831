"""marimo: one session per visitor, found from marimo's kernel context.

``marimo run`` serves every visitor from one process, each visitor's kernel a thread of it with
a runtime context of its own (``marimo._runtime.context``, thread-local); ``marimo edit`` runs a
kernel per notebook the same way. The visitor's :class:`~nbstate.session.Session` is kept on the
root of that context (an embedded app's context has the app's as parent), made on first use, so
``ns.get_state(Todo)`` in a cell is this visitor's ``Todo`` and nothing at module level holds a
visitor's session. It goes away with the visitor's context.

marimo has no public API for the context object; ``safe_get_context`` is what its own plugins
use. Only ``sys.modules`` is consulted: nbstate never imports marimo, and outside a marimo kernel
(or where marimo changed that module) the finder answers ``None``.
"""

from __future__ import annotations

import sys
from typing import Any

from ..session import Session

__all__ = ["in_marimo", "marimo_session"]

_SESSION = "_nbstate_session"
_CONTEXT_MODULE = "marimo._runtime.context.types"


def _context() -> Any:
    module = sys.modules.get(_CONTEXT_MODULE)
    get = getattr(module, "safe_get_context", None)
    if get is None:
        return None
    context = get()
    while getattr(context, "parent", None) is not None:
        context = context.parent
    return context


def in_marimo() -> bool:
    """True in a marimo kernel (edit or run) with a visitor's context."""
    return _context() is not None


def marimo_session() -> Session | None:
    """The running marimo visitor's session (made on first use), or ``None`` outside marimo."""
    context = _context()
    if context is None:
        return None
    session = getattr(context, _SESSION, None)
    if not isinstance(session, Session):
        session = Session()
        setattr(context, _SESSION, session)
    return session

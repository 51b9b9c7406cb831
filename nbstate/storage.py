"""A session as JSON data: what a state manager stores, and how it is loaded back.

Shape (version 1)::

    {"version": 1, "revision": int, "states": {"<state path>": {"<var>": JSON value}}}

It holds the base and backend vars of every instantiated state, encoded through pydantic (never
pickle: a stored session must never be a way to run code); computed vars are derived again on
load. Loading validates every value against the state classes as they are defined *now*
(:mod:`nbstate.migrate`, the same path as a class redefinition): what still validates is kept,
the rest is reported once and starts from its default.
"""

from __future__ import annotations

from typing import Any

from .document import SessionDocument
from .errors import NbStateError, UnknownStateError
from .instances import StateInstances, encode_state
from .migrate import dump_state, report, restore
from .recompute import ComputedVars

__all__ = ["VERSION", "dump", "load"]

VERSION = 1
"""Version of the stored form."""


def dump(instances: StateInstances, revision: int) -> dict[str, Any]:
    """The stored form of a session's states at ``revision``.

    Raises:
        VarTypeError: a backend var holds a value with no JSON form.
    """
    return {"version": VERSION, "revision": revision,
            "states": {path: dump_state(state) for path, state in instances.by_path.items()}}


def load(data: Any, instances: StateInstances, computed: ComputedVars,
         document: SessionDocument) -> None:
    """Fill a new session's states and document from :func:`dump`'s data, at its revision.

    Raises:
        NbStateError: the session already has states, or ``data`` is not a stored session.
    """
    if instances.by_path:
        raise NbStateError("Session.load fills a new session; this one already has states")
    if not (isinstance(data, dict) and data.get("version") == VERSION
            and isinstance(data.get("states"), dict)
            and type(data.get("revision")) is int):
        raise NbStateError(f"Session.load expects Session.dump() data (version {VERSION}), "
                           f"got {str(data)[:80]}")
    problems: list[str] = []
    for path, values in data["states"].items():
        try:
            state = instances.at(path)
        except UnknownStateError:
            problems.append(f"{path}: no state class has this path any more")
            continue
        if not isinstance(values, dict):
            problems.append(f"{path}: not an object of vars")
            continue
        problems.extend(restore(state, values))
        for name in values:
            computed.deps.invalidate((path, name))
    report(problems, "the stored session does not fit the state classes as defined now")
    for path, state in instances.by_path.items():
        document.data[path] = encode_state(state)
    computed.deps.dirty.clear()
    document.revision = data["revision"]
    document.history.clear()

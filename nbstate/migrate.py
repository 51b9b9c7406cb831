"""Carrying var values over: to a redefined state class, and from a stored session.

One path serves both. A notebook cell that runs again redefines a state class (often with the
pydantic models its vars hold); a state manager loads a session stored as JSON, perhaps by an
older version of the app. Either way each var's value is validated against the var as it is
defined *now*: base vars through their JSON form, so a value made of an older version of a model
class validates against the new one; backend vars as they are first (they may hold objects with
no JSON form), then through their JSON form. A value that no longer validates, and a stored var
or state that no longer exists, is reported once (:class:`~nbstate.StateMigrationWarning`, one
warning listing them) and the var keeps its default: nothing bricks, nothing resets silently.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from typing import Any

from .context import StatePort
from .errors import NbStateError, StateMigrationWarning, VarTypeError
from .plain import untrack
from .protocol import encode

__all__ = ["dump_state", "live_values", "report", "restore"]


def live_values(state: StatePort) -> dict[str, Any]:
    """The values of ``state``'s own vars, base vars in their JSON form, backend vars as
    plain Python values (untracked copies)."""
    cls = type(state)
    values: dict[str, Any] = {}
    for name, var in cls.__nbstate_vars__.items():  # type: ignore[attr-defined]
        plain = untrack(state._nb_values[name])
        values[name] = encode(plain) if var.synced else plain
    return values


def dump_state(state: StatePort) -> dict[str, Any]:
    """The JSON form of ``state``'s own base and backend vars: ``{var: JSON value}``.

    Raises:
        VarTypeError: a backend var holds a value with no JSON form (it cannot be stored).
    """
    out: dict[str, Any] = {}
    for name in type(state).__nbstate_vars__:  # type: ignore[attr-defined]
        try:
            out[name] = encode(untrack(state._nb_values[name]))
        except Exception as exc:
            raise VarTypeError(f"{state._nb_path}.{name} holds a value with no JSON form, so the "
                               f"session cannot be stored ({type(exc).__name__}: {exc}); keep "
                               "JSON data in vars, or rebuild the object from JSON data in a "
                               "handler") from exc
    return out


def restore(state: StatePort, values: Mapping[str, Any]) -> list[str]:
    """Give ``state`` (new, unchanged since it was made) the ``values`` that still validate.

    Returns one line per value left out (``"todo.count: must be an integer, got 'x'"``);
    nothing is logged or sent, the caller publishes the state afterwards.
    """
    cls = type(state)
    problems: list[str] = []
    for name, value in values.items():
        var = cls.__nbstate_vars__.get(name)  # type: ignore[attr-defined]
        if var is None:
            problems.append(f"{state._nb_path}.{name}: no such var any more")
            continue
        try:
            try:
                valid = var.validate(state._nb_path, value)
            except NbStateError:
                if var.synced:
                    raise
                valid = var.validate(state._nb_path, encode(value))
        except Exception as exc:
            problems.append(f"{state._nb_path}.{name}: {exc}")
            continue
        state._nb_values[name] = var.wrap(valid, state._nb_session.root(state, var))
    return problems


def report(problems: Iterable[str], why: str) -> None:
    """Warn once about every value that could not be carried over."""
    lines = list(problems)
    if lines:
        warnings.warn(f"{why}; these vars start from their defaults: " + "; ".join(lines),
                      StateMigrationWarning, stacklevel=3)

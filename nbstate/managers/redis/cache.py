"""A process's copy of a session: brought up to date from stored states, and what to write.

**Refresh.** When another process stored newer states, only those states are read (in the round
trip that takes the lock) and given to the cached session here: each var is validated against
the class as defined now (:func:`nbstate.migrate.restore`, the path a class redefinition and a
stored session take), the computed vars that read them are recomputed, and the session
document is brought to the stored revision *without* a delta: the clients of this process got
those deltas from the process that made them (:mod:`.delivery`). What no longer validates is
reported once (:class:`~nbstate.StateMigrationWarning`) and its state is written back at the
next commit, so the stored session heals rather than warning on every load.

**What to write.** Only the states an event changed: those its deltas touch, and those whose
backend vars (which never appear in a delta) changed, found by comparing their JSON form with
the form last stored.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from ...errors import UnknownStateError
from ...instances import encode_state
from ...migrate import dump_state, report, restore
from ...plain import untrack
from ...protocol import Delta, encode
from ...session import Session

__all__ = ["Copy"]

_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


class Copy:
    """What this process knows of the stored form of one session.

    Attributes:
        version: the stored version this copy matches (-1: none, load everything).
        rev: the stored revision this copy matches.
        backend: per state path, the JSON of its backend vars as last stored or loaded.
        last: per state path, its stored form as last stored or loaded (JSON text), so a
            section whose write failed can be undone (:meth:`undo`).
        heal: state paths to write at the next commit (they did not load cleanly).
    """

    def __init__(self) -> None:
        self.version = -1
        self.rev = -1
        self.backend: dict[str, str] = {}
        self.last: dict[str, str] = {}
        self.heal: set[str] = set()
        self._backend_paths: tuple[int, list[str]] | None = None

    def forget(self) -> None:
        """The copy can no longer be trusted: the next section loads every state."""
        self.version = -1
        self.backend.clear()

    def undo(self, session: Session, mute: Any) -> None:
        """Put ``session`` back to its last stored form (a section's write failed), then
        :meth:`forget` (the next section reads what is stored now)."""
        if self.rev >= 0:
            self.refresh(session, dict(self.last), self.rev, -1, mute)
        self.forget()

    def refresh(self, session: Session, states: dict[str, str], rev: int, version: int,
                mute: Any) -> None:
        """Give ``session`` the stored ``states`` (path → JSON text of ``{var: JSON}``) at
        ``rev``.

        ``mute`` is a context manager under which the session's deltas are not stored or sent
        (making a state no process had made yet publishes one).
        """
        problems: list[str] = []
        ops: list[dict[str, Any]] = []
        with mute:
            for path, text in states.items():
                self.last[path] = text
                try:
                    values = json.loads(text)
                except ValueError:
                    values = None
                try:
                    state = session.state_at(path)
                except UnknownStateError:
                    problems.append(f"{path}: no state class has this path any more")
                    continue
                if not isinstance(values, dict):
                    problems.append(f"{path}: not an object of vars")
                    self.heal.add(path)
                    continue
                lost = restore(state, values)
                if lost or set(values) != set(type(state).__nbstate_vars__):
                    self.heal.add(path)
                problems.extend(lost)
                for name in values:
                    session.computed.deps.invalidate((path, name))
                ops.append({"op": "add", "path": "/" + path, "value": encode_state(state)})
                self.backend[path] = _backend_json(state)
            if ops:
                session.document.commit(ops)
            # computed vars of other states that read these, diffed against the new entries
            computed = session.computed.ops(session.document)
            if computed:
                session.document.commit(computed)
            session.document.revision = max(rev, 0)
            session.document.history.clear()
        self.version, self.rev = version, max(rev, 0)
        report(problems, "the stored session does not fit the state classes as defined now")

    def changed(self, session: Session, deltas: Iterable[Delta]) -> dict[str, str]:
        """The JSON text of every state to write: those ``deltas`` touched, those whose
        backend vars changed, and those to heal.

        Raises:
            VarTypeError: a backend var holds a value with no JSON form.
        """
        paths = set(self.heal)
        states = session.instances.by_path  # read only: no copy per event
        for delta in deltas:
            for op in delta["ops"]:
                path, _, below = op["path"][1:].partition("/")
                if path in paths:
                    continue
                state = states.get(path)
                # a computed var's change is derived, not stored
                if state is None or not below or below.partition("/")[0].replace(
                        "~1", "/").replace("~0", "~") in type(state).__nbstate_vars__:
                    paths.add(path)
        for path in self._with_backend(states):
            if path not in paths and _backend_json(states[path]) != self.backend.get(path):
                paths.add(path)
        out: dict[str, str] = {}
        for path in paths:
            chosen = states.get(path)
            if chosen is not None:
                out[path] = _stored_json(session, chosen)
        return out

    def _with_backend(self, states: dict[str, Any]) -> list[str]:
        # the paths of states with backend vars, found again only when states come or go
        if self._backend_paths is None or self._backend_paths[0] != len(states):
            self._backend_paths = (len(states),
                                   [p for p, s in states.items() if _has_backend(s)])
        return self._backend_paths[1]

    def stored(self, session: Session, written: dict[str, str], version: int) -> None:
        """The states ``written`` (path → JSON text) were stored, making the stored version
        ``version`` at the session's revision."""
        states = session.states()
        self.last.update(written)
        self.rev = session.revision
        for path in written:
            state = states.get(path)
            if state is not None and _has_backend(state):
                self.backend[path] = _backend_json(state)
            self.heal.discard(path)
        self.version = version

    def everything(self, session: Session) -> dict[str, str]:
        """The JSON text of every state (a new session, or one Redis lost)."""
        return {path: _stored_json(session, state) for path, state in session.states().items()}


def _stored_json(session: Session, state: Any) -> str:
    """``state``'s stored form as JSON text: its base vars as the session document holds
    them (already JSON: nothing is encoded twice), then its backend vars."""
    cls = type(state)
    entry = session.document.data.get(state._nb_path)
    if entry is None:
        return _dumps(dump_state(state))
    values: dict[str, Any] = {}
    for name, var in cls.__nbstate_vars__.items():
        values[name] = entry[name] if var.synced else None
    if _has_backend(state):
        values.update(_backend(state))
    return _dumps(values)


def _has_backend(state: Any) -> bool:
    flag: bool | None = _BACKEND.get(type(state))
    if flag is None:
        flag = _BACKEND[type(state)] = any(
            not var.synced for var in type(state).__nbstate_vars__.values())
    return flag


_BACKEND: dict[type, bool] = {}


def _backend(state: Any) -> dict[str, Any]:
    """The JSON form of ``state``'s backend vars.

    Raises:
        VarTypeError: one holds a value with no JSON form.
    """
    cls = type(state)
    out: dict[str, Any] = {}
    for name, var in cls.__nbstate_vars__.items():
        if not var.synced:
            try:
                out[name] = encode(untrack(state._nb_values[name]))
            except Exception:
                return dict(dump_state(state))  # raises the error that names the var
    return out


def _backend_json(state: Any) -> str:
    return _dumps(_backend(state)) if _has_backend(state) else ""

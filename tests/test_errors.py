"""The error hierarchy: one base, each subclass also the fitting built-in."""

from __future__ import annotations

import pickle

import pytest

import nbstate as ns
from nbstate import errors


@pytest.mark.parametrize(("error", "builtin"), [
    (ns.VarTypeError, TypeError),
    (ns.UnknownVarError, AttributeError),
    (ns.ReadOnlyVarError, AttributeError),
    (ns.ComputedVarError, RuntimeError),
    (ns.UnknownStateError, KeyError),
    (ns.UnknownHandlerError, KeyError),
    (ns.PayloadError, TypeError),
    (ns.BackgroundMutationError, RuntimeError),
    (ns.DuplicateStateError, ValueError),
    (ns.ProtocolError, ValueError),
])
def test_each_error_is_also_a_builtin(error: type[Exception], builtin: type[Exception]) -> None:
    assert issubclass(error, ns.NbStateError)
    assert issubclass(error, builtin)
    assert error.__name__ in errors.__all__


@pytest.mark.parametrize("error", [ns.UnknownStateError, ns.UnknownHandlerError])
def test_key_errors_are_not_quoted(error: type[Exception]) -> None:
    assert str(error("no state 'x'")) == "no state 'x'"
    assert str(error()) == ""


def test_event_handler_error_names_handler_type_and_message() -> None:
    cause = ValueError("bad input")
    exc = ns.EventHandlerError("todo.add", cause)
    assert (exc.handler, exc.error_type, exc.error_message) == ("todo.add", "ValueError",
                                                                 "bad input")
    assert str(exc).startswith("event handler 'todo.add' raised ValueError: bad input")
    assert isinstance(exc, RuntimeError)


@pytest.mark.parametrize("error", [ns.VarTypeError, ns.PayloadError])
def test_validation_errors_keep_their_detail(error: type[ns.VarTypeError]) -> None:
    problems = [{"type": "greater_than_equal", "loc": ("step",), "msg": "…", "input": 0}]
    exc = error("todo.step must be ≥ 1, got 0", detail=problems)
    assert str(exc) == "todo.step must be ≥ 1, got 0"
    assert exc.detail == problems
    assert error("plain").detail == []
    assert isinstance(exc, TypeError)
    copy = pickle.loads(pickle.dumps(exc))
    assert (type(copy), str(copy), copy.detail) == (error, str(exc), problems)

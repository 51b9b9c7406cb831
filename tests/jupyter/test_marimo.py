"""One session per marimo visitor: found from the running kernel context, kept on it."""

from __future__ import annotations

import sys
import threading
import types
from typing import Any

import pytest

import nbstate as ns
from nbstate.jupyter import marimo
from nbstate.session import add_session_finder, current_session


class MaTodo(ns.State):
    items: list[str] = []


class _Context:
    def __init__(self, parent: Any = None) -> None:
        self.parent = parent


@pytest.fixture
def contexts(monkeypatch: pytest.MonkeyPatch) -> threading.local:
    """A stand-in for marimo's thread-local runtime context (one per visitor's thread)."""
    local = threading.local()
    module = types.ModuleType("marimo._runtime.context.types")
    module.safe_get_context = lambda: getattr(local, "context", None)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "marimo._runtime.context.types", module)
    return local


def test_outside_marimo_there_is_no_visitor_session() -> None:
    assert sys.modules.get("marimo._runtime.context.types") is None or not marimo.in_marimo()
    assert marimo.marimo_session() is None


def test_each_visitor_thread_gets_its_own_session(contexts: threading.local) -> None:
    add_session_finder(marimo.marimo_session)
    seen: dict[str, list[str]] = {}

    def visitor(name: str) -> None:
        contexts.context = _Context()
        ns.get_state(MaTodo).items.append(name)
        assert current_session() is marimo.marimo_session()
        seen[name] = list(ns.get_state(MaTodo).items)

    threads = [threading.Thread(target=visitor, args=(n,)) for n in ("ann", "bob")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == {"ann": ["ann"], "bob": ["bob"]}


def test_an_embedded_app_shares_its_visitor_session(contexts: threading.local) -> None:
    root = _Context()
    contexts.context = root
    mine = marimo.marimo_session()
    contexts.context = _Context(parent=root)
    assert marimo.marimo_session() is mine
    assert mine is not None and marimo.in_marimo()

"""State managers: tokens, expiry, a session per tab, storage on disk as JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import nbstate as ns
from nbstate.managers import DiskManager, MemoryManager, manager_from, new_token, valid_token


class MgShop(ns.State):
    items: list[str] = []
    _client: object = None


def _prepare(session: ns.Session) -> None:
    session.get_state(MgShop)


def test_tokens_are_long_random_and_checked() -> None:
    tokens = {new_token() for _ in range(100)}
    assert len(tokens) == 100 and all(len(t) >= 32 and valid_token(t) for t in tokens)
    assert not valid_token("short") and not valid_token("../../etc/passwd" + "x" * 20)
    assert not valid_token(None) and not valid_token(123)


def test_manager_from_names() -> None:
    assert isinstance(manager_from("memory"), MemoryManager)
    with pytest.raises(ValueError, match="'memory', 'disk:DIR' or 'redis:"):
        manager_from("redis-ish")


async def test_a_session_per_token_one_tab_each_and_expiry() -> None:
    manager = MemoryManager(ttl=3600.0)
    token, entry = await manager.open(None, _prepare)
    again, dup = await manager.open(token, _prepare)
    assert again != token and dup.session is not entry.session  # still connected: a new tab
    manager.release(token)
    same, back = await manager.open(token, _prepare)
    assert same == token and back.session is entry.session
    manager.release(token)
    manager.release(again)
    manager.ttl = 0.0
    other, _ = await manager.open("x" * 30, _prepare)  # unknown: a new session
    assert other != "x" * 30 and len(manager) == 1  # idle ones expired (ttl 0)
    await manager.aclose()


async def test_disk_sessions_are_json_and_come_back(tmp_path: Path) -> None:
    manager = DiskManager(tmp_path)
    token, entry = await manager.open(None, _prepare)
    entry.session.get_state(MgShop).items.append("kept")
    entry.session.flush()
    await manager.changed(token)
    stored = json.loads((tmp_path / f"{token}.json").read_text())
    assert stored["states"]["mg_shop"]["items"] == ["kept"]
    restarted = DiskManager(tmp_path)
    same, loaded = await restarted.open(token, _prepare)
    assert same == token and loaded.session.get_state(MgShop).items == ["kept"]


async def test_disk_refuses_a_backend_var_with_no_json_form(tmp_path: Path) -> None:
    manager = DiskManager(tmp_path)
    token, entry = await manager.open(None, _prepare)
    entry.session.get_state(MgShop)._client = object()
    with pytest.raises(ns.VarTypeError, match=r"mg_shop\._client .*keep JSON data"):
        await manager.changed(token)


async def test_manager_from_a_redis_url_with_the_managers_options() -> None:
    from nbstate.managers.redis import RedisManager

    manager = manager_from("redis://127.0.0.1:1/0?lock_expiry=2&keep=0&socket_keepalive=true")
    assert isinstance(manager, RedisManager)
    assert manager.store.lock_ms == 2000 and manager.keep == 0
    assert manager.url == "redis://127.0.0.1:1/0?socket_keepalive=true"  # redis-py's own
    await manager.aclose()
    with pytest.raises(ValueError, match=r"lock_expiry='-1' .* positive number of seconds"):
        manager_from("redis://127.0.0.1:1/0?lock_expiry=-1")

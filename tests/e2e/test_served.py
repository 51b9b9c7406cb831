"""``nbstate serve`` in real Chromium: the todo notebook's state, served over one WebSocket.

The page renders the same default view as in Jupyter through the socket adapter of the runtime
(``js/src/socket/``). Each test starts ``nbstate serve notebooks/todo.ipynb:Todo`` on a free
127.0.0.1 port and stops it by its pid.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from . import harness

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
TODO = "notebooks/todo.ipynb:Todo"

ADD = 'button[data-nb-handler="add"]'
DRAFT = '[data-nb-path="todo"] input[data-nb-var="draft"]'
STATUS = '[data-nb-path="todo"] output[data-nb-var="status"]'
ITEMS = '[data-nb-path="todo"] ul[data-nb-var="items"] > li'
QUERY = '[data-nb-path="todo.filters"] input[data-nb-var="query"]'
MATCHES = '[data-nb-path="todo.filters"] ul[data-nb-var="matches"] > li'
SOCKET_STATUS = ".nbstate-socket-status"


@contextlib.contextmanager
def serve(log: Path, *args: str, port: int | None = None) -> Iterator[harness.Server]:
    """``nbstate serve`` the todo notebook; stopped (SIGTERM, by pid) on exit."""
    port = port or harness.free_port()
    argv = [sys.executable, "-m", "nbstate", "serve", TODO, "--port", str(port), *args]
    with harness._serve("nbstate serve", argv, port=port, probe_path="_nbstate/runtime.js",
                        cwd=REPO, env={**os.environ, "PYTHONUNBUFFERED": "1"},
                        log_path=log, timeout=60) as server:
        yield server


def open_todo(page: Page, server: harness.Server) -> None:
    page.goto(server.url)
    expect(page.locator(ADD)).to_be_visible()
    expect(page.locator(STATUS)).to_have_text("0 item(s)", timeout=10_000)


def add_item(page: Page, text: str, count: int) -> None:
    page.locator(DRAFT).fill(text)
    page.locator(ADD).click()
    expect(page.locator(STATUS)).to_have_text(f"{count} item(s)", timeout=10_000)


def test_add_saving_filter_reload_and_a_second_tab(
    new_page: Callable[[], Page], output_dir: Path, screenshot: Callable[[Page, str], Path]
) -> None:
    with serve(output_dir / "server.log") as server:
        page = new_page()
        open_todo(page, server)

        page.locator(DRAFT).fill("buy milk")
        page.locator(ADD).click()
        # the handler yields before its slow save: the view shows it running
        expect(page.locator(STATUS)).to_have_text("saving…")
        expect(page.locator(STATUS)).to_have_text("1 item(s)")
        expect(page.locator(ITEMS)).to_have_count(1)
        expect(page.locator(DRAFT)).to_have_value("")
        add_item(page, "walk the dog", 2)
        add_item(page, "Buy bread", 3)
        for index, text in enumerate(["buy milk", "walk the dog", "Buy bread"]):
            expect(page.locator(ITEMS).nth(index)).to_contain_text(text)

        page.locator(QUERY).fill("buy")
        page.locator(QUERY).press("Enter")
        expect(page.locator(MATCHES)).to_have_count(2)
        expect(page.locator(MATCHES).first).to_contain_text("buy milk")
        expect(page.locator(MATCHES).last).to_contain_text("Buy bread")
        screenshot(page, "served-todo")

        # a reload keeps the tab's session (its token is in sessionStorage)
        page.reload()
        expect(page.locator(STATUS)).to_have_text("3 item(s)", timeout=10_000)
        expect(page.locator(QUERY)).to_have_value("buy")
        expect(page.locator(MATCHES)).to_have_count(2)

        # another browser context is another visitor: a session of its own
        other = new_page()
        open_todo(other, server)
        add_item(other, "other tab", 1)
        page.reload()
        expect(page.locator(STATUS)).to_have_text("3 item(s)", timeout=10_000)
        expect(other.locator(STATUS)).to_have_text("1 item(s)")
        token = page.evaluate("sessionStorage.getItem('nbstate:token')")
        other_token = other.evaluate("sessionStorage.getItem('nbstate:token')")
        assert isinstance(token, str) and len(token) >= 22
        assert token != other_token
        screenshot(other, "served-second-session")


def test_disk_sessions_survive_a_server_kill(
    page: Page, output_dir: Path, tmp_path: Path, screenshot: Callable[[Page, str], Path]
) -> None:
    store = tmp_path / "sessions"
    port = harness.free_port()
    with serve(output_dir / "server-1.log", "--manager", f"disk:{store}", port=port) as server:
        open_todo(page, server)
        add_item(page, "survives", 1)
        expect(page.locator(ITEMS)).to_have_count(1)
        server.process.kill()  # SIGKILL: no shutdown hook runs
        server.process.wait(10)
        # the page notices and keeps trying
        expect(page.locator(SOCKET_STATUS)).to_contain_text("Reconnecting", timeout=10_000)
        expect(page.locator(ADD)).to_be_disabled()

    with serve(output_dir / "server-2.log", "--manager", f"disk:{store}", port=port) as server:
        # the open page reconnects by itself with its token and finds its values
        expect(page.locator(SOCKET_STATUS)).to_be_hidden(timeout=15_000)
        expect(page.locator(STATUS)).to_have_text("1 item(s)")
        add_item(page, "after restart", 2)
        page.reload()
        expect(page.locator(STATUS)).to_have_text("2 item(s)", timeout=10_000)
        expect(page.locator(ITEMS).first).to_contain_text("survives")
        screenshot(page, "served-after-restart")

"""The contacts notebook clicked through in Voila in Chromium: search as you type, pages, add,
edit, delete, a failed save undone in the database and the view alike, the background import
with its progress, and a second visitor who shares the database but not the session; and the
same notebook served by ``nbstate serve``, where each tab is a session of one process."""

from __future__ import annotations

import os
import shutil
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from . import harness

pytestmark = pytest.mark.browser

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "contacts.ipynb"
SAMPLE = 14
"""Contacts the notebook adds to an empty database."""

# Records every text the import's progress shows, so the steps between 0 and 5,000 are seen.
WATCH_PROGRESS = """() => {
    window.__progressSeen = [];
    const el = document.querySelector(".contacts .contacts-import-text");
    new MutationObserver(() => window.__progressSeen.push(el.textContent))
        .observe(el, {subtree: true, childList: true, characterData: true});
}"""


def _names(database: Path, where: str = "1") -> list[str]:
    with sqlite3.connect(database) as connection:
        return [name for (name,) in connection.execute(
            f"SELECT name FROM contacts WHERE {where} ORDER BY name, id")]


def _count(database: Path) -> int:
    with sqlite3.connect(database) as connection:
        count: int = connection.execute("SELECT count(*) FROM contacts").fetchone()[0]
        return count


def test_contacts_in_voila(voila: Callable[..., harness.Server], new_page: Callable[[], Page],
                           screenshot: Callable[[Page, str], Path], tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    shutil.copy(NOTEBOOK, root)
    database = tmp_path / "contacts.db"
    server = voila(root / NOTEBOOK.name,
                   extra_env={"NBSTATE_DATABASE_URL": f"sqlite+aiosqlite:///{database}"})
    page = new_page()
    page.goto(server.url)
    view = page.locator(".contacts").first
    expect(view).to_be_visible(timeout=30_000)
    rows = view.locator("tbody tr")
    names = view.locator("tbody .contacts-name")
    showing = view.locator(".contacts-showing")
    error = view.locator(".contacts-error")
    expect(showing).to_have_text(f"1–8 of {SAMPLE}")
    expect(rows).to_have_count(8)
    expect(names.first).to_have_text("Ada Lovelace")

    # search as you type: each keystroke is an event, the last one wins
    search = view.locator(".contacts-search")
    search.press_sequentially("camb", delay=30)
    expect(names).to_have_text(["Karen Spärck Jones", "Tony Hoare"])
    expect(showing).to_have_text("1–2 of 2")
    search.fill("")
    search.dispatch_event("input")
    expect(showing).to_have_text(f"1–8 of {SAMPLE}")

    # pages
    view.locator(".contacts-next").click()
    expect(view.locator(".contacts-page")).to_have_text("page 2 of 2")
    expect(rows).to_have_count(SAMPLE - 8)
    expect(view.locator(".contacts-next")).to_be_disabled()
    view.locator(".contacts-prev").click()
    expect(view.locator(".contacts-page")).to_have_text("page 1 of 2")

    # add
    form = view.locator(".contacts-form")
    form.locator('input[name="name"]').fill("Aaron Swartz")
    form.locator('input[name="email"]').fill("aaron@example.org")
    form.locator('input[name="city"]').fill("Chicago")
    view.locator(".contacts-save").click()
    expect(view.locator(".contacts-message")).to_have_text("added Aaron Swartz")
    expect(names.first).to_have_text("Aaron Swartz")
    expect(showing).to_have_text(f"1–8 of {SAMPLE + 1}")
    assert "Aaron Swartz" in _names(database)

    # a save that fails in the database is undone there and in the view: a taken email
    form.locator('input[name="name"]').fill("Impostor")
    form.locator('input[name="email"]').fill("ada.lovelace@example.org")
    view.locator(".contacts-save").click()
    expect(error).to_contain_text("IntegrityError")
    expect(view.locator(".contacts-message")).to_have_text("added Aaron Swartz")
    expect(showing).to_have_text(f"1–8 of {SAMPLE + 1}")
    assert "Impostor" not in _names(database)
    # and one without a name never reaches the database
    form.locator('input[name="name"]').fill("  ")
    view.locator(".contacts-save").click()
    expect(error).to_have_text("contacts.save: ValueError: a contact needs a name")
    assert _count(database) == SAMPLE + 1

    # edit: the form fills from the row; save writes it back
    row = rows.filter(has_text="Alan Turing")
    row.locator(".contacts-edit").click()
    expect(view.locator(".contacts-save")).to_have_text("Save")
    expect(form.locator('input[name="city"]')).to_have_value("Wilmslow")
    form.locator('input[name="city"]').fill("Manchester")
    view.locator(".contacts-save").click()
    expect(row.locator(".contacts-city")).to_have_text("Manchester")
    expect(view.locator(".contacts-save")).to_have_text("Add")
    assert _names(database, "city = 'Manchester'") == ["Alan Turing"]

    # delete
    rows.filter(has_text="Aaron Swartz").locator(".contacts-delete").click()
    expect(view.locator(".contacts-message")).to_have_text("deleted Aaron Swartz")
    expect(showing).to_have_text(f"1–8 of {SAMPLE}")
    assert "Aaron Swartz" not in _names(database)

    # the background import: progress while it runs, the list refreshed when it ends
    page.evaluate(WATCH_PROGRESS)
    view.locator(".contacts-import-button").click()
    expect(view.locator(".contacts-import-text")).to_have_text("5,000 / 5,000", timeout=60_000)
    seen = page.evaluate("window.__progressSeen")
    steps = [text for text in seen if text.endswith("/ 5,000") and text != "5,000 / 5,000"]
    assert len(steps) >= 3, f"the progress showed too few steps: {seen}"
    expect(view.locator(".contacts-message")).to_have_text("imported 5,000 contacts")
    expect(showing).to_have_text(f"1–8 of {SAMPLE + 5000:,}")
    expect(view.locator(".contacts-import-button")).to_be_enabled()
    assert _count(database) == SAMPLE + 5000
    screenshot(page, "contacts-voila")

    # a second visitor: a kernel and a session of their own, the same database
    search.fill("Sato")
    search.dispatch_event("input")
    expect(view.locator(".contacts-page")).not_to_have_text("page 1 of 1")
    other = new_page()
    other.goto(server.url)
    their = other.locator(".contacts").first
    expect(their).to_be_visible(timeout=30_000)
    expect(their.locator(".contacts-showing")).to_have_text(f"1–8 of {SAMPLE + 5000:,}")
    expect(their.locator(".contacts-search")).to_have_value("")
    their.locator(".contacts-search").press_sequentially("Hopper", delay=30)
    expect(their.locator("tbody .contacts-name")).to_have_text(["Grace Hopper"])
    expect(search).to_have_value("Sato")  # the first visitor's search is untouched
    expect(names.first).to_contain_text("Sato")
    screenshot(other, "contacts-voila-second-visitor")


def test_contacts_served_by_nbstate_serve(new_page: Callable[[], Page], output_dir: Path,
                                          screenshot: Callable[[Page, str], Path],
                                          tmp_path: Path) -> None:
    shutil.copy(NOTEBOOK, tmp_path)
    database = tmp_path / "contacts.db"
    port = harness.free_port()
    argv = [sys.executable, "-m", "nbstate", "serve", f"{NOTEBOOK.name}:Contacts",
            "--port", str(port)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1",
           "NBSTATE_DATABASE_URL": f"sqlite+aiosqlite:///{database}"}
    with harness._serve("nbstate serve", argv, port=port, probe_path="_nbstate/runtime.js",
                        cwd=tmp_path, env=env, log_path=output_dir / "server.log",
                        timeout=60) as server:
        page = new_page()
        page.goto(server.url)
        view = page.locator(".contacts").first
        # a new session's view asks for its first page itself
        expect(view.locator(".contacts-showing")).to_have_text(f"1–8 of {SAMPLE}",
                                                               timeout=30_000)
        view.locator(".contacts-search").press_sequentially("hopper", delay=30)
        expect(view.locator("tbody .contacts-name")).to_have_text(["Grace Hopper"])
        form = view.locator(".contacts-form")
        form.locator('input[name="name"]').fill("Grace Hopper Jr")
        view.locator(".contacts-save").click()
        expect(view.locator("tbody .contacts-name")).to_have_text(
            ["Grace Hopper", "Grace Hopper Jr"])
        assert _count(database) == SAMPLE + 1

        other = new_page()  # another tab: another session, the same database
        other.goto(server.url)
        theirs = other.locator(".contacts").first
        expect(theirs.locator(".contacts-showing")).to_have_text(f"1–8 of {SAMPLE + 1}",
                                                                 timeout=30_000)
        expect(theirs.locator(".contacts-search")).to_have_value("")
        expect(view.locator(".contacts-search")).to_have_value("hopper")
        screenshot(page, "contacts-served")

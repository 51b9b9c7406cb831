"""Fixtures for real-browser tests; the machinery lives in ``harness.py``.

Every test gets ``tests/e2e/output/<test name>/`` (emptied first) for server logs, screenshots
and page console logs. When a test fails, or a page raised an uncaught error, each open page is
screenshotted from the report hook: that runs before fixture teardown, while the servers are
still up. A test that expects page errors says so with ``@pytest.mark.allow_page_errors``.

Playwright's sync API marks its event loop as running between calls, which would stop async
tests in the same process from running theirs: Playwright and the browser are therefore
per test, not per session (a launch costs well under a second).
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Callable, Generator, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from . import harness

OUTPUT_ROOT = Path(__file__).parent / "output"
_PAGES = pytest.StashKey[list[Page]]()
_OUTPUT = pytest.StashKey[Path]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "allow_page_errors: uncaught page errors do not fail this browser test"
    )


@pytest.fixture
def output_dir(request: pytest.FixtureRequest) -> Path:
    """``tests/e2e/output/<test name>/``, empty at the start of the test."""
    path = OUTPUT_ROOT / harness.safe_name(request.node.name)
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    request.node.stash[_OUTPUT] = path
    return path


@pytest.fixture
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = harness.launch_browser(playwright)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def new_page(
    browser: Browser, output_dir: Path, request: pytest.FixtureRequest
) -> Callable[[], Page]:
    """Factory for hermetic, recording pages; each one is screenshotted if the test fails."""
    pages = request.node.stash.setdefault(_PAGES, [])

    def make() -> Page:
        page = harness.new_page(browser)
        pages.append(page)
        return page

    return make


@pytest.fixture
def page(new_page: Callable[[], Page]) -> Page:
    return new_page()


@pytest.fixture
def screenshot(output_dir: Path) -> Callable[[Page, str], Path]:
    """``screenshot(page, name)`` saves ``<output dir>/<name>.png``."""

    def take(page: Page, name: str) -> Path:
        return harness.screenshot(page, output_dir, name)

    return take


def _suffix(number: int) -> str:
    # A second server in one test gets its own state dir and log.
    return f"-{number}" if number else ""


@pytest.fixture
def lab(tmp_path: Path, output_dir: Path) -> Iterator[Callable[..., harness.Server]]:
    """``lab(root_dir, extra_env=None, extra_args=())`` starts JupyterLab; stopped at teardown.

    Servers outlive the test body, so a failure screenshot still shows a live page.
    """
    numbers = itertools.count()
    with ExitStack() as stack:

        def start(root_dir: Path, **kwargs: Any) -> harness.Server:
            suffix = _suffix(next(numbers))
            state_dir, log = tmp_path / f"lab-state{suffix}", output_dir / f"jupyterlab{suffix}.log"
            return stack.enter_context(harness.jupyter_lab(root_dir, state_dir, log, **kwargs))

        yield start


@pytest.fixture
def notebook7(tmp_path: Path, output_dir: Path) -> Iterator[Callable[..., harness.Server]]:
    """``notebook7(root_dir, extra_env=None, extra_args=())`` starts Notebook 7, like ``lab``."""
    numbers = itertools.count()
    with ExitStack() as stack:

        def start(root_dir: Path, **kwargs: Any) -> harness.Server:
            suffix = _suffix(next(numbers))
            state_dir = tmp_path / f"notebook-state{suffix}"
            log = output_dir / f"notebook{suffix}.log"
            return stack.enter_context(
                harness.jupyter_notebook(root_dir, state_dir, log, **kwargs)
            )

        yield start


@pytest.fixture
def voila(tmp_path: Path, output_dir: Path) -> Iterator[Callable[..., harness.Server]]:
    """``voila(notebook, extra_env=None, extra_args=())`` starts Voila; stopped at teardown."""
    numbers = itertools.count()
    with ExitStack() as stack:

        def start(notebook: Path, **kwargs: Any) -> harness.Server:
            suffix = _suffix(next(numbers))
            state_dir, log = tmp_path / f"voila-state{suffix}", output_dir / f"voila{suffix}.log"
            return stack.enter_context(harness.voila(notebook, state_dir, log, **kwargs))

        yield start


@pytest.fixture
def marimo(tmp_path: Path, output_dir: Path) -> Iterator[Callable[..., harness.Server]]:
    """``marimo(app, mode)`` starts ``marimo edit`` or ``marimo run``; stopped at teardown."""
    numbers = itertools.count()
    with ExitStack() as stack:

        def start(app: Path, mode: str, **kwargs: Any) -> harness.Server:
            suffix = _suffix(next(numbers))
            state_dir = tmp_path / f"marimo-state{suffix}"
            log = output_dir / f"marimo-{mode}{suffix}.log"
            return stack.enter_context(harness.marimo(app, mode, state_dir, log, **kwargs))

        yield start


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when != "call":
        return report
    pages = [page for page in item.stash.get(_PAGES, []) if not page.is_closed()]
    out_dir = item.stash.get(_OUTPUT, None)
    if not pages or out_dir is None:
        return report
    errors = [f"{page.url}: {error}" for page in pages for error in harness.record_of(page).errors]
    if errors and report.passed and item.get_closest_marker("allow_page_errors") is None:
        report.outcome = "failed"
        report.longrepr = (
            "uncaught page errors (mark the test allow_page_errors if expected):\n"
            + ("\n".join(errors))
        )
    if report.failed:
        for number, page in enumerate(pages):
            harness.save_page_record(page, out_dir, f"failure-page{number}")
            try:
                harness.screenshot(page, out_dir, f"failure-page{number}")
            except Exception as exc:  # the page may have crashed; the report matters more
                report.sections.append(("failure screenshot", f"page {number}: {exc}"))
        report.sections.append(("browser output", f"screenshots and console logs in {out_dir}"))
    return report

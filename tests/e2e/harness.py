"""Real servers and a real browser for end-to-end tests.

Servers: :func:`jupyter_lab`, :func:`jupyter_notebook` (Notebook 7) and :func:`voila` start the
server on 127.0.0.1 with per-test
Jupyter directories, wait until it answers, and stop it (and every process it spawned, kernels
included) on exit. The server's output goes to a log file; a server that fails to come up fails
the test with the tail of that log.

Browser: :func:`launch_browser` starts Debian's Chromium (Playwright cannot download one here)
and :func:`new_page` gives a hermetic page (no ``https://`` fetches) that records its console
messages and page errors. The pytest fixtures in ``conftest.py`` wrap these.

JupyterLab and Notebook 7: drive the app through ``window.jupyterapp`` (exposed by
``--LabApp.expose_app_in_browser``) rather than menus, whose items can still be disabled when a
click lands. The comments beside each choice below say why it was made.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright

HOST = "127.0.0.1"
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
LOG_TAIL_CHARS = 6000

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

_PR_SET_PDEATHSIG = 1


class ServerError(RuntimeError):
    """A server did not start; the message carries the tail of its log."""


@dataclass
class Server:
    """A running server: ``url`` ends with ``/``.

    ``notebook_route`` is where a notebook opens, under ``url``: ``lab/tree/`` in JupyterLab,
    ``notebooks/`` in Notebook 7 (unused by Voila, which serves one notebook at ``url``).
    """

    name: str
    url: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    notebook_route: str = "lab/tree/"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def free_port() -> int:
    """A TCP port that was free on 127.0.0.1 a moment ago (bind to port 0 and release it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:
    # Runs in the child between fork and exec: if the test process dies, even by SIGKILL,
    # the kernel sends the server SIGTERM, and the server shuts its kernels down.
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def jupyter_env(state_dir: Path, extra_env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for a server with its own Jupyter, JupyterLab and IPython directories.

    Without its own settings and workspaces directories, Lab restores whatever the last run
    left open. The notification settings stop the news toast that would cover the page.
    """
    dirs = {
        "JUPYTER_CONFIG_DIR": state_dir / "config",
        "JUPYTER_DATA_DIR": state_dir / "data",
        "JUPYTER_RUNTIME_DIR": state_dir / "runtime",
        "JUPYTERLAB_SETTINGS_DIR": state_dir / "lab-settings",
        "JUPYTERLAB_WORKSPACES_DIR": state_dir / "lab-workspaces",
        "IPYTHONDIR": state_dir / "ipython",
    }
    for path in dirs.values():
        path.mkdir(parents=True, exist_ok=True)
    notification = dirs["JUPYTERLAB_SETTINGS_DIR"] / "@jupyterlab" / "apputils-extension"
    notification.mkdir(parents=True, exist_ok=True)
    (notification / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )
    env = dict(os.environ)
    env.update({name: str(path) for name, path in dirs.items()})
    # Kernel specs name `python`: make it the interpreter running the tests.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["PYTHONUNBUFFERED"] = "1"
    env.pop("JUPYTER_TOKEN", None)
    if extra_env:
        env.update(extra_env)
    return env


def _descendants(pid: int) -> list[int]:
    """Every live descendant of ``pid``, children first."""
    try:
        import psutil
    except ImportError:
        return _descendants_from_proc(pid)
    try:
        return [child.pid for child in psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def _descendants_from_proc(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name may hold spaces and parentheses: fields resume after the last ")".
        ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found: list[int] = []
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _kill(pids: Sequence[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


def _stop(process: subprocess.Popen[bytes]) -> None:
    # Kernels run in process sessions of their own: note them before the server goes, since
    # they are reparented (and no longer findable as descendants) once it exits.
    leftovers = _descendants(process.pid)
    if process.poll() is None:
        # SIGTERM, not SIGINT: with no TTY on stdin, SIGINT asks a question nobody answers.
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            leftovers += _descendants(process.pid)
            process.kill()
            process.wait()
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline and any(_alive(pid) for pid in leftovers):
        time.sleep(0.05)
    _kill([pid for pid in leftovers if _alive(pid)])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still answers signal 0; it is dead for our purposes.
    with contextlib.suppress(OSError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat[stat.rindex(")") + 2] != "Z"
    return False


def _tail(path: Path) -> str:
    text = path.read_text(errors="replace") if path.exists() else ""
    return text[-LOG_TAIL_CHARS:]


def _wait_until_ready(
    name: str, process: subprocess.Popen[bytes], probe_url: str, log_path: Path, timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    last_error = "no answer yet"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerError(
                f"{name} exited with code {process.returncode} before it answered "
                f"{probe_url}; log {log_path}:\n{_tail(log_path)}"
            )
        try:
            with urllib.request.urlopen(probe_url, timeout=2) as response:
                if response.status == 200:
                    return
                last_error = f"HTTP {response.status}"
        except urllib.error.HTTPError as exc:
            last_error = f"HTTP {exc.code}"
        except (urllib.error.URLError, OSError) as exc:
            last_error = str(exc)
        time.sleep(0.1)
    raise ServerError(
        f"{name} did not answer {probe_url} with 200 within {timeout:.0f} s "
        f"(last: {last_error}); log {log_path}:\n{_tail(log_path)}"
    )


@contextlib.contextmanager
def _serve(
    name: str,
    argv: list[str],
    *,
    port: int,
    probe_path: str,
    cwd: Path,
    env: dict[str, str],
    log_path: Path,
    timeout: float,
    notebook_route: str = "lab/tree/",
) -> Iterator[Server]:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        log.write(f"$ {' '.join(argv)}\n".encode())
        log.flush()
        process = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,
        )
    server = Server(name, f"http://{HOST}:{port}/", port, process, log_path, notebook_route)
    try:
        _wait_until_ready(name, process, server.url + probe_path, log_path, timeout)
        yield server
    finally:
        _stop(process)


def _jupyter_server_args(root_dir: Path, port: int) -> list[str]:
    """What JupyterLab and Notebook 7 share: no token, 127.0.0.1 only, no fetches home."""
    return [
        "--no-browser",
        "--IdentityProvider.token=",
        "--ServerApp.password=",
        f"--ServerApp.ip={HOST}",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={root_dir}",
        "--allow-root",
        # Notebook 7 loads JupyterLab's server extension too: these keep both off the network.
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
    ]


@contextlib.contextmanager
def jupyter_lab(
    root_dir: Path,
    state_dir: Path,
    log_path: Path,
    *,
    extra_env: Mapping[str, str] | None = None,
    extra_args: Sequence[str] = (),
    timeout: float = READY_TIMEOUT,
) -> Iterator[Server]:
    """Run JupyterLab on 127.0.0.1 over ``root_dir`` until the block exits.

    ``state_dir`` receives the server's own config, runtime, settings, workspaces and IPython
    directories. Ready when ``GET /api/status`` answers 200. Raises :class:`ServerError` with
    the log's tail if it is not ready within ``timeout`` seconds.
    """
    port = free_port()
    argv = [
        sys.executable, "-m", "jupyterlab",
        *_jupyter_server_args(root_dir, port),
        "--LabApp.expose_app_in_browser=True",
        *extra_args,
    ]  # fmt: skip
    with _serve(
        "JupyterLab",
        argv,
        port=port,
        probe_path="api/status",
        cwd=root_dir,
        env=jupyter_env(state_dir, extra_env),
        log_path=log_path,
        timeout=timeout,
    ) as server:
        yield server


@contextlib.contextmanager
def jupyter_notebook(
    root_dir: Path,
    state_dir: Path,
    log_path: Path,
    *,
    extra_env: Mapping[str, str] | None = None,
    extra_args: Sequence[str] = (),
    timeout: float = READY_TIMEOUT,
) -> Iterator[Server]:
    """Run Notebook 7 (``jupyter notebook``) on 127.0.0.1 over ``root_dir`` until the block exits.

    Same directories, readiness probe and errors as :func:`jupyter_lab`. Notebook 7 is built
    from JupyterLab's components: with ``--JupyterNotebookApp.expose_app_in_browser`` its page
    has the same ``window.jupyterapp`` (shell, commands, notebook panel), so the JupyterLab
    helpers below drive it too; notebooks open under ``notebooks/``.
    """
    port = free_port()
    argv = [
        sys.executable, "-m", "notebook",
        *_jupyter_server_args(root_dir, port),
        "--JupyterNotebookApp.expose_app_in_browser=True",
        *extra_args,
    ]  # fmt: skip
    with _serve(
        "Notebook 7",
        argv,
        port=port,
        probe_path="api/status",
        cwd=root_dir,
        env=jupyter_env(state_dir, extra_env),
        log_path=log_path,
        timeout=timeout,
        notebook_route="notebooks/",
    ) as server:
        yield server


@contextlib.contextmanager
def voila(
    notebook: Path,
    state_dir: Path,
    log_path: Path,
    *,
    extra_env: Mapping[str, str] | None = None,
    extra_args: Sequence[str] = (),
    timeout: float = READY_TIMEOUT,
) -> Iterator[Server]:
    """Run Voila on 127.0.0.1 serving ``notebook`` at ``server.url`` until the block exits.

    Readiness is probed on ``/voila/static/voila.js``: every ``GET /`` runs the notebook in a
    new kernel, so only the browser may ask for it.
    """
    port = free_port()
    argv = [
        sys.executable, "-m", "voila",
        str(notebook),
        "--no-browser",
        f"--port={port}",
        f"--Voila.ip={HOST}",
        "--Voila.port_retries=0",
        *extra_args,
    ]  # fmt: skip
    with _serve(
        "Voila",
        argv,
        port=port,
        probe_path="voila/static/voila.js",
        cwd=notebook.parent,
        env=jupyter_env(state_dir, extra_env),
        log_path=log_path,
        timeout=timeout,
    ) as server:
        yield server


@contextlib.contextmanager
def marimo(
    app: Path,
    mode: str,
    state_dir: Path,
    log_path: Path,
    *,
    timeout: float = READY_TIMEOUT,
) -> Iterator[Server]:
    """Run ``marimo edit`` or ``marimo run`` (``mode``) on 127.0.0.1 serving ``app``.

    Headless, without a token or update check, with its own config and cache directories. In
    run mode every page visit gets a kernel of its own, a thread of the one server process;
    in edit mode the page opens at ``?file=<name>``. Ready when ``GET /health`` answers 200.
    """
    port = free_port()
    argv = [
        sys.executable, "-m", "marimo", mode, str(app),
        "--headless", f"--host={HOST}", f"--port={port}", "--no-token",
        *(["--skip-update-check"] if mode == "edit" else []),
    ]  # fmt: skip
    env = jupyter_env(state_dir)
    for name in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME"):
        path = state_dir / name.lower()
        path.mkdir(parents=True, exist_ok=True)
        env[name] = str(path)
    with _serve(
        f"marimo {mode}",
        argv,
        port=port,
        probe_path="health",
        cwd=app.parent,
        env=env,
        log_path=log_path,
        timeout=timeout,
        notebook_route=f"?file={app.name}" if mode == "edit" else "",
    ) as server:
        yield server


# --- browser -------------------------------------------------------------------------------


def chromium_path() -> str:
    path = shutil.which("chromium")
    if path is None:
        raise RuntimeError("Debian's chromium is not installed: apt-get install -y chromium")
    return path


def launch_browser(playwright: Playwright) -> Browser:
    """Headless Debian Chromium; each launch starts from a fresh temporary profile."""
    return playwright.chromium.launch(
        executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS
    )


@dataclass
class PageRecord:
    """What a page said: console lines and uncaught errors, in order."""

    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def new_page(browser: Browser, *, timeout_ms: float = 30_000) -> Page:
    """A page in a fresh context that never fetches ``https://`` and records what it says.

    The record is ``page.nbstate_record`` (a :class:`PageRecord`); see :func:`record_of`.
    """
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(timeout_ms)
    # `https://**` alone matches nothing; the trailing `/*` is needed.
    context.route("https://**/*", lambda route: route.abort())
    page = context.new_page()
    record = PageRecord()

    def on_console(message: ConsoleMessage) -> None:
        record.console.append(f"[{message.type}] {message.text}")

    def on_error(error: Exception) -> None:
        record.errors.append(str(error) or repr(error))

    page.on("console", on_console)
    page.on("pageerror", on_error)
    page.nbstate_record = record  # type: ignore[attr-defined]
    return page


def record_of(page: Page) -> PageRecord:
    record: PageRecord = page.nbstate_record  # type: ignore[attr-defined]
    return record


def safe_name(name: str) -> str:
    """A file-system-safe form of a test or screenshot name."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "unnamed"


def screenshot(page: Page, out_dir: Path, name: str) -> Path:
    """Save a full-page PNG as ``out_dir/<name>.png`` and return its path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{safe_name(name)}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def save_page_record(page: Page, out_dir: Path, name: str) -> Path:
    """Write the page's console lines and page errors to ``out_dir/<name>.log``."""
    record = record_of(page)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{safe_name(name)}.log"
    lines = [f"url: {page.url}", "", "page errors:", *record.errors, "", "console:"]
    path.write_text("\n".join([*lines, *record.console]) + "\n")
    return path


# --- JupyterLab and Notebook 7 -------------------------------------------------------------

_CURRENT_NOTEBOOK_READY = """(path) => {
    const widget = window.jupyterapp?.shell?.currentWidget;
    return widget?.context?.path === path
        && widget.sessionContext?.session?.kernel?.status === 'idle';
}"""

_KERNEL_IDLE = """() => {
    const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session?.kernel;
    return kernel?.status === 'idle';
}"""

_RUN_ALL = """async () => {
    await window.jupyterapp.commands.execute('notebook:run-all-cells');
}"""

_INSERT_AND_RUN = """async (code) => {
    const app = window.jupyterapp;
    const notebook = app.shell.currentWidget.content;
    notebook.activeCellIndex = notebook.widgets.length - 1;
    await app.commands.execute('notebook:insert-cell-below');
    const cell = notebook.activeCell;
    cell.model.sharedModel.setSource(code);
    await app.commands.execute('notebook:run-cell');
    return notebook.activeCellIndex;
}"""

_CELL_DONE = """([index, wantOutput]) => {
    const panel = window.jupyterapp.shell.currentWidget;
    const cell = panel.content.widgets[index];
    const kernel = panel.sessionContext.session?.kernel;
    return kernel?.status === 'idle'
        && cell.model.executionCount !== null
        && (!wantOutput || cell.model.outputs.length > 0);
}"""

_CELL_OUTPUTS = """(index) => {
    const notebook = window.jupyterapp.shell.currentWidget.content;
    const cell = index === null ? notebook.widgets[notebook.widgets.length - 1]
                                : notebook.widgets[index];
    return cell.model.outputs.toJSON();
}"""


def open_notebook(page: Page, server: Server, path: str, *, timeout_ms: float = 60_000) -> None:
    """Open a notebook and wait until it is the current widget with an idle kernel.

    ``path`` is relative to the server's root dir, with ``/`` separators; the page is
    ``/lab/tree/<path>`` in JupyterLab and ``/notebooks/<path>`` in Notebook 7.
    """
    page.goto(f"{server.url}{server.notebook_route}{path}")
    page.wait_for_function(_CURRENT_NOTEBOOK_READY, arg=path, timeout=timeout_ms)


def wait_for_kernel_idle(page: Page, *, timeout_ms: float = 30_000) -> None:
    page.wait_for_function(_KERNEL_IDLE, timeout=timeout_ms)


def run_all_cells(page: Page, *, timeout_ms: float = 60_000) -> None:
    """Run every cell of the current notebook; returns when all of them ran."""
    # evaluate() has no timeout of its own; the command resolves when the last cell finished.
    page.evaluate(_RUN_ALL)
    wait_for_kernel_idle(page, timeout_ms=timeout_ms)


def run_code_in_new_cell(
    page: Page, code: str, *, expect_output: bool = True, timeout_ms: float = 30_000
) -> list[dict[str, Any]]:
    """Append a code cell holding ``code``, run it, and return its outputs.

    Outputs are nbformat output dicts (``cell.model.outputs.toJSON()``), e.g.
    ``[{"output_type": "execute_result", "data": {"text/plain": "3"}, ...}]``. Waits for the
    kernel to go idle and, unless ``expect_output`` is false, for at least one output.
    """
    index = page.evaluate(_INSERT_AND_RUN, code)
    page.wait_for_function(_CELL_DONE, arg=[index, expect_output], timeout=timeout_ms)
    outputs: list[dict[str, Any]] = page.evaluate(_CELL_OUTPUTS, index)
    return outputs


def output_text(outputs: Sequence[Mapping[str, Any]]) -> str:
    """The text of the last output: ``text/plain`` of a result, a stream's text, or a traceback.

    Raises AssertionError if there are no outputs or the last one has no text.
    """
    assert outputs, "the cell has no outputs"
    last = outputs[-1]
    kind = last.get("output_type")
    if kind in ("execute_result", "display_data"):
        text = last.get("data", {}).get("text/plain")
    elif kind == "stream":
        text = last.get("text")
    elif kind == "error":
        text = f"{last.get('ename')}: {last.get('evalue')}"
    else:
        text = None
    assert text is not None, f"the last output has no text: {last!r}"
    return "".join(text) if isinstance(text, list) else str(text)


def last_output_text(page: Page) -> str:
    """The text/plain (or stream text) of the last output of the notebook's last cell."""
    return output_text(page.evaluate(_CELL_OUTPUTS, None))


def kernel_value(page: Page, expression: str, *, timeout_ms: float = 30_000) -> str:
    """``repr`` of ``expression`` evaluated in the notebook's kernel, via a new cell."""
    return output_text(run_code_in_new_cell(page, expression, timeout_ms=timeout_ms))

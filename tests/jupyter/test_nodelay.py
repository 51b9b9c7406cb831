"""nbstate.jupyter.nodelay: TCP_NODELAY on kernel WebSockets in real JupyterLab and Voila servers.

Each server runs under ``tests/e2e/harness.py``: a subprocess on 127.0.0.1 with its own Jupyter
and IPython directories, logging at ``--debug`` level.
A raw WebSocket client opens a kernel's ``/api/kernels/<id>/channels`` (the kernel Voila
started for the page, whose id the page embeds) and times ``kernel_info_request`` round trips.
The assertions read the option on the server's side of that connection, two ways: the debug
line the extension logs after reading it back, and, where Linux lets this process borrow the
server's descriptor (pidfd_getfd), straight from the server's socket. Timings are printed, not
asserted: they depend on the machine.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import os
import re
import socket
import statistics
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
import websocket  # websocket-client, a jupyter_server dependency
from jupyter_server.gateway.connections import GatewayWebSocketConnection
from jupyter_server.services.kernels.connection.channels import ZMQChannelsWebsocketConnection

from nbstate.jupyter.nodelay import (
    NoDelayConnectionMixin,
    NoDelayWebsocketConnection,
    nodelay_connection_class,
)
from tests.e2e import harness

REPO = Path(__file__).resolve().parents[2]
SERVER_CONFIG = REPO / "jupyter-config" / "jupyter_server_config.d" / "nbstate.json"
VOILA_CONFIG = REPO / "jupyter-config" / "voila.json"
APPLIED = re.compile(r"nbstate: TCP_NODELAY=(\S+) on the WebSocket of kernel ([0-9a-f-]{36})")
ROUND_TRIPS = 30
NOTEBOOK = {
    "nbformat": 4,
    "nbformat_minor": 5,
    "metadata": {},
    "cells": [
        {
            "cell_type": "code",
            "id": "one",
            "source": "x = 1",
            "metadata": {},
            "outputs": [],
            "execution_count": None,
        }
    ],
}


# --- unit: the connection class --------------------------------------------------------------


def test_zmq_connection_maps_to_the_importable_class() -> None:
    assert nodelay_connection_class(ZMQChannelsWebsocketConnection) is NoDelayWebsocketConnection


def test_other_connection_classes_are_extended_once() -> None:
    cls = nodelay_connection_class(GatewayWebSocketConnection)
    assert cls.__name__ == "NoDelayGatewayWebSocketConnection"
    assert cls.__mro__[1:3] == (NoDelayConnectionMixin, GatewayWebSocketConnection)
    assert nodelay_connection_class(GatewayWebSocketConnection) is cls
    assert nodelay_connection_class(cls) is cls


def test_base_config_sections_still_apply() -> None:
    assert "ZMQChannelsWebsocketConnection" in NoDelayWebsocketConnection.section_names()


# --- real servers ----------------------------------------------------------------------------


def _lab(tmp: Path, *extra: str) -> contextlib.AbstractContextManager[harness.Server]:
    # no config of the test's own: the installed jupyter_server_config.d entry switches it on
    args = ["--debug", "--ServerApp.disable_check_xsrf=True", *extra]
    return harness.jupyter_lab(tmp, tmp / "home", tmp / "server.log", extra_args=args)


def _voila(tmp: Path, *extra: str) -> contextlib.AbstractContextManager[harness.Server]:
    # no voila.json of the test's own: the one the package installs must switch it on
    notebook = tmp / "app.ipynb"
    notebook.write_text(json.dumps(NOTEBOOK))
    return harness.voila(notebook, tmp / "home", tmp / "server.log", extra_args=["--debug", *extra])


def _lab_kernel(server: harness.Server) -> str:
    request = urllib.request.Request(
        f"{server.url}api/kernels",
        data=json.dumps({"name": "python3"}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        kernel_id: str = json.load(response)["id"]
        return kernel_id


def _voila_kernel(server: harness.Server) -> str:
    with urllib.request.urlopen(server.url, timeout=60) as response:  # runs the notebook
        page: str = response.read().decode()
    found = re.search(r'"kernelId": "([0-9a-f-]{36})"', page)
    assert found, "Voila's page embeds no kernelId"
    return found.group(1)


# --- the client side -------------------------------------------------------------------------


def _round_trip(ws: websocket.WebSocket, session: str) -> float:
    """Milliseconds from sending kernel_info_request until its reply and ``idle`` arrived."""
    msg_id = uuid.uuid4().hex
    header = {
        "msg_id": msg_id,
        "msg_type": "kernel_info_request",
        "session": session,
        "username": "test",
        "version": "5.3",
        "date": "",
    }
    message = {"header": header, "parent_header": {}, "metadata": {}, "content": {}}
    start = time.perf_counter()
    ws.send(json.dumps({**message, "channel": "shell", "buffers": []}))
    replied = idle = False
    while not (replied and idle):
        reply = json.loads(ws.recv())
        if reply["parent_header"].get("msg_id") != msg_id:
            continue
        replied = replied or reply["msg_type"] == "kernel_info_reply"
        idle = idle or reply["content"].get("execution_state") == "idle"
    return (time.perf_counter() - start) * 1000


@dataclass
class Measured:
    kernel_id: str
    median_ms: float
    server_nodelay: bool | None  # read from the server's socket; None where not permitted


def _measure(server: harness.Server, kernel_id: str) -> Measured:
    session = uuid.uuid4().hex
    channels = f"api/kernels/{kernel_id}/channels?session_id={session}"
    ws = websocket.create_connection(f"ws://{harness.HOST}:{server.port}/{channels}", timeout=30)
    try:
        for _ in range(3):  # warm-up: the kernel's first replies are slow
            _round_trip(ws, session)
        times = [_round_trip(ws, session) for _ in range(ROUND_TRIPS)]
        assert ws.sock is not None
        nodelay = _server_side_nodelay(server.process.pid, ws.sock.getsockname())
    finally:
        ws.close()
    return Measured(kernel_id, statistics.median(times), nodelay)


_SYS_PIDFD_GETFD = 438  # same number on every Linux architecture


def _server_side_nodelay(server_pid: int, client_address: tuple[str, int]) -> bool | None:
    """TCP_NODELAY of the server's end of the connection from ``client_address``.

    Borrows the server's descriptor with pidfd_getfd(2) (Linux 5.6+, ptrace permission over a
    child). Returns None where that is not permitted.
    """
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None, use_errno=True)
    pidfd = os.pidfd_open(server_pid)
    try:
        for entry in list(os.scandir(f"/proc/{server_pid}/fd")):
            with contextlib.suppress(OSError):
                if not os.readlink(entry.path).startswith("socket:"):
                    continue
            fd = libc.syscall(_SYS_PIDFD_GETFD, pidfd, int(entry.name), 0)
            if fd < 0:
                if ctypes.get_errno() in (errno.EPERM, errno.EACCES, errno.ENOSYS):
                    return None
                continue  # closed in the meantime
            with socket.socket(fileno=fd) as borrowed:
                try:
                    if borrowed.getpeername() != client_address:
                        continue
                except OSError:
                    continue
                return bool(borrowed.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
    finally:
        os.close(pidfd)
    raise AssertionError(f"no socket of server {server_pid} is connected to {client_address}")


def _check(server: harness.Server, measured: Measured, *, enabled: bool, app: str) -> None:
    state = "nodelay" if enabled else "stock"
    print(f"{app} {state}: median kernel_info round trip {measured.median_ms:.1f} ms")
    log = server.log()
    applied = {kernel: value for value, kernel in APPLIED.findall(log)}
    if enabled:
        assert "nbstate: TCP_NODELAY on for kernel WebSockets" in log
        assert applied.get(measured.kernel_id) == "1", log
    else:
        assert "nbstate: NbStateNoDelay.enabled is False" in log
        assert not applied, log
    if measured.server_nodelay is None:
        print("pidfd_getfd not permitted here; the server log is the only read-back")
    else:
        assert measured.server_nodelay is enabled


@pytest.mark.kernel
@pytest.mark.parametrize("enabled", [True, False], ids=["nodelay", "disabled"])
def test_jupyterlab_kernel_websocket(tmp_path: Path, enabled: bool) -> None:
    with _lab(tmp_path, f"--NbStateNoDelay.enabled={enabled}") as server:
        kernel_id = _lab_kernel(server)
        _check(server, _measure(server, kernel_id), enabled=enabled, app="JupyterLab")


@pytest.mark.kernel
@pytest.mark.parametrize("enabled", [True, False], ids=["nodelay", "disabled"])
def test_voila_kernel_websocket(tmp_path: Path, enabled: bool) -> None:
    with _voila(tmp_path, f"--NbStateNoDelay.enabled={enabled}") as server:
        kernel_id = _voila_kernel(server)
        _check(server, _measure(server, kernel_id), enabled=enabled, app="Voila")


@pytest.mark.parametrize("config", [SERVER_CONFIG, VOILA_CONFIG], ids=lambda p: p.name)
def test_install_enables_the_extension(config: Path) -> None:
    """pip install puts the config where jupyter_server and Voila read it, so it is on."""
    rel = config.relative_to(REPO / "jupyter-config")
    installed = Path(sys.prefix) / "etc" / "jupyter" / rel
    assert installed.is_file(), f"{installed} missing: reinstall with pip install -e ."
    assert json.loads(installed.read_text()) == json.loads(config.read_text())

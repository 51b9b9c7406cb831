"""TCP_NODELAY on kernel WebSockets, for jupyter_server (JupyterLab, Notebook 7) and Voila.

Why: a kernel reply reaches the browser as several small WebSocket frames (``status: busy``,
the reply or ``comm_msg``, ``status: idle``). Stock jupyter_server and Voila never set
TCP_NODELAY on the kernel WebSocket, so Nagle's algorithm holds every frame after the first
until the browser's delayed ACK: each round trip stalls ~40 ms although the kernel answers in
under a millisecond. With the option on, the same round trip takes a few milliseconds.

Where: tornado documents ``WebSocketHandler.set_nodelay(True)`` "once the websocket connection
is established". Setting it any earlier does not last: tornado turns Nagle's algorithm back on
when it finishes the HTTP upgrade response. The kernel WebSocket handler of both servers calls
``connect()`` on its connection object from ``open()``, and the connection class is a
documented configurable in both (``ServerApp.kernel_websocket_connection_class``,
``Voila.kernel_websocket_connection_class``). So nbstate hooks there: a subclass turns the
option on, then connects exactly as the class it extends. No class is patched.

How it is enabled:

- jupyter_server loads this module as a server extension (``nbstate.jupyter.nodelay``, enabled
  by ``jupyter-config/jupyter_server_config.d/nbstate.json``). At load it swaps the web app's
  connection class for a subclass of that same class, so the ZMQ connection, the gateway
  connection or a user's own class keep working, config sections included. The
  ``ServerApp.kernel_websocket_connection_class`` trait keeps the original.
- Voila run standalone loads no server extensions; there, set
  ``Voila.kernel_websocket_connection_class =
  "nbstate.jupyter.nodelay.NoDelayWebsocketConnection"`` in a ``voila.json`` on the Jupyter
  config path, or on the command line.

The switch is ``NbStateNoDelay.enabled`` (default ``True``). ``--NbStateNoDelay.enabled=False``
on either command line, or ``c.NbStateNoDelay.enabled = False`` in config, keeps stock
behaviour (Nagle's algorithm on). The first use in a process logs one info line saying which
way it is; every connection reads the option back from its socket and logs it at debug level.

This module imports nothing from nbstate's core: it runs inside the server process, not the
kernel.
"""

from __future__ import annotations

import socket
import types
from functools import cache
from typing import TYPE_CHECKING, Any

from jupyter_server.services.kernels.connection.base import BaseKernelWebsocketConnection
from jupyter_server.services.kernels.connection.channels import ZMQChannelsWebsocketConnection
from traitlets import Bool
from traitlets.config import LoggingConfigurable

if TYPE_CHECKING:
    import logging

    from jupyter_server.serverapp import ServerApp
    from tornado.websocket import WebSocketHandler

__all__ = [
    "NbStateNoDelay",
    "NoDelayConnectionMixin",
    "NoDelayWebsocketConnection",
    "nodelay_connection_class",
    "set_nodelay",
]

_TCP_FAMILIES = (socket.AF_INET, socket.AF_INET6)
_announced = False


class NbStateNoDelay(LoggingConfigurable):
    """Config section of nbstate's TCP_NODELAY hook for kernel WebSockets."""

    enabled = Bool(
        True,
        help=(
            "Set TCP_NODELAY on each kernel WebSocket once it is open, so the small frames "
            "of a kernel reply leave at once instead of waiting ~40 ms for the browser's "
            "delayed ACK. False keeps stock behaviour (Nagle's algorithm on)."
        ),
    ).tag(config=True)


def set_nodelay(handler: WebSocketHandler) -> bool | None:
    """Turn TCP_NODELAY on for an open WebSocket; return the value read back from its socket.

    Returns ``None`` and changes nothing when the WebSocket is not open or does not run over
    TCP (a server listening on a Unix socket).
    """
    protocol = handler.ws_connection
    stream = protocol.stream if protocol is not None else None
    if stream is None or stream.closed() or stream.socket.family not in _TCP_FAMILIES:
        return None
    handler.set_nodelay(True)
    try:
        return bool(stream.socket.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
    except OSError:  # the peer went away in between
        return None


def _announce(log: logging.Logger | logging.LoggerAdapter[Any], enabled: bool) -> None:
    global _announced
    if _announced:
        return
    _announced = True
    if enabled:
        log.info("nbstate: TCP_NODELAY on for kernel WebSockets (NbStateNoDelay.enabled)")
    else:
        log.info("nbstate: NbStateNoDelay.enabled is False; kernel WebSockets keep Nagle on")


class NoDelayConnectionMixin(BaseKernelWebsocketConnection):
    """Mixin for a kernel WebSocket connection class: TCP_NODELAY on, then connect as usual.

    Put it first in the bases, before the connection class it extends.
    """

    def connect(self) -> Any:
        """Set TCP_NODELAY unless ``NbStateNoDelay.enabled`` is False, then connect as the base.

        The handler calls this from ``open()``, after the upgrade response, where the option
        lasts. Whatever the base ``connect`` returns (a future, a coroutine) is returned as is.
        """
        enabled = NbStateNoDelay(parent=self).enabled
        _announce(self.log, enabled)
        if enabled:
            applied = set_nodelay(self.websocket_handler)
            self.log.debug(
                "nbstate: TCP_NODELAY=%s on the WebSocket of kernel %s",
                "n/a" if applied is None else int(applied),
                self.kernel_id,
            )
        return super().connect()  # type: ignore[no-untyped-call]


class NoDelayWebsocketConnection(NoDelayConnectionMixin, ZMQChannelsWebsocketConnection):
    """jupyter_server's ZMQ kernel WebSocket connection with TCP_NODELAY on.

    The class to name in ``Voila.kernel_websocket_connection_class``; config for
    ``ZMQChannelsWebsocketConnection`` still applies to it.
    """


@cache
def nodelay_connection_class(
    base: type[BaseKernelWebsocketConnection],
) -> type[BaseKernelWebsocketConnection]:
    """Return ``base`` extended by :class:`NoDelayConnectionMixin`.

    ``base`` itself when it already has the mixin, :class:`NoDelayWebsocketConnection` for the
    ZMQ connection, else a subclass named ``NoDelay<base name>``. Config sections written for
    ``base`` apply to the result too (traitlets reads every section along the MRO).
    """
    if issubclass(base, NoDelayConnectionMixin):
        return base
    if base is ZMQChannelsWebsocketConnection:
        return NoDelayWebsocketConnection
    cls = types.new_class(f"NoDelay{base.__name__}", (NoDelayConnectionMixin, base))
    cls.__module__ = __name__
    cls.__doc__ = f"{base.__qualname__} with TCP_NODELAY on (see {__name__})."
    subclass: type[BaseKernelWebsocketConnection] = cls
    return subclass


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": __name__}]


def _load_jupyter_server_extension(serverapp: ServerApp) -> None:
    enabled = NbStateNoDelay(parent=serverapp).enabled
    _announce(serverapp.log, enabled)
    if not enabled:
        return
    settings = serverapp.web_app.settings
    base = settings.get("kernel_websocket_connection_class")
    if base is None:
        base = serverapp.kernel_websocket_connection_class
    settings["kernel_websocket_connection_class"] = nodelay_connection_class(base)

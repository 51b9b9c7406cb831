"""The WebSocket adapter: a state graph served without Jupyter (Starlette, uvicorn).

``nbstate.server.app(Todo)`` is a Starlette app: ``GET /`` renders ``Todo``'s view with the same
runtime as in Jupyter, and ``/_nbstate/ws`` carries the JSON frames of
:mod:`nbstate.protocol`. ``nbstate serve TARGET:STATE`` runs it with uvicorn.

This package imports Starlette; ``import nbstate`` never imports it.
"""

from __future__ import annotations

from .app import app

__all__ = ["app"]

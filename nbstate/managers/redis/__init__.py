"""The Redis state manager: sessions shared by several server processes, without sticky routing.

``nbstate serve app.py:Todo --manager redis://127.0.0.1:6379/0`` in as many processes as
wanted: a client may connect to any of them and move between them with its token and revision.
See :mod:`.manager` (what it promises), :mod:`.scripts` (the keys, readable with
``redis-cli``), :mod:`.lease` (the fenced lock), :mod:`.cache` (this process's copy),
:mod:`.sync` (a section of work), :mod:`.inbox` (answers stored with the state, resends),
:mod:`.locks` (the sections of other work) and :mod:`.delivery` (deltas to clients in revision
order, across processes).

This package imports redis-py (``pip install 'nbstate[redis]'``); ``import nbstate`` and
``import nbstate.managers`` never do.
"""

from __future__ import annotations

from .errors import FencedWriteError, RedisUnavailableError, SessionBusyError
from .manager import RedisManager

__all__ = ["FencedWriteError", "RedisManager", "RedisUnavailableError", "SessionBusyError"]

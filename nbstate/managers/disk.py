"""The disk manager: each session written to ``DIR/<token>.json`` after it changes.

The file is :meth:`nbstate.Session.dump`'s JSON, written to a temporary file and renamed into
place, so a crash never leaves half a file. A backend var whose value has no JSON form cannot be
stored: the write fails with a :class:`~nbstate.VarTypeError` naming ``state.var`` and the fix,
reported to the session's clients at once rather than lost at some later save.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

from ..session import Session
from .base import StateManager, valid_token

__all__ = ["DiskManager"]


class DiskManager(StateManager):
    """Sessions kept in memory and on disk under ``directory``.

    Args:
        directory: where the session files go (made if missing).
        ttl: seconds an idle session stays in memory (its file stays).
    """

    def __init__(self, directory: str | os.PathLike[str], *, ttl: float = 3600.0,
                 flush_interval: float = 1 / 60) -> None:
        super().__init__(ttl=ttl, flush_interval=flush_interval)
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)

    stores = True

    def _file(self, token: str) -> Path:
        return self.directory / f"{token}.json"

    async def changed(self, token: str) -> None:
        """Write the session of ``token``.

        Raises:
            VarTypeError: a backend var holds a value with no JSON form.
        """
        entry = self._live.get(token)
        if entry is None:
            return
        text = json.dumps(entry.session.dump(), ensure_ascii=False)
        await asyncio.to_thread(self._write, self._file(token), text)

    @staticmethod
    def _write(path: Path, text: str) -> None:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)

    async def load(self, token: str) -> Session | None:
        if not valid_token(token):
            return None
        path = self._file(token)
        try:
            text = await asyncio.to_thread(path.read_text, encoding="utf-8")
        except FileNotFoundError:
            return None
        session = Session(flush_interval=self.flush_interval)
        session.load(json.loads(text))  # what no longer fits: one StateMigrationWarning
        return session

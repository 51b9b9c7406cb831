"""``ns.db.session()``: an ``AsyncSession`` per call, committed and rolled back with the state.

Use it as ``async with ns.db.session() as db:``. Each call opens a new
``sqlalchemy.ext.asyncio.AsyncSession`` on the engine of :mod:`nbstate.db.engine` (with
``expire_on_commit=False``: rows read before a commit keep their values) and closes it when its
work is over. Never keep it in a var: a state holds data, and a session is a live connection
(keeping one is refused, naming the var).

When its work commits:

- **Outside event handlers** (a notebook cell, a background handler, a script): the block is
  the transaction: it commits when the block exits cleanly and rolls back when it raises.
- **Inside an event handler** the session joins the handler's transaction
  (:class:`nbstate.context.Transaction`): its work commits at the handler's flush points — each
  ``yield`` and the return — just before the state's changes of that step are flushed, and is
  rolled back together with them when the handler raises, is cancelled or interrupted. So a
  failed handler leaves neither its rows nor its state changes behind, and what a client was
  shown is what the database holds. When the block exits, its pending writes are flushed to the
  database (so an integrity error is raised in the handler, where it can be caught), and the
  session stays open, holding its transaction, until the next flush point.

Two consequences of committing at flush points, both as in any transaction:

- Another session sees a handler's writes only once they are committed: a second
  ``ns.db.session()`` in the same handler does not see what the first wrote since the last flush
  point (and, on SQLite, waits for the first one's write lock). Read back in the session that
  wrote, or chain the read (``yield Book.search``) or put it after a ``yield``.
- A handler that writes and then waits long (an ``await`` on a slow API) holds its write
  transaction, and on SQLite the database's write lock, until its next flush point: ``yield``
  before the slow part, as for showing progress.

Background handlers have no handler-wide transaction: a session there commits at its own block's
exit, like outside handlers, whether or not the block is inside ``async with self``.
"""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncSession

from .. import context
from .engine import engine

__all__ = ["SessionBlock", "session"]


class SessionBlock:
    """What :func:`session` returns: ``async with`` it for an ``AsyncSession``.

    It is the session's participant in the running handler's transaction, if any.
    """

    __slots__ = ("_db", "_exited", "_tx")

    def __init__(self) -> None:
        self._db: AsyncSession | None = None
        self._tx: context.Transaction | None = None
        self._exited = False

    def __repr__(self) -> str:
        where = "in a handler" if self._tx is not None else "on its own"
        return f"<nbstate.db session {where}{', exited' if self._exited else ''}>"

    async def __aenter__(self) -> AsyncSession:
        if self._db is not None:
            raise RuntimeError("an nbstate.db.session() block is entered once; call "
                               "ns.db.session() again for another session")
        self._db = AsyncSession(engine(), expire_on_commit=False)
        tx = context.transaction.get()
        self._tx = tx if tx is not None and tx.join(self) else None
        return self._db

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        db = self._db
        assert db is not None
        self._exited = True
        if kind is not None:
            await self.rollback()
            return
        if self._tx is None or self._tx.closed:  # on its own: the block is the transaction
            try:
                await db.commit()
            except BaseException:
                await self.rollback()
                raise
            await db.close()
            self._leave()
            return
        if db.new or db.deleted or db.dirty:
            try:
                await db.flush()  # errors of this block's writes surface here, in the handler
            except BaseException:
                await self.rollback()
                raise

    async def commit(self) -> None:
        """The handler reached a flush point: commit; a block that has exited is then closed."""
        db = self._db
        assert db is not None
        await db.commit()
        if self._exited:
            await db.close()
            self._leave()

    async def rollback(self) -> None:
        """The block or the handler failed: undo the work since the last commit and close."""
        db = self._db
        assert db is not None
        try:
            await db.rollback()
        finally:
            await db.close()
            self._leave()

    def _leave(self) -> None:
        if self._tx is not None:
            self._tx.leave(self)


def session() -> SessionBlock:
    """A new database session for ``async with``: ``async with ns.db.session() as db: ...``.

    See the module docstring for when its work commits.
    """
    return SessionBlock()

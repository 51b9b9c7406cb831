"""``redis_app.py`` after a deploy that changed its class: ``n`` is now a list, ``label`` new."""

from __future__ import annotations

import nbstate as ns


class RsCounter(ns.State):
    n: list[int] = []
    applied: list[int] = []
    label: str = "new"

    def inc(self, k: int) -> None:
        self.n.append(k)
        self.applied.append(k)

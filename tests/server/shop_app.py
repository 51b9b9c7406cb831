"""The app the server tests serve: ``nbstate serve tests/server/shop_app.py:SvShop``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import nbstate as ns


class SvShop(ns.State):
    items: list[str] = []
    draft: str = ""
    saving: bool = False
    _visits: int = 0

    @ns.computed
    def count(self) -> int:
        return len(self.items)

    async def add(self) -> AsyncIterator[None]:
        self.saving = True
        yield
        await asyncio.sleep(0.1)  # long enough for the view to show it
        self.items.append(self.draft)
        self.draft, self.saving = "", False

    def put(self, text: str) -> None:
        self.items.append(text)

    def boom(self) -> None:
        self.items.append("half")
        raise ValueError("out of stock")


class SvFilter(SvShop):
    query: str = ""

    @ns.computed
    def matches(self) -> list[str]:
        return [t for t in self.items if self.query in t]

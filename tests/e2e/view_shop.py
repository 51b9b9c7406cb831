"""The state the default view's tests drive: a shop with a var of every kind the view knows.

``SHOP`` is notebook cell source. The JS unit tests read its ``_nb_spec`` from
``js/tests/data/shop_spec.json``, which ``tests/jupyter/test_spec.py`` keeps equal to what
the kernel writes, so they test the view against pydantic's real schemas.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

SHOP = '''\
import asyncio
import datetime as dt
import enum
from typing import Annotated, Literal

import pydantic

import nbstate as ns


class Category(enum.Enum):
    TOOLS = "tools"
    GARDEN = "garden"
    KITCHEN = "kitchen"


class Item(pydantic.BaseModel):
    name: str
    qty: int = pydantic.Field(0, ge=0)
    price: float = 0.0
    category: Category = Category.TOOLS


class Address(pydantic.BaseModel):
    street: str = ""
    city: str = ""
    zip_code: str = pydantic.Field("", title="ZIP code")


class Shop(ns.State):
    """Stock of a small shop."""

    name: str = "Hardware"
    category: Category = Category.TOOLS
    size: Literal["small", "medium", "large"] = "medium"
    min_stock: Annotated[int, pydantic.Field(ge=0, le=50,
                                             description="Items below this are restocked")] = 5
    markup: float = 1.25
    is_open: bool = pydantic.Field(True, title="Open now")
    opens_at: dt.datetime = dt.datetime(2024, 5, 1, 9, 0)
    audit_day: dt.date = dt.date(2024, 6, 30)
    items: list[Item] = [Item(name="hammer", qty=13, price=9.5),
                         Item(name="rake", qty=2, price=14.0, category=Category.GARDEN)]
    prices: dict[str, float] = {"hammer": 9.5, "rake": 14.0}
    address: Address = Address(street="1 Main St", city="Oslo", zip_code="0150")
    progress: float = ns.var(0.0, read_only=True)
    restocks: int = ns.var(0, read_only=True)
    notes: str = ns.var("for custom views", hidden=True)

    @ns.computed
    def summary(self) -> str:
        units = sum(item.qty for item in self.items)
        return (f"{self.name} ({self.size}, {self.category.value}): {len(self.items)} lines, "
                f"{units} units, opens {self.opens_at:%Y-%m-%d %H:%M}, audit {self.audit_day}, "
                f"{self.address.city}")

    @ns.computed
    def catalogue(self) -> str:
        return ", ".join(f"{name} {price:g}" for name, price in self.prices.items())

    @ns.computed
    def low(self) -> list[str]:
        """Items below the minimum stock."""
        return [i.name for i in self.items if i.qty < self.min_stock]

    async def restock(self):
        """Bring every item up to the minimum stock (slow)."""
        for step in range(4):
            self.progress = (step + 1) / 4
            yield
            await asyncio.sleep(0.25)
        for item in self.items:
            item.qty = max(item.qty, self.min_stock)
        self.restocks += 1
        self.progress = 0.0

    def add_item(self, item: Item):
        """Add a line to the stock."""
        if not item.name.strip():
            raise ValueError("an item needs a name")
        self.items.append(item)

    def rename(self, name: Annotated[str, pydantic.Field(description="Shown on the sign")]):
        if not name.strip():
            raise ValueError("a shop needs a name")
        self.name = name

    def tag(self, labels: list[str], reprice: dict[str, float] = {}):
        """Reprice items; labels are noted."""
        self.prices.update(reprice)
'''


def notebook(*cells: str) -> nbformat.NotebookNode:
    """A notebook of these code cells, with a Python 3 kernelspec."""
    nb: nbformat.NotebookNode = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    return nb


def write_notebook(path: Path, *cells: str) -> Path:
    nbformat.write(notebook(*cells), path)
    return path

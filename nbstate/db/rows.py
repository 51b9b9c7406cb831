"""Mapped classes, and their rows as plain values a state can hold.

:class:`Model` is a SQLAlchemy 2 declarative base (typed ``Mapped[...]`` columns,
``mapped_column``), with one addition: a mapped class can type a var. ``contacts:
list[Contact]`` holds each row as an instance of the class's **row model** (:func:`row_model`),
a pydantic model with one field per mapped column:

- its values are plain and detached from every database session: no lazy load, nothing that
  holds a connection, so it is tracked like any nested pydantic model (``contact.name = "x"`` is
  one ``replace`` op), encoded to JSON for clients and stored by state managers like any var;
- assigning ORM instances (``self.contacts = list(rows)``) validates their loaded column values
  into rows; a column that is not loaded (expired after a commit, or deferred) is an error that
  names it, rather than a query run behind the user's back; a dict of column values (a stored
  session, a client) validates too;
- a field's type is its column's Python type (``None`` allowed when the column is nullable, or
  gets its value from the database on insert: an autoincrement primary key, a server default);
  a column with a scalar default has that default.

Relationships are not part of a row: load what a view needs into vars of its own.

To write a row back, :func:`orm` makes a transient instance of the mapped class with the row's
values (``await db.merge(ns.db.orm(contact))`` updates the row with that primary key).
"""

from __future__ import annotations

import functools
from typing import Any, ClassVar, TypeVar

import pydantic
import sqlalchemy
from pydantic_core import CoreSchema, core_schema
from sqlalchemy.orm import DeclarativeBase

from ..plain import untrack

__all__ = ["Model", "Row", "orm", "row_model"]

T = TypeVar("T")


class Row(pydantic.BaseModel):
    """Base of every row model: the plain, detached values of one mapped row."""

    __nbstate_mapped__: ClassVar[type[Any]]
    """The mapped class this row model mirrors."""


class Model(DeclarativeBase):
    """Base of nbstate's mapped classes: SQLAlchemy 2 declarative, one ``MetaData`` for all of
    them (:func:`nbstate.db.create_all` creates their tables).

    A subclass can type a var; see the module docstring for what the var then holds.
    """

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any,
                                     handler: pydantic.GetCoreSchemaHandler) -> CoreSchema:
        row = row_model(cls)
        return core_schema.no_info_before_validator_function(
            functools.partial(_columns_of, cls, tuple(row.model_fields)),
            handler.generate_schema(row))


@functools.cache
def row_model(mapped: type[Any]) -> type[Row]:
    """The pydantic model of ``mapped``'s rows (made once per mapped class).

    Raises:
        TypeError: ``mapped`` is not a mapped class.
    """
    mapper = sqlalchemy.inspect(mapped, raiseerr=False)
    if mapper is None or not hasattr(mapper, "column_attrs"):
        raise TypeError(f"{mapped!r} is not a mapped class; subclass nbstate.db.Model and give "
                        "it a __tablename__ and mapped columns")
    fields: dict[str, Any] = {}
    for prop in mapper.column_attrs:
        column = prop.columns[0]
        fields[prop.key] = _field(column)
    model = pydantic.create_model(
        f"{mapped.__name__}Row", __base__=Row, __module__=mapped.__module__, **fields)
    model.__qualname__ = f"{mapped.__qualname__}Row"
    model.__nbstate_mapped__ = mapped
    made: type[Row] = model
    return made


def _field(column: Any) -> tuple[Any, Any]:
    try:
        kind: Any = column.type.python_type
    except NotImplementedError:
        kind = Any
    default = column.default
    if default is not None and getattr(default, "is_scalar", False):
        return (kind | None if column.nullable else kind), default.arg
    filled_in = column.server_default is not None or default is not None or (
        column.primary_key and column.autoincrement in (True, "auto")
        and column is column.table.autoincrement_column)
    if column.nullable or filled_in:
        return kind | None, None
    return kind, ...


def _columns_of(mapped: type[Any], keys: tuple[str, ...], value: Any) -> Any:
    """An ORM instance as the dict of its loaded column values; anything else as it is."""
    if not isinstance(value, mapped):
        return value
    loaded = value.__dict__
    data = {key: loaded[key] for key in keys if key in loaded}
    if len(data) < len(keys):
        state = sqlalchemy.inspect(value)
        if state.has_identity:  # read from the database: a missing column was expired/deferred
            missing = [key for key in keys if key not in data]
            raise ValueError(
                f"{type(value).__name__}.{missing[0]} is not loaded (expired by a commit, or "
                "deferred); a var holds plain values and runs no query: load it first (nbstate's "
                "sessions keep values after commit; use selectinload/undefer for the rest)")
    return data


def orm(row: T) -> T:
    """A transient instance of the mapped class with ``row``'s column values (a copy, detached
    from the state): ``await db.merge(ns.db.orm(contact))`` writes it back by primary key.

    An ORM instance is returned as it is. A primary key that is ``None`` is left out, so the
    database assigns one on insert.

    Raises:
        TypeError: ``row`` is neither a row of a mapped class nor an ORM instance.
    """
    if isinstance(row, Model):
        return row
    mapped = getattr(type(row), "__nbstate_mapped__", None)
    if mapped is None or not isinstance(row, Row):
        raise TypeError(f"nbstate.db.orm expects a row held by a var typed with a mapped class "
                        f"(or an ORM instance), got {type(row).__name__}")
    values = untrack(row).__dict__
    mapper = sqlalchemy.inspect(mapped)
    keys = {mapper.get_property_by_column(c).key for c in mapper.primary_key}
    made: T = mapped(**{k: v for k, v in values.items() if not (k in keys and v is None)})
    return made

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
- a field's type is the column's ``Mapped[...]`` annotation (else the column type's Python
  type), with ``None`` allowed when the column is nullable or gets its value from the database
  on insert (an autoincrement primary key, a server default); a column with a scalar default
  has that default.

Relationships are not part of a row: load what a view needs into vars of its own.

To write a row back, :func:`orm` makes a transient instance of the mapped class with the row's
values (``await db.merge(ns.db.orm(contact))`` updates the row with that primary key).
"""

from __future__ import annotations

import functools
import inspect
import sys
import typing
import warnings
from typing import Any, ClassVar, TypeVar

import pydantic
import sqlalchemy
from pydantic_core import CoreSchema, core_schema
from sqlalchemy.exc import SAWarning
from sqlalchemy.orm import DeclarativeBase, Mapped

from ..plain import untrack

__all__ = ["Model", "Row", "orm", "row_model"]

T = TypeVar("T")


class Row(pydantic.BaseModel):
    """Base of every row model: the plain, detached values of one mapped row."""

    __nbstate_mapped__: ClassVar[type[Any]]
    """The mapped class this row model mirrors."""
    __nbstate_filled__: ClassVar[frozenset[str]]
    """Fields whose ``None`` means "not set yet": the database or a default fills them in."""
    # nbstate.plain.TRACKED_MARK, found on the class: a miss would go through pydantic's
    # ModelMetaclass.__getattr__, which raises and catches an AttributeError (~10 µs) each time
    # the tracking layers ask whether a row is tracked (their tracking subclass sets it True)
    __nbstate_tracked__: ClassVar[bool] = False


class Model(DeclarativeBase):
    """Base of nbstate's mapped classes: SQLAlchemy 2 declarative, one ``MetaData`` for all of
    them (:func:`nbstate.db.create_all` creates their tables).

    A subclass can type a var; see the module docstring for what the var then holds.

    Re-running the notebook cell that defines a mapped class redefines it: the new class (same
    module, qualified name and ``__tablename__``) replaces the older one's table in the
    ``MetaData`` instead of failing with "Table is already defined".
    """

    def __init_subclass__(cls, **kw: Any) -> None:
        replaced = _forget_older_definition(cls)
        with warnings.catch_warnings():
            if replaced:  # the registry's name lookup moves to the new class, as it should
                warnings.filterwarnings("ignore", "This declarative base already contains",
                                        SAWarning)
            super().__init_subclass__(**kw)

    @classmethod
    def __nbstate_validates_to__(cls) -> type[Row]:
        """The class of this class's values in a var (``nbstate.checks.VALIDATES_TO``)."""
        return row_model(cls)

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any,
                                     handler: pydantic.GetCoreSchemaHandler) -> CoreSchema:
        row = row_model(cls)
        return core_schema.no_info_before_validator_function(
            functools.partial(_columns_of, cls, tuple(row.model_fields),
                              frozenset(row.model_fields)),
            handler.generate_schema(row))


def _forget_older_definition(cls: type[Model]) -> bool:
    name = cls.__dict__.get("__tablename__")
    table = cls.metadata.tables.get(name) if isinstance(name, str) else None
    if table is None:
        return False
    older = next((m.class_ for m in cls.registry.mappers if m.local_table is table), None)
    if older is None or (older.__module__, older.__qualname__) != (cls.__module__,
                                                                   cls.__qualname__):
        return False  # another class's table: SQLAlchemy's own error says so
    cls.metadata.remove(table)
    return True


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
    filled: set[str] = set()
    for prop in mapper.column_attrs:
        column = prop.columns[0]
        fields[prop.key] = _field(column, _annotation(mapped, prop.key))
        if _filled_in(column):
            filled.add(prop.key)
    model = pydantic.create_model(
        f"{mapped.__name__}Row", __base__=Row, __module__=mapped.__module__, **fields)
    model.__qualname__ = f"{mapped.__qualname__}Row"
    model.__nbstate_mapped__ = mapped
    model.__nbstate_filled__ = frozenset(filled)
    made: type[Row] = model
    return made


def _annotation(mapped: type[Any], key: str) -> Any:
    """``X`` of the ``key: Mapped[X]`` annotation of ``mapped`` (or a base), else ``None``."""
    for klass in mapped.__mro__:
        annotations = inspect.get_annotations(klass)
        if key not in annotations:
            continue
        hint = annotations[key]
        if isinstance(hint, str):  # ``from __future__ import annotations``
            module = sys.modules.get(klass.__module__)
            try:
                hint = eval(hint, dict(vars(module)) if module else {}, dict(vars(klass)))
            except Exception:  # a name defined later: the column type says enough
                return None
        origin: Any = typing.get_origin(hint)
        return typing.get_args(hint)[0] if origin is Mapped else None
    return None


def _field(column: Any, annotated: Any) -> tuple[Any, Any]:
    kind: Any = annotated
    if kind is None:
        try:
            kind = column.type.python_type
        except NotImplementedError:
            kind = Any
    default = column.default
    if default is not None and getattr(default, "is_scalar", False):
        return (kind | None if column.nullable else kind), default.arg
    if column.nullable or _filled_in(column):
        return kind | None, None
    return kind, ...


def _filled_in(column: Any) -> bool:
    """Whether the database or a default gives ``column`` its value when a row is inserted."""
    return column.server_default is not None or column.default is not None or bool(
        column.primary_key and column.autoincrement in (True, "auto")
        and column is column.table.autoincrement_column)


def _columns_of(mapped: type[Any], names: tuple[str, ...], keys: frozenset[str],
                value: Any) -> Any:
    """An ORM instance as a dict holding its loaded column values; anything else as it is."""
    if not isinstance(value, mapped):
        return value
    loaded = value.__dict__
    if keys <= loaded.keys():
        return loaded  # the row model takes its fields and ignores the rest (_sa_instance_state)
    if sqlalchemy.inspect(value).has_identity:  # read from the database: expired or deferred
        missing = [name for name in names if name not in loaded]
        raise ValueError(
            f"{type(value).__name__}.{missing[0]} is not loaded (expired by a commit, or "
            "deferred); a var holds plain values and runs no query: load it first (nbstate's "
            "sessions keep values after commit; use selectinload/undefer for the rest)")
    return {name: loaded[name] for name in names if name in loaded}  # new: defaults fill in


def orm(row: T) -> T:
    """A transient instance of the mapped class with ``row``'s column values (a copy, detached
    from the state): ``await db.merge(ns.db.orm(contact))`` writes it back by primary key.

    An ORM instance is returned as it is. A ``None`` that means "not set yet" (a primary key the
    database assigns, a column with a default) is left out, so the insert fills it in.

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
    filled = type(row).__nbstate_filled__
    made: T = mapped(**{k: v for k, v in values.items() if not (v is None and k in filled)})
    return made

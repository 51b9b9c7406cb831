"""The description of a state class that its view reads (``_nb_spec``).

Shape (JSON)::

    {"protocol": 1, "path": "todo", "title": "Todo",
     "vars": [{"name": "draft", "trait": "draft", "kind": "base" | "computed",
               "schema": {JSON Schema}}],
     "handlers": [{"name": "add", "doc": str, "background": bool,
                   "params": [{"name": str, "required": bool, "default": any, "schema": {...}}]}]}

Schemas come from pydantic (JSON Schema draft 2020-12); a type pydantic cannot describe gets
``{}``. A view lists a state's own vars and handlers; inherited ones belong to the parent's view.
"""

from __future__ import annotations

import inspect
from typing import Any

import pydantic

from ..handlers import EventHandler
from ..protocol import PROTOCOL_VERSION, encode
from ..state import State
from .widget import trait_name

__all__ = ["spec_of"]


def spec_of(cls: type[State]) -> dict[str, Any]:
    """The ``_nb_spec`` of a state class (see the module docstring for the shape)."""
    var_specs = [{"name": name, "trait": trait_name(name), "kind": "base",
                  "schema": _schema(var.annotation)}
                 for name, var in cls.__nbstate_vars__.items() if var.synced]
    var_specs += [{"name": name, "trait": trait_name(name), "kind": "computed",
                   "schema": _schema(var.annotation)}
                  for name, var in cls.__nbstate_computed__.items()]
    handlers = [_handler_spec(h) for name, h in cls.__nbstate_handlers__.items()
                if name in cls.__dict__]
    return {"protocol": PROTOCOL_VERSION, "path": cls.__nbstate_path__,
            "title": cls.__name__, "vars": var_specs, "handlers": handlers}


def _handler_spec(handler: EventHandler) -> dict[str, Any]:
    params = []
    for p in handler.parameters:
        entry: dict[str, Any] = {"name": p.name, "required": p.required,
                                 "schema": _schema(p.annotation)}
        if not p.required:
            entry["default"] = encode(p.default)
        params.append(entry)
    return {"name": handler.name, "doc": inspect.cleandoc(handler.fn.__doc__ or ""),
            "background": handler.background, "params": params}


def _schema(annotation: Any) -> dict[str, Any]:
    if annotation is Any:
        return {}
    try:
        return pydantic.TypeAdapter(annotation).json_schema()
    except (pydantic.PydanticUserError, pydantic.errors.PydanticSchemaGenerationError,
            TypeError):
        return {}

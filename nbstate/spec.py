"""The description of a state class that its view reads (``_nb_spec``), in every host.

``trait`` names where a host carries each var (the Jupyter host renames vars whose names the
widget machinery uses, see :func:`nbstate.jupyter.widget.trait_name`; the WebSocket adapter
keeps every name).

Shape (JSON)::

    {"protocol": 1, "path": "todo", "title": "Todo", "doc": str,
     "vars": [{"name": "draft", "trait": "draft", "kind": "base" | "computed" | "output",
               "label": "Draft", "help": str, "read_only": bool, "hidden": bool,
               "schema": {JSON Schema}}],
     "handlers": [{"name": "add", "label": "Add", "doc": str, "background": bool,
                   "params": [{"name": str, "label": str, "help": str, "required": bool,
                               "default": any, "schema": {...}}]}]}

``help`` appears only where there is some. Labels and help come from pydantic's metadata where
it has them (``Field(title=..., description=...)``), else the name in plain words
(``min_stock`` → "Min stock"); a computed var's help may also come from its docstring.
``read_only`` is true for computed vars and vars declared ``ns.var(read_only=True)``;
``hidden`` vars are listed (views read their trait names here) but the default view skips them.
An ``output`` (:mod:`nbstate.outputs`) carries a mime bundle; the default view shows it below
the controls. A free output's state has the title ``""`` (the view shows no title).

Schemas come from pydantic (JSON Schema draft 2020-12), with the fields of nested models
titled the same plain way; a type pydantic cannot describe gets ``{}``. A view lists a state's
own vars and handlers; inherited ones belong to the parent's view.
"""

from __future__ import annotations

import inspect
import pathlib
from collections.abc import Callable
from typing import Any

import pydantic
from pydantic.json_schema import GenerateJsonSchema

from .handlers import EventHandler, Parameter
from .protocol import PROTOCOL_VERSION, encode
from .state import State
from .vars import NO_DEFAULT, BaseVar, ComputedVar, VarOptions, var_declaration

__all__ = ["humanise", "spec_of", "view_source"]


def spec_of(cls: type[State], trait: Callable[[str], str] = str) -> dict[str, Any]:
    """The ``_nb_spec`` of a state class (see the module docstring for the shape); ``trait``
    maps a var's name to the name its host carries it by."""
    var_specs = [_var_spec(name, var, "base", trait)
                 for name, var in cls.__nbstate_vars__.items() if var.synced]
    var_specs += [_var_spec(name, var, "output" if var.is_output
                            else "computed", trait)
                  for name, var in cls.__nbstate_computed__.items()]
    handlers = [_handler_spec(h) for name, h in cls.__nbstate_handlers__.items()
                if name in cls.__dict__]
    return {"protocol": PROTOCOL_VERSION, "path": cls.__nbstate_path__,
            "title": cls.__dict__.get("__nbstate_title__", cls.__name__),
            "doc": _doc(cls.__dict__.get("__doc__")),
            "vars": var_specs, "handlers": handlers}


def humanise(name: str) -> str:
    """A name in plain words: ``min_stock`` → ``"Min stock"``, ``HTTP_code`` → ``"HTTP code"``."""
    words = " ".join(name.replace("_", " ").split())
    return words[:1].upper() + words[1:]


def _var_spec(name: str, var: BaseVar[Any] | ComputedVar[Any], kind: str,
              trait: Callable[[str], str]) -> dict[str, Any]:
    options: VarOptions = var.options
    entry: dict[str, Any] = {"name": name, "trait": trait(name), "kind": kind,
                             "label": options.title or humanise(name)}
    help_text = options.description or (_doc(var.__doc__) if kind == "computed" else "")
    if help_text:
        entry["help"] = help_text
    entry |= {"read_only": options.read_only, "hidden": options.hidden,
              "schema": _schema(var.annotation)}
    return entry


def _handler_spec(handler: EventHandler) -> dict[str, Any]:
    return {"name": handler.name, "label": humanise(handler.name),
            "doc": _doc(handler.fn.__doc__), "background": handler.background,
            "params": [_param_spec(p) for p in handler.parameters]}


def _param_spec(p: Parameter) -> dict[str, Any]:
    _, _, options = var_declaration(p.name, p.annotation, NO_DEFAULT)
    entry: dict[str, Any] = {"name": p.name, "label": options.title or humanise(p.name)}
    if options.description:
        entry["help"] = options.description
    entry |= {"required": p.required, "schema": _schema(p.annotation)}
    if not p.required:
        entry["default"] = encode(p.default)
    return entry


def _doc(text: str | None) -> str:
    return inspect.cleandoc(text or "")


class _PlainTitles(GenerateJsonSchema):
    """pydantic's schemas, with untitled model fields named as nbstate names vars."""

    def get_title_from_name(self, name: str) -> str:
        return humanise(name)


def _schema(annotation: Any) -> dict[str, Any]:
    if annotation is Any:
        return {}
    try:
        return pydantic.TypeAdapter(annotation).json_schema(schema_generator=_PlainTitles)
    except (pydantic.PydanticUserError, pydantic.errors.PydanticSchemaGenerationError,
            TypeError):
        return {}


def view_source(value: Any) -> str:
    """A state's ``_esm``/``_css``: source text, or the contents of a file path."""
    if value is None:
        return ""
    if isinstance(value, pathlib.Path):
        return value.read_text(encoding="utf-8")
    text = str(value)
    if "\n" not in text and text.endswith((".js", ".mjs", ".css")) and pathlib.Path(
            text).is_file():
        return pathlib.Path(text).read_text(encoding="utf-8")
    return text

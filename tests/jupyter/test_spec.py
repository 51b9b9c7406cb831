"""The `_nb_spec` a view reads: vars with JSON Schemas, handlers with typed parameters."""

from __future__ import annotations

import enum
from typing import Annotated, Literal

import pydantic

import nbstate as ns
from nbstate.jupyter.spec import spec_of
from nbstate.protocol import PROTOCOL_VERSION


class SpecColor(enum.Enum):
    RED = "red"
    BLUE = "blue"


class SpecPalette(ns.State):
    color: SpecColor = SpecColor.RED
    size: Literal["s", "m", "l"] = "m"
    names: list[str] = []
    _hidden: int = 0

    @ns.computed
    def count(self) -> int:
        return len(self.names)

    def add(self, name: str, times: int = 1) -> None:
        """Add a name."""
        self.names.extend([name] * times)

    @ns.event(background=True)
    async def refresh(self) -> None:
        async with self:
            self.names = []


class SpecSwatch(SpecPalette):
    shade: float = 0.5

    def darken(self) -> None:
        self.shade /= 2


def test_vars_handlers_and_their_schemas() -> None:
    spec = spec_of(SpecPalette)
    assert spec["protocol"] == PROTOCOL_VERSION
    assert spec["path"] == "spec_palette"
    vars_ = {v["name"]: v for v in spec["vars"]}
    assert list(vars_) == ["color", "size", "names", "count"]  # no backend var
    assert vars_["count"]["kind"] == "computed"
    assert vars_["size"]["schema"]["enum"] == ["s", "m", "l"]
    color = vars_["color"]["schema"]
    assert color["enum"] == ["red", "blue"]
    handlers = {h["name"]: h for h in spec["handlers"]}
    assert handlers["add"]["doc"] == "Add a name."
    assert handlers["add"]["params"] == [
        {"name": "name", "required": True, "schema": {"type": "string"}},
        {"name": "times", "required": False, "schema": {"type": "integer"}, "default": 1},
    ]
    assert handlers["refresh"]["background"] is True


def test_a_substate_lists_only_its_own_vars_and_handlers() -> None:
    spec = spec_of(SpecSwatch)
    assert spec["path"] == "spec_palette.spec_swatch"
    assert [v["name"] for v in spec["vars"]] == ["shade"]
    assert [h["name"] for h in spec["handlers"]] == ["darken"]


class SpecOrder(ns.State):
    log: list[int] = []

    def add(self, qty: Annotated[int, pydantic.Field(ge=1, le=9)] = 1, *rest: int,
            **options: str) -> None:
        self.log.append(qty)


def test_parameter_schemas_are_those_the_payload_is_validated_against() -> None:
    (add,) = spec_of(SpecOrder)["handlers"]
    assert add["params"] == [{"name": "qty", "required": False, "default": 1,
                              "schema": {"type": "integer", "minimum": 1, "maximum": 9}}]


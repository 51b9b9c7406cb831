"""The `_nb_spec` a view reads: vars with JSON Schemas, handlers with typed parameters."""

from __future__ import annotations

import enum
import json
import os
import sys
import types
from pathlib import Path
from typing import Annotated, Any, Literal

import pydantic

import nbstate as ns
from nbstate.jupyter.spec import spec_of
from nbstate.protocol import PROTOCOL_VERSION
from tests.e2e import view_shop


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
    assert handlers["add"]["label"] == "Add"
    assert handlers["add"]["params"] == [
        {"name": "name", "label": "Name", "required": True, "schema": {"type": "string"}},
        {"name": "times", "label": "Times", "required": False, "schema": {"type": "integer"},
         "default": 1},
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
    assert add["params"] == [{"name": "qty", "label": "Qty", "required": False, "default": 1,
                              "schema": {"type": "integer", "minimum": 1, "maximum": 9}}]



class SpecItem(pydantic.BaseModel):
    name: str = ""
    min_stock: int = pydantic.Field(0, title="Reorder below")


class SpecShop(ns.State):
    """Stock of the shop."""

    min_stock: int = 5
    budget: Annotated[float, pydantic.Field(ge=0, le=100, title="Budget (€)",
                                            description="What a restock may cost")] = 10.0
    note: str = pydantic.Field("", description="Shown on the receipt")
    saving: bool = ns.var(False, read_only=True)
    progress: Annotated[float, ns.var(read_only=True, hidden=True)] = 0.0
    lines: list[SpecItem] = ns.var(default_factory=list, read_only=True)

    @ns.computed
    def level(self) -> str:
        """How full the shelves are."""
        return "ok"

    @ns.computed
    def shortfall(self) -> Annotated[int, pydantic.Field(title="Missing", description="Units")]:
        return 0

    @ns.computed(hidden=True)
    def debug(self) -> str:
        return ""

    def restock_all(self, qty: Annotated[int, pydantic.Field(ge=1, title="Quantity",
                                                             description="per item")] = 1,
                    item: SpecItem | None = None) -> None:
        """Order more of everything."""


def test_labels_and_help_from_pydantic_metadata_or_plain_words() -> None:
    spec = spec_of(SpecShop)
    assert spec["doc"] == "Stock of the shop."
    got = {v["name"]: (v["label"], v.get("help")) for v in spec["vars"]}
    assert got == {
        "min_stock": ("Min stock", None),
        "budget": ("Budget (€)", "What a restock may cost"),
        "note": ("Note", "Shown on the receipt"),
        "saving": ("Saving", None),
        "progress": ("Progress", None),
        "lines": ("Lines", None),
        "level": ("Level", "How full the shelves are."),  # a computed var's docstring
        "shortfall": ("Missing", "Units"),
        "debug": ("Debug", None),
    }
    (restock,) = spec["handlers"]
    assert (restock["label"], restock["doc"]) == ("Restock all", "Order more of everything.")
    qty, item = restock["params"]
    assert (qty["label"], qty["help"]) == ("Quantity", "per item")
    assert (item["label"], "help" in item) == ("Item", False)


def test_read_only_and_hidden_flags() -> None:
    flags = {v["name"]: (v["read_only"], v["hidden"]) for v in spec_of(SpecShop)["vars"]}
    assert flags == {"min_stock": (False, False), "budget": (False, False),
                     "note": (False, False), "saving": (True, False),
                     "progress": (True, True), "lines": (True, False),
                     "level": (True, False), "shortfall": (True, False),
                     "debug": (True, True)}


def test_schemas_keep_constraints_and_title_model_fields_plainly() -> None:
    vars_ = {v["name"]: v["schema"] for v in spec_of(SpecShop)["vars"]}
    assert (vars_["budget"]["minimum"], vars_["budget"]["maximum"]) == (0, 100)
    assert vars_["budget"]["type"] == "number"
    fields = vars_["lines"]["$defs"]["SpecItem"]["properties"]
    assert fields["name"]["title"] == "Name"
    assert fields["min_stock"]["title"] == "Reorder below"  # the model's own Field title
    assert vars_["lines"]["items"] == {"$ref": "#/$defs/SpecItem"}


def test_the_spec_is_json() -> None:
    spec = spec_of(SpecShop)
    assert json.loads(json.dumps(spec)) == spec


SHOP_SPEC = Path(__file__).parents[2] / "js" / "tests" / "data" / "shop_spec.json"


def _shop_spec() -> dict[str, Any]:
    module = types.ModuleType("nbstate_view_shop")
    sys.modules[module.__name__] = module  # pydantic resolves the models' annotations there
    try:
        exec(compile(view_shop.SHOP, "<shop>", "exec"), module.__dict__)
        return spec_of(module.Shop)
    finally:
        del sys.modules[module.__name__]


def test_the_js_view_tests_read_the_spec_the_kernel_writes() -> None:
    spec = _shop_spec()
    if os.environ.get("NBSTATE_UPDATE_FIXTURES"):
        SHOP_SPEC.write_text(json.dumps(spec, indent=1, ensure_ascii=False) + "\n")
    assert json.loads(SHOP_SPEC.read_text()) == spec, (
        f"{SHOP_SPEC} is out of date; rewrite it with NBSTATE_UPDATE_FIXTURES=1 pytest "
        f"{__file__}")

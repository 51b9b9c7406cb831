"""A session stored as JSON and loaded back, also into classes that changed shape."""

from __future__ import annotations

import json
import sys
import textwrap
import types
import warnings
from typing import Any

import pytest

import nbstate as ns
from nbstate.testing import StateClient


def _define(source: str) -> Any:
    """Define the app's classes again; sessions of earlier tests that still hold states of
    this app are moved to them, and what they report is not what these tests check."""
    module = sys.modules.get("sg_app") or types.ModuleType("sg_app")
    sys.modules["sg_app"] = module
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ns.StateMigrationWarning)
        exec(textwrap.dedent(source), module.__dict__)
    return module


APP = """
    import pydantic
    import nbstate as ns

    class SgItem(pydantic.BaseModel):
        name: str
        qty: int = 0

    class SgShop(ns.State):
        items: list[SgItem] = []
        count: int = 0
        _token: str = ""

        @ns.computed
        def total(self) -> int:
            return sum(i.qty for i in self.items)

        def add(self, name: str, qty: int) -> None:
            self.items.append(SgItem(name=name, qty=qty))
            self.count += 1

    class SgCart(SgShop):
        coupon: str = ""
"""

CHANGED = """
    import pydantic
    import nbstate as ns

    class SgItem(pydantic.BaseModel):
        name: str
        qty: int = 0

    class SgShop(ns.State):
        items: list[SgItem] = []
        count: str = "none"          # an int no longer validates
        _token: str = ""

        @ns.computed
        def total(self) -> int:
            return sum(i.qty for i in self.items)
"""


async def _stored() -> dict[str, Any]:
    module = _define(APP)
    client = StateClient(module.SgShop)
    await client.dispatch("sg_shop.add", {"name": "saw", "qty": 2})
    client.session.get_state(module.SgShop)._token = "t0k"
    client.session.get_state(module.SgCart).coupon = "SAVE"
    client.session.flush()
    data = client.session.dump()
    assert json.loads(json.dumps(data)) == data  # plain JSON, never pickle
    return data


async def test_a_session_round_trips_through_json() -> None:
    data = await _stored()
    assert data["states"]["sg_shop"] == {"items": [{"name": "saw", "qty": 2}], "count": 1,
                                         "_token": "t0k"}
    module = sys.modules["sg_app"]
    loaded = ns.Session()
    loaded.load(json.loads(json.dumps(data)))
    assert loaded.revision == data["revision"]
    shop = loaded.get_state(module.SgShop)
    assert shop._token == "t0k" and shop.total == 2
    assert loaded.snapshot()["sg_shop"] == {"items": [{"name": "saw", "qty": 2}], "count": 1,
                                            "total": 2}
    assert loaded.snapshot()["sg_shop.sg_cart"] == {"coupon": "SAVE"}
    client = StateClient(session=loaded)
    await client.dispatch("sg_shop.add", {"name": "nail", "qty": 3})
    assert client.document["sg_shop"]["total"] == 5  # tracked and recomputed after the load
    assert client.deltas[0]["rev"] == data["revision"] + 1


async def test_what_no_longer_fits_is_reported_once_and_the_rest_kept() -> None:
    data = await _stored()
    data["states"]["sg_gone"] = {"x": 1}
    module = _define(CHANGED)
    loaded = ns.Session()
    with pytest.warns(ns.StateMigrationWarning) as warned:
        loaded.load(data)
    assert len(warned) == 1
    text = str(warned[0].message)
    assert "sg_shop.count" in text and "sg_gone: no state class" in text
    shop = loaded.get_state(module.SgShop)
    assert shop.count == "none" and shop.items[0].name == "saw" and shop._token == "t0k"
    _define(APP)  # restore for other tests


async def test_load_refuses_a_used_session_and_foreign_data() -> None:
    data = await _stored()
    used = ns.Session()
    used.get_state(sys.modules["sg_app"].SgShop)
    with pytest.raises(ns.NbStateError, match="new session"):
        used.load(data)
    bads: list[Any] = [{}, {"version": 99, "revision": 1, "states": {}}, [1, 2],
                       {"version": 1, "revision": "1", "states": {}}]
    for bad in bads:
        with pytest.raises(ns.NbStateError, match=r"expects Session\.dump"):
            ns.Session().load(bad)


def test_a_backend_var_with_no_json_form_cannot_be_stored() -> None:
    module = _define(APP)
    session = ns.Session()
    shop = session.get_state(module.SgShop)
    session.get_state(module.SgShop)
    object.__getattribute__(shop, "_nb_values")["_token"] = object()  # as a plugin might
    with pytest.raises(ns.VarTypeError, match=r"sg_shop\._token"):
        session.dump()

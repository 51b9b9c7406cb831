"""The state class tree: paths, vars of ancestors, registration and re-definition."""

from __future__ import annotations

import textwrap
import types
from typing import Any, ClassVar

import pytest

import nbstate as ns
from nbstate.state import RESERVED_NAMES, registry, state_path
from nbstate.testing import StateClient
from nbstate.vars import BaseVar


class StApp(ns.State):
    title: str = "app"
    items: list[str] = []
    _visits: int = 0

    def rename(self, value: str) -> None:
        self.title = value


class StAppPanel(StApp):
    open: bool = False

    def add_from_panel(self, text: str) -> None:
        self.items.append(text)  # an ancestor's var
        self.title = f"{self.title}+"
        self._visits += 1

    def toggle(self) -> None:
        self.open = not self.open


class StAppPanelTab(StAppPanel):
    index: int = 0

    def bump(self) -> None:
        self.index += 1
        self.items.append(str(self.index))
        self.open = True


class HTTPServerState(ns.State):
    pass


class StNames(ns.State):
    items: list[int] = []
    value: int = 0
    get: str = "g"
    set: str = "s"
    keys: dict[str, int] = {}
    update: int = 1  # field names that shadow common methods must just work
    count: ClassVar[int] = 5
    _esm = "export default {}"
    _css = ".x {}"

    def fill(self) -> None:
        self.items.append(1)
        self.value = 2
        self.get = "G"
        self.set = "S"
        self.keys["k"] = 1
        self.update = 2


def test_paths_are_snake_case_of_the_state_chain() -> None:
    assert state_path(StApp) == "st_app"
    assert StAppPanel.__nbstate_path__ == "st_app.st_app_panel"
    assert StAppPanelTab.__nbstate_path__ == "st_app.st_app_panel.st_app_panel_tab"
    assert HTTPServerState.__nbstate_path__ == "http_server_state"
    assert StAppPanel.__nbstate_parent__ is StApp
    assert StApp.__nbstate_parent__ is None
    assert registry()["st_app.st_app_panel"] is StAppPanel


def test_registry_is_a_copy() -> None:
    registry().clear()
    assert "st_app" in registry()


def test_vars_live_on_their_declaring_state() -> None:
    session = ns.Session()
    tab = session.get_state(StAppPanelTab)
    app = session.get_state(StApp)
    panel = session.get_state(StAppPanel)
    assert set(session.states()) == {"st_app", "st_app.st_app_panel",
                                     "st_app.st_app_panel.st_app_panel_tab"}
    assert session.snapshot() == {
        "st_app": {"title": "app", "items": []},
        "st_app.st_app_panel": {"open": False},
        "st_app.st_app_panel.st_app_panel_tab": {"index": 0},
    }
    tab.title = "from tab"
    assert app.title == "from tab"
    assert panel.title == "from tab"
    assert "title" not in tab._nb_values
    app.items.append("x")
    assert tab.items == ["x"]
    assert tab.items is app.items


def test_instantiating_a_parent_makes_its_substates() -> None:
    session = ns.Session()
    session.get_state(StApp)
    assert list(session.states()) == ["st_app", "st_app.st_app_panel",
                                      "st_app.st_app_panel.st_app_panel_tab"]


async def test_substate_handlers_write_ancestor_vars() -> None:
    client = StateClient(StApp)
    await client.dispatch("st_app.st_app_panel.add_from_panel", {"text": "a"})
    await client.dispatch("st_app.st_app_panel.st_app_panel_tab.bump")
    assert client.document["st_app"] == {"title": "app+", "items": ["a", "1"]}
    assert client.document["st_app.st_app_panel"] == {"open": True}
    assert client.document["st_app.st_app_panel.st_app_panel_tab"] == {"index": 1}
    assert client.deltas[0]["ops"][0] == {"op": "add", "path": "/st_app/items/-", "value": "a"}
    assert client.session.get_state(StApp)._visits == 1
    assert client.document == client.session.snapshot()


async def test_inherited_handlers_run_on_the_substate() -> None:
    client = StateClient(StApp)
    await client.dispatch("st_app.st_app_panel.st_app_panel_tab.toggle")
    assert client.document["st_app.st_app_panel"]["open"] is True
    assert "rename" in StAppPanelTab.__nbstate_handlers__


def test_unknown_attribute_raises() -> None:
    app = ns.Session().get_state(StApp)
    with pytest.raises(ns.UnknownVarError, match=r"st_app has no var 'titel'") as info:
        app.titel = "x"
    assert isinstance(info.value, AttributeError)
    assert "titel: <type> = <default>" in str(info.value)


def test_field_names_that_shadow_builtins_work() -> None:
    session = ns.Session()
    state = session.get_state(StNames)
    assert session.snapshot()["st_names"] == {"items": [], "value": 0, "get": "g", "set": "s",
                                              "keys": {}, "update": 1}
    assert StNames.count == 5
    assert StNames._esm == "export default {}"
    assert set(RESERVED_NAMES) <= set(vars(StNames))
    state.fill()
    session.flush()
    assert session.snapshot()["st_names"] == {"items": [1], "value": 2, "get": "G", "set": "S",
                                              "keys": {"k": 1}, "update": 2}


def test_defaults() -> None:
    class StDefaults(ns.State):
        a: int
        b: list[str]
        c: str | None
        d: dict[str, int]

    assert ns.Session().get_state(StDefaults)._nb_values == {"a": 0, "b": [], "c": None, "d": {}}


def test_missing_default_without_empty_value() -> None:
    with pytest.raises(TypeError, match=r"st_no_empty\.thing has no default"):
        class StNoEmpty(ns.State):
            thing: StNoDefault


def test_string_annotations_resolve_in_the_defining_module() -> None:
    module = types.ModuleType("st_fake_module")
    exec(textwrap.dedent("""
        from __future__ import annotations
        import nbstate as ns

        class StPoint:
            pass

        class StStringly(ns.State):
            n: int = 1
            tags: list[str] = []
    """), module.__dict__)
    cls = module.StStringly
    assert cls.__nbstate_vars__["tags"].annotation == list[str]
    with pytest.raises(ns.VarTypeError):
        ns.Session().get_state(cls).n = "x"


def test_unresolvable_string_annotation() -> None:
    with pytest.raises(TypeError, match="cannot resolve the annotation of 'x'"):
        class StUnresolved(ns.State):
            x: NoSuchType = None  # type: ignore[name-defined]  # noqa: F821


def test_get_state_inside_a_handler() -> None:
    async def scenario() -> None:
        client = StateClient(StHub)
        await client.dispatch("st_hub.pull")
        assert client.document["st_app"]["title"] == "pulled"
        assert client.document["st_hub"]["seen"] == "pulled"

    import asyncio

    asyncio.run(scenario())


class StHub(ns.State):
    seen: str = ""

    async def pull(self) -> None:
        app = await self.get_state(StApp)
        app.title = "pulled"
        self.seen = app.title


def test_get_state_type_error() -> None:
    with pytest.raises(TypeError, match=r"subclass of nbstate\.State"):
        ns.Session().get_state(int)  # type: ignore[type-var]
    with pytest.raises(TypeError):
        ns.Session().get_state(ns.State)


def test_instances_are_session_singletons() -> None:
    a, b = ns.Session(), ns.Session()
    assert a.get_state(StApp) is a.get_state(StApp)
    assert a.get_state(StApp) is not b.get_state(StApp)
    a.get_state(StApp).items.append("only a")
    assert b.get_state(StApp).items == []


def test_repr_hides_backend_vars() -> None:
    text = repr(ns.Session().get_state(StApp))
    assert "title='app'" in text
    assert "_visits" not in text


def test_descriptor_on_class() -> None:
    assert isinstance(StApp.title, BaseVar)
    assert StApp.title.owner_path == "st_app"
    assert StAppPanel.title is StApp.title


# --------------------------------------------------------------------------- re-definition


def _define(source: str, module_name: str = "st_notebook") -> Any:
    """Run class source in a fake module, as a notebook cell runs in ``__main__``."""
    import sys

    module = sys.modules.get(module_name)
    if module is None:
        module = types.ModuleType(module_name)
        sys.modules[module_name] = module
    exec(textwrap.dedent(source), module.__dict__)
    return module


V1 = """
    import nbstate as ns

    class StCell(ns.State):
        items: list[str] = []
        count: int = 0
        label: str = "x"

        def add(self, text: str):
            self.items.append(text)
            self.count += 1

    class StCellSub(StCell):
        note: str = ""
"""

V2 = """
    import nbstate as ns

    class StCell(ns.State):
        items: list[str] = []
        count: str = "none"      # changed type: "3" validates as str? no: ints do not
        extra: float = 1.5       # new var

        @ns.computed
        def size(self) -> int:
            return len(self.items)

        def add(self, text: str):
            self.items.append(text.upper())

        def clear(self):
            self.items.clear()
"""


async def test_redefinition_keeps_values_that_still_validate() -> None:
    module = _define(V1)
    client = StateClient(module.StCell)
    await client.dispatch("st_cell.add", {"text": "a"})
    old = client.session.get_state(module.StCell)
    assert client.document["st_cell"] == {"items": ["a"], "count": 1, "label": "x"}

    with pytest.warns(ns.StateMigrationWarning, match=r"st_cell\.count") as warned:
        module = _define(V2)
    assert len(warned) == 1  # reported once, and only the var that no longer fits
    new = client.session.get_state(module.StCell)
    assert new is not old
    assert type(new) is module.StCell
    assert new.items == ["a"]
    assert new.extra == 1.5
    assert new.count == "none"  # 1 does not validate as str in strict-enough pydantic: default
    assert client.document == client.session.snapshot()
    assert client.document["st_cell"] == {"items": ["a"], "count": "none", "extra": 1.5,
                                          "size": 1}
    await client.dispatch("st_cell.add", {"text": "b"})  # the new handler runs
    await client.dispatch("st_cell.clear")
    assert not client.errors
    assert client.document["st_cell"]["items"] == []
    assert client.document == client.session.snapshot()
    with pytest.warns(ns.StateMigrationWarning, match=r"st_cell\.count"):
        _define(V1)  # restore for other tests ("none" is no int)


async def test_dispatch_by_path_uses_the_redefined_class() -> None:
    module = _define(V1)
    client = StateClient(module.StCell)
    await client.dispatch("st_cell.add", {"text": "a"})
    with pytest.warns(ns.StateMigrationWarning):
        module = _define(V2)
    await client.dispatch("st_cell.clear")  # no get_state call in between
    assert not client.errors
    assert client.document["st_cell"]["items"] == []
    assert "size" in client.document["st_cell"]
    assert client.document == client.session.snapshot()
    with pytest.warns(ns.StateMigrationWarning):
        _define(V1)


async def test_redefinition_keeps_substates_working() -> None:
    module = _define(V1)
    client = StateClient(module.StCell)
    sub = client.session.get_state(module.StCellSub)
    sub.note = "n"
    client.session.flush()
    _define(V1)
    await client.dispatch("st_cell.add", {"text": "z"})
    assert not client.errors
    assert client.document["st_cell"]["items"] == ["z"]
    assert client.document["st_cell.st_cell_sub"]["note"] == "n"
    assert client.document == client.session.snapshot()


MODELS = """
    import pydantic
    import nbstate as ns

    class StItem(pydantic.BaseModel):
        name: str
        qty: int = 0

    class StShop(ns.State):
        items: list[StItem] = []
        picked: StItem | None = None
        by_name: dict[str, StItem] = {}
        _cache: list[StItem] = []
"""


async def test_redefinition_with_its_model_class_keeps_model_values() -> None:
    module = _define(MODELS)
    client = StateClient(module.StShop)
    shop = client.session.get_state(module.StShop)
    shop.items.append(module.StItem(name="hammer", qty=3))
    shop.picked = module.StItem(name="saw")
    shop.by_name["nail"] = module.StItem(name="nail", qty=100)
    shop._cache = [module.StItem(name="cached")]
    client.session.flush()
    before = client.session.snapshot()

    old_item = module.StItem
    module = _define(MODELS)  # the cell with both classes runs again: a new StItem class
    new = client.session.get_state(module.StShop)
    assert new is not shop and module.StItem is not old_item
    assert client.session.snapshot() == before
    assert isinstance(new.items[0], module.StItem) and new.items[0].qty == 3
    assert isinstance(new.picked, module.StItem) and new.picked.name == "saw"
    assert isinstance(new.by_name["nail"], module.StItem) and new.by_name["nail"].qty == 100
    assert isinstance(new._cache[0], module.StItem)
    assert not isinstance(new.items[0], old_item)
    new.items[0].qty = 4  # still tracked
    client.session.flush()
    assert client.document["st_shop"]["items"][0]["qty"] == 4
    assert client.document == client.session.snapshot()


def test_different_class_on_a_taken_path_is_an_error() -> None:
    _define(V1)
    with pytest.raises(ns.DuplicateStateError, match="st_cell") as info:
        _define(V1, module_name="st_other_module")
    assert isinstance(info.value, ValueError)
    assert "st_notebook.StCell" in str(info.value)
    assert registry()["st_cell"].__module__ == "st_notebook"


class StNoDefault:
    def __init__(self, x: int) -> None:
        self.x = x


async def test_a_replaced_instance_refuses_changes() -> None:
    module = _define(V1)
    client = StateClient(module.StCell)
    old = client.session.get_state(module.StCell)
    old_items = old.items
    _define(V1)
    new = client.session.get_state(module.StCell)
    assert new is not old
    with pytest.raises(ns.UnknownStateError, match="replaced when its class was redefined"):
        old.count = 5
    with pytest.raises(ns.UnknownStateError, match=r"session.get_state\(StCell\)"):
        old_items.append("x")
    assert old.count == 0  # reads still work
    new.items.append("y")
    client.session.flush()
    assert client.document["st_cell"]["items"] == ["y"]
    assert client.document == client.session.snapshot()


def test_pending_changes_are_sent_once_across_a_redefinition() -> None:
    module = _define(V1)
    session = ns.Session(flush_interval=1000)
    old = session.get_state(module.StCell)
    session.flush()
    old.items.append("x")  # not flushed yet (no event loop, interval not over)
    module = _define(V1)
    session.flush()
    assert session.get_state(module.StCell).items == ["x"]
    assert session.snapshot()["st_cell"]["items"] == ["x"]

"""Base vars, backend vars and computed vars."""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import enum
import json
import uuid
from collections.abc import Callable
from typing import Annotated, Any, Literal, Optional

import pydantic
import pytest

import nbstate as ns
from nbstate.testing import StateClient
from nbstate.vars import BackendVar, BaseVar, ComputedVar, VarOptions


class VrColor(enum.Enum):
    RED = "red"
    GREEN = "green"


class VrAddress(pydantic.BaseModel):
    city: str = ""
    zip: int = 0


@dataclasses.dataclass
class VrSize:
    w: int = 0
    h: int = 0


class VrForm(ns.State):
    name: str = ""
    age: int = 0
    ratio: float = 0.0
    tags: list[str] = []
    scores: dict[str, int] = {}
    nickname: Optional[str] = None  # noqa: UP045 - the typing spelling must work too
    when: dt.datetime = dt.datetime(2024, 1, 2, 3, 4, 5)
    day: dt.date = dt.date(2024, 1, 2)
    price: decimal.Decimal = decimal.Decimal("1.50")
    ident: uuid.UUID = uuid.UUID(int=7)
    color: VrColor = VrColor.RED
    address: VrAddress = VrAddress()
    size: VrSize = VrSize()
    _token: str = "secret"
    _attempts: list[int] = []

    def set_all(self, name: str, age: int) -> None:
        self.name = name
        self.age = age

    def touch_backend(self) -> None:
        self._token = "changed"
        self._attempts.append(1)

    def touch_backend_then_fail(self) -> None:
        self._token = "failed"
        self._attempts.append(2)
        self._attempts[0] = 3
        raise ValueError("nope")

    def set_address(self, city: str) -> None:
        self.address = VrAddress(city=city, zip=self.address.zip)

    def set_size(self, w: int) -> None:
        self.size = VrSize(w=w, h=self.size.h)


def test_snapshot_encodes_rich_types() -> None:
    session = ns.Session()
    session.get_state(VrForm)
    doc = session.snapshot()["vr_form"]
    assert doc == {
        "name": "", "age": 0, "ratio": 0.0, "tags": [], "scores": {}, "nickname": None,
        "when": "2024-01-02T03:04:05", "day": "2024-01-02", "price": "1.50",
        "ident": "00000000-0000-0000-0000-000000000007", "color": "red",
        "address": {"city": "", "zip": 0}, "size": {"w": 0, "h": 0},
    }


@pytest.mark.parametrize(("var", "value", "expected"), [
    ("age", "many", "vr_form.age must be an integer, got 'many'"),
    ("age", [1], "vr_form.age must be an integer, got [1]"),
    ("tags", "abc", "vr_form.tags must be a list, got 'abc'"),
    ("tags", [1, None], "vr_form.tags[0] must be a string, got 1; vr_form.tags[1] must be a "
                        "string, got None"),
    ("scores", {"a": "x"}, "vr_form.scores.a must be an integer, got 'x'"),
    ("color", "blue", "vr_form.color must be 'red' or 'green', got 'blue'"),
    ("address", {"zip": "x"}, "vr_form.address.zip must be an integer, got 'x'"),
    ("when", "yesterday", "vr_form.when must be a date and time"),
    ("nickname", 3.5, "vr_form.nickname must be a string, got 3.5"),
])
def test_wrong_type_raises_var_type_error(var: str, value: Any, expected: str) -> None:
    session = ns.Session()
    form = session.get_state(VrForm)
    before = session.snapshot()
    before_value = getattr(form, var)
    with pytest.raises(ns.VarTypeError) as info:
        setattr(form, var, value)
    message = str(info.value)
    assert message.startswith(expected)
    assert info.value.detail == info.value.__cause__.errors()  # type: ignore[union-attr]
    assert isinstance(info.value, TypeError)
    assert isinstance(info.value, ns.NbStateError)
    assert getattr(form, var) == before_value
    session.flush()
    assert session.snapshot() == before
    assert session.revision == 1


def test_lax_coercion_and_normalised_values() -> None:
    session = ns.Session()
    form = session.get_state(VrForm)
    form.age = "42"  # type: ignore[assignment]
    form.color = "green"  # type: ignore[assignment]
    form.address = {"city": "Oslo"}  # type: ignore[assignment]
    form.day = "2025-03-04"  # type: ignore[assignment]
    session.flush()
    assert form.age == 42
    assert form.color is VrColor.GREEN
    assert form.address == VrAddress(city="Oslo")
    assert form.day == dt.date(2025, 3, 4)
    doc = session.snapshot()["vr_form"]
    assert (doc["age"], doc["color"], doc["address"], doc["day"]) == (
        42, "green", {"city": "Oslo", "zip": 0}, "2025-03-04")


async def test_equal_assignment_emits_nothing() -> None:
    client = StateClient(VrForm)
    form = client.session.get_state(VrForm)
    await client.dispatch("vr_form.set_all", {"name": "", "age": 0})
    await client.dispatch("vr_form.set_address", {"city": ""})
    await client.dispatch("vr_form.set_size", {"w": 0})
    assert client.deltas == []
    form.tags = []
    form.scores = {}
    form.address = VrAddress()
    form.size = VrSize()
    client.session.flush()
    assert client.deltas == []
    await client.dispatch("vr_form.set_address", {"city": "Rome"})
    assert client.deltas[-1]["ops"] == [
        {"op": "replace", "path": "/vr_form/address", "value": {"city": "Rome", "zip": 0}}]


async def test_only_changed_vars_in_delta() -> None:
    client = StateClient(VrForm)
    await client.dispatch("vr_form.set_all", {"name": "Ada", "age": 0})
    assert client.deltas == [
        {"rev": 2, "ops": [{"op": "replace", "path": "/vr_form/name", "value": "Ada"}]}]
    assert client.document == client.session.snapshot()


async def test_int_to_float_and_bool_changes_are_sent() -> None:
    client = StateClient(VrForm)
    form = client.session.get_state(VrForm)
    form.ratio = 1
    client.session.flush()
    assert client.deltas[-1]["ops"] == [{"op": "replace", "path": "/vr_form/ratio", "value": 1.0}]
    assert type(client.document["vr_form"]["ratio"]) is float


async def test_backend_vars_stay_on_the_server_and_roll_back() -> None:
    client = StateClient(VrForm)
    form = client.session.get_state(VrForm)
    assert "_token" not in client.document["vr_form"]
    await client.dispatch("vr_form.touch_backend")
    assert form._token == "changed"
    assert form._attempts == [1]
    assert client.deltas == []
    await client.dispatch("vr_form.touch_backend_then_fail")
    assert client.errors[0]["type"] == "ValueError"
    assert form._token == "changed"
    assert form._attempts == [1]
    assert client.deltas == []
    assert all("_" not in k[:1] for k in client.session.snapshot()["vr_form"])


def test_backend_var_is_validated() -> None:
    form = ns.Session().get_state(VrForm)
    with pytest.raises(ns.VarTypeError, match=r"vr_form\._attempts"):
        form._attempts = "x"  # type: ignore[assignment]


class VrDashboard(ns.State):
    step: Annotated[int, pydantic.Field(ge=1, le=10)] = 1
    gap: Annotated[float, pydantic.Field(gt=0, lt=1)] = 0.5
    code: Annotated[str, pydantic.Field(min_length=2, max_length=4)] = "ab"
    picks: Annotated[list[int], pydantic.Field(max_length=2)] = []
    mode: Literal["fast", "slow"] = "fast"
    label: str = ""
    ratio: float = 0.0
    maybe: Optional[float] = None  # noqa: UP045
    names: list[str] = []
    rows: list[dict[str, Any]] = []
    scores: dict[str, int] = {}
    address: VrAddress = VrAddress()
    data: Any = None
    _note: str = ""
    _raw: Any = None
    _measures: list[float] = []


@pytest.mark.parametrize(("var", "value", "message"), [
    ("step", 0, "vr_dashboard.step must be ≥ 1, got 0"),
    ("step", 11, "vr_dashboard.step must be ≤ 10, got 11"),
    ("step", "x", "vr_dashboard.step must be an integer, got 'x'"),
    ("step", 1.5, "vr_dashboard.step must be a whole number, got 1.5"),
    ("gap", 0, "vr_dashboard.gap must be > 0, got 0"),
    ("gap", 1, "vr_dashboard.gap must be < 1, got 1"),
    ("code", "a", "vr_dashboard.code must have at least 2 characters, got 'a'"),
    ("code", "abcde", "vr_dashboard.code must have at most 4 characters, got 'abcde'"),
    ("picks", [1, 2, 3], "vr_dashboard.picks must have at most 2 items, got [1, 2, 3]"),
    ("mode", "medium", "vr_dashboard.mode must be 'fast' or 'slow', got 'medium'"),
    ("address", 5, "vr_dashboard.address must be a VrAddress (or an object of its fields), got 5"),
])
def test_errors_say_the_constraint_in_plain_words(var: str, value: Any, message: str) -> None:
    state = ns.Session().get_state(VrDashboard)
    with pytest.raises(ns.VarTypeError) as info:
        setattr(state, var, value)
    assert str(info.value) == message
    assert "FieldInfo" not in str(info.value)
    # the whole story stays with the notebook's author
    assert isinstance(info.value.__cause__, pydantic.ValidationError)
    assert info.value.detail[0]["type"] == info.value.__cause__.errors()[0]["type"]


def test_error_messages_stay_short() -> None:
    state = ns.Session().get_state(VrDashboard)
    huge = "x" * 1_000_000
    actions: list[Callable[[], None]] = [
        lambda: state.__setattr__("step", huge),
        lambda: state.__setattr__("names", [huge] * 1000 + [1]),
        lambda: state.__setattr__("address", {"zip": huge, "city": 1}),
    ]
    for action in actions:
        with pytest.raises(ns.VarTypeError) as info:
            action()
        assert len(str(info.value)) <= 300
    with pytest.raises(ns.VarTypeError) as info:
        state.step = huge  # type: ignore[assignment]
    got = str(info.value).split("got ", 1)[1]
    assert len(got) <= 80


LONE = json.loads('"a\\ud800b"')  # what a browser's JSON.stringify sends for half an emoji


@pytest.mark.parametrize(("var", "value", "fragment"), [
    ("label", LONE, "vr_dashboard.label: contains a lone surrogate \\ud800 at index 1"),
    ("label", "\udfff", "lone surrogate \\udfff at index 0"),
    ("ratio", float("nan"), "vr_dashboard.ratio: NaN is not JSON"),
    ("ratio", float("inf"), "vr_dashboard.ratio: Infinity is not JSON"),
    ("ratio", float("-inf"), "vr_dashboard.ratio: -Infinity is not JSON"),
    ("ratio", "nan", "NaN is not JSON"),  # pydantic's lax strings
    ("ratio", "inf", "Infinity is not JSON"),
    ("ratio", "-Infinity", "-Infinity is not JSON"),
    ("maybe", "NaN", "vr_dashboard.maybe: NaN is not JSON"),
    ("names", ["ok", LONE], "vr_dashboard.names[1]: contains a lone surrogate"),
    ("scores", {LONE: 1}, "vr_dashboard.scores: a key contains a lone surrogate"),
    ("rows", [{"a": 1}, {"b": [0.5, float("nan")]}], "vr_dashboard.rows[1].b[1]: NaN"),
    ("address", {"city": LONE}, "vr_dashboard.address.city: contains a lone surrogate"),
    ("data", {"x": [LONE]}, "vr_dashboard.data.x[0]: contains a lone surrogate"),
    ("data", float("inf"), "vr_dashboard.data: Infinity is not JSON"),
    ("data", object(), "vr_dashboard.data: a object has no JSON form"),
    ("data", [1, (2, object())], "vr_dashboard.data[1][1]: a object has no JSON form"),
    ("data", [1, {2, float("nan")}], "vr_dashboard.data[1]: NaN is not JSON"),  # no set index
])
def test_values_json_cannot_carry_are_refused(var: str, value: Any, fragment: str) -> None:
    session = ns.Session()
    state = session.get_state(VrDashboard)
    session.flush()
    before = session.snapshot()
    with pytest.raises(ns.VarTypeError) as info:
        setattr(state, var, value)
    assert str(info.value).startswith(f"vr_dashboard.{var}")
    assert fragment in str(info.value)
    assert str(info.value).encode("utf-8")  # the message itself can travel
    assert info.value.detail[0]["type"] == "not_json"
    assert session.flush() is None
    assert session.snapshot() == before


def test_strings_and_numbers_json_can_carry_pass() -> None:
    session = ns.Session()
    state = session.get_state(VrDashboard)
    state.label = "😀 é \u00e9 NaN Infinity"
    state.names = ["😀", "NaN"]
    state.ratio = 1e308
    state.data = {"text": "NaN and -Infinity", "n": [1e308, 1e308]}  # a sum overflows, no item
    session.flush()
    assert session.snapshot()["vr_dashboard"]["label"] == "😀 é é NaN Infinity"


def test_backend_vars_are_not_checked_for_json() -> None:
    state = ns.Session().get_state(VrDashboard)
    state._note = LONE
    state._raw = [float("nan"), object()]
    state._raw.append(float("inf"))
    state._measures = [float("nan")]
    state._measures.append(float("-inf"))
    assert state._note == LONE
    with pytest.raises(ns.VarTypeError, match=r"vr_dashboard\._measures\[2\] must be a number"):
        state._measures.append("x")  # type: ignore[arg-type]  # a str, to check it is refused


def test_exact_scalars_are_kept_as_they_are() -> None:
    var = VrDashboard.__nbstate_vars__["label"]
    text = "é" * 3
    assert var.validate("vr_dashboard", text) is text
    assert var.validate("vr_dashboard", "plain") == "plain"


def test_descriptors_are_visible_on_the_class() -> None:
    assert isinstance(VrForm.name, BaseVar)
    assert isinstance(VrForm.__dict__["_token"], BackendVar)
    assert VrForm.__nbstate_vars__["_token"].synced is False
    assert VrForm.__nbstate_vars__["name"].key == ("vr_form", "name")


# --------------------------------------------------------------------------- computed vars

calls: dict[str, int] = {}


def count(name: str) -> None:
    calls[name] = calls.get(name, 0) + 1


class VrShop(ns.State):
    items: list[str] = []
    prices: dict[str, float] = {}
    query: str = ""
    discount: float = 0.0
    unrelated: int = 0
    _hidden: int = 0

    @property
    def _selected(self) -> list[str]:
        return [i for i in self.items if self.query in i]

    def _price_of(self, item: str) -> float:
        return self.prices.get(item, 0.0)

    @ns.computed
    def count(self) -> int:
        count("count")
        return len(self.items)

    @ns.computed
    def matches(self) -> list[str]:
        count("matches")
        return self._selected  # through a property and a comprehension

    @ns.computed
    def total(self) -> float:
        count("total")

        def price(item: str) -> float:
            return self._price_of(item) * (1 - self.discount)

        return sum(price(i) for i in self.matches)  # through another computed var

    @ns.computed
    def hidden_doubled(self) -> int:
        count("hidden_doubled")
        return self._hidden * 2

    @ns.computed(cache=False)
    def uncached(self) -> int:
        count("uncached")
        return self.unrelated // 10

    @ns.computed(deps=["unrelated"])
    def explicit(self) -> str:
        count("explicit")
        return f"{self.unrelated}:{self.query}"  # query is read but not a dependency

    @ns.computed
    def branchy(self) -> str:
        count("branchy")
        if not self.items:
            return "empty"
        return self.query or "no query"

    def add(self, item: str, price: float = 1.0) -> None:
        self.items.append(item)
        self.prices[item] = price

    def set_query(self, value: str) -> None:
        self.query = value

    def set_unrelated(self, value: int) -> None:
        self.unrelated = value

    def set_hidden(self, value: int) -> None:
        self._hidden = value

    def set_discount(self, value: float) -> None:
        self.discount = value

    def read_count_twice(self) -> None:
        self.items.append("z")
        assert self.count == len(self.items)
        assert self.count == len(self.items)

    def assign_computed(self) -> None:
        self.count = 3


class VrShopFilter(VrShop):
    prefix: str = ""

    @ns.computed
    def first_match(self) -> str:
        count("first_match")
        return next((m for m in self.matches if m.startswith(self.prefix)), "")

    def set_prefix(self, value: str) -> None:
        self.prefix = value

    def add_here(self, item: str) -> None:
        self.items.append(item)  # a parent's var, written from a substate


@pytest.fixture
def shop() -> StateClient:
    calls.clear()
    return StateClient(VrShop, VrShopFilter)


def ops_of(client: StateClient) -> dict[str, Any]:
    return {op["path"]: op.get("value") for op in client.deltas[-1]["ops"]}


def test_computed_initial_values(shop: StateClient) -> None:
    assert shop.document["vr_shop"]["count"] == 0
    assert shop.document["vr_shop"]["branchy"] == "empty"
    assert shop.document["vr_shop.vr_shop_filter"] == {"prefix": "", "first_match": ""}
    assert all(n == 1 for k, n in calls.items() if k != "uncached")


async def test_auto_dependencies(shop: StateClient) -> None:
    await shop.dispatch("vr_shop.add", {"item": "apple", "price": 2.0})
    assert ops_of(shop) == {
        "/vr_shop/items/-": "apple", "/vr_shop/prices/apple": 2.0, "/vr_shop/count": 1,
        "/vr_shop/matches/-": "apple", "/vr_shop/total": 2.0, "/vr_shop/branchy": "no query",
        "/vr_shop.vr_shop_filter/first_match": "apple",
    }
    calls.clear()
    await shop.dispatch("vr_shop.set_discount", {"value": 0.5})
    assert ops_of(shop) == {"/vr_shop/discount": 0.5, "/vr_shop/total": 1.0}
    assert calls.get("total") == 1
    assert "count" not in calls
    assert "matches" not in calls
    assert shop.document == shop.session.snapshot()


async def test_recomputed_only_when_a_dependency_changed(shop: StateClient) -> None:
    calls.clear()
    await shop.dispatch("vr_shop.set_unrelated", {"value": 3})
    assert "count" not in calls
    assert "matches" not in calls
    assert "total" not in calls
    assert calls["explicit"] == 1
    assert ops_of(shop) == {"/vr_shop/unrelated": 3, "/vr_shop/explicit": "3:"}


async def test_in_delta_only_when_value_changed(shop: StateClient) -> None:
    await shop.dispatch("vr_shop.add", {"item": "pear"})
    calls.clear()
    await shop.dispatch("vr_shop.set_query", {"value": "zzz"})
    await shop.dispatch("vr_shop.set_query", {"value": "zz"})
    # both changed matches to []: only the first delta carries it
    assert ops_of(shop) == {"/vr_shop/query": "zz", "/vr_shop/branchy": "zz"}
    assert calls["matches"] == 2


async def test_branch_dependencies(shop: StateClient) -> None:
    calls.clear()
    await shop.dispatch("vr_shop.set_query", {"value": "q"})
    assert "branchy" not in calls  # the empty branch never read the query
    await shop.dispatch("vr_shop.add", {"item": "q1"})
    assert shop.document["vr_shop"]["branchy"] == "q"
    calls.clear()
    await shop.dispatch("vr_shop.set_query", {"value": "q1"})
    assert calls["branchy"] == 1


async def test_cached_reads_within_a_handler(shop: StateClient) -> None:
    calls.clear()
    await shop.dispatch("vr_shop.read_count_twice")
    assert not shop.errors
    assert calls["count"] == 1


def test_cached_reads_outside_handlers(shop: StateClient) -> None:
    state = shop.session.get_state(VrShop)
    calls.clear()
    for _ in range(5):
        assert state.count == 0
        assert state.matches == []
    assert calls == {}


async def test_cache_false(shop: StateClient) -> None:
    state = shop.session.get_state(VrShop)
    calls.clear()
    assert state.uncached == 0
    assert state.uncached == 0
    assert calls["uncached"] == 2
    await shop.dispatch("vr_shop.set_query", {"value": "x"})
    assert "/vr_shop/uncached" not in ops_of(shop)  # recomputed at the flush, value unchanged
    await shop.dispatch("vr_shop.set_unrelated", {"value": 25})
    assert ops_of(shop)["/vr_shop/uncached"] == 2


async def test_explicit_deps(shop: StateClient) -> None:
    await shop.dispatch("vr_shop.set_query", {"value": "abc"})
    assert shop.document["vr_shop"]["explicit"] == "0:"  # query is not a declared dependency
    await shop.dispatch("vr_shop.set_unrelated", {"value": 1})
    assert shop.document["vr_shop"]["explicit"] == "1:abc"


async def test_computed_over_backend_var(shop: StateClient) -> None:
    await shop.dispatch("vr_shop.set_hidden", {"value": 4})
    assert ops_of(shop) == {"/vr_shop/hidden_doubled": 8}


async def test_substate_computed_reads_parent_vars(shop: StateClient) -> None:
    await shop.dispatch("vr_shop.vr_shop_filter.add_here", {"item": "kiwi"})
    assert shop.document["vr_shop"]["items"] == ["kiwi"]
    assert shop.document["vr_shop.vr_shop_filter"]["first_match"] == "kiwi"
    await shop.dispatch("vr_shop.vr_shop_filter.set_prefix", {"value": "x"})
    assert ops_of(shop) == {"/vr_shop.vr_shop_filter/prefix": "x",
                            "/vr_shop.vr_shop_filter/first_match": ""}
    calls.clear()
    await shop.dispatch("vr_shop.add", {"item": "xigua"})
    assert shop.document["vr_shop.vr_shop_filter"]["first_match"] == "xigua"
    assert calls["first_match"] == 1
    assert shop.document == shop.session.snapshot()


async def test_assigning_a_computed_var_raises(shop: StateClient) -> None:
    state = shop.session.get_state(VrShop)
    with pytest.raises(ns.ReadOnlyVarError, match=r"vr_shop\.count is a computed var"):
        state.count = 1
    with pytest.raises(AttributeError):
        state.count = 1
    await shop.dispatch("vr_shop.assign_computed")
    assert shop.errors == [{"handler": "vr_shop.assign_computed", "type": "ReadOnlyVarError",
                            "message": shop.errors[0]["message"]}]
    assert "computed var" in shop.errors[0]["message"]


def test_computed_descriptor() -> None:
    var = VrShop.__dict__["count"]
    assert isinstance(var, ComputedVar)
    assert var.key == ("vr_shop", "count")
    assert var.annotation is int
    assert VrShop.__dict__["uncached"].cache is False


class VrBroken(ns.State):
    n: int = 0

    @ns.computed
    def inverse(self) -> float:
        return 1 / self.n if self.n else 0.0

    @ns.computed
    def fails_on_three(self) -> int:
        if self.n == 3:
            raise ValueError("three is not allowed")
        return self.n

    def set_n(self, value: int) -> None:
        self.n = value

    @ns.event(background=True)
    async def set_n_later(self, value: int) -> None:
        async with self:
            self.n = value


async def test_computed_var_error_rolls_back_the_handler() -> None:
    client = StateClient(VrBroken)
    await client.dispatch("vr_broken.set_n", {"value": 2})
    await client.dispatch("vr_broken.set_n", {"value": 3})
    assert client.errors[0]["handler"] == "vr_broken.set_n"
    assert client.errors[0]["type"] == "ComputedVarError"
    assert "vr_broken.fails_on_three" in client.errors[0]["message"]
    assert "three is not allowed" in client.errors[0]["message"]
    state = client.session.get_state(VrBroken)
    assert state.n == 2
    assert state.fails_on_three == 2
    assert client.document == client.session.snapshot()
    assert client.document["vr_broken"] == {"n": 2, "inverse": 0.5, "fails_on_three": 2}
    await client.dispatch("vr_broken.set_n", {"value": 4})
    assert client.document["vr_broken"] == {"n": 4, "inverse": 0.25, "fails_on_three": 4}


def test_computed_var_error_outside_handlers() -> None:
    session = ns.Session()
    state = session.get_state(VrBroken)
    with pytest.raises(ns.ComputedVarError, match="three"):
        state.n = 3  # cell code: flushed at once when no flush happened recently
    with pytest.raises(ns.ComputedVarError, match="three") as info:
        _ = state.fails_on_three
    assert isinstance(info.value.__cause__, ValueError)
    with pytest.raises(ns.ComputedVarError):
        session.flush()  # never publishes n=3 beside a stale fails_on_three
    assert session.snapshot()["vr_broken"]["n"] == 0
    state.n = 4
    session.flush()
    assert session.snapshot()["vr_broken"] == {"n": 4, "inverse": 0.25, "fails_on_three": 4}


@pytest.mark.parametrize("how", ["set_var", "background"])
async def test_computed_var_error_rolls_back_sets_and_blocks(how: str) -> None:
    client = StateClient(VrBroken)
    await client.dispatch("vr_broken.set_n", {"value": 2})
    if how == "set_var":
        await client.set_var("vr_broken", "n", 3)
    else:
        await client.dispatch("vr_broken.set_n_later", {"value": 3})
        await client.session.drain()
    assert [e["type"] for e in client.errors] == ["ComputedVarError"]
    assert client.session.get_state(VrBroken).n == 2
    assert len(client.session.mutations) == 0
    assert client.document == client.session.snapshot()
    assert client.document["vr_broken"]["n"] == 2
    await client.dispatch("vr_broken.set_n", {"value": 5})
    assert client.document["vr_broken"] == {"n": 5, "inverse": 0.2, "fails_on_three": 5}


class VrFlags(ns.State):
    flag: bool = True
    ratio: float = 1.0

    @ns.computed
    def flags(self) -> list[Any]:
        return [True] if self.flag else [1]

    @ns.computed
    def scaled(self) -> Any:
        return self.ratio if self.ratio != 1.0 else 1

    def toggle(self) -> None:
        self.flag = False

    def set_ratio(self, value: float) -> None:
        self.ratio = value


async def test_computed_change_that_python_finds_equal_is_sent() -> None:
    client = StateClient(VrFlags)
    assert client.document["vr_flags"]["scaled"] == 1
    await client.dispatch("vr_flags.toggle")
    assert client.deltas[-1]["ops"] == [
        {"op": "replace", "path": "/vr_flags/flag", "value": False},
        {"op": "replace", "path": "/vr_flags/flags", "value": [1]}]
    assert client.document["vr_flags"]["flags"][0] is not True
    await client.dispatch("vr_flags.set_ratio", {"value": 2.0})
    await client.dispatch("vr_flags.set_ratio", {"value": 1.0})
    assert type(client.document["vr_flags"]["scaled"]) is int
    assert client.document == client.session.snapshot()


# --------------------------------------------------------------------------- var options


class VrJob(ns.State):
    saving: bool = ns.var(False, read_only=True)
    progress: Annotated[float, ns.var(read_only=True), pydantic.Field(ge=0, le=1)] = 0.0
    log: list[str] = ns.var(default_factory=list, read_only=True, hidden=True)
    note: Annotated[str, ns.var(hidden=True)] = ""
    min_stock: int = pydantic.Field(5, ge=0, title="Minimum stock", description="Reorder below")
    tags: list[str] = pydantic.Field(default_factory=list, max_length=2)
    draft: str = ""

    async def run(self) -> None:
        self.saving = True
        self.progress = 0.5
        self.log.append("started")


def test_var_options_are_read_from_the_declaration() -> None:
    options = {name: var.options for name, var in VrJob.__nbstate_vars__.items()}
    assert options["saving"] == VarOptions(read_only=True)
    assert options["progress"] == VarOptions(read_only=True)
    assert options["log"] == VarOptions(read_only=True, hidden=True)
    assert options["note"] == VarOptions(hidden=True)
    assert options["min_stock"] == VarOptions(title="Minimum stock", description="Reorder below")
    assert options["draft"] == VarOptions()


def test_var_and_field_defaults_and_constraints() -> None:
    session = ns.Session()
    job, other = session.get_state(VrJob), ns.Session().get_state(VrJob)
    assert (job.saving, job.progress, job.log, job.min_stock, job.tags) == (
        False, 0.0, [], 5, [])
    job.log.append("x")
    assert other.log == []  # default_factory: a fresh list per instance
    with pytest.raises(ns.VarTypeError, match=r"vr_job\.min_stock must be ≥ 0"):
        job.min_stock = -1  # a Field given as the default keeps its constraints
    with pytest.raises(ns.VarTypeError, match=r"vr_job\.progress"):
        job.progress = 2.0  # so does a Field beside ns.var() in Annotated
    with pytest.raises(ns.VarTypeError, match=r"vr_job\.tags"):
        job.tags = ["a", "b", "c"]
    assert session.snapshot()["vr_job"]["min_stock"] == 5


async def test_a_client_cannot_set_a_read_only_var_but_handlers_and_cells_can() -> None:
    client = StateClient(VrJob)
    job = client.session.get_state(VrJob)
    before = client.session.snapshot()
    for name, value in [("saving", True), ("progress", 0.5), ("log", ["x"])]:
        with pytest.raises(ns.ReadOnlyVarError, match=rf"vr_job\.{name} is read-only for "
                                                      "clients"):
            await client.session.set_var("vr_job", name, value)
    assert client.session.snapshot() == before
    assert client.deltas == []
    await client.set_var("vr_job", "note", "hidden is not read-only")  # hidden: still settable
    await client.set_var("vr_job", "draft", "typed")
    assert client.errors == []
    await client.dispatch("vr_job.run")
    job.progress = 1.0  # cell code
    client.session.flush()
    assert client.document == client.session.snapshot()
    assert (job.saving, job.progress, job.log, job.note, job.draft) == (
        True, 1.0, ["started"], "hidden is not read-only", "typed")


async def test_read_only_error_is_an_attribute_error_naming_the_fix() -> None:
    session = ns.Session()
    session.get_state(VrJob)
    with pytest.raises(AttributeError) as info:
        await session.set_var("vr_job", "saving", True)
    assert isinstance(info.value, ns.ReadOnlyVarError)
    assert "event handlers change it" in str(info.value)


def test_var_declaration_mistakes_are_named() -> None:
    with pytest.raises(TypeError, match="not both"):
        ns.var(0, default_factory=int)
    with pytest.raises(TypeError, match=r"vr_bad\.flag: give the default after '='"):
        class VrBad(ns.State):
            flag: Annotated[bool, ns.var(False, read_only=True)]


def test_a_var_without_default_gets_its_empty_value_through_annotated() -> None:
    class VrEmpty(ns.State):
        done: Annotated[bool, ns.var(read_only=True)]
        count: Annotated[int, pydantic.Field(title="Count")]

    state = ns.Session().get_state(VrEmpty)
    assert (state.done, state.count) == (False, 0)


def test_computed_var_options() -> None:
    class VrReport(ns.State):
        n: int = 0

        @ns.computed(hidden=True)
        def raw(self) -> int:
            return self.n

        @ns.computed
        def shown(self) -> Annotated[int, pydantic.Field(title="Shown", description="n")]:
            return self.n

    assert VrReport.raw.options == VarOptions(read_only=True, hidden=True)
    assert VrReport.shown.options == VarOptions(read_only=True, title="Shown", description="n")
    assert ns.Session().get_state(VrReport).shown == 0

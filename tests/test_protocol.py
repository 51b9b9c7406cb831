"""Wire shapes and the JSON encoding of values."""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import enum
import json
import re
import types
import typing
import uuid
from pathlib import Path
from typing import Any

import pydantic
import pytest

from nbstate import protocol
from nbstate.patch import parse_pointer
from nbstate.protocol import copy_json, encode, escape_token, pointer


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Level(enum.IntEnum):
    LOW = 1


class Point(pydantic.BaseModel):
    x: int
    when: dt.date


@dataclasses.dataclass
class Box:
    point: Point
    tags: set[str]


def test_scalars_pass_through() -> None:
    for value in ("s", 1, 1.5, True, None):
        assert encode(value) is value


@pytest.mark.parametrize(("value", "expected"), [
    (dt.datetime(2024, 5, 17, 8, 30, 1), "2024-05-17T08:30:01"),
    (dt.datetime(2024, 5, 17, tzinfo=dt.timezone.utc), "2024-05-17T00:00:00Z"),
    (dt.date(2024, 2, 29), "2024-02-29"),
    (dt.time(13, 5), "13:05:00"),
    (dt.timedelta(seconds=90), "PT1M30S"),
    (decimal.Decimal("12.50"), "12.50"),
    (uuid.UUID(int=1), "00000000-0000-0000-0000-000000000001"),
    (Color.BLUE, "blue"),
    (Level.LOW, 1),
    ((1, "a"), [1, "a"]),
    (frozenset({3}), [3]),
    (b"hi", "hi"),
    (Path("a/b"), "a/b"),
])
def test_rich_values_take_pydantic_json_forms(value: Any, expected: Any) -> None:
    assert encode(value) == expected
    json.dumps(encode(value))


def test_nested_models_and_dataclasses() -> None:
    box = Box(Point(x=1, when=dt.date(2020, 1, 2)), {"t"})
    assert encode({"box": box, "n": [Color.RED]}) == {
        "box": {"point": {"x": 1, "when": "2020-01-02"}, "tags": ["t"]}, "n": ["red"]}


def test_non_string_keys_become_strings() -> None:
    assert encode({1: "a", Color.RED: 2}) == {"1": "a", "red": 2}


def test_unencodable_value_raises() -> None:
    with pytest.raises(Exception, match="Unable to serialize"):
        encode(object())


@pytest.mark.parametrize(("token", "escaped"), [
    ("plain", "plain"), ("a/b", "a~1b"), ("m~n", "m~0n"), ("~/", "~0~1"), ("", "")])
def test_escape_token_round_trips(token: str, escaped: str) -> None:
    assert escape_token(token) == escaped
    assert parse_pointer("/" + escaped) == [token]


def test_pointer() -> None:
    assert pointer("todo", "items", 3) == "/todo/items/3"
    assert pointer("todo.filters", "a/b") == "/todo.filters/a~1b"
    assert pointer() == ""


def test_copy_json_shares_no_container() -> None:
    value = {"a": [1, {"b": [2]}], "c": "s"}
    copied = copy_json(value)
    assert copied == value
    copied["a"][1]["b"].append(3)
    copied["a"].append(4)
    assert value == {"a": [1, {"b": [2]}], "c": "s"}


def _tags() -> dict[str, str]:
    """Each message TypedDict's ``type`` tag."""
    tags = {}
    for name in protocol.__all__:
        obj = getattr(protocol, name)
        hints = typing.get_type_hints(obj) if isinstance(obj, type) else {}
        if "type" in hints and typing.get_origin(hints["type"]) is typing.Literal:
            tags[name] = typing.get_args(hints["type"])[0]
    return tags


def test_message_tags_are_distinct() -> None:
    tags = _tags()
    assert set(tags.values()) == {"event", "set", "done", "error", "patch", "runtime_request",
                                  "runtime", "hello", "welcome", "snapshot", "delta", "ping",
                                  "pong"}
    assert len(set(tags.values())) == len(tags)


def test_all_is_exact() -> None:
    imported = {"typing", "typing_extensions", "__future__", "pydantic_core"}
    public = {n for n, obj in vars(protocol).items() if not n.startswith("_")
              and not isinstance(obj, types.ModuleType)
              and getattr(obj, "__module__", protocol.__name__) not in imported}
    assert set(protocol.__all__) == public


TS = Path(__file__).parents[1] / "js" / "src" / "protocol.ts"


@pytest.mark.skipif(not TS.exists(), reason="no js/src/protocol.ts")
def test_typescript_mirror_agrees() -> None:
    text = TS.read_text()
    version = re.search(r"PROTOCOL_VERSION\s*=\s*(\d+)", text)
    assert version is not None
    assert int(version.group(1)) == protocol.PROTOCOL_VERSION
    block = re.search(r"MESSAGE_TYPES\s*=\s*\[(.*?)\]", text, re.S)
    assert block is not None
    assert set(re.findall(r'"([a-z_]+)"', block.group(1))) == set(_tags().values())

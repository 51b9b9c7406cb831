"""The RFC 6902 applier: the public conformance suite plus nbstate's own guarantees."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from nbstate.errors import NbStateError
from nbstate.patch import JsonPatchError, apply_patch, apply_patch_in_place, parse_pointer

# The public json-patch-tests suite, copied into the repository unchanged (see its NOTICE).
CONFORMANCE = Path(__file__).parent / "data" / "json-patch"
# Records per file, comments and disabled ones included: a truncated copy fails, not shrinks.
CONFORMANCE_RECORDS = {"tests.json": 62, "spec_tests.json": 17}


def _cases() -> list[Any]:
    params = []
    for name in CONFORMANCE_RECORDS:
        path = CONFORMANCE / name
        if not path.is_file():
            # A missing file must fail the run: an empty parameter set would only skip.
            params.append(pytest.param(None, id=f"{name} missing"))
            continue
        records = json.loads(path.read_text())
        for index, record in enumerate(records):
            if record.get("disabled") or "patch" not in record:
                continue  # disabled, or a comment-only record
            label = f"{name}[{index}] {record.get('comment', '')}".strip()
            params.append(pytest.param(record, id=label))
    return params


CASES = _cases()


def test_conformance_suite_is_present() -> None:
    for name, count in CONFORMANCE_RECORDS.items():
        path = CONFORMANCE / name
        assert path.is_file(), f"{path} is missing: the conformance data ships in the repository"
        assert len(json.loads(path.read_text())) == count, f"{path} is not the suite's copy"
    notice = (CONFORMANCE / "NOTICE").read_text()
    for words in ("json-patch-tests", "Apache License, Version 2.0", "Copyright 2012 The Authors"):
        assert words in notice
    assert len(CASES) == 77


@pytest.mark.parametrize("record", CASES)
def test_conformance(record: dict[str, Any] | None) -> None:
    assert record is not None, f"conformance data missing from {CONFORMANCE}"
    before = json.dumps(record["doc"], sort_keys=True)
    if "error" in record:
        with pytest.raises(JsonPatchError):
            apply_patch(record["doc"], record["patch"])
    else:
        result = apply_patch(record["doc"], record["patch"])
        if "expected" in record:
            assert result == record["expected"]
            assert json.dumps(result, sort_keys=True) == json.dumps(
                record["expected"], sort_keys=True)
    assert json.dumps(record["doc"], sort_keys=True) == before, "apply_patch mutated its input"


def test_failed_patch_is_atomic() -> None:
    doc = {"a": [1, 2]}
    with pytest.raises(JsonPatchError):
        apply_patch(doc, [{"op": "add", "path": "/a/-", "value": 3},
                          {"op": "remove", "path": "/missing"}])
    assert doc == {"a": [1, 2]}


def test_in_place_returns_new_root_and_mutates() -> None:
    doc = {"a": [1]}
    out = apply_patch_in_place(doc, [{"op": "add", "path": "/a/-", "value": 2}])
    assert out is doc
    assert doc == {"a": [1, 2]}
    assert apply_patch_in_place(doc, [{"op": "replace", "path": "", "value": [7]}]) == [7]


def test_added_values_are_copied() -> None:
    value = {"x": [1]}
    out = apply_patch({}, [{"op": "add", "path": "/v", "value": value}])
    out["v"]["x"].append(2)
    assert value == {"x": [1]}


def test_pointer_unescaping_order() -> None:
    # RFC 6901 §4: ~1 is unescaped before ~0, so "~01" is "~1" and not "/".
    assert parse_pointer("/a~1b/c~0d/~01") == ["a/b", "c~d", "~1"]
    assert parse_pointer("") == []
    assert parse_pointer("/") == [""]


@pytest.mark.parametrize("pointer", ["a", "#/a"])
def test_bad_pointer(pointer: str) -> None:
    with pytest.raises(JsonPatchError, match="must be empty or start with"):
        parse_pointer(pointer)


@pytest.mark.parametrize(("op", "message"), [
    ({"op": "add", "path": "/a"}, "no 'value'"),
    ({"op": "frob", "path": "/a"}, "unknown operation"),
    ({"op": "move", "path": "/a"}, "no string 'from'"),
    ({"op": "add", "value": 1}, "no string 'path'"),
    ({"op": "remove", "path": "/a/01"}, "not a non-negative integer"),
    ({"op": "move", "from": "/a", "path": "/a/0"}, "own child"),
])
def test_malformed_operations(op: dict[str, Any], message: str) -> None:
    with pytest.raises(JsonPatchError, match=message):
        apply_patch({"a": [1, 2]}, [op])


def test_error_is_an_nbstate_value_error() -> None:
    with pytest.raises(NbStateError):
        apply_patch({}, [{"op": "remove", "path": "/x"}])
    with pytest.raises(ValueError):  # noqa: PT011 - the built-in base is the point
        apply_patch({}, [{"op": "remove", "path": "/x"}])


def test_test_op_distinguishes_bool_and_number() -> None:
    with pytest.raises(JsonPatchError):
        apply_patch({"a": 1}, [{"op": "test", "path": "/a", "value": True}])
    assert apply_patch({"a": 1}, [{"op": "test", "path": "/a", "value": 1.0}]) == {"a": 1}

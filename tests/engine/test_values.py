"""The checks on caller and client values: text fit for an id, JSON fit to store and
sign, and nesting measured before parsing."""

from __future__ import annotations

import json
import math
from enum import IntEnum, StrEnum
from typing import Any

import pytest

from tessera.engine.values import (
    MAX_JSON_DEPTH,
    check_text,
    checked_json_object,
    is_clean_text,
    json_nesting_exceeds,
)


@pytest.mark.parametrize(
    ("text", "clean"),
    [
        ("", True),
        ("user-1", True),
        ("ü😀", True),
        ("a\x00b", False),
        ("\ud800", False),
        ("a\udfff", False),
    ],
)
def test_clean_text(text: str, clean: bool) -> None:
    assert is_clean_text(text) is clean


def test_check_text_names_the_argument() -> None:
    assert check_text("ok", "user_id") == "ok"
    with pytest.raises(ValueError, match="user_id must not contain NUL"):
        check_text("a\x00", "user_id")
    with pytest.raises(ValueError, match=r"session_handle.*lone surrogates"):
        check_text("\ud800", "session_handle")
    with pytest.raises(TypeError, match="user_id must be a string"):
        check_text(b"bytes", "user_id")


def _nested(levels: int) -> Any:
    value: Any = "x"
    for i in range(levels):
        value = [value] if i % 2 else {"k": value}
    return value


@pytest.mark.parametrize("levels", [0, 1, 2, 10, MAX_JSON_DEPTH - 1, MAX_JSON_DEPTH])
def test_nesting_within_the_limit_is_measured_exactly(levels: int) -> None:
    text = json.dumps({"pad": "[[[[{{{{" * 50, "v": _nested(levels - 1)} if levels else 1)
    assert not json_nesting_exceeds(text.encode())
    if levels:
        assert json_nesting_exceeds(text.encode(), levels - 1)


@pytest.mark.parametrize(
    "text",
    [
        b"[" * 65 + b"]" * 65,
        b"[" * 100_000,
        b'{"a":' * 70 + b"1" + b"}" * 70,
        b'["\\"", ' + b"[" * 70 + b"]" * 70 + b"]",
        b"[" * 40 + b"}" * 40 + b"]" * 40 + b"{" * 40,
    ],
)
def test_deep_or_unbalanced_text_is_refused(text: bytes) -> None:
    assert json_nesting_exceeds(text)


def test_brackets_inside_strings_do_not_count() -> None:
    text = json.dumps({"s": "[" * 1000 + '\\"' + "{" * 1000, "t": '"]]]]'}).encode()
    assert not json_nesting_exceeds(text)


def test_nesting_measure_is_fast_on_hostile_quotes() -> None:
    # Quote-backslash runs would make a naive string pattern quadratic.
    import time

    text = b'"\\' * 500_000 + b"[" * 70
    started = time.perf_counter()
    assert json_nesting_exceeds(text)
    assert time.perf_counter() - started < 2


def test_checked_copy_shares_nothing() -> None:
    roles = ["read"]
    original = {"roles": roles, "org": {"ids": (1, 2)}}
    copy = checked_json_object(original, "payload")
    assert copy == {"roles": ["read"], "org": {"ids": [1, 2]}}
    roles.append("admin")
    assert copy["roles"] == ["read"]
    assert copy["roles"] is not roles


class Colour(StrEnum):
    RED = "red"


class Level(IntEnum):
    HIGH = 3


def test_subclasses_become_plain_json() -> None:
    copy = checked_json_object({"c": Colour.RED, "l": Level.HIGH, "t": True}, "payload")
    assert copy == {"c": "red", "l": 3, "t": True}
    assert type(copy["c"]) is str
    assert type(copy["l"]) is int
    assert json.dumps(copy) == '{"c": "red", "l": 3, "t": true}'


@pytest.mark.parametrize(
    ("value", "error", "message"),
    [
        ({"a": math.nan}, ValueError, r"payload\['a'\] is nan: JSON has no NaN"),
        ({"a": [1, math.inf]}, ValueError, r"payload\['a'\]\[1\] is inf"),
        ({"a": {"b": -math.inf}}, ValueError, "-inf"),
        ({"a": "\ud800"}, ValueError, r"payload\['a'\] contains a lone surrogate"),
        ({"\udfff": 1}, ValueError, "lone surrogate"),
        ({1: "a"}, TypeError, "keys must be strings"),
        ({"a": object()}, TypeError, "only dict, list"),
        ({"a": b"bytes"}, TypeError, "bytes"),
        ({"a": _nested(MAX_JSON_DEPTH)}, ValueError, "nests deeper than 64"),
        ([1], TypeError, "payload must be a dict"),
    ],
)
def test_checked_copy_refuses_what_json_cannot_carry(
    value: Any, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        checked_json_object(value, "payload")


def test_nul_in_json_text_is_fine() -> None:
    # JSON escapes it, so every backend stores it; only ids refuse it.
    assert checked_json_object({"a\x00": "b\x00"}, "payload") == {"a\x00": "b\x00"}
    assert checked_json_object({"v": _nested(MAX_JSON_DEPTH - 1)}, "payload")

"""Checks on the text and JSON that callers and clients hand to tessera.

Past these checks a value is stored, signed or compared, and each place fails in its
own way on what it cannot hold: PostgreSQL refuses NUL in text, UTF-8 encoders refuse
lone surrogates (``"\\ud800"``, which a JSON body can spell), and JSON has no NaN or
Infinity, so a session holding one could never be refreshed. Refusing such values at
the edge makes a caller mistake the same ``ValueError``/``TypeError`` on every
backend, instead of a 500, an outage report or a session that breaks later.

JSON nesting is bounded too (``MAX_JSON_DEPTH``), and ``json_nesting_exceeds`` lets a
parser refuse deep text *before* parsing it, so that no parser recurses on it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

__all__ = [
    "MAX_JSON_DEPTH",
    "check_text",
    "checked_json",
    "checked_json_object",
    "is_clean_text",
    "json_nesting_exceeds",
]

#: How deeply JSON given to tessera may nest, the outermost object or array counting
#: as 1. Access-token payloads, session data and token segments all share it.
MAX_JSON_DEPTH = 64

_ESCAPE = re.compile(rb"\\.", re.DOTALL)
_STRING = re.compile(rb'"[^"]*"')
_INNERMOST = re.compile(rb"\[\]|\{\}")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def is_clean_text(text: str) -> bool:
    """True when ``text`` has no NUL and encodes as UTF-8 (no lone surrogates)."""
    if "\x00" in text:
        return False
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_text(value: object, name: str) -> str:
    """``value`` if it is a string fit to be an id; ``TypeError``/``ValueError`` naming
    ``name`` otherwise."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, not {type(value).__name__}")
    if not is_clean_text(value):
        raise ValueError(
            f"{name} must not contain NUL characters or lone surrogates (such as "
            "'\\ud800'): remove them, and decode input bytes strictly as UTF-8"
        )
    return value


def json_nesting_exceeds(data: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when the JSON text ``data`` nests objects and arrays deeper than ``limit``.

    Decided without parsing and in time linear in ``len(data) * limit``, all in C: drop
    escapes, then strings, then everything but brackets, then peel off the innermost
    pairs once per level. Exact for valid JSON; text that is not JSON may be reported
    deep, which only refuses it earlier than the parser would have.
    """
    if data.count(b"[") + data.count(b"{") <= limit:
        return False
    brackets = _STRING.sub(b"", _ESCAPE.sub(b"", data)).translate(None, _NOT_BRACKETS)
    for _ in range(limit):
        if not brackets:
            return False
        peeled = _INNERMOST.sub(b"", brackets)
        if len(peeled) == len(brackets):
            return True  # unbalanced: not JSON
        brackets = peeled
    return bool(brackets)


def checked_json_object(value: object, name: str) -> dict[str, Any]:
    """A fresh copy of the JSON object ``value``, sharing nothing with it.

    Refuses, naming where in ``value`` the problem is: a value JSON cannot carry
    (NaN, Infinity, an object of another type), a key that is not a string, text with
    a lone surrogate, and nesting deeper than ``MAX_JSON_DEPTH``."""
    if not isinstance(value, Mapping):
        raise TypeError(f"{name} must be a dict, not {type(value).__name__}")
    copy: dict[str, Any] = checked_json(value, name)
    return copy


def checked_json(value: object, name: str, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """A fresh copy of any JSON value, checked as ``checked_json_object`` checks."""
    return _copy(value, name, max_depth, max_depth)


def _copy(value: object, where: str, depth_left: int, limit: int) -> Any:
    # Exact types first: they are nearly all that ever comes here.
    kind = type(value)
    if kind is str:
        return _text(value, where)  # type: ignore[arg-type]
    if kind is int or kind is bool or value is None:
        return value
    if kind is float:
        return _finite(value, where)  # type: ignore[arg-type]
    if isinstance(value, Mapping | list | tuple):
        if depth_left <= 0:
            raise ValueError(f"{where} nests deeper than {limit} levels of objects and arrays")
        if isinstance(value, Mapping):
            copied: dict[str, Any] = {}
            for key, item in value.items():
                if not isinstance(key, str):
                    raise TypeError(
                        f"{where} has the key {key!r}: JSON object keys must be strings"
                    )
                inner = f"{where}[{key!r}]"
                copied[_text(key, inner)] = _copy(item, inner, depth_left - 1, limit)
            return copied
        return [_copy(item, f"{where}[{i}]", depth_left - 1, limit) for i, item in enumerate(value)]
    # Subclasses (enums, str subclasses) become the plain JSON value they stand for.
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return _finite(float(value), where)
    if isinstance(value, str):
        return _text(str.__str__(value), where)
    raise TypeError(
        f"{where} is a {kind.__name__}: only dict, list, str, int, float, bool and None "
        "can be stored as JSON"
    )


def _text(text: str, where: str) -> str:
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError(
                f"{where} contains a lone surrogate (such as '\\ud800'), which is not "
                "Unicode text; decode the input strictly as UTF-8"
            ) from None
    return text


def _finite(number: float, where: str) -> float:
    if not math.isfinite(number):
        raise ValueError(
            f"{where} is {number!r}: JSON has no NaN or Infinity; store null or a string"
        )
    return number

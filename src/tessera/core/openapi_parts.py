"""What every part of the core's OpenAPI document is made of: one operation
(``Operation``), the ``{"status": ...}`` answer shape, and the schemas they share."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["BOOL", "ID", "NULLABLE_STR", "OBJ", "STR", "STRINGS", "Operation", "answer"]

STR: dict[str, Any] = {"type": "string"}
BOOL: dict[str, Any] = {"type": "boolean"}
OBJ: dict[str, Any] = {"type": "object"}
STRINGS: dict[str, Any] = {"type": "array", "items": STR}
NULLABLE_STR: dict[str, Any] = {"type": ["string", "null"]}
#: Ids as the path grammar accepts them (matched lower-cased; see routing.py).
ID: dict[str, Any] = {"type": "string", "pattern": "^[A-Za-z0-9-]{1,64}$"}


def answer(statuses: list[str], **properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["status"],
        "properties": {"status": {"enum": statuses}, **properties},
    }


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    summary: str
    #: The 200 answer's JSON schema; ``None`` for a text answer (``/hello``, ``/metrics``).
    answer: dict[str, Any] | None
    #: Fields of the JSON body (POST, PUT) or of the query (GET), with their schemas.
    fields: dict[str, dict[str, Any]] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    #: Whether a tenant segment may come before the path.
    tenant: bool = False
    #: Whether it is served without an API key.
    open: bool = False
    #: Refusals of this operation only (status to why), besides ``_ERRORS``.
    refusals: dict[str, str] = field(default_factory=dict)

"""tessera's own session routes in the core's OpenAPI document (``openapi.py``): a
user's sessions with their devices, "log out other devices", re-authentication."""

from __future__ import annotations

from typing import Any

from .openapi_parts import BOOL, NULLABLE_STR, STR, STRINGS, Operation, answer

__all__ = ["DEVICE_OPERATIONS"]

_DEVICE_SESSION: dict[str, Any] = {
    "type": "object",
    "required": ["sessionHandle", "userId", "tenantId", "lastActive", "current", "device"],
    "properties": {
        "sessionHandle": STR,
        "userId": STR,
        "tenantId": STR,
        "timeCreated": {"type": "integer"},
        "lastActive": {"type": "integer"},
        "expiry": {"type": "integer"},
        "ip": NULLABLE_STR,
        "userAgent": NULLABLE_STR,
        "lastIp": NULLABLE_STR,
        "lastUserAgent": NULLABLE_STR,
        "current": BOOL,
        "device": {
            "type": "object",
            "required": ["label", "deviceClass"],
            "properties": {
                "label": STR,
                "browser": NULLABLE_STR,
                "browserVersion": NULLABLE_STR,
                "os": NULLABLE_STR,
                "model": NULLABLE_STR,
                "deviceClass": {"enum": ["desktop", "mobile", "tablet", "bot", "other"]},
            },
        },
    },
}

#: The routes under ``/tessera/sessions``, beside the CDI.
DEVICE_OPERATIONS = [
    Operation(
        "get",
        "/tessera/sessions/user",
        "A page of a user's live sessions with their devices and last activity, most "
        "recently active first; nextCursor (null on the last page) asks for the next.",
        answer(
            ["OK"],
            sessions={"type": "array", "items": _DEVICE_SESSION},
            nextCursor={"type": ["string", "null"]},
        ),
        {
            "userId": STR,
            "fetchAcrossAllTenants": BOOL,
            "limit": {"type": "integer", "minimum": 1, "maximum": 100},
            "cursor": STR,
            "currentSessionHandle": STR,
        },
        ("userId",),
        tenant=True,
    ),
    Operation(
        "post",
        "/tessera/sessions/revoke-others",
        "Log out the user's other devices: every session of the user but this one, in "
        "its tenant or in all.",
        answer(["OK", "UNAUTHORISED"], sessionHandlesRevoked=STRINGS),
        {"sessionHandle": STR, "revokeAcrossAllTenants": BOOL},
        ("sessionHandle",),
    ),
    Operation(
        "post",
        "/tessera/sessions/reauthenticated",
        "The user proved who they are again: the session's claims get auth_time (now, in "
        "seconds) and amr when given, in its next access token.",
        answer(["OK", "UNAUTHORISED"], authTime={"type": "integer"}),
        {"sessionHandle": STR, "amr": {"type": "array", "items": STR, "maxItems": 16}},
        ("sessionHandle",),
    ),
]

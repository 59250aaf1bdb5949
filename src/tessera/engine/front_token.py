"""The front token: what a browser may read about its session.

Standard base64 (not URL-safe: the frontend SDKs decode it with ``atob``) of the JSON
``{"ate": access-token expiry in ms, "uid": user id, "up": access-token payload}``.
"""

from __future__ import annotations

import base64
import json
from typing import Any

__all__ = ["build_front_token"]


def build_front_token(user_id: str, access_token_expiry: int, payload: dict[str, Any]) -> str:
    text = json.dumps(
        {"uid": user_id, "ate": access_token_expiry, "up": payload},
        separators=(",", ":"),
        sort_keys=True,
    )
    return base64.b64encode(text.encode()).decode()

"""Reading the protocol off raw HTTP responses, for assertions."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx


def set_cookies(response: httpx.Response) -> dict[str, dict[str, str]]:
    """``Set-Cookie`` headers by cookie name: ``{"value": ..., "path": ..., "httponly": ""}``."""
    found: dict[str, dict[str, str]] = {}
    for header in response.headers.get_list("set-cookie"):
        first, *attributes = [part.strip() for part in header.split(";")]
        name, _, value = first.partition("=")
        entry = {"value": value.strip('"')}
        for attribute in attributes:
            key, _, val = attribute.partition("=")
            entry[key.lower()] = val
        found[name] = entry
    return found


def front_token(response: httpx.Response) -> dict[str, Any]:
    return dict(json.loads(base64.b64decode(response.headers["front-token"])))


def exposed(response: httpx.Response) -> set[str]:
    value = response.headers.get("access-control-expose-headers", "")
    return {v.strip() for v in value.split(",") if v.strip()}


def is_cleared(response: httpx.Response) -> bool:
    return bool(response.headers.get("front-token") == "remove")


class Browserish:
    """Keeps session tokens as a browser (cookie mode) or the SDK (header mode) would."""

    def __init__(self, client: httpx.Client, mode: str = "cookie") -> None:
        self.client = client
        self.mode = mode
        self.access: str | None = None
        self.refresh: str | None = None
        self.anti_csrf: str | None = None

    def absorb(self, response: httpx.Response) -> httpx.Response:
        cookies = set_cookies(response)
        if "sAccessToken" in cookies:
            self.access = cookies["sAccessToken"]["value"] or None
        if "sRefreshToken" in cookies:
            self.refresh = cookies["sRefreshToken"]["value"] or None
        if "st-access-token" in response.headers:
            self.access = response.headers["st-access-token"] or None
        if "st-refresh-token" in response.headers:
            self.refresh = response.headers["st-refresh-token"] or None
        if "anti-csrf" in response.headers:
            self.anti_csrf = response.headers["anti-csrf"]
        return response

    def headers(self, **extra: str) -> dict[str, str]:
        headers = {"st-auth-mode": self.mode, **extra}
        if self.access and self.mode == "cookie":
            headers["cookie"] = f"sAccessToken={self.access}"
        elif self.access:
            headers["authorization"] = f"Bearer {self.access}"
        return headers

    def login(self, user_id: str = "user-1", **extra: str) -> httpx.Response:
        return self.absorb(
            self.client.post(
                "/login", json={"userId": user_id}, headers={"st-auth-mode": self.mode, **extra}
            )
        )

    def call(self, method: str, path: str, **extra: str) -> httpx.Response:
        return self.absorb(self.client.request(method, path, headers=self.headers(**extra)))

    def do_refresh(self, **extra: str) -> httpx.Response:
        headers = {"st-auth-mode": self.mode, **extra}
        if self.refresh and self.mode == "cookie":
            headers["cookie"] = f"sRefreshToken={self.refresh}"
        elif self.refresh:
            headers["authorization"] = f"Bearer {self.refresh}"
        return self.absorb(self.client.post("/auth/session/refresh", headers=headers))

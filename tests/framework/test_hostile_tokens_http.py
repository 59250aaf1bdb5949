"""Hostile access tokens over real HTTP: a session error (401), never a 500."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tessera.engine.jws import b64url_encode

from .._support.framework_apps import Served
from .._support.wire import Browserish

Serve = Callable[..., Served]


def _deep(levels: int) -> str:
    return b64url_encode(b"[" * levels + b"]" * levels)


@pytest.mark.parametrize("where", ["header", "payload"])
@pytest.mark.parametrize("mode", ["cookie", "header"])
def test_deeply_nested_token_is_401(serve: Serve, where: str, mode: str) -> None:
    served = serve()
    with served.client() as client:
        browser = Browserish(client, mode)
        browser.login()
        assert browser.access is not None
        header, payload, signature = browser.access.split(".")
        deep = _deep(1500)
        browser.access = (
            f"{deep}.{payload}.{signature}" if where == "header" else f"{header}.{deep}.{signature}"
        )
        answer = browser.call("GET", "/protected")
    assert answer.status_code == 401
    assert answer.json() == {"message": "unauthorised"}

"""Bodies and query strings no database can store, sent to real cores over HTTP.

NUL in an id or token, a lone surrogate anywhere (``"\\ud800"`` is valid JSON text but
not Unicode), NaN or Infinity, and JSON nested deeper than a payload may be are the
caller's mistake: 400, with the same answer from a core on SQLite, PostgreSQL and
MariaDB; never a 500, never 503 "database unavailable", never stored. A deeply nested
access token is an ordinary session answer.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tessera.engine.jws import b64url_encode
from tessera.storage import open_store
from tests._support.databases import SERVER_URLS

from .._support.cores import StartCore, new_app

BACKENDS = ("sqlite", "postgresql", "mysql")


def _reachable(backend: str) -> str:
    url = SERVER_URLS[backend]
    try:
        # A prefix of its own, dropped at once: a fixed one would be shared with other
        # checkouts of other schema versions on the same server.
        probe = open_store(url, table_name_prefix=f"p{uuid.uuid4().hex[:8]}_", pool_size=1)
        probe.drop_tables()
        probe.close()
    except Exception as exc:
        if os.environ.get("CI"):
            pytest.fail(f"CI needs {backend}: {exc}")
        pytest.skip(f"{backend} not reachable: {exc}")
    return url


@pytest.fixture(scope="module")
def apps(start_core: StartCore) -> Iterator[dict[str, str]]:
    """One app on a core per backend, by backend name."""
    prefix = f"h{uuid.uuid4().hex[:8]}_"
    urls = {backend: _reachable(backend) for backend in BACKENDS if backend != "sqlite"}
    cores = {"sqlite": start_core()}
    for backend, url in urls.items():
        cores[backend] = start_core(database_url=url, table_name_prefix=prefix)
    yield {backend: new_app(core) for backend, core in cores.items()}
    for url in urls.values():
        store = open_store(url, table_name_prefix=prefix, pool_size=1)
        store.drop_tables()
        store.close()


@pytest.fixture(scope="module")
def sessions(apps: dict[str, str]) -> dict[str, dict[str, Any]]:
    """A live session per backend: its handle and tokens."""
    made = {}
    for backend, app in apps.items():
        answer = httpx.post(f"{app}/recipe/session", json=_create("victim"))
        assert answer.status_code == 200, answer.text
        made[backend] = answer.json()
    return made


def _create(user_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "userId": user_id,
        "userDataInJWT": {},
        "userDataInDatabase": {},
        "enableAntiCsrf": True,
        **fields,
    }


def _raw(text: str) -> bytes:
    """JSON text as written, for what ``json.dumps`` would not produce (NaN, \\ud800)."""
    return text.encode()


_DEEP = "[" * 70 + "]" * 70
# (method, path, body or query) -> 400. ``{h}``, ``{at}``, ``{rt}`` and ``{csrf}`` are the
# live session's handle and tokens.
CASES: dict[str, tuple[str, str, Any]] = {
    "create: NUL in userId": ("POST", "/recipe/session", _create("u\x00")),
    "create: lone surrogate in userId": (
        "POST",
        "/recipe/session",
        _raw(
            '{"userId":"u\\ud800","userDataInJWT":{},"userDataInDatabase":{},"enableAntiCsrf":true}'
        ),
    ),
    "create: NaN in userDataInJWT": (
        "POST",
        "/recipe/session",
        _raw(
            '{"userId":"u","userDataInJWT":{"a":NaN},"userDataInDatabase":{},"enableAntiCsrf":true}'
        ),
    ),
    "create: Infinity in userDataInDatabase": (
        "POST",
        "/recipe/session",
        _raw(
            '{"userId":"u","userDataInJWT":{},"userDataInDatabase":{"a":[-Infinity]},'
            '"enableAntiCsrf":true}'
        ),
    ),
    "create: 1e999 in userDataInDatabase": (
        "POST",
        "/recipe/session",
        _raw(
            '{"userId":"u","userDataInJWT":{},"userDataInDatabase":{"a":1e999},'
            '"enableAntiCsrf":true}'
        ),
    ),
    "create: lone surrogate key": (
        "POST",
        "/recipe/session",
        _raw(
            '{"userId":"u","userDataInJWT":{"\\udc00":1},"userDataInDatabase":{},'
            '"enableAntiCsrf":true}'
        ),
    ),
    "create: payload nested 70 deep": (
        "POST",
        "/recipe/session",
        _raw(
            '{"userId":"u","userDataInJWT":{"a":' + _DEEP + '},"userDataInDatabase":{},'
            '"enableAntiCsrf":true}'
        ),
    ),
    "verify: NUL in accessToken": (
        "POST",
        "/recipe/session/verify",
        {"accessToken": "{at}\x00", "doAntiCsrfCheck": False, "enableAntiCsrf": False},
    ),
    "verify: lone surrogate in accessToken": (
        "POST",
        "/recipe/session/verify",
        _raw('{"accessToken":"{at}\\ud800","doAntiCsrfCheck":false,"enableAntiCsrf":false}'),
    ),
    "verify: lone surrogate in antiCsrfToken": (
        "POST",
        "/recipe/session/verify",
        _raw(
            '{"accessToken":"{at}","antiCsrfToken":"\\ud800",'
            '"doAntiCsrfCheck":true,"enableAntiCsrf":true}'
        ),
    ),
    "refresh: lone surrogate in refreshToken": (
        "POST",
        "/recipe/session/refresh",
        _raw('{"refreshToken":"\\ud800{rt}","enableAntiCsrf":false}'),
    ),
    "refresh: NUL in refreshToken": (
        "POST",
        "/recipe/session/refresh",
        {"refreshToken": "{rt}\x00", "enableAntiCsrf": False},
    ),
    "refresh: lone surrogate in antiCsrfToken": (
        "POST",
        "/recipe/session/refresh",
        _raw('{"refreshToken":"{rt}","antiCsrfToken":"{csrf}\\udfff","enableAntiCsrf":true}'),
    ),
    "regenerate: NUL in accessToken": (
        "POST",
        "/recipe/session/regenerate",
        {"accessToken": "\x00{at}"},
    ),
    "regenerate: NaN in userDataInJWT": (
        "POST",
        "/recipe/session/regenerate",
        _raw('{"accessToken":"{at}","userDataInJWT":{"a":NaN}}'),
    ),
    "session information: NUL in sessionHandle": (
        "GET",
        "/recipe/session",
        {"sessionHandle": "{h}\x00"},
    ),
    "session data: NUL in sessionHandle": (
        "PUT",
        "/recipe/session/data",
        {"sessionHandle": "{h}\x00", "userDataInDatabase": {}},
    ),
    "session data: Infinity": (
        "PUT",
        "/recipe/session/data",
        _raw('{"sessionHandle":"{h}","userDataInDatabase":{"a":Infinity}}'),
    ),
    "jwt data: lone surrogate in sessionHandle": (
        "PUT",
        "/recipe/jwt/data",
        _raw('{"sessionHandle":"{h}\\ud800","userDataInJWT":{}}'),
    ),
    "jwt data: NaN": (
        "PUT",
        "/recipe/jwt/data",
        _raw('{"sessionHandle":"{h}","userDataInJWT":{"a":{"b":NaN}}}'),
    ),
    "remove: NUL in userId": ("POST", "/recipe/session/remove", {"userId": "victim\x00"}),
    "remove: lone surrogate in userId": (
        "POST",
        "/recipe/session/remove",
        _raw('{"userId":"victim\\ud800"}'),
    ),
    "remove: NUL in a handle": (
        "POST",
        "/recipe/session/remove",
        {"sessionHandles": ["{h}", "{h}\x00"]},
    ),
    "sessions of user: NUL in userId": (
        "GET",
        "/recipe/session/user",
        {"userId": "victim\x00"},
    ),
    "user by id: NUL in userId": ("GET", "/user/id", {"userId": "victim\x00"}),
    "jwt: NaN in payload": (
        "POST",
        "/recipe/jwt",
        _raw('{"payload":{"a":NaN},"algorithm":"RS256","jwksDomain":"x","validity":60}'),
    ),
}


def _send(app: str, session: dict[str, Any], case: tuple[str, str, Any]) -> httpx.Response:
    method, path, body = case
    fill = {
        "{h}": session["session"]["handle"],
        "{at}": session["accessToken"]["token"],
        "{rt}": session["refreshToken"]["token"],
        "{csrf}": session["antiCsrfToken"],
    }

    def filled(value: Any) -> Any:
        if isinstance(value, str):
            for mark, text in fill.items():
                value = value.replace(mark, text)
            return value
        if isinstance(value, bytes):
            return filled(value.decode()).encode()
        if isinstance(value, list):
            return [filled(v) for v in value]
        if isinstance(value, dict):
            return {k: filled(v) for k, v in value.items()}
        return value

    body = filled(body)
    if method == "GET":
        return httpx.get(f"{app}{path}", params=body)
    if isinstance(body, bytes):
        return httpx.request(method, f"{app}{path}", content=body)
    return httpx.request(method, f"{app}{path}", json=body)


@pytest.mark.parametrize("case", list(CASES))
def test_unstorable_values_are_400_on_every_backend(
    apps: dict[str, str], sessions: dict[str, dict[str, Any]], case: str
) -> None:
    answers = {b: _send(apps[b], sessions[b], CASES[case]) for b in apps}
    for backend, answer in answers.items():
        assert answer.status_code == 400, (backend, answer.status_code, answer.text)
    texts = {answer.text for answer in answers.values()}
    assert len(texts) == 1, texts
    # Nothing was stored, nothing was revoked: the victim's session is as it was.
    for backend, app in apps.items():
        handles = httpx.get(f"{app}/recipe/session/user", params={"userId": "u"}).json()
        assert handles == {"status": "OK", "sessionHandles": []}, backend
        info = httpx.get(
            f"{app}/recipe/session",
            params={"sessionHandle": sessions[backend]["session"]["handle"]},
        ).json()
        assert info["status"] == "OK", backend
        assert info["userDataInDatabase"] == {}, backend


@pytest.mark.parametrize("where", ["header", "payload"])
def test_deeply_nested_access_token_is_a_session_answer(
    apps: dict[str, str], sessions: dict[str, dict[str, Any]], where: str
) -> None:
    deep = b64url_encode(b"[" * 1500 + b"]" * 1500)
    for backend, app in apps.items():
        header, payload, signature = sessions[backend]["accessToken"]["token"].split(".")
        token = (
            f"{deep}.{payload}.{signature}" if where == "header" else f"{header}.{deep}.{signature}"
        )
        answer = httpx.post(
            f"{app}/recipe/session/verify",
            json={"accessToken": token, "doAntiCsrfCheck": False, "enableAntiCsrf": False},
        )
        assert answer.status_code == 200, (backend, answer.text)
        assert answer.json()["status"] == "TRY_REFRESH_TOKEN", backend

"""The OAuth endpoints' requests: client authentication by API key in each of its forms,
RFC 6749 error answers, forms only (never the URL), the key-less core's rules, and the
routes beside the CDI's."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tessera.core.routing import split_path

from .._support.oauth2_core import API_KEY, INTROSPECT, REVOKE, ServedCore, serve_core

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])

SHOP_KEY = "shop-own-key-0123456789abc"


@pytest.fixture
def core(backend: str, tmp_path: Path, table_prefix: str) -> Iterator[ServedCore]:
    with serve_core(backend, tmp_path, table_prefix) as served:
        yield served


@pytest.fixture
def keyless(backend: str, tmp_path: Path, table_prefix: str) -> Iterator[ServedCore]:
    with serve_core(backend, tmp_path, table_prefix, key=None) as served:
        yield served


def _basic(user: str, password: str) -> dict[str, str]:
    return {"authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def _refused_client(answer: httpx.Response, challenge: str = "Basic") -> None:
    assert answer.status_code == 401, answer.text
    assert answer.json() == {"error": "invalid_client"}
    assert answer.headers["www-authenticate"] == f'{challenge} realm="tessera"'
    assert answer.headers["cache-control"] == "no-store"


def _bad_request(answer: httpx.Response) -> dict[str, Any]:
    assert answer.status_code == 400, answer.text
    body: dict[str, Any] = answer.json()
    assert body["error"] == "invalid_request"
    return body


def test_each_way_of_sending_the_key(core: ServedCore) -> None:
    access, _, _ = core.create()
    form = {"token": access}
    ways: list[dict[str, Any]] = [
        {"headers": _basic("any-client", API_KEY)},  # client_secret_basic
        {"headers": _basic("", API_KEY)},  # any client id, even none
        # RFC 6749 section 2.3.1: the password form-encoded before Basic.
        {"headers": _basic("c", API_KEY.replace("-", "%2D"))},
        {"data": {**form, "client_id": "c", "client_secret": API_KEY}},  # client_secret_post
        {"data": {**form, "client_secret": API_KEY}},
        {"headers": {"api-key": API_KEY}},  # as the SDKs send it
        {"headers": {"authorization": f"Bearer {API_KEY}"}},
    ]
    for way in ways:
        answer = core.oauth(INTROSPECT, way.pop("data", form), auth=None, **way)
        assert answer.status_code == 200, (way, answer.text)
        assert answer.json()["active"] is True


def test_a_missing_or_wrong_key_is_invalid_client(core: ServedCore) -> None:
    access, refresh, _ = core.create()
    form = {"token": access}
    for path in (INTROSPECT, REVOKE):
        _refused_client(core.oauth(path, form, auth=None))
        _refused_client(core.oauth(path, form, auth=("c", API_KEY + "x")))
        _refused_client(core.oauth(path, form, auth=("c", API_KEY[:-1])))
        _refused_client(core.oauth(path, form, auth=(API_KEY, "")))  # the key as the id
        _refused_client(core.oauth(path, {**form, "client_secret": "nope"}, auth=None))
        _refused_client(core.oauth(path, form, auth=None, headers={"api-key": "nope"}))
        _refused_client(
            core.oauth(path, form, auth=None, headers={"authorization": "Bearer nope"}), "Bearer"
        )
        for broken in ("Basic !!!", "Basic " + base64.b64encode(b"no-colon").decode(), "Digest x"):
            _refused_client(core.oauth(path, form, auth=None, headers={"authorization": broken}))
    # Nothing was revoked by the refused calls.
    assert core.introspect(refresh)["active"] is True


def test_one_way_of_authentication_at_a_time(core: ServedCore) -> None:
    access, _, _ = core.create()
    answer = core.oauth(INTROSPECT, {"token": access, "client_secret": API_KEY})
    assert "one way" in _bad_request(answer)["error_description"]
    answer = core.oauth(INTROSPECT, {"token": access}, headers={"api-key": API_KEY})
    _bad_request(answer)


def test_parameters_in_the_url_are_refused(core: ServedCore) -> None:
    access, refresh, _ = core.create()
    for query in (
        {"client_secret": API_KEY},
        {"api_key": API_KEY},
        {"token": access},
        {"token_type_hint": "access_token"},
    ):
        for path in (INTROSPECT, REVOKE):
            answer = httpx.post(
                f"{core.url}{path}", params=query, data={"token": refresh}, auth=("c", API_KEY)
            )
            assert "URL" in _bad_request(answer)["error_description"]
    # The key in the URL alone opens nothing.
    answer = httpx.post(f"{core.url}{INTROSPECT}?client_secret={API_KEY}", data={"token": access})
    assert answer.status_code == 400
    assert core.introspect(refresh)["active"] is True  # the refused revokes did nothing


def test_request_format(core: ServedCore) -> None:
    access, _, _ = core.create()
    auth = ("c", API_KEY)
    url = f"{core.url}{INTROSPECT}"
    _bad_request(httpx.post(url, json={"token": access}, auth=auth))  # JSON: not a form
    _bad_request(httpx.post(url, content=f"token={access}".encode(), auth=auth))  # no type
    _bad_request(core.oauth(INTROSPECT, {}))
    _bad_request(core.oauth(INTROSPECT, {"token": ""}))  # empty is absent (RFC 6749 3.1)
    _bad_request(core.oauth(INTROSPECT, {"token_type_hint": "access_token"}))
    form = "application/x-www-form-urlencoded"
    for body in (
        f"token={access}&token=x".encode(),  # a parameter twice
        b"token=%ff%fe",  # not UTF-8
        b"token=\xff",
        "&".join(f"p{i}=1" for i in range(50)).encode(),  # more fields than any client sends
    ):
        _bad_request(httpx.post(url, content=body, auth=auth, headers={"content-type": form}))
    charset = {"content-type": f"{form}; charset=UTF-8"}
    answer = httpx.post(url, content=f"token={access}".encode(), auth=auth, headers=charset)
    assert answer.json()["active"] is True
    # Unknown parameters are ignored (RFC 7662 allows extensions).
    assert core.introspect(access, resource="https://api.example.com")["active"] is True

    answer = httpx.get(url, auth=auth)
    assert (answer.status_code, answer.headers["allow"]) == (405, "POST")
    # App-level: a tenant in the path is refused, an unknown app named.
    core.cdi("PUT", "/recipe/multitenancy/tenant/v2", {"tenantId": "blue"})
    assert core.oauth(INTROSPECT, {"token": access}, prefix="/blue").status_code == 403
    answer = core.oauth(INTROSPECT, {"token": access}, prefix="/appid-nowhere")
    assert _bad_request(answer)["error_description"] == "Unknown app"


def test_an_app_with_keys_of_its_own(core: ServedCore) -> None:
    shop = {"appId": "shop", "coreConfig": {"api_keys": SHOP_KEY}}
    core.cdi("PUT", "/recipe/multitenancy/app/v2", shop)
    core.key = SHOP_KEY
    token, _, _ = core.create("/appid-shop")
    core.key = API_KEY
    # Only the app's own keys open it, and they open nothing else.
    _refused_client(core.oauth(INTROSPECT, {"token": token}, prefix="/appid-shop"))
    answer = core.oauth(INTROSPECT, {"token": token}, prefix="/appid-shop", auth=("c", SHOP_KEY))
    assert answer.json()["active"] is True
    _refused_client(core.oauth(INTROSPECT, {"token": token}, auth=("c", SHOP_KEY)))
    # An unknown app is guarded by the core's keys: no one else learns it does not exist.
    _refused_client(core.oauth(INTROSPECT, {"token": token}, prefix="/appid-x", auth=None))


def test_a_core_without_keys(keyless: ServedCore) -> None:
    access, refresh, _ = keyless.create()
    # As every route of a key-less core: no key asked for, and any sent is ignored...
    assert keyless.introspect(access)["active"] is True
    answer = keyless.oauth(INTROSPECT, {"token": access}, auth=("c", "anything-at-all"))
    assert answer.json()["active"] is True
    # ...but web pages and unknown host names are kept out (guards.py).
    url = f"{keyless.url}{REVOKE}"
    for headers in (
        {"origin": "https://evil.example"},
        {"sec-fetch-site": "cross-site"},
        {"host": "rebound.evil.example"},
    ):
        assert httpx.post(url, data={"token": refresh}, headers=headers).status_code == 403
    assert keyless.introspect(refresh)["active"] is True
    keyless.revoke(refresh)
    assert keyless.introspect(access) == {"active": False}


def test_the_oauth_routes_leave_a_tenant_named_tessera_alone(core: ServedCore) -> None:
    assert split_path(INTROSPECT).api_path == INTROSPECT  # type: ignore[union-attr]
    route = split_path("/appid-shop/tessera/oauth2/revoke")
    assert route is not None
    assert (route.app_id, route.tenant_id, route.api_path) == ("shop", "public", REVOKE)
    route = split_path("/tessera/recipe/session")
    assert route is not None
    assert (route.tenant_id, route.api_path) == ("tessera", "/recipe/session")

    core.cdi("PUT", "/recipe/multitenancy/tenant/v2", {"tenantId": "tessera"})
    access, _, _ = core.create("/tessera")
    assert core.introspect(access)["tenant_id"] == "tessera"
    # The OAuth routes are app-level: a tenant before them is refused, as for the CDI's.
    answer = core.oauth(INTROSPECT, {"token": access}, prefix="/tessera")
    assert answer.status_code == 403

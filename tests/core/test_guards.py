"""What a core refuses before any handler runs: without an API key, requests that name
another host (DNS rebinding) or come from a web page; and forwarded client addresses
from anyone but a trusted proxy."""

from __future__ import annotations

import uuid

import httpx
import pytest

from .._support.cores import StartCore

API_KEY = "key-for-tests-0123456789"
CREATE = {"userId": "u1", "userDataInJWT": {}, "userDataInDatabase": {}, "enableAntiCsrf": False}


def _create(url: str, headers: dict[str, str] | None = None) -> str:
    answer = httpx.post(f"{url}/recipe/session", json=CREATE, headers=headers)
    assert answer.status_code == 200, answer.text
    handle: str = answer.json()["session"]["handle"]
    return handle


def _exists(url: str, handle: str, headers: dict[str, str] | None = None) -> bool:
    answer = httpx.get(f"{url}/recipe/session", params={"sessionHandle": handle}, headers=headers)
    assert answer.status_code == 200, answer.text
    return bool(answer.json()["status"] == "OK")


def test_a_cross_site_text_post_cannot_revoke_sessions(core: str) -> None:
    handle = _create(core)
    # What a form or fetch() with mode "no-cors" on another site sends: no preflight.
    answer = httpx.post(
        f"{core}/recipe/session/remove",
        content=b'{"userId": "u1"}',
        headers={
            "content-type": "text/plain",
            "origin": "https://evil.example",
            "sec-fetch-site": "cross-site",
            "sec-fetch-mode": "no-cors",
        },
    )
    assert answer.status_code == 403
    assert _exists(core, handle)


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": "null"},
        {"origin": "http://127.0.0.1:3000"},
        {"sec-fetch-site": "same-origin"},  # a page served from a rebound name
        {"sec-fetch-site": "same-site"},
    ],
)
def test_browser_requests_are_refused_without_a_key(core: str, headers: dict[str, str]) -> None:
    answer = httpx.get(f"{core}/recipe/session/user", params={"userId": "u1"}, headers=headers)
    assert answer.status_code == 403
    assert "API key" in answer.text


def test_typing_the_address_in_a_browser_still_works(core: str) -> None:
    answer = httpx.get(f"{core}/hello", headers={"sec-fetch-site": "none"})
    assert answer.status_code == 200


@pytest.mark.parametrize("host", ["evil.example", "evil.example:3567", "localhost.evil.example"])
def test_foreign_host_names_are_refused_without_a_key(core: str, host: str) -> None:
    # DNS rebinding: a page on evil.example whose name now resolves to 127.0.0.1.
    for method, path in (("GET", "/recipe/session/user?userId=u1"), ("GET", "/openapi.json")):
        answer = httpx.request(method, f"{core}{path}", headers={"host": host})
        assert answer.status_code == 403, path
    minted = httpx.post(
        f"{core}/recipe/jwt",
        json={"payload": {}, "algorithm": "RS256", "jwksDomain": "x", "validity": 60},
        headers={"host": host},
    )
    assert minted.status_code == 403


def test_local_names_and_addresses_are_accepted(core: str) -> None:
    port = core.rsplit(":", 1)[1]
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", "LOCALHOST", "[::1]:1", "10.0.0.7"):
        answer = httpx.get(f"{core}/apiversion", headers={"host": host})
        assert answer.status_code == 200, host


def test_allowed_hosts_names_more(start_core: StartCore) -> None:
    url = start_core(allowed_hosts="core.internal, Other.Internal")
    for host in ("core.internal:3567", "other.internal"):
        assert httpx.get(f"{url}/apiversion", headers={"host": host}).status_code == 200
    assert httpx.get(f"{url}/apiversion", headers={"host": "evil.example"}).status_code == 403


def test_with_an_api_key_browsers_and_hosts_are_the_keys_business(start_core: StartCore) -> None:
    url = start_core(api_keys=API_KEY)
    headers = {"api-key": API_KEY, "origin": "https://app.example", "host": "core.example"}
    assert httpx.get(f"{url}/apiversion", headers=headers).status_code == 200


def test_forwarded_addresses_do_not_bypass_the_ip_rules(start_core: StartCore) -> None:
    url = start_core(ip_deny_regex=r"127\.0\.0\.1")
    assert httpx.get(f"{url}/apiversion").status_code == 403
    spoofed = {"x-forwarded-for": "10.1.2.3", "forwarded": "for=10.1.2.3"}
    assert httpx.get(f"{url}/apiversion", headers=spoofed).status_code == 403
    allow_only = start_core(ip_allow_regex=r"10\.1\.2\.3")
    assert httpx.get(f"{allow_only}/apiversion", headers=spoofed).status_code == 403


def test_trusted_proxies_name_the_client(start_core: StartCore) -> None:
    url = start_core(ip_allow_regex=r"10\.1\.2\.3", trusted_proxies="127.0.0.1, 192.168.0.0/16")

    def status(forwarded_for: str | None) -> int:
        headers = {} if forwarded_for is None else {"x-forwarded-for": forwarded_for}
        return httpx.get(f"{url}/apiversion", headers=headers).status_code

    assert status(None) == 403  # the proxy itself is not the allowed client
    assert status("10.1.2.3") == 200
    assert status("10.1.2.3, 192.168.4.4") == 200  # a second trusted hop is skipped
    assert status("10.1.2.3, 10.9.9.9") == 403  # the nearest untrusted hop is the client
    assert status("not an address") == 403


def test_an_app_with_keys_on_a_core_without_them_is_still_guarded(core: str) -> None:
    # The public app, which creates and removes apps, answers without a key here, so
    # the browser and Host checks stay on for every path, whichever app it names.
    app_key = "app-key-for-tests-0123456789"
    app_id = f"k{uuid.uuid4().hex[:12]}"
    put = httpx.put(
        f"{core}/recipe/multitenancy/app/v2",
        json={"appId": app_id, "coreConfig": {"api_keys": app_key}},
    )
    assert put.status_code == 200, put.text
    keyed = f"{core}/appid-{app_id}"
    assert _create(keyed, {"api-key": app_key})
    for headers in ({"origin": "https://evil.example"}, {"host": "evil.example"}):
        assert httpx.get(f"{core}/apiversion", headers=headers).status_code == 403
        refused = httpx.post(
            f"{keyed}/recipe/session", json=CREATE, headers={"api-key": app_key, **headers}
        )
        assert refused.status_code == 403, headers
    # A web page cannot add an app's keys to a key-less core either.
    page = httpx.put(
        f"{core}/recipe/multitenancy/app/v2",
        json={"appId": app_id, "coreConfig": {"api_keys": None}},
        headers={"origin": "https://evil.example"},
    )
    assert page.status_code == 403
    assert httpx.get(f"{keyed}/apiversion").status_code == 401


def test_an_app_with_keys_on_a_core_with_them_leaves_browsers_to_the_keys(
    start_core: StartCore,
) -> None:
    url = start_core(api_keys=API_KEY)
    app_key = "app-key-for-tests-0123456789"
    put = httpx.put(
        f"{url}/recipe/multitenancy/app/v2",
        json={"appId": "keyed", "coreConfig": {"api_keys": app_key}},
        headers={"api-key": API_KEY},
    )
    assert put.status_code == 200, put.text
    headers = {"origin": "https://app.example", "host": "core.example"}
    assert httpx.get(f"{url}/appid-keyed/apiversion", headers=headers).status_code == 401
    assert (
        httpx.get(
            f"{url}/appid-keyed/apiversion", headers={"api-key": app_key, **headers}
        ).status_code
        == 200
    )

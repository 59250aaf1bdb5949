"""The admin API over HTTP against a real core on SQLite, PostgreSQL and MariaDB:
search with filters and cursor pages, one session, revoking one, a user's, and what a
previewed filter matches (refused when more match at confirmation), the signing keys;
who may call it; and the audit records it leaves, with no key or token in them."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tessera.storage import SessionMatch
from tests._support.databases import BACKENDS

from .._support import cdi
from .._support.admin_core import KEY, AdminCore, admin_core
from .._support.agents import SAFARI_IPHONE

ADMIN = "/tessera/admin"


@pytest.fixture(params=BACKENDS)
def core(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AdminCore]:
    with admin_core(tmp_path / "core", str(request.param)) as running:
        yield running


def _get(core: AdminCore, path: str, **params: Any) -> Any:
    answer = httpx.get(f"{core.url}{ADMIN}{path}", params=params, headers=core.headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _post(core: AdminCore, path: str, body: dict[str, Any], **headers: str) -> Any:
    answer = httpx.post(f"{core.url}{ADMIN}{path}", json=body, headers={**core.headers, **headers})
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_search_view_and_revoke(core: AdminCore) -> None:
    with core.app_object() as app:
        phone = app.syncio.create_new_session(
            "ann",
            {"plan": "pro"},
            {"cart": [3]},
            ip="198.51.100.7",
            user_agent=SAFARI_IPHONE,
        ).get_handle()
        laptop = app.syncio.create_new_session(
            "ann", tenant_id="acme", ip="203.0.113.1", user_agent="Firefox/128"
        ).get_handle()
    bob = [cdi.create(core.url, key=KEY, userId="bob")["session"]["handle"] for _ in range(3)]

    def handles(**params: Any) -> list[str]:
        found = _get(core, "/sessions", **params)["sessions"]
        # Most recently active first (then by handle, for sessions of the same instant).
        order = [(s["lastActiveAt"], s["sessionHandle"]) for s in found]
        assert order == sorted(order, reverse=True)
        return [s["sessionHandle"] for s in found]

    assert sorted(handles()) == sorted([*bob, laptop, phone])
    assert sorted(handles(userId="ann")) == sorted([laptop, phone])
    assert handles(tenantId="acme") == [laptop]
    assert handles(ip="198.51.100.7") == [phone]
    assert handles(userAgent="IPHONE") == [phone]
    # Pages of two, following the cursor, see every session once.
    seen, cursor = [], None
    while True:
        page = _get(core, "/sessions", limit=2, **({"cursor": cursor} if cursor else {}))
        seen += [s["sessionHandle"] for s in page["sessions"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert seen == handles()

    one = _get(core, "/session", sessionHandle=phone)["session"]
    assert one["userId"] == "ann"
    assert one["device"] == "Mobile Safari 17 on iOS (iPhone)"  # parsed, not the raw agent
    assert one["userAgent"] == SAFARI_IPHONE
    assert (one["ip"], one["lastIp"]) == ("198.51.100.7", "198.51.100.7")
    assert one["accessTokenPayload"]["plan"] == "pro"
    assert one["sessionData"] == {"cart": [3]}
    assert one["createdAt"] <= one["lastActiveAt"] < one["expiresAt"]
    assert "refreshTokenHash" not in str(one)

    assert _post(core, "/session/revoke", {"sessionHandle": phone}) == {
        "status": "OK",
        "revoked": True,
    }
    assert _post(core, "/session/revoke", {"sessionHandle": phone})["revoked"] is False
    assert _get(core, "/session", sessionHandle=phone) == {
        "status": "UNAUTHORISED",
        "message": "Session does not exist.",
    }
    assert core.store.load_session(phone) is None
    ended = _post(core, "/user/revoke", {"userId": "bob"})["sessionHandlesRevoked"]
    assert sorted(ended) == sorted(bob)
    assert handles() == [laptop]


def test_revoking_what_a_preview_counted(core: AdminCore) -> None:
    for user in ("u1", "u2", "u3"):
        cdi.create(core.url, key=KEY, userId=user)
    cdi.create(core.url, key=KEY, userId="keep")
    with core.app_object() as app:
        bots = [
            app.syncio.create_new_session("u4", user_agent="BadBot/1").get_handle()
            for _ in range(2)
        ]
    filter_ = {"userAgent": "badbot"}
    preview = _post(core, "/sessions/preview", filter_)
    assert preview["status"] == "OK"
    # The preview's count is the database's.
    now = int(time.time() * 1000)
    assert (
        preview["count"] == 2 == core.store.count_sessions(SessionMatch(user_agent="badbot"), now)
    )
    with core.app_object() as app:  # one more starts matching before the confirmation
        late = app.syncio.create_new_session("u5", user_agent="badbot/2").get_handle()
    confirm = {**filter_, "expectedCount": 2, "confirmation": preview["confirmation"]}
    refused = _post(core, "/sessions/revoke", confirm)
    assert refused["status"] == "COUNT_CHANGED"
    assert refused["count"] == 3
    assert all(core.store.load_session(h) is not None for h in [*bots, late])
    confirm = {**filter_, "expectedCount": 3, "confirmation": refused["confirmation"]}
    done = _post(core, "/sessions/revoke", confirm, **{"tessera-operator": "alice"})
    assert sorted(done["sessionHandlesRevoked"]) == sorted([*bots, late])
    assert all(core.store.load_session(h) is None for h in [*bots, late])
    # A confirmation is for its own filter only.
    wider = {"expectedCount": 3, "confirmation": refused["confirmation"]}
    answer = httpx.post(f"{core.url}{ADMIN}/sessions/revoke", json=wider, headers=core.headers)
    assert answer.status_code == 400
    assert "preview again" in answer.text
    remaining = [s["userId"] for s in _get(core, "/sessions")["sessions"]]
    assert sorted(remaining) == ["keep", "u1", "u2", "u3"]
    # The revocation is in the log, by whom and how many, and each session with it.
    actions = [r for r in core.audit() if r["event"] == "admin_action"]
    assert [(a["action"], a["count"], a.get("reason")) for a in actions] == [
        ("revoke_matching", 0, "count_changed"),
        ("revoke_matching", 3, None),
    ]
    assert actions[1]["operator"] == "alice"
    assert actions[1]["filter"] == {"user_agent": "badbot"}
    ended = [r for r in core.audit() if r["event"] == "session_revoked"]
    assert {r["session_handle"] for r in ended} == {*bots, late}
    assert {(r["reason"], r["by"]) for r in ended} == {("operator", "operator")}


def test_signing_keys_without_private_parts(tmp_path: Path) -> None:
    with admin_core(tmp_path / "core") as core:
        keys = _get(core, "/keys")
        signing = [k for k in keys["keys"] if k["signing"]]
        assert len(signing) == 1
        assert signing[0]["kind"] == "dynamic"
        assert keys["rotationIntervalMs"] == 168 * 3_600_000
        assert keys["nextRotationAt"] == signing[0]["createdAt"] + keys["rotationIntervalMs"]
        published = httpx.get(f"{core.url}/.well-known/jwks.json").json()["keys"]
        assert {k["kid"] for k in keys["keys"]} == {k["kid"] for k in published}
        stored = core.store.list_signing_keys()
        text = str(keys)
        assert all(k.private_key[20:60] not in text for k in stored)


def test_who_may_call_it(tmp_path: Path) -> None:
    with admin_core(tmp_path / "core") as core:
        url = f"{core.url}{ADMIN}/sessions"
        assert httpx.get(url).status_code == 401
        assert httpx.get(url, headers={"api-key": "wrong-key-0123456789abcdef"}).status_code == 401
        assert httpx.get(url, headers={"authorization": f"Bearer {KEY}"}).status_code == 200
        # A key in a URL is never accepted (logs, histories and proxies keep URLs).
        assert httpx.get(url, params={"api-key": KEY}).status_code == 401
        answer = httpx.get(url, params={"apiKey": KEY}, headers=core.headers)
        assert answer.status_code == 400
        assert "Never put an API key in a URL" in answer.text
        # Tenants are a filter, not a path segment; unknown fields are mistakes.
        assert (
            httpx.get(f"{core.url}/acme{ADMIN}/sessions", headers=core.headers).status_code == 403
        )
        assert httpx.get(url, params={"user": "x"}, headers=core.headers).status_code == 400
        for limit in ("0", "201", "ten"):
            answer = httpx.get(url, params={"limit": limit}, headers=core.headers)
            assert answer.status_code == 400
            assert "limit" in answer.text
        # An app with keys of its own: only they open its admin API.
        own = "shop-own-key-0123456789abc"
        assert cdi.put_app(core.url, "shop", key=KEY, api_keys=own).status_code == 200
        shop = f"{core.url}/appid-shop{ADMIN}/sessions"
        assert httpx.get(shop, headers=core.headers).status_code == 401
        assert httpx.get(shop, headers={"api-key": own}).status_code == 200


def test_audit_records_name_the_operator_and_hold_no_secret(tmp_path: Path) -> None:
    with admin_core(tmp_path / "core") as core:
        made = cdi.create(core.url, key=KEY, userId="victim")
        access, refresh = cdi.tokens(made)
        handle = made["session"]["handle"]
        _post(core, "/session/revoke", {"sessionHandle": handle}, **{"tessera-operator": "bob"})
        preview = _post(core, "/sessions/preview", {"userId": "nobody"})
        _post(
            core,
            "/sessions/revoke",
            {"userId": "nobody", "expectedCount": 0, "confirmation": preview["confirmation"]},
        )
        records = [r for r in core.audit() if r.get("by") == "operator"]
        assert [r["event"] for r in records] == ["session_revoked", "admin_action", "admin_action"]
        revoked = records[0]
        assert (revoked["session_handle"], revoked["user_id"], revoked["operator"]) == (
            handle,
            "victim",
            "bob",
        )
        assert revoked["operator_ip"] == "127.0.0.1"
        assert len(revoked["key_id"]) == 8
        log = core.log()
        for secret in (KEY, KEY[:16], KEY[-16:], access, refresh, access.rsplit(".", 1)[1]):
            assert secret not in log

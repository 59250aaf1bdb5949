"""tessera's own session routes on the core (``/tessera/sessions/...``): a user's
sessions with devices, "log out my other devices", re-authentication, and last activity
recorded by database-checked verifications. The CDI routes answer as before."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import httpx
import pytest

from .._support.cdi import create, put_tenant, refresh, tokens, verify
from .._support.cores import new_app


@pytest.fixture(scope="module")
def app_uri(core: str) -> str:
    return new_app(core)


def _list(app_uri: str, tenant: str = "", **query: Any) -> httpx.Response:
    prefix = f"/{tenant}" if tenant else ""
    return httpx.get(f"{app_uri}{prefix}/tessera/sessions/user", params=query)


def _claims(token: str) -> dict[str, Any]:
    body = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))))


def test_a_users_sessions_newest_first_with_pages_and_the_current_one(app_uri: str) -> None:
    assert put_tenant(app_uri, {"tenantId": "t1"}).status_code == 200
    handles = []
    for tenant in ("public", "public", "t1"):
        handles.append(create(app_uri, tenant, userId="lister")["session"]["handle"])
        time.sleep(0.002)  # distinct creation times, so the order is known
    create(app_uri, userId="someone else")

    every = _list(app_uri, userId="lister", currentSessionHandle=handles[0])
    assert every.status_code == 200
    sessions = every.json()["sessions"]
    assert [s["sessionHandle"] for s in sessions] == list(reversed(handles))
    assert [s["current"] for s in sessions] == [False, False, True]
    assert every.json()["nextCursor"] is None
    assert sessions[0]["tenantId"] == "t1"
    assert sessions[0]["device"] == {
        "label": "Unknown device",  # the CDI does not say which agent created it
        "browser": None,
        "browserVersion": None,
        "os": None,
        "model": None,
        "deviceClass": "other",
    }
    in_t1 = _list(app_uri, "t1", userId="lister", fetchAcrossAllTenants="false")
    assert [s["sessionHandle"] for s in in_t1.json()["sessions"]] == [handles[2]]

    first = _list(app_uri, userId="lister", limit="2").json()
    assert len(first["sessions"]) == 2
    rest = _list(app_uri, userId="lister", limit="2", cursor=first["nextCursor"]).json()
    assert [s["sessionHandle"] for s in rest["sessions"]] == [handles[0]]
    assert rest["nextCursor"] is None

    cursor = first["nextCursor"]
    for bad in (cursor[:-3] + "AAA", "nonsense", cursor + "."):
        answer = _list(app_uri, userId="lister", cursor=bad)
        assert answer.status_code == 400
        assert "cursor" in answer.text
    assert _list(app_uri, userId="someone else", cursor=cursor).status_code == 400
    assert _list(app_uri, userId="lister", limit="0").status_code == 400
    assert _list(app_uri, userId="lister", limit="101").status_code == 400


def test_revoke_others_spares_the_caller(app_uri: str) -> None:
    mine = create(app_uri, userId="leaver")["session"]["handle"]
    other = create(app_uri, userId="leaver")["session"]["handle"]
    theirs = create(app_uri, userId="stayer")["session"]["handle"]
    answer = httpx.post(
        f"{app_uri}/tessera/sessions/revoke-others", json={"sessionHandle": mine}
    ).json()
    assert answer == {"status": "OK", "sessionHandlesRevoked": [other]}
    remaining = _list(app_uri, userId="leaver").json()["sessions"]
    assert [s["sessionHandle"] for s in remaining] == [mine]
    assert len(_list(app_uri, userId="stayer").json()["sessions"]) == 1
    assert theirs
    gone = httpx.post(
        f"{app_uri}/tessera/sessions/revoke-others", json={"sessionHandle": other}
    ).json()
    assert gone == {"status": "UNAUTHORISED", "message": "Session does not exist."}


def test_reauthenticated_reaches_the_next_access_token(app_uri: str) -> None:
    created = create(app_uri, userId="u-reauth", userDataInJWT={"role": "admin"})
    access, refresh_token = tokens(created)
    # As with the SuperTokens core, a new session's token carries only the SDK's claims.
    assert "auth_time" not in _claims(access)
    handle = created["session"]["handle"]
    answer = httpx.post(
        f"{app_uri}/tessera/sessions/reauthenticated",
        json={"sessionHandle": handle, "amr": ["pwd", "otp"]},
    ).json()
    assert answer["status"] == "OK"
    assert abs(answer["authTime"] - time.time()) < 60
    refreshed = refresh(app_uri, refresh_token)
    new_access, _ = tokens(refreshed)
    claims = _claims(new_access)
    assert (claims["auth_time"], claims["amr"], claims["role"]) == (
        answer["authTime"],
        ["pwd", "otp"],
        "admin",
    )
    bad = httpx.post(
        f"{app_uri}/tessera/sessions/reauthenticated",
        json={"sessionHandle": handle, "amr": ["x" * 65]},
    )
    assert bad.status_code == 400
    gone = httpx.post(
        f"{app_uri}/tessera/sessions/reauthenticated", json={"sessionHandle": "no-such"}
    ).json()
    assert gone["status"] == "UNAUTHORISED"


def test_database_checked_verifies_record_activity(core: str) -> None:
    app_uri = new_app(core, activity_write_interval="0.001")
    created = create(app_uri, userId="active")
    access, _ = tokens(created)
    listed = _list(app_uri, userId="active").json()["sessions"][0]
    assert listed["lastActive"] == listed["timeCreated"]
    time.sleep(0.01)  # more than the interval
    assert verify(app_uri, access, check_database=True)["status"] == "OK"
    # Written by a background thread after the answer: wait for it (bounded).
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        listed = _list(app_uri, userId="active").json()["sessions"][0]
        if listed["lastActive"] > listed["timeCreated"]:
            break
        time.sleep(0.05)
    assert listed["lastActive"] > listed["timeCreated"]

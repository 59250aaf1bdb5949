"""What callers hand the session functions, and what the functions hand back.

Nothing the app holds may share objects with what the engine remembers or stores. Text
that cannot be stored (NUL in ids, lone surrogates anywhere) and numbers JSON cannot
carry (NaN, Infinity) are caller mistakes: ``ValueError`` at once, the same on every
backend, with nothing written. A client's malformed token stays a session error.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tessera import Tessera, TryRefreshTokenError, UnauthorisedError
from tessera.engine.access_token import MAX_PAYLOAD_BYTES

from ._support.clock import FakeClock

MakeTessera = Callable[..., Tessera]


@pytest.fixture
def local(tmp_path: Path) -> Iterator[Tessera]:
    t = Tessera(f"sqlite:///{tmp_path}/s.db", clock=FakeClock(), expired_session_purge_interval=0)
    yield t
    t.close()


# -- nothing the app holds aliases engine state -----------------------------------------


def test_editing_a_verified_payload_does_not_change_the_next_verification(
    local: Tessera,
) -> None:
    token = local.syncio.create_new_session("u", {"perms": ["read"]}).get_access_token()
    for _ in range(3):  # the first verification fills the engine's memory; the rest use it
        session = local.syncio.get_session_without_request_response(token)
        assert session is not None
        payload = session.get_access_token_payload()
        assert payload["perms"] == ["read"]
        payload["perms"].append("admin")
        payload["perms"] = ["admin"]
    again = local.syncio.get_session_without_request_response(token)
    assert again is not None
    assert again.get_access_token_payload()["perms"] == ["read"]


def test_big_integer_claims_come_back_exactly(local: Tessera) -> None:
    claims = {"big": 2**64 + 1, "negative": -(2**63) - 1, "ids": [12345678901234567890123]}
    token = local.syncio.create_new_session("u", claims).get_access_token()
    for _ in range(2):  # verified, then remembered
        session = local.syncio.get_session_without_request_response(token)
        assert session is not None
        payload = session.get_access_token_payload()
        assert {k: payload[k] for k in claims} == claims


def test_the_session_keeps_nothing_of_the_callers_objects(local: Tessera) -> None:
    perms = ["read"]
    payload: dict[str, Any] = {"perms": perms, "org": {"id": 1}}
    data: dict[str, Any] = {"cart": [1]}
    session = local.syncio.create_new_session("u", payload, data)
    perms.append("admin")
    payload["org"]["id"] = 2
    data["cart"].append(2)
    assert session.get_access_token_payload()["perms"] == ["read"]
    assert session.get_access_token_payload()["org"] == {"id": 1}
    info = local.syncio.get_session_information(session.get_handle())
    assert info is not None
    assert info.custom_claims_in_access_token_payload == {"perms": ["read"], "org": {"id": 1}}
    assert info.session_data_in_database == {"cart": [1]}
    tokens = session.get_all_session_tokens_dangerously()
    assert tokens["refreshToken"] is not None
    refreshed = local.syncio.refresh_session_without_request_response(tokens["refreshToken"])
    assert refreshed.get_access_token_payload()["perms"] == ["read"]


def test_a_merged_update_is_not_shared_with_the_caller(local: Tessera) -> None:
    session = local.syncio.create_new_session("u", {"perms": ["read"]})
    update: dict[str, Any] = {"perms": ["read", "write"]}
    session.merge_into_access_token_payload(update)
    update["perms"].append("admin")
    assert session.get_access_token_payload()["perms"] == ["read", "write"]
    fresh = local.syncio.get_session_without_request_response(session.get_access_token())
    assert fresh is not None
    assert fresh.get_access_token_payload()["perms"] == ["read", "write"]


# -- text that cannot be stored, on every backend ------------------------------------------

BAD_IDS = {"NUL": "user\x00x", "lone surrogate": "user\ud800", "low surrogate": "\udfff"}


@pytest.mark.parametrize("bad", list(BAD_IDS))
def test_bad_user_ids_are_value_errors_everywhere(make_tessera: MakeTessera, bad: str) -> None:
    t = make_tessera()
    user_id = BAD_IDS[bad]
    with pytest.raises(ValueError, match="user_id"):
        t.syncio.create_new_session(user_id)
    with pytest.raises(ValueError, match="user_id"):
        t.syncio.revoke_all_sessions_for_user(user_id)
    with pytest.raises(ValueError, match="user_id"):
        t.syncio.get_all_session_handles_for_user(user_id, "public", False)
    assert t.syncio.get_all_session_handles_for_user("user") == []


@pytest.mark.parametrize("bad", list(BAD_IDS))
def test_bad_session_handles_are_value_errors_everywhere(
    make_tessera: MakeTessera, bad: str
) -> None:
    t = make_tessera()
    keep = t.syncio.create_new_session("user").get_handle()
    handle = keep + BAD_IDS[bad]
    calls: list[Callable[[], object]] = [
        lambda: t.syncio.revoke_session(handle),
        lambda: t.syncio.revoke_multiple_sessions([keep, handle]),
        lambda: t.syncio.get_session_information(handle),
        lambda: t.syncio.update_session_data_in_database(handle, {"a": 1}),
        lambda: t.syncio.merge_into_access_token_payload(handle, {"a": 1}),
    ]
    for call in calls:
        with pytest.raises(ValueError, match="session_handle"):
            call()
    assert t.syncio.get_session_information(keep) is not None  # nothing was revoked


def test_client_metadata_with_odd_characters_is_kept_cleaned(make_tessera: MakeTessera) -> None:
    t = make_tessera()
    session = t.syncio.create_new_session("user", ip="10.0.0.1\x00", user_agent="agent\ud800")
    info = t.syncio.get_session_information(session.get_handle())
    assert info is not None
    assert info.ip == "10.0.0.1\ufffd"
    assert info.user_agent == "agent?"


# -- numbers JSON cannot carry, on every backend ------------------------------------------

NOT_JSON: dict[str, Any] = {
    "NaN": {"score": math.nan},
    "Infinity": {"limits": [1, math.inf]},
    "-Infinity": {"deep": {"x": -math.inf}},
    "lone surrogate": {"name": "a\ud800"},
    "lone surrogate key": {"\ud800": 1},
}


@pytest.mark.parametrize("case", list(NOT_JSON))
def test_values_json_cannot_carry_are_refused_before_anything_is_stored(
    make_tessera: MakeTessera, case: str
) -> None:
    t = make_tessera()
    bad = NOT_JSON[case]
    with pytest.raises(ValueError, match=r"JSON has no NaN|lone surrogate"):
        t.syncio.create_new_session("user", bad)
    with pytest.raises(ValueError, match=r"JSON has no NaN|lone surrogate"):
        t.syncio.create_new_session("user", {}, bad)
    assert t.syncio.get_all_session_handles_for_user("user") == []

    session = t.syncio.create_new_session("user", {"ok": 1}, {"ok": 1})
    handle = session.get_handle()
    for call in (
        lambda: t.syncio.update_session_data_in_database(handle, bad),
        lambda: t.syncio.merge_into_access_token_payload(handle, bad),
        lambda: t.syncio.regenerate_access_token(session.get_access_token(), bad),
        lambda: session.merge_into_access_token_payload(bad),
        lambda: session.update_session_data_in_database(bad),
    ):
        with pytest.raises(ValueError, match=r"JSON has no NaN|lone surrogate"):
            call()
    # The session is as it was, and still refreshes.
    info = t.syncio.get_session_information(handle)
    assert info is not None
    assert info.session_data_in_database == {"ok": 1}
    assert info.custom_claims_in_access_token_payload == {"ok": 1}
    tokens = session.get_all_session_tokens_dangerously()
    assert tokens["refreshToken"] is not None
    refreshed = t.syncio.refresh_session_without_request_response(tokens["refreshToken"])
    assert refreshed.get_access_token_payload()["ok"] == 1


# -- a client's bad token is still a session error -------------------------------------------


def test_client_tokens_with_lone_surrogates_are_session_errors(make_tessera: MakeTessera) -> None:
    t = make_tessera(anti_csrf="VIA_TOKEN")
    tokens = t.syncio.create_new_session("user").get_all_session_tokens_dangerously()
    refresh, anti_csrf = tokens["refreshToken"], tokens["antiCsrfToken"]
    assert refresh is not None
    assert anti_csrf is not None
    with pytest.raises(UnauthorisedError):
        t.syncio.refresh_session_without_request_response("\ud800" + refresh, anti_csrf)
    with pytest.raises(UnauthorisedError):
        t.syncio.refresh_session_without_request_response(refresh, anti_csrf + "\ud800")
    with pytest.raises(TryRefreshTokenError):
        t.syncio.get_session_without_request_response(tokens["accessToken"], "\ud800")
    with pytest.raises(UnauthorisedError):
        t.syncio.get_session_without_request_response(tokens["accessToken"] + "\ud800", anti_csrf)
    assert t.syncio.refresh_session_without_request_response(refresh, anti_csrf)


async def test_the_async_functions_refuse_the_same_values(local: Tessera) -> None:
    with pytest.raises(ValueError, match="user_id"):
        await local.asyncio.create_new_session("u\x00")
    with pytest.raises(ValueError, match="JSON has no NaN"):
        await local.asyncio.create_new_session("u", {"a": math.inf})
    session = await local.asyncio.create_new_session("u", {"perms": ["read"]})
    with pytest.raises(ValueError, match="session_handle"):
        await local.asyncio.revoke_session(session.get_handle() + "\ud800")
    with pytest.raises(TypeError, match="must be a dict"):
        await session.merge_into_access_token_payload(["not", "a", "dict"])  # type: ignore[arg-type]
    token = session.get_access_token()
    verified = await local.asyncio.get_session_without_request_response(token)
    assert verified is not None
    verified.get_access_token_payload()["perms"].append("admin")
    again = await local.asyncio.get_session_without_request_response(token)
    assert again is not None
    assert again.get_access_token_payload()["perms"] == ["read"]


# -- a payload no access token could carry -------------------------------------------


def test_a_payload_too_big_for_any_token_is_refused_and_nothing_changes(
    make_tessera: MakeTessera,
) -> None:
    """Verification refuses tokens over 16 KiB, so a bigger payload would give a session
    whose tokens no request could use. It is refused where it enters; the largest
    accepted payload still makes a token that verifies."""
    t = make_tessera()
    # Multi-byte text counts by its UTF-8 length.
    too_big = {"blob": "é" * (MAX_PAYLOAD_BYTES // 2)}
    with pytest.raises(ValueError, match="more than the 10240"):
        t.syncio.create_new_session("user", too_big)
    assert t.syncio.get_all_session_handles_for_user("user") == []

    largest = {"blob": "x" * (MAX_PAYLOAD_BYTES - len('{"blob":""}'))}
    session = t.syncio.create_new_session("user", largest)
    verified = t.syncio.get_session_without_request_response(
        session.get_access_token(), check_database=True
    )
    assert verified is not None
    assert verified.get_access_token_payload()["blob"] == largest["blob"]

    handle = session.get_handle()
    small = t.syncio.create_new_session("user", {"n": 1})
    for call in (
        lambda: t.syncio.merge_into_access_token_payload(small.get_handle(), too_big),
        # The update is small; the merged payload is not.
        lambda: t.syncio.merge_into_access_token_payload(handle, {"more": "y"}),
        lambda: t.syncio.regenerate_access_token(small.get_access_token(), too_big),
        lambda: small.merge_into_access_token_payload(too_big),
    ):
        with pytest.raises(ValueError, match="keep large values in the session data"):
            call()
    for kept, claims in ((handle, largest), (small.get_handle(), {"n": 1})):
        info = t.syncio.get_session_information(kept)
        assert info is not None
        assert info.custom_claims_in_access_token_payload == claims

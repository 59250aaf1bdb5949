"""Fresh re-authentication (``auth_time``, ``amr``, ``mark_reauthenticated``) and
"log out my other devices" (``revoke_other_sessions``), on every backend, sync and async."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

import pytest

from tessera import Tessera, TryRefreshTokenError, UnauthorisedError
from tessera.engine.sessions import SessionEngine
from tessera.framework.claims import FRESH_AUTH_CLAIM, require_fresh
from tessera.storage.base import REVOKED
from tessera.syncio import Session

MakeTessera = Callable[..., Tessera]


def refresh_token(session: Session) -> str:
    token = session.get_all_session_tokens_dangerously()["refreshToken"]
    assert token is not None
    return token


# -- auth_time and amr ----------------------------------------------------------------


def test_auth_time_never_advances_on_refresh(make_tessera: MakeTessera) -> None:
    t = make_tessera(access_token_validity=60)
    session = t.syncio.create_new_session("user-1", {"plan": "pro"}, amr=["pwd"])
    login = t.now() // 1000
    assert session.get_auth_time() == login
    for _ in range(5):
        t.clock.advance(3600)  # type: ignore[attr-defined]
        session = t.syncio.refresh_session_without_request_response(refresh_token(session))
        payload = session.get_access_token_payload()
        assert payload["iat"] == t.now() // 1000 > login
        assert (payload["auth_time"], payload["amr"], payload["plan"]) == (login, ["pwd"], "pro")
        verified = t.syncio.get_session_without_request_response(session.get_access_token())
        assert verified is not None
        assert verified.get_auth_time() == login
    info = t.syncio.get_session_information(session.get_handle())
    assert info is not None
    assert info.custom_claims_in_access_token_payload == {"plan": "pro"}


async def test_auth_time_never_advances_on_refresh_async(make_tessera: MakeTessera) -> None:
    t = make_tessera(access_token_validity=60)
    session = await t.asyncio.create_new_session("user-1")
    login = t.now() // 1000
    assert "amr" not in session.get_access_token_payload()
    for _ in range(3):
        t.clock.advance(600)  # type: ignore[attr-defined]
        tokens = session.get_all_session_tokens_dangerously()
        assert tokens["refreshToken"] is not None
        session = await t.asyncio.refresh_session_without_request_response(tokens["refreshToken"])
        assert session.get_auth_time() == login
        assert session.get_access_token_payload()["iat"] == t.now() // 1000


def test_mark_reauthenticated_moves_auth_time_and_survives_refresh(
    make_tessera: MakeTessera,
) -> None:
    t = make_tessera()
    session = t.syncio.create_new_session("user-1", {"plan": "pro"}, amr=["pwd"])
    other = t.syncio.create_new_session("user-1", amr=["pwd"])
    login = t.now() // 1000
    t.clock.advance(1000)  # type: ignore[attr-defined]
    old_token = session.get_access_token()
    t.syncio.mark_reauthenticated(session, ["pwd", "otp"])
    now = t.now() // 1000
    assert session.get_access_token() != old_token
    assert session.get_all_session_tokens_dangerously()["accessAndFrontTokenUpdated"]
    payload = session.get_access_token_payload()
    assert (payload["auth_time"], payload["amr"], payload["plan"]) == (now, ["pwd", "otp"], "pro")
    # Only that session: the user's other device still shows the old login.
    assert other.get_auth_time() == login
    t.clock.advance(10)  # type: ignore[attr-defined]
    session.mark_reauthenticated()  # amr left as it was
    later = t.now() // 1000
    assert session.get_access_token_payload()["amr"] == ["pwd", "otp"]
    renewed = t.syncio.refresh_session_without_request_response(refresh_token(session))
    assert renewed.get_auth_time() == later
    assert (
        t.syncio.refresh_session_without_request_response(refresh_token(other)).get_auth_time()
        == login
    )
    t.syncio.revoke_session(session.get_handle())
    with pytest.raises(UnauthorisedError):
        session.mark_reauthenticated()


async def test_mark_reauthenticated_async(make_tessera: MakeTessera) -> None:
    t = make_tessera()
    session = await t.asyncio.create_new_session("user-1")
    t.clock.advance(500)  # type: ignore[attr-defined]
    await t.asyncio.mark_reauthenticated(session, ["webauthn"])
    assert session.get_auth_time() == t.now() // 1000
    t.clock.advance(5)  # type: ignore[attr-defined]
    await session.mark_reauthenticated()
    assert session.get_auth_time() == t.now() // 1000
    assert session.get_access_token_payload()["amr"] == ["webauthn"]
    verified = await t.asyncio.get_session_without_request_response(session.get_access_token())
    assert verified is not None
    assert verified.get_auth_time() == t.now() // 1000


@pytest.mark.parametrize("claim", ["auth_time", "amr"])
def test_an_app_payload_cannot_set_auth_time_or_amr(make_tessera: MakeTessera, claim: str) -> None:
    t = make_tessera()
    with pytest.raises(ValueError, match=claim):
        t.syncio.create_new_session("user-1", {claim: 1})
    session = t.syncio.create_new_session("user-1", {"plan": "pro"}, amr=["pwd"])
    login = session.get_auth_time()
    t.clock.advance(100)  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match=claim):
        t.syncio.merge_into_access_token_payload(session.get_handle(), {claim: 9_999_999_999})
    with pytest.raises(ValueError, match=claim):
        session.merge_into_access_token_payload({claim: None})  # nor remove it
    with pytest.raises(ValueError, match=claim):
        t.syncio.regenerate_access_token(session.get_access_token(), {claim: 1})
    # Replacing or emptying the app's claims leaves the session's own.
    assert t.syncio.merge_into_access_token_payload(session.get_handle(), {"plan": None})
    regenerated = t.syncio.regenerate_access_token(session.get_access_token(), {"x": 1})
    assert regenerated is not None
    payload = regenerated.get_access_token_payload()
    assert (payload["x"], payload["auth_time"], payload["amr"]) == (1, login, ["pwd"])
    assert "plan" not in payload
    renewed = t.syncio.refresh_session_without_request_response(refresh_token(session))
    assert renewed.get_auth_time() == login
    assert renewed.get_access_token_payload()["amr"] == ["pwd"]


@pytest.mark.parametrize("amr", ["pwd", [""], [1], ["x" * 65], ["m"] * 17, ["a\x00"]])
def test_a_bad_amr_is_refused(make_tessera: MakeTessera, amr: object) -> None:
    t = make_tessera()
    with pytest.raises((ValueError, TypeError)):
        t.syncio.create_new_session("user-1", amr=amr)  # type: ignore[arg-type]
    session = t.syncio.create_new_session("user-1")
    with pytest.raises((ValueError, TypeError)):
        session.mark_reauthenticated(amr)  # type: ignore[arg-type]


def test_a_token_with_a_changed_auth_time_fails_its_signature(make_tessera: MakeTessera) -> None:
    t = make_tessera()
    session = t.syncio.create_new_session("user-1")
    header, payload, signature = session.get_access_token().split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["auth_time"] += 3600
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    forged = f"{header}.{forged_payload}.{signature}"
    with pytest.raises(TryRefreshTokenError):
        t.syncio.get_session_without_request_response(forged)


def test_require_fresh_reason_and_bounds() -> None:
    check = require_fresh(60)
    now = 1_800_000_000_000
    assert check.check_at({"auth_time": now // 1000 - 60}, now) is None
    failed = check.check_at({"auth_time": now // 1000 - 61}, now)
    assert failed is not None
    assert failed.id == FRESH_AUTH_CLAIM
    assert failed.reason["maxAgeInSeconds"] == 60
    assert failed.reason["actualAgeInSeconds"] == 61
    for missing in ({}, {"auth_time": "1"}, {"auth_time": True}):
        failed = check.check_at(missing, now)
        assert failed is not None
        assert failed.reason["actualAgeInSeconds"] is None
    assert check({"auth_time": 0}) is not None  # called plainly: the wall clock
    for bad in (-1, 1.5, "60", True):
        with pytest.raises(ValueError, match="max_age"):
            require_fresh(bad)  # type: ignore[arg-type]


# -- log out other devices ------------------------------------------------------------


def test_revoke_other_sessions_keeps_this_one_in_its_tenant(make_tessera: MakeTessera) -> None:
    t = make_tessera(access_token_blacklisting=True)
    mine = t.syncio.create_new_session("user-1")
    phone = t.syncio.create_new_session("user-1")
    tablet = t.syncio.create_new_session("user-1")
    elsewhere = t.syncio.create_new_session("user-1", tenant_id="t2")
    someone = t.syncio.create_new_session("user-2")
    revoked = t.syncio.revoke_other_sessions(mine)
    assert sorted(revoked) == sorted([phone.get_handle(), tablet.get_handle()])
    logged = {r.session_handle for r in t.store.read_revocations(0, (), 100) if r.kind == REVOKED}
    assert logged == set(revoked)  # through the ordinary delete: the feed sees them
    live = set(t.syncio.get_all_session_handles_for_user("user-1"))
    assert live == {mine.get_handle(), elsewhere.get_handle()}
    with pytest.raises(UnauthorisedError):
        t.syncio.refresh_session_without_request_response(refresh_token(phone))
    with pytest.raises(UnauthorisedError):
        t.syncio.get_session_without_request_response(tablet.get_access_token())
    assert t.syncio.get_session_without_request_response(mine.get_access_token())
    assert mine.revoke_other_sessions() == []
    assert mine.revoke_other_sessions(revoke_across_all_tenants=True) == [elsewhere.get_handle()]
    assert set(t.syncio.get_all_session_handles_for_user("user-1")) == {mine.get_handle()}
    assert t.syncio.get_all_session_handles_for_user("user-2") == [someone.get_handle()]


async def test_revoke_other_sessions_async(make_tessera: MakeTessera) -> None:
    t = make_tessera()
    mine = await t.asyncio.create_new_session("user-1", tenant_id="t2")
    other = await t.asyncio.create_new_session("user-1", tenant_id="t2")
    public = await t.asyncio.create_new_session("user-1")
    assert await t.asyncio.revoke_other_sessions(mine) == [other.get_handle()]
    assert await mine.revoke_other_sessions(True) == [public.get_handle()]
    assert await t.asyncio.get_all_session_handles_for_user("user-1") == [mine.get_handle()]


def test_account_event_ends_every_session_in_every_tenant(make_tessera: MakeTessera) -> None:
    # The documented call for a password change or a disabled account (README).
    t = make_tessera()
    handles = {
        t.syncio.create_new_session("user-1").get_handle(),
        t.syncio.create_new_session("user-1", tenant_id="t2").get_handle(),
    }
    assert set(t.syncio.revoke_all_sessions_for_user("user-1")) == handles
    assert t.syncio.get_all_session_handles_for_user("user-1") == []


def test_an_engine_without_session_claims_leaves_those_names_to_the_app(
    make_tessera: MakeTessera,
) -> None:
    # The core's engines: the CDI lets SDK apps use these names, and adds none itself.
    t = make_tessera()
    engine = SessionEngine(t.config, t.store)
    state = engine.create_new_session("user-1", {"auth_time": 5}, None, "public", now=t.now())
    assert state.access_token.payload["auth_time"] == 5
    plain = engine.create_new_session("user-1", None, None, "public", now=t.now())
    assert "auth_time" not in plain.access_token.payload
    with pytest.raises(ValueError, match="amr"):
        engine.create_new_session("user-1", None, None, "public", now=t.now(), amr=["pwd"])
    with pytest.raises(ValueError, match="session claims"):
        engine.mark_reauthenticated(plain.session_handle, now=t.now())

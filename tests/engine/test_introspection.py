"""The engine's answers for introspection and revocation by token (``introspection.py``):
what is active, the session's absolute end, and which tokens name their session."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tessera import Tessera
from tests._support.clock import FakeClock

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])


def _tampered(token: str) -> str:
    """``token`` with one character of its signature (or MAC) changed."""
    at = len(token) - 10
    return token[:at] + ("B" if token[at] == "A" else "A") + token[at + 1 :]


def test_an_absolute_session_end_caps_both_tokens(
    make_tessera: Callable[..., Tessera], clock: FakeClock
) -> None:
    app = make_tessera(session_max_lifetime=600, access_token_validity=3600)
    session = app.syncio.create_new_session("u1", tenant_id="t1")
    tokens = session.get_all_session_tokens_dangerously()
    access, refresh = tokens["accessToken"], tokens["refreshToken"]
    assert isinstance(access, str)
    assert isinstance(refresh, str)
    engine = app.engine
    found = engine.introspect_token(refresh, now=clock.now)
    assert found is not None
    assert (found.kind, found.user_id, found.tenant_id) == ("refresh_token", "u1", "t1")
    assert found.expires_at == clock.now + 600_000
    found = engine.introspect_token(access, now=clock.now)
    assert found is not None
    assert found.expires_at == clock.now + 600_000
    clock.advance(600)
    assert engine.introspect_token(refresh, now=clock.now) is None
    assert engine.introspect_token(access, now=clock.now) is None
    # The session is over, but the tokens still name it (nothing left to revoke, though).
    owner = engine.token_owner(access, now=clock.now)
    assert owner is not None
    assert (owner.session_handle, owner.user_id) == (session.get_handle(), "u1")


def test_which_tokens_name_their_session(
    make_tessera: Callable[..., Tessera], clock: FakeClock
) -> None:
    app = make_tessera(refresh_token_grace_period=0)
    engine, sessions = app.engine, app.syncio
    session = sessions.create_new_session("u1")
    first = session.get_all_session_tokens_dangerously()
    old_access, old_refresh = first["accessToken"], first["refreshToken"]
    assert isinstance(old_access, str)
    assert isinstance(old_refresh, str)
    renewed = sessions.refresh_session_without_request_response(old_refresh, first["antiCsrfToken"])
    clock.advance(3601)  # the first access token has expired
    handle = session.get_handle()
    assert engine.introspect_token(old_access, now=clock.now) is None
    assert engine.introspect_token(old_refresh, now=clock.now) is None
    for token in (old_access, old_refresh, renewed.get_access_token()):
        owner = engine.token_owner(token, now=clock.now)
        assert owner is not None
        assert owner.session_handle == handle
    for token in ("", "garbage", _tampered(old_refresh), _tampered(old_access)):
        for hint in (None, "access_token", "refresh_token", "other"):
            assert engine.token_owner(token, now=clock.now, hint=hint) is None
            assert engine.introspect_token(token, now=clock.now, hint=hint) is None
    # A revoked session has no owner to name: there is nothing left to end.
    assert sessions.revoke_session(handle)
    assert engine.token_owner(old_refresh, now=clock.now) is None

"""Audit events: one JSON line per event on ``tessera.audit`` and the same record to the
app's hook, with who, what and why, and never a token, key or secret."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import httpx
import pytest

from tessera import SessionLimitReachedError, Tessera, TokenTheftError
from tessera.admin import Operator, SessionAdmin
from tessera.audit import EVENTS, REVOCATION_REASONS
from tessera.core.asgi import CoreApp
from tessera.core.config import load_config
from tessera.engine.refresh_token import hash_once, hash_twice
from tests._support import cdi
from tests._support.clock import FakeClock
from tests._support.servers import start_asgi

MakeTessera = Callable[..., Tessera]
API_KEY = "audit-test-key-0123456789"


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def audit_lines() -> Iterator[list[str]]:
    handler = Lines()
    logger = logging.getLogger("tessera.audit")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield handler.lines
    finally:
        logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)


def _refresh_token(session: Any) -> str:
    token = session.get_all_session_tokens_dangerously()["refreshToken"]
    assert isinstance(token, str)
    return token


def _tokens(session: Any) -> list[str]:
    found = session.get_all_session_tokens_dangerously()
    return [v for k, v in found.items() if isinstance(v, str) and k != "accessAndFrontTokenUpdated"]


@pytest.mark.parametrize("backend", ["sqlite"])
def test_every_event_of_an_app_object(
    make_tessera: MakeTessera, clock: FakeClock, audit_lines: list[str]
) -> None:
    hooked: list[dict[str, Any]] = []
    app = make_tessera(refresh_token_grace_period=10, audit_hook=hooked.append)
    sessions = app.syncio
    first = sessions.create_new_session("u1", tenant_id="t1", ip="203.0.113.9", user_agent="UA/1")
    refresh = _refresh_token(first)
    renewed = sessions.refresh_session_without_request_response(
        refresh, ip="203.0.113.9", user_agent="UA/2"
    )
    sessions.get_session_without_request_response(renewed.get_access_token())
    clock.advance(11)
    with pytest.raises(TokenTheftError):
        sessions.refresh_session_without_request_response(refresh)
    second = sessions.create_new_session("u2")
    second.revoke_session()
    sessions.create_new_session("u3")
    sessions.revoke_all_sessions_for_user("u3")

    records = [json.loads(line) for line in audit_lines]
    assert records == hooked  # the hook sees what the log sees
    events = [(r["event"], r.get("reason")) for r in records]
    assert events == [
        ("key_rotated", None),
        ("session_created", None),
        ("session_refreshed", None),
        ("theft_detected", "refresh_token_reused"),
        ("session_revoked", "theft"),
        ("session_created", None),
        ("session_revoked", "sign_out"),
        ("session_created", None),
        ("session_revoked", "app"),
    ]
    created = records[1]
    assert created == {
        "event": "session_created",
        "time": "2027-01-15T08:00:00.000+00:00",
        "app_id": "public",
        "session_handle": first.get_handle(),
        "user_id": "u1",
        "tenant_id": "t1",
        "ip": "203.0.113.9",
        "user_agent": "UA/1",
    }
    assert records[2]["user_agent"] == "UA/2"
    theft = records[3]
    assert (theft["session_handle"], theft["user_id"], theft["revoked"]) == (
        first.get_handle(),
        "u1",
        True,
    )
    assert records[0]["kid"].startswith("d-")
    assert records[0]["key_kind"] == "dynamic"
    assert records[-1]["user_id"] == "u3"


REQUEST_ID: ContextVar[str] = ContextVar("REQUEST_ID", default="none")


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_an_async_callers_context_variables_reach_the_hook(
    make_tessera: MakeTessera,
) -> None:
    """The async functions run on worker threads in their caller's context, so a hook
    that tags records with, say, the request's id finds it."""
    seen: list[tuple[str, str]] = []
    app = make_tessera(audit_hook=lambda record: seen.append((record["event"], REQUEST_ID.get())))
    REQUEST_ID.set("request-1")
    session = await app.asyncio.create_new_session("u1")
    await app.asyncio.refresh_session_without_request_response(_refresh_token(session))
    await session.revoke_session()
    assert [s for s in seen if s[0] != "key_rotated"] == [
        ("session_created", "request-1"),
        ("session_refreshed", "request-1"),
        ("session_revoked", "request-1"),
    ]


def test_a_failing_hook_does_not_break_the_request(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(record: dict[str, Any]) -> None:
        raise RuntimeError("the hook is broken")

    with Tessera(f"sqlite:///{tmp_path}/s.db", audit_hook=broken) as app:
        assert app.syncio.create_new_session("u1").get_user_id() == "u1"
    assert "the audit hook failed" in caplog.text


def test_a_hook_that_is_not_callable_is_refused(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="audit_hook"):
        Tessera(f"sqlite:///{tmp_path}/s.db", audit_hook="print")  # type: ignore[arg-type]


def _core(tmp_path: Path, hooked: list[dict[str, Any]]) -> tuple[CoreApp, str, Callable[[], None]]:
    path = tmp_path / "config.yaml"
    path.write_text(f"database_url: sqlite:///{tmp_path}/core.db\napi_keys: {API_KEY}\n")
    app = CoreApp(load_config(path, environ={}), audit_hook=hooked.append)
    port, stop = start_asgi(app)
    return app, f"http://127.0.0.1:{port}", stop


def test_no_token_key_or_secret_reaches_an_audit_record(
    tmp_path: Path, audit_lines: list[str]
) -> None:
    """Drive every event and every revocation reason through an app object and a core
    over HTTP, then read the log as an attacker would, for every secret we know."""
    secrets: list[str] = [API_KEY]
    hooked: list[dict[str, Any]] = []
    with Tessera(
        f"sqlite:///{tmp_path}/app.db",
        refresh_token_grace_period=0,
        anti_csrf="VIA_TOKEN",
        audit_hook=hooked.append,
    ) as app:
        sessions = app.syncio
        session = sessions.create_new_session("victim", ip="198.51.100.7", user_agent="UA")
        secrets += _tokens(session)
        old = session.get_all_session_tokens_dangerously()
        renewed = sessions.refresh_session_without_request_response(
            _refresh_token(session), old["antiCsrfToken"]
        )
        secrets += _tokens(renewed)
        sessions.get_session_without_request_response(
            renewed.get_access_token(),
            renewed.get_all_session_tokens_dangerously()["antiCsrfToken"],
        )
        with pytest.raises(TokenTheftError):
            sessions.refresh_session_without_request_response(
                _refresh_token(session), old["antiCsrfToken"]
            )
        other = sessions.create_new_session("u2")
        secrets += _tokens(other)
        other.revoke_session()
        sessions.revoke_session(sessions.create_new_session("u3").get_handle())
        # What the framework's login does when the request carried another session.
        replaced = sessions.create_new_session("u4")
        secrets += _tokens(replaced)
        assert sessions._end_replaced_session(replaced.get_access_token(), "new-handle")
        # An operator's revocation, as the admin console makes it.
        admin = SessionAdmin(app)
        doomed = sessions.create_new_session("u5")
        secrets += _tokens(doomed)
        assert admin.revoke_session(doomed.get_handle(), Operator("alice", "k1", "192.0.2.1"))
        secrets += [k.private_key for k in app.store.list_signing_keys()]
        secrets += [k.public_key for k in app.store.list_signing_keys()]

    # One session per user: evict_oldest ends u4's first session at its second login,
    # then deny refuses the next one.
    for policy in ("evict_oldest", "deny"):
        with (
            Tessera(
                f"sqlite:///{tmp_path}/limited.db",
                max_sessions_per_user=1,
                session_limit_policy=policy,
                audit_hook=hooked.append,
            ) as limited,
            contextlib.suppress(SessionLimitReachedError),
        ):
            secrets += _tokens(limited.syncio.create_new_session("u4", ip="198.51.100.8"))
            secrets += _tokens(limited.syncio.create_new_session("u4", user_agent="UA"))

    core, url, stop = _core(tmp_path, hooked)
    try:
        key = {"api-key": API_KEY}
        assert cdi.put_tenant(url, {"tenantId": "t1"}, key=API_KEY).status_code == 200
        assert cdi.put_app(url, "shop", key=API_KEY).status_code == 200
        made = [
            cdi.create(url, key=API_KEY, enableAntiCsrf=True),
            cdi.create(url, tenant="t1", key=API_KEY),
            cdi.create(f"{url}/appid-shop", key=API_KEY),
            cdi.create(url, key=API_KEY),
        ]
        for answer in made:
            secrets += [answer["accessToken"]["token"], answer["refreshToken"]["token"]]
            secrets += [answer[k] for k in ("antiCsrfToken",) if k in answer]
        _, refresh = cdi.tokens(made[3])
        new_access, new_refresh = cdi.tokens(cdi.refresh(url, refresh, key=API_KEY))
        secrets += [new_access, new_refresh]
        cdi.verify(url, new_access, key=API_KEY)
        cdi.refresh(url, refresh, key=API_KEY)  # theft: the core revokes on it too
        handle = made[0]["session"]["handle"]
        removed = httpx.post(
            f"{url}/recipe/session/remove", json={"sessionHandles": [handle]}, headers=key
        )
        assert removed.json()["sessionHandlesRevoked"] == [handle]
        # An OAuth client revoking a token (RFC 7009), the client secret in the form.
        client_access, client_refresh = cdi.tokens(cdi.create(url, key=API_KEY))
        secrets += [client_access, client_refresh]
        revoked = httpx.post(
            f"{url}/tessera/oauth2/revoke",
            data={"token": client_refresh, "client_id": "c", "client_secret": API_KEY},
        )
        assert revoked.status_code == 200
        httpx.post(f"{url}/recipe/multitenancy/tenant/remove", json={"tenantId": "t1"}, headers=key)
        httpx.post(f"{url}/recipe/multitenancy/app/remove", json={"appId": "shop"}, headers=key)
        for app_id in ("public",):
            secrets += [k.private_key for k in core.store.for_app(app_id).list_signing_keys()]
    finally:
        stop()
        core.close()

    records = [json.loads(line) for line in audit_lines]
    assert records == hooked
    assert {r["event"] for r in records} == set(EVENTS)
    reasons = {r["reason"] for r in records if r["event"] == "session_revoked"}
    assert reasons == set(REVOCATION_REASONS)
    assert {r["app_id"] for r in records} == {"public", "shop"}

    text = "\n".join(audit_lines)
    secrets = [s for s in secrets if s]
    # Besides each secret whole: its signature, each refresh token's hashes, and the
    # random part of a refresh token (everything after the session handle).
    pieces = list(secrets)
    for secret in secrets:
        if secret.count(".") == 2 and secret.startswith("ey"):
            pieces.append(secret.rsplit(".", 1)[1])
        pieces += [hash_once(secret), hash_twice(secret), secret.rsplit(".", 1)[-1]]
    for piece in pieces:
        if len(piece) >= 16:
            assert piece not in text, f"a secret reached the audit log: {piece[:12]}..."
    assert len(secrets) > 20

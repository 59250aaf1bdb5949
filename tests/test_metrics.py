"""Prometheus metrics of an embedded ``Tessera``: counts by outcome, latency, live
sessions, the pool and the revocation feed, the ASGI and WSGI endpoints over real HTTP,
and everything still working (metrics off) without prometheus_client."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY

import tessera.metrics
from tessera import Tessera, TokenTheftError, TryRefreshTokenError, UnauthorisedError
from tessera.metrics import _collectors
from tests._support.clock import FakeClock
from tests._support.servers import start_asgi, start_wsgi

MakeTessera = Callable[..., Tessera]


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def values(*series: tuple[str, dict[str, str]]) -> list[float]:
    return [value(name, **labels) for name, labels in series]


def one(series: tuple[str, dict[str, str]]) -> float:
    return value(series[0], **series[1])


VERIFIES: tuple[str, dict[str, str]] = ("tessera_session_verifies_total", {})
INVALID = (
    "tessera_session_verify_failures_total",
    {"outcome": "unauthorised", "reason": "invalid"},
)
EXPIRED = ("tessera_session_verify_failures_total", {"outcome": "try_refresh", "reason": "expired"})
VERIFY_TIMED = ("tessera_operation_seconds_count", {"operation": "verify"})
CREATED = ("tessera_session_creates_total", {"outcome": "ok"})
REFRESHED = ("tessera_session_refreshes_total", {"outcome": "ok", "reason": ""})
THEFT = ("tessera_session_refreshes_total", {"outcome": "theft", "reason": "refresh_token_reused"})
NO_SESSION = (
    "tessera_session_refreshes_total",
    {"outcome": "unauthorised", "reason": "no_session"},
)
BY_APP = ("tessera_sessions_revoked_total", {"reason": "app"})
BY_USER = ("tessera_sessions_revoked_total", {"reason": "sign_out"})
BY_THEFT = ("tessera_sessions_revoked_total", {"reason": "theft"})
KEYS = ("tessera_signing_keys_created_total", {"kind": "dynamic"})
SERIES = [VERIFIES, INVALID, EXPIRED, VERIFY_TIMED, CREATED, REFRESHED, THEFT, NO_SESSION]
SERIES += [BY_APP, BY_USER, BY_THEFT, KEYS]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_each_outcome_is_counted(make_tessera: MakeTessera, clock: FakeClock) -> None:
    before = values(*SERIES)
    sessions = make_tessera(refresh_token_grace_period=10).syncio
    first = sessions.create_new_session("u1")
    second = sessions.create_new_session("u2")
    token = first.get_access_token()
    for _ in range(tessera.metrics.VERIFY_SAMPLE * 2):
        sessions.get_session_without_request_response(token)
    with pytest.raises(UnauthorisedError):
        sessions.get_session_without_request_response("not.a.token")
    old_refresh = first.get_all_session_tokens_dangerously()["refreshToken"]
    assert old_refresh is not None
    renewed = sessions.refresh_session_without_request_response(old_refresh)
    sessions.get_session_without_request_response(renewed.get_access_token())
    clock.advance(11)  # past the grace period
    with pytest.raises(TokenTheftError):
        sessions.refresh_session_without_request_response(old_refresh)  # revokes by default
    with pytest.raises(UnauthorisedError):
        sessions.refresh_session_without_request_response(old_refresh)  # gone now
    assert sessions.revoke_session(second.get_handle())
    third = sessions.create_new_session("u3")
    third.revoke_session()  # the user's own sign-out
    clock.advance(3 * 3600)
    with pytest.raises(TryRefreshTokenError):
        sessions.get_session_without_request_response(third.get_access_token())

    change = [a - b for a, b in zip(values(*SERIES), before, strict=True)]
    verifies = tessera.metrics.VERIFY_SAMPLE * 2 + 3
    # One verification in VERIFY_SAMPLE is timed: 2 or 3 of these, by where the count was.
    assert change[3] in (2, 3)
    change[3] = 2
    assert change == [
        verifies,  # every attempt, failed or not
        1,  # invalid
        1,  # expired
        2,  # timed
        3,  # created
        1,  # refreshed
        1,  # theft
        1,  # refresh of the revoked session
        1,  # revoked by the app
        1,  # signed out
        1,  # revoked after theft
        1,  # the first dynamic signing key
    ]
    for operation in ("create", "refresh", "revoke"):
        assert value("tessera_operation_seconds_count", operation=operation) > 0


def test_verification_counts_stay_exact_across_threads(make_tessera: MakeTessera) -> None:
    sessions = make_tessera().syncio
    token = sessions.create_new_session("u1").get_access_token()
    before = value(*VERIFIES[:1])

    def verify_many() -> None:
        for _ in range(2000):
            sessions.get_session_without_request_response(token)

    threads = [threading.Thread(target=verify_many) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert value(*VERIFIES[:1]) - before == 8000


@pytest.mark.parametrize("backend", ["sqlite"])
def test_live_sessions_are_a_cached_count_by_tenant(
    make_tessera: MakeTessera, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_collectors, "LIVE_SESSIONS_MAX_AGE", 0.0)
    sessions = make_tessera().syncio
    live = ("tessera_live_sessions", {"app": "public", "tenant": "public"})
    other = ("tessera_live_sessions", {"app": "public", "tenant": "t1"})
    before = values(live, other)
    for user in ("a", "b", "c"):
        sessions.create_new_session(user)
    handle = sessions.create_new_session("d", tenant_id="t1").get_handle()
    assert [a - b for a, b in zip(values(live, other), before, strict=True)] == [3, 1]
    sessions.revoke_session(handle)
    assert one(other) - before[1] == 0


@pytest.mark.parametrize("backend", ["sqlite"])
def test_live_sessions_are_not_counted_on_every_scrape(make_tessera: MakeTessera) -> None:
    sessions = make_tessera().syncio
    live = ("tessera_live_sessions", {"app": "public", "tenant": "public"})
    first = one(live)
    sessions.create_new_session("a")
    assert one(live) == first  # cached: counted again after LIVE_SESSIONS_MAX_AGE


@pytest.mark.parametrize("backend", ["postgresql"])
def test_pool_and_revocation_feed_series_move(make_tessera: MakeTessera) -> None:
    app = make_tessera(access_token_blacklisting=True, database_pool_size=1)
    sessions = app.syncio
    session = sessions.create_new_session("u1")
    deadline = time.monotonic() + 10
    while value("tessera_revocation_feed_state", state="healthy") < 1:
        assert time.monotonic() < deadline, app.revocation_stats()
        time.sleep(0.05)
    lag_before = value("tessera_revocation_feed_lag_seconds_count")
    reads_before = value("tessera_revocation_feed_reads_total", result="ok")
    # Revoked by another process of the app: this one's feed learns it from the log.
    make_tessera().syncio.revoke_session(session.get_handle())
    while value("tessera_revocation_feed_lag_seconds_count") <= lag_before:
        assert time.monotonic() < deadline, app.revocation_stats()
        time.sleep(0.05)
    assert value("tessera_revocation_feed_reads_total", result="ok") > reads_before
    assert value("tessera_revocation_deny_set_size") >= 1

    # A connection in use shows while it is held; a second caller waits for it.
    pool: Any = app.store._pool  # type: ignore[attr-defined]
    seen: list[float] = []
    waits = value("tessera_db_pool_waits_total")
    held = threading.Event()

    def hold(connection: object) -> None:
        seen.append(value("tessera_db_pool_in_use"))
        held.set()
        time.sleep(0.3)

    holder = threading.Thread(target=pool.run, args=(hold,))
    holder.start()
    held.wait(5)
    sessions.create_new_session("u2")  # waits for the only connection
    holder.join()
    assert seen
    assert seen[0] >= 1
    assert value("tessera_db_pool_waits_total") > waits
    assert value("tessera_db_pool_wait_seconds_total") > 0


@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_asgi_endpoint_in_fastapi(make_tessera: MakeTessera) -> None:
    from fastapi import FastAPI

    sessions = make_tessera().syncio
    app = FastAPI()
    app.mount("/metrics", tessera.metrics.asgi_app())
    port, stop = start_asgi(app)
    try:
        url = f"http://127.0.0.1:{port}/metrics/"  # a mounted app's root
        before = _scraped(httpx.get(url), "tessera_session_creates_total", 'outcome="ok"')
        sessions.create_new_session("u1")
        answer = httpx.get(url)
        assert answer.headers["content-type"].startswith("text/plain")
        assert _scraped(answer, "tessera_session_creates_total", 'outcome="ok"') == before + 1
        assert httpx.post(url).status_code == 405
    finally:
        stop()


@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_wsgi_endpoint_in_flask(make_tessera: MakeTessera) -> None:
    from flask import Flask
    from werkzeug.middleware.dispatcher import DispatcherMiddleware

    sessions = make_tessera().syncio
    app = Flask(__name__)
    app.wsgi_app = DispatcherMiddleware(  # type: ignore[method-assign]
        app.wsgi_app, {"/metrics": tessera.metrics.wsgi_app()}
    )
    port, stop = start_wsgi(app)
    try:
        url = f"http://127.0.0.1:{port}/metrics"
        before = _scraped(httpx.get(url), "tessera_session_verifies_total", "")
        token = sessions.create_new_session("u1").get_access_token()
        for _ in range(5):
            sessions.get_session_without_request_response(token)
        answer = httpx.get(url)
        assert answer.status_code == 200
        assert _scraped(answer, "tessera_session_verifies_total", "") == before + 5
    finally:
        stop()


def _scraped(answer: httpx.Response, name: str, labels: str) -> float:
    assert answer.status_code == 200, answer.text
    wanted = f"{name}{{{labels}}}" if labels else name
    for line in answer.text.splitlines():
        if line.startswith(wanted + " "):
            return float(line.split()[-1])
    return 0.0


BLOCKED = """
import sys, tempfile
class Block:
    def find_spec(self, name, path=None, target=None):
        if name == "prometheus_client" or name.startswith("prometheus_client."):
            raise ImportError("blocked for this test")
sys.meta_path.insert(0, Block())
import asyncio
import tessera, tessera.metrics
app = tessera.Tessera(f"sqlite:///{tempfile.mkdtemp()}/s.db", access_token_blacklisting=True)
s = app.syncio.create_new_session("u1")
app.syncio.get_session_without_request_response(s.get_access_token())
tokens = s.get_all_session_tokens_dangerously()
r = app.syncio.refresh_session_without_request_response(tokens["refreshToken"])
assert app.syncio.revoke_session(r.get_handle())
assert app.metrics is None and tessera.metrics.recorder() is None
assert not tessera.metrics.available()
assert tessera.metrics.exposition()[0] == 404
sent = []
async def send(message): sent.append(message)
asyncio.run(tessera.metrics.asgi_app()({"type": "http", "method": "GET"}, None, send))
assert sent[0]["status"] == 404
assert "prometheus_client" not in sys.modules
app.close()
print("ok")
"""


def test_everything_works_with_metrics_off_without_prometheus_client() -> None:
    done = subprocess.run(  # noqa: S603 - our interpreter, fixed arguments
        [sys.executable, "-c", BLOCKED], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"

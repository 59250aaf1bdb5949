"""The console's login cookie, CSRF tokens and failed-login limit, at chosen instants."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from tessera import Tessera
from tessera.admin import auth
from tessera.admin._http import ConsoleRequest
from tessera.admin.console import Access, Console
from tessera.admin.operations import SessionAdmin
from tests._support.clock import FakeClock

SECRET = b"s" * 32
T0 = 1_800_000_000_000
MINUTE = 60_000


def test_a_login_ends_when_idle_and_after_its_lifetime() -> None:
    login = auth.new_login("public", "alice", "k" * 20, T0)
    value = auth.sign_login(SECRET, login)
    assert auth.read_login(SECRET, value, "public", T0 + 29 * MINUTE) == login
    assert auth.read_login(SECRET, value, "public", T0 + 31 * MINUTE) is None
    assert auth.read_login(b"t" * 32, value, "public", T0) is None  # another secret
    assert auth.read_login(SECRET, value, "shop", T0) is None  # another app
    assert auth.read_login(SECRET, value + "x", "public", T0) is None
    # Used now and then, it lives on until 8 hours after the login, never longer.
    now, current = T0, login
    while True:
        now += 20 * MINUTE
        if auth.read_login(SECRET, auth.sign_login(SECRET, current), "public", now) is None:
            break
        current = auth.renewed(current, now) or current
    assert T0 + 8 * 60 * MINUTE <= now <= T0 + 8 * 60 * MINUTE + 20 * MINUTE
    # Renewed at most once a minute.
    assert auth.renewed(login, T0 + 30_000) is None
    assert auth.renewed(login, T0 + MINUTE) is not None


def test_csrf_tokens_are_bound_to_their_login() -> None:
    token = auth.csrf_token(SECRET, "s:one")
    assert auth.csrf_ok(SECRET, "s:one", token)
    assert not auth.csrf_ok(SECRET, "s:two", token)
    assert not auth.csrf_ok(b"t" * 32, "s:one", token)
    assert not auth.csrf_ok(SECRET, "s:one", None)
    assert not auth.csrf_ok(SECRET, None, token)
    assert not auth.csrf_ok(SECRET, "s:one", "\udcff" + token)


def test_failed_logins_are_counted_per_address_within_the_window() -> None:
    limiter = auth.LoginLimiter(max_failures=3, window_ms=10 * MINUTE)
    for n in range(3):
        assert limiter.retry_after("198.51.100.1", T0 + n) == 0
        limiter.failed("198.51.100.1", T0 + n)
    assert limiter.retry_after("198.51.100.1", T0 + 5) == 600
    assert limiter.retry_after("198.51.100.2", T0 + 5) == 0
    assert limiter.retry_after("198.51.100.1", T0 + 10 * MINUTE - 1) == 1
    assert limiter.retry_after("198.51.100.1", T0 + 10 * MINUTE) == 0  # the first has expired
    limiter.failed("198.51.100.2", T0)
    limiter.succeeded("198.51.100.2")
    assert limiter.retry_after("198.51.100.2", T0) == 0
    crowded = auth.LoginLimiter(max_failures=1, max_addresses=2)
    for address in ("a", "b", "c"):
        crowded.failed(address, T0)
    assert crowded.retry_after("a", T0) == 0  # forgotten first
    assert crowded.retry_after("c", T0) > 0


def test_a_login_stops_working_when_its_key_is_removed(tmp_path: Path) -> None:
    old, new = "old-admin-key-0123456789", "new-admin-key-0123456789"
    clock = FakeClock()
    with Tessera(f"sqlite:///{tmp_path}/s.db", clock=clock) as app:
        admin = SessionAdmin(app)
        login = auth.new_login("public", "alice", old, clock())
        cookie = {"cookie": f"{auth.COOKIE}={auth.sign_login(admin.secret(), login)}"}
        request = ConsoleRequest("GET", "/keys", "/admin", headers=cookie)
        limiter = auth.LoginLimiter()
        assert Console(admin, Access((old, new)), limiter).handle(request).status == 200
        answer = Console(admin, Access((new,)), limiter).handle(request)
        assert (answer.status, dict(answer.headers)["location"]) == (303, "/admin/login")
        # A login made without a key is good only while the console has none.
        local = replace(login, key_id=auth.LOCAL)
        cookie = {
            "cookie": f"{auth.COOKIE}={auth.sign_login(admin.secret(), local)}",
            "host": "localhost:8000",
        }
        request = ConsoleRequest("GET", "/keys", "/admin", headers=cookie)
        assert Console(admin, Access((), local=True), limiter).handle(request).status == 200
        assert Console(admin, Access((new,), local=True), limiter).handle(request).status == 303

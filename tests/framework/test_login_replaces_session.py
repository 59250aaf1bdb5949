"""A login on a client that still holds a session ends that session (ASVS v5 7.2.4:
authentication makes a new session token and terminates the current one), in every
framework, over HTTP."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from .._support.framework_apps import Served
from .._support.wire import Browserish

Serve = Callable[..., Served]


@pytest.mark.parametrize("mode", ["cookie", "header"])
def test_logging_in_again_ends_the_session_the_client_held(serve: Serve, mode: str) -> None:
    served = serve()
    with served.client() as client:
        browser = Browserish(client, mode)
        browser.login("user-1")
        old_access, old_refresh = browser.access, browser.refresh
        (old_handle,) = served.tessera.syncio.get_all_session_handles_for_user("user-1")
        # The same client signs in again, as another user, with its old token attached.
        again = browser.absorb(
            client.post("/login", json={"userId": "user-2"}, headers=browser.headers())
        )
        assert again.status_code == 200
        assert served.tessera.syncio.get_session_information(old_handle) is None
        assert served.tessera.syncio.get_all_session_handles_for_user("user-1") == []
        assert len(served.tessera.syncio.get_all_session_handles_for_user("user-2")) == 1
        # Whoever copied the old tokens can use neither.
        thief = Browserish(client, mode)
        thief.refresh = old_refresh
        assert thief.do_refresh().status_code == 401
        thief.access = old_access
        assert thief.call("GET", "/check-db").status_code == 401
        # The new session works.
        assert browser.call("GET", "/check-db").status_code == 200


def test_an_expired_token_on_login_still_names_the_session_it_ends(serve: Serve) -> None:
    served = serve()
    with served.client() as client:
        browser = Browserish(client, "header")
        browser.login("user-1")
        (old_handle,) = served.tessera.syncio.get_all_session_handles_for_user("user-1")
        served.clock.advance(7200)  # the access token expired; the session did not
        browser.absorb(client.post("/login", json={"userId": "user-1"}, headers=browser.headers()))
        handles = served.tessera.syncio.get_all_session_handles_for_user("user-1")
        assert len(handles) == 1
        assert handles != [old_handle]


@pytest.mark.parametrize(
    "presented",
    ["garbage", "a.b.c", "eyJhbGciOiJub25lIn0.eyJzZXNzaW9uSGFuZGxlIjoiaCJ9."],
)
def test_a_token_we_did_not_sign_ends_nothing_and_the_login_works(
    serve: Serve, presented: str
) -> None:
    served = serve()
    with served.client() as client:
        victim = Browserish(client, "header")
        victim.login("victim")
        forger = Browserish(client, "header")
        forger.access = presented
        answer = forger.absorb(
            client.post("/login", json={"userId": "user-2"}, headers=forger.headers())
        )
        assert answer.status_code == 200
        assert len(served.tessera.syncio.get_all_session_handles_for_user("victim")) == 1
        assert len(served.tessera.syncio.get_all_session_handles_for_user("user-2")) == 1


def test_the_app_can_keep_the_session_it_replaces(serve: Serve) -> None:
    served = serve(end_replaced_session=False)
    with served.client() as client:
        browser = Browserish(client, "cookie")
        browser.login("user-1")
        browser.absorb(client.post("/login", json={"userId": "user-1"}, headers=browser.headers()))
        assert len(served.tessera.syncio.get_all_session_handles_for_user("user-1")) == 2

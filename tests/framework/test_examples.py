"""Every example, started with the command in its docstring, used over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .._support.examples import EXAMPLES, start_example


@pytest.fixture(params=EXAMPLES)
def example(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with start_example(str(request.param), tmp_path) as urls:
        (url,) = urls.values()
        yield url


def _login_response(client: httpx.Client, user: str) -> httpx.Response:
    response = client.post("/login", json={"userId": user}, headers={"st-auth-mode": "cookie"})
    assert response.status_code == 200
    return response


def _login(client: httpx.Client, user: str) -> str:
    return str(_login_response(client, user).json()["handle"])


def _login_elsewhere(url: str, user: str) -> str:
    with httpx.Client(base_url=url, timeout=10) as other:
        return _login(other, user)


def test_example(example: str) -> None:
    with httpx.Client(base_url=example, timeout=10) as client:
        page = client.get("/")
        assert page.status_code == 200
        assert "supertokensSession.init" in page.text
        assert client.get("/sdk/session.js").status_code in (200, 302, 307)
        assert client.get("/me").status_code == 401

        handle = _login(client, "alice")
        assert client.get("/me").json() == {"userId": "alice", "handle": handle}

        # method 2: by handle
        assert client.post("/revoke-session", json={"sessionHandle": handle}).json() == {
            "revoked": True
        }
        # method 3: several handles
        handles = [_login_elsewhere(example, "bob") for _ in range(2)]
        revoked = client.post("/revoke-multiple-sessions", json={"sessionHandles": handles}).json()
        assert sorted(revoked["revoked"]) == sorted(handles)
        # method 4: every session of a user
        carol = {_login_elsewhere(example, "carol") for _ in range(2)}
        assert (
            set(
                client.post("/revoke-all-user-sessions", json={"userId": "carol"}).json()["revoked"]
            )
            == carol
        )

        # method 1: the caller's own session, cookies cleared
        _login(client, "dave")
        logout = client.post("/logout")
        assert logout.status_code == 200
        assert logout.headers["front-token"] == "remove"
        assert client.get("/me").status_code == 401
        # the refresh and sign-out APIs are served
        assert client.post("/auth/session/refresh").status_code == 401
        assert client.post("/auth/signout").status_code == 401


def test_cross_origin_example(tmp_path: Path) -> None:
    """The website on one origin, the API on another: every answer the browser needs,
    tessera's own included, carries the CORS headers for the website."""
    with start_example("cross_origin_app", tmp_path) as urls:
        api, website = urls["3005"], urls["3006"]
        origin = website.replace("127.0.0.1", "localhost")
        page = httpx.get(website + "/").text
        assert "supertokensSession.init" in page
        assert api.replace("127.0.0.1", "localhost") in page
        with httpx.Client(base_url=api, timeout=10, headers={"origin": origin}) as client:

            def cors(response: httpx.Response) -> httpx.Response:
                assert response.headers["access-control-allow-origin"] == origin
                assert response.headers["access-control-allow-credentials"] == "true"
                return response

            for path in ("/auth/session/refresh", "/auth/signout", "/login"):
                preflight = client.options(
                    path,
                    headers={
                        "access-control-request-method": "POST",
                        "access-control-request-headers": "content-type,rid,fdi-version",
                    },
                )
                assert cors(preflight).status_code == 200
            assert cors(client.post("/auth/session/refresh")).status_code == 401
            assert cors(client.get("/me")).status_code == 401
            login = cors(_login_response(client, "erin"))
            assert "front-token" in login.headers["access-control-expose-headers"]
            assert cors(client.get("/me")).json()["userId"] == "erin"
            refreshed = cors(client.post("/auth/session/refresh", headers={"rid": "session"}))
            assert refreshed.status_code == 200
            assert "front-token" in refreshed.headers["access-control-expose-headers"]
            signed_out = cors(client.post("/auth/signout", headers={"rid": "session"}))
            assert signed_out.status_code == 200
            assert signed_out.headers["front-token"] == "remove"
            assert cors(client.get("/me")).status_code == 401

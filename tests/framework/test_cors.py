"""A website on another origin: tessera's own answers carry the CORS headers whichever
order the app sets its CORS middleware and tessera up in.

Starlette and FastAPI use Starlette's ``CORSMiddleware``, Flask uses flask-cors, Django
uses django-cors-headers. ``inside`` means the CORS middleware is set up so that it
sits inside tessera's: added first with ``add_middleware``, ``CORS(app)`` before
``FlaskTessera(app)``, listed below tessera's in Django's ``MIDDLEWARE``.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from .._support.framework_apps import Served
from .._support.wire import Browserish, exposed, is_cleared

Serve = Callable[..., Served]
WEBSITE = "http://app.example.test:8000"


def _assert_cors(response: httpx.Response) -> None:
    assert response.headers.get("access-control-allow-origin") == WEBSITE, response.headers
    assert response.headers.get("access-control-allow-credentials") == "true"


def _preflight(client: httpx.Client, path: str) -> httpx.Response:
    return client.options(
        path,
        headers={
            "origin": WEBSITE,
            "access-control-request-method": "POST",
            "access-control-request-headers": "rid,fdi-version,st-auth-mode,content-type",
        },
    )


@pytest.mark.parametrize(
    ("framework", "inside"),
    [
        *((name, inside) for name in ("fastapi", "starlette", "flask") for inside in (False, True)),
        ("django", False),  # inside: refused at start-up, see the next test
    ],
)
def test_tessera_answers_carry_cors_headers(serve: Serve, framework: str, inside: bool) -> None:
    served = serve(cors_origin=WEBSITE, cors_inside=inside)
    with served.client() as client:
        origin = {"origin": WEBSITE}
        for path in ("/auth/session/refresh", "/auth/signout"):
            preflight = _preflight(client, path)
            assert preflight.status_code == 200, (path, preflight.text)
            _assert_cors(preflight)
            assert "rid" in preflight.headers["access-control-allow-headers"].lower()

        no_token = client.post("/auth/session/refresh", headers={**origin, "rid": "session"})
        assert no_token.status_code == 401
        _assert_cors(no_token)

        browser = Browserish(client)
        login = browser.login(**origin)
        assert login.status_code == 200
        _assert_cors(login)
        assert "front-token" in exposed(login)

        served.clock.advance(3601)
        expired = browser.call("GET", "/protected", **origin)
        assert expired.status_code == 401
        assert expired.json() == {"message": "try refresh token"}
        _assert_cors(expired)

        refreshed = browser.do_refresh(**origin, rid="session")
        assert refreshed.status_code == 200
        _assert_cors(refreshed)
        assert "front-token" in exposed(refreshed)
        assert browser.call("GET", "/protected", **origin).status_code == 200

        signed_out = browser.call("POST", "/auth/signout", **origin, rid="session")
        assert signed_out.status_code == 200
        _assert_cors(signed_out)
        assert is_cleared(signed_out)
        assert "front-token" in exposed(signed_out)


def test_django_refuses_cors_middleware_below_tessera(serve: Serve) -> None:
    from django.core.exceptions import ImproperlyConfigured  # type: ignore[import-untyped]

    with pytest.raises(ImproperlyConfigured, match=r"corsheaders\.middleware\.CorsMiddleware"):
        serve(cors_origin=WEBSITE, cors_inside=True)


@pytest.fixture(params=["django"])
def framework(request: pytest.FixtureRequest) -> str:
    """Tests here name their frameworks; the one without a list runs on Django."""
    return str(request.param)

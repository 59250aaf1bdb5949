"""Each framework's own test client, and a plain Starlette app."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tessera import Tessera
from tessera.framework import FrameworkConfig

from .._support.clock import FakeClock
from .._support.framework_apps import django_app, fastapi_app, flask_app


@pytest.fixture
def engine(tmp_path: Any, clock: FakeClock) -> Any:
    tessera = Tessera(f"sqlite:///{tmp_path}/c.db", clock=clock, expired_session_purge_interval=0)
    yield tessera
    tessera.close()


def _round_trip(client: Any, clock: FakeClock) -> None:
    login = client.post("/login", json={"userId": "tc"}, headers={"st-auth-mode": "cookie"})
    assert login.status_code == 200
    assert client.get("/protected").status_code == 200
    clock.advance(3601)
    assert client.get("/protected").status_code == 401
    assert client.post("/auth/session/refresh", headers={"rid": "session"}).status_code == 200
    assert client.get("/protected").status_code == 200
    assert client.post("/auth/signout", headers={"rid": "session"}).status_code == 200
    assert client.get("/protected").status_code == 401


@pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")
def test_fastapi_test_client(engine: Tessera, clock: FakeClock) -> None:
    from fastapi.testclient import TestClient

    with TestClient(fastapi_app(engine, [])) as client:
        _round_trip(client, clock)


def test_flask_test_client(engine: Tessera, clock: FakeClock) -> None:
    app = flask_app(engine, [])
    with app.test_client() as client:
        _round_trip(_FlaskJson(client), clock)


def test_django_test_client(engine: Tessera, clock: FakeClock) -> None:
    django_app(engine, [])
    from django.test import Client  # type: ignore[import-untyped]

    _round_trip(_DjangoJson(Client()), clock)


class _FlaskJson:
    def __init__(self, client: Any) -> None:
        self.client = client

    def post(self, path: str, json: Any = None, headers: Any = None) -> Any:
        return self.client.post(path, json=json, headers=headers or {})

    def get(self, path: str) -> Any:
        return self.client.get(path)


class _DjangoJson:
    def __init__(self, client: Any) -> None:
        self.client = client

    def post(self, path: str, json: Any = None, headers: Any = None) -> Any:
        import json as jsonlib

        return self.client.post(
            path, jsonlib.dumps(json or {}), content_type="application/json", headers=headers or {}
        )

    def get(self, path: str) -> Any:
        return self.client.get(path)


@pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")
def test_plain_starlette_app(engine: Tessera) -> None:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route
    from starlette.testclient import TestClient

    from tessera.framework.starlette import TesseraMiddleware, create_new_session, verify_session

    async def login(request: Request) -> JSONResponse:
        await create_new_session(request, "s1", {"plan": "pro"})
        return JSONResponse({})

    async def me(request: Request) -> JSONResponse:
        session = await verify_session()(request)
        assert session is not None
        return JSONResponse({"plan": session.get_access_token_payload()["plan"]})

    app = Starlette(routes=[Route("/login", login, methods=["POST"]), Route("/me", me)])
    app.add_middleware(
        TesseraMiddleware, tessera=engine, config=FrameworkConfig(api_base_path="/api")
    )
    with TestClient(app) as client:
        assert client.post("/login", headers={"st-auth-mode": "cookie"}).status_code == 200
        assert client.get("/me").json() == {"plan": "pro"}
        assert client.post("/api/session/refresh").status_code == 200
        assert client.post("/auth/session/refresh").status_code == 404


def test_verify_without_middleware_says_what_to_do(engine: Tessera) -> None:
    from starlette.requests import Request

    from tessera.framework.starlette import verify_session

    request = Request({"type": "http", "method": "GET", "path": "/", "headers": []})

    async def call() -> object:
        return await verify_session()(request)

    with pytest.raises(RuntimeError, match="TesseraMiddleware"):
        asyncio.run(call())


async def test_django_async_views_and_middleware(engine: Tessera, clock: FakeClock) -> None:
    django_app(engine, [])
    from django.test import AsyncClient

    client = AsyncClient()
    assert (await client.get("/async/protected")).status_code == 401
    login = await client.post(
        "/async/login",
        {"userId": "da"},
        content_type="application/json",
        headers={"st-auth-mode": "cookie"},
    )
    assert login.status_code == 200
    assert "sAccessToken" in login.cookies
    assert (await client.get("/async/protected")).json() == {"userId": "da"}
    clock.advance(3601)
    assert (await client.get("/async/protected")).status_code == 401
    assert (
        await client.post("/auth/session/refresh", headers={"rid": "session"})
    ).status_code == 200
    assert (await client.get("/async/protected")).status_code == 200
    logout = await client.post("/async/logout", headers={"rid": "x"})
    assert logout.status_code == 200
    assert logout.headers["front-token"] == "remove"
    assert (await client.get("/async/protected")).status_code == 401

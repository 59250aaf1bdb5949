"""An app that edits the payload it was handed changes nothing for the next request.

Over real HTTP in FastAPI and Flask: one route appends ``"admin"`` to the verified
payload's permission list, another requires ``"admin"`` through a claim validator. The
second must keep answering 403, whether or not the engine remembered the token. And a
login route that keeps editing the template it created a session from must not change
what the client is told its session says.
"""

# No "from __future__ import annotations": FastAPI reads the routes' annotations, which
# name classes imported inside the factory.
import base64
import json
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Annotated, Any

import httpx
import pytest

from tessera import Tessera
from tessera.framework import ClaimValidationError, FrameworkConfig

from .._support.clock import FakeClock
from .._support.servers import Swappable
from .._support.wire import front_token

#: A template the login routes reuse for every session (and then, wrongly, edit).
TEMPLATE: dict[str, Any] = {"perms": ["read"]}


def needs_admin(payload: Mapping[str, Any]) -> ClaimValidationError | None:
    if "admin" in payload.get("perms", []):
        return None
    return ClaimValidationError("perms", {"message": "wrong value", "expectedToInclude": "admin"})


def _fresh_template() -> None:
    TEMPLATE.clear()
    TEMPLATE["perms"] = ["read"]


def fastapi_app(tessera: Tessera) -> Any:
    from fastapi import Depends, FastAPI, Request

    from tessera.framework.fastapi import (
        Session,
        TesseraMiddleware,
        create_new_session,
        verify_session,
    )

    app = FastAPI()

    @app.post("/login")
    async def login(request: Request) -> dict[str, Any]:
        await create_new_session(request, "user-1", TEMPLATE)
        TEMPLATE["perms"].append("admin")
        return {}

    @app.get("/tamper")
    async def tamper(session: Annotated[Session, Depends(verify_session())]) -> dict[str, Any]:
        payload = session.get_access_token_payload()
        seen = list(payload["perms"])
        payload["perms"].append("admin")
        return {"seen": seen}

    @app.get("/admin")
    async def admin(
        _: Annotated[Session, Depends(verify_session(claim_validators=[needs_admin]))],
    ) -> dict[str, Any]:
        return {"admin": True}

    app.add_middleware(TesseraMiddleware, tessera=tessera, config=FrameworkConfig())
    return app


def flask_app(tessera: Tessera) -> Any:
    from flask import Flask, g, request

    from tessera.framework.flask import FlaskTessera, create_new_session, verify_session

    app = Flask("tessera_isolation")
    FlaskTessera(app, tessera=tessera, config=FrameworkConfig())

    @app.post("/login")
    def login() -> Any:
        create_new_session(request, "user-1", TEMPLATE)
        TEMPLATE["perms"].append("admin")
        return {}

    @app.get("/tamper")
    @verify_session()
    def tamper() -> Any:
        payload = g.tessera.get_access_token_payload()
        seen = list(payload["perms"])
        payload["perms"].append("admin")
        return {"seen": seen}

    @app.get("/admin")
    @verify_session(claim_validators=[needs_admin])
    def admin() -> Any:
        return {"admin": True}

    return app


FACTORIES: dict[str, Callable[[Tessera], Any]] = {"fastapi": fastapi_app, "flask": flask_app}


@pytest.fixture(params=list(FACTORIES))
def served(
    request: pytest.FixtureRequest,
    loopback_servers: dict[str, tuple[Swappable, str]],
    tmp_path: Path,
) -> Iterator[str]:
    framework = str(request.param)
    _fresh_template()
    tessera = Tessera(
        f"sqlite:///{tmp_path}/s.db", clock=FakeClock(), expired_session_purge_interval=0
    )
    holder, url = loopback_servers["asgi" if framework == "fastapi" else "wsgi"]
    holder.app = FACTORIES[framework](tessera)
    yield url
    tessera.close()


def _access_token_claims(token: str) -> dict[str, Any]:
    segment = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))))


def test_editing_the_verified_payload_never_grants_a_claim(served: str) -> None:
    with httpx.Client(base_url=served, timeout=10) as client:
        login = client.post("/login", headers={"st-auth-mode": "header"})
        assert login.status_code == 200
        headers = {"authorization": f"Bearer {login.headers['st-access-token']}"}
        for _ in range(4):
            tampered = client.get("/tamper", headers=headers)
            assert tampered.status_code == 200
            assert tampered.json() == {"seen": ["read"]}
            assert client.get("/admin", headers=headers).status_code == 403


def test_editing_the_creation_template_does_not_change_the_session(served: str) -> None:
    with httpx.Client(base_url=served, timeout=10) as client:
        login = client.post("/login", headers={"st-auth-mode": "header"})
        assert login.status_code == 200
        signed = _access_token_claims(login.headers["st-access-token"])
        assert signed["perms"] == ["read"]
        # What the browser may read agrees with what was signed.
        assert front_token(login)["up"]["perms"] == ["read"]
        headers = {"authorization": f"Bearer {login.headers['st-access-token']}"}
        assert client.get("/tamper", headers=headers).json() == {"seen": ["read"]}

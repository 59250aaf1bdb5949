# mypy: ignore-errors
# (this app's libraries are installed only in bench/.venv-peers, or have no type hints)
"""The official supertokens-python SDK in FastAPI, with a tessera core as its core.

This is what a SuperTokens user runs: the SDK verifies access tokens locally (JWKS fetched
from the core), and calls the core over HTTP to create, refresh, list and revoke sessions,
and on every verify with ``check_database=True``.
"""

# FastAPI declares dependencies as argument defaults.
# ruff: noqa: B008

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import Depends, FastAPI, Request
from supertokens_python import (
    InputAppInfo,
    SupertokensConfig,
    init,
)
from supertokens_python.framework.fastapi import get_middleware
from supertokens_python.recipe import session
from supertokens_python.recipe.session import SessionContainer
from supertokens_python.recipe.session.asyncio import (
    create_new_session,
    create_new_session_without_request_response,
    get_all_session_handles_for_user,
    revoke_all_sessions_for_user,
)
from supertokens_python.recipe.session.framework.fastapi import verify_session
from supertokens_python.types import RecipeUserId

from ._common import bare_verify, env

init(
    supertokens_config=SupertokensConfig(connection_uri=env("CORE_URL")),
    app_info=InputAppInfo(
        app_name="bench",
        api_domain="http://127.0.0.1",
        website_domain="http://127.0.0.1",
        api_base_path="/auth",
    ),
    framework="fastapi",
    mode="asgi",
    recipe_list=[session.init(get_token_transfer_method=lambda *_: "header")],
)
app = FastAPI()
app.add_middleware(get_middleware())


@app.get("/open")
async def open_route() -> dict[str, Any]:
    return {"ok": True}


@app.get("/bare")
async def bare(request: Request) -> dict[str, Any]:
    claims = bare_verify(request.headers.get("authorization"))
    return {"ok": False} if claims is None else {"user": claims["sub"]}


@app.get("/protected")
async def protected(s: SessionContainer = Depends(verify_session())) -> dict[str, Any]:
    return {"user": s.get_user_id()}


@app.get("/protected-db")
async def protected_db(
    s: SessionContainer = Depends(verify_session(check_database=True)),
) -> dict[str, Any]:
    return {"user": s.get_user_id()}


@app.post("/login")
async def login(request: Request, user: str) -> dict[str, Any]:
    await create_new_session(request, "public", RecipeUserId(user))
    return {"ok": True}


@app.post("/seed")
async def seed(user: str, n: int) -> dict[str, Any]:
    # Set-up only, not measured: the SDK opens a new HTTP client for every core call
    # (~100+ ms here), so the sessions are made ten at a time, one SDK call each.
    for start in range(0, n, 10):
        await asyncio.gather(
            *(
                create_new_session_without_request_response("public", RecipeUserId(user))
                for _ in range(min(10, n - start))
            )
        )
    return {"ok": True}


@app.get("/sessions")
async def sessions(user: str) -> dict[str, Any]:
    return {"sessions": await get_all_session_handles_for_user(user)}


@app.post("/revoke-all")
async def revoke_all(user: str) -> dict[str, Any]:
    return {"revoked": len(await revoke_all_sessions_for_user(user))}

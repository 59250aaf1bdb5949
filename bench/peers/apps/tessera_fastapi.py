"""tessera embedded in FastAPI through ``tessera.framework.fastapi`` (ASGI, uvicorn)."""

# FastAPI declares dependencies as argument defaults.
# ruff: noqa: B008

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI, Request

from tessera import Tessera
from tessera.framework.fastapi import Session, TesseraMiddleware, create_new_session, verify_session

from ._common import bare_verify, env

tessera = Tessera(env("DATABASE"), table_name_prefix=env("PREFIX", "tessera_"))
app = FastAPI()
app.add_middleware(TesseraMiddleware, tessera=tessera)


@app.get("/open")
async def open_route() -> dict[str, Any]:
    return {"ok": True}


@app.get("/bare")
async def bare(request: Request) -> dict[str, Any]:
    claims = bare_verify(request.headers.get("authorization"))
    if claims is None:
        return {"ok": False}  # the runner checks the body of a probe request
    return {"user": claims["sub"]}


@app.get("/protected")
async def protected(session: Session = Depends(verify_session())) -> dict[str, Any]:
    return {"user": session.get_user_id()}


@app.get("/protected-db")
async def protected_db(
    session: Session = Depends(verify_session(check_database=True)),
) -> dict[str, Any]:
    return {"user": session.get_user_id()}


@app.post("/login")
async def login(request: Request, user: str) -> dict[str, Any]:
    await create_new_session(request, user)
    return {"ok": True}


@app.post("/seed")
async def seed(user: str, n: int) -> dict[str, Any]:
    for _ in range(n):
        await tessera.asyncio.create_new_session(user)
    return {"ok": True}


@app.get("/sessions")
async def sessions(user: str) -> dict[str, Any]:
    return {"sessions": await tessera.asyncio.get_all_session_handles_for_user(user)}


@app.post("/revoke-all")
async def revoke_all(user: str) -> dict[str, Any]:
    return {"revoked": len(await tessera.asyncio.revoke_all_sessions_for_user(user))}

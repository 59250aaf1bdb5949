"""tessera with FastAPI: login, a protected route, the ways to revoke, a route that
needs a recent login, and a page using the official frontend SDK.

Run it (from the repository root) with::

    uvicorn examples.fastapi_app:app --port 3001

then open http://localhost:3001/.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

import tessera
from tessera.asyncio import revoke_all_sessions_for_user, revoke_multiple_sessions, revoke_session
from tessera.framework import FrameworkConfig, require_fresh
from tessera.framework.fastapi import Session, TesseraMiddleware, create_new_session, verify_session

from ._shared import DATABASE, PAGE, sdk_bundle

tessera.init(database=DATABASE)
app = FastAPI(title="tessera example")
app.add_middleware(TesseraMiddleware, config=FrameworkConfig(api_base_path="/auth"))


@app.post("/login")
async def login(request: Request) -> dict[str, Any]:
    body = await request.json()  # a real app checks a password here
    session = await create_new_session(request, body["userId"], {"role": "user"})
    return {"userId": session.get_user_id(), "handle": session.get_handle()}


@app.get("/me")
async def me(session: Annotated[Session, Depends(verify_session())]) -> dict[str, Any]:
    return {"userId": session.get_user_id(), "handle": session.get_handle()}


# Method 1: revoke the caller's own session; this also clears its cookies.
@app.post("/logout")
async def logout(session: Annotated[Session, Depends(verify_session())]) -> dict[str, str]:
    await session.revoke_session()
    return {"status": "OK"}


# Method 2: revoke one session by its handle.
@app.post("/revoke-session")
async def revoke_one(request: Request) -> dict[str, bool]:
    return {"revoked": await revoke_session((await request.json())["sessionHandle"])}


# Method 3: revoke several sessions.
@app.post("/revoke-multiple-sessions")
async def revoke_many(request: Request) -> dict[str, list[str]]:
    return {"revoked": await revoke_multiple_sessions((await request.json())["sessionHandles"])}


# Method 4: revoke every session of a user.
@app.post("/revoke-all-user-sessions")
async def revoke_user(request: Request) -> dict[str, list[str]]:
    return {"revoked": await revoke_all_sessions_for_user((await request.json())["userId"])}


# Method 5: log out my other devices (this session and its cookies stay).
@app.post("/logout-other-devices")
async def logout_others(session: Annotated[Session, Depends(verify_session())]) -> dict[str, Any]:
    return {"revoked": await session.revoke_other_sessions()}


# A sensitive action: only within 5 minutes of logging in (or of /confirm-password);
# older logins get 403 with claim id "tessera-fresh-auth".
@app.post("/change-email")
async def change_email(
    session: Annotated[Session, Depends(verify_session(claim_validators=[require_fresh(300)]))],
) -> dict[str, str]:
    return {"status": "OK"}


@app.post("/confirm-password")
async def confirm_password(
    session: Annotated[Session, Depends(verify_session())],
) -> dict[str, Any]:
    # A real app checks the password sent in the request here.
    await session.mark_reauthenticated(["pwd"])  # the new access token goes on this response
    return {"authTime": session.get_auth_time()}


@app.get("/", response_class=HTMLResponse)
async def page() -> str:
    return PAGE


@app.get("/sdk/{name}.js")
async def sdk(name: str) -> Response:
    data, cdn = sdk_bundle(name)
    if data is None:
        return RedirectResponse(cdn) if cdn else Response(status_code=404)
    return Response(data, media_type="application/javascript")

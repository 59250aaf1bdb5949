"""tessera with plain Starlette: login, a protected route, the four ways to revoke, and
a page using the official frontend SDK.

Run it (from the repository root) with::

    uvicorn examples.starlette_app:app --port 3002

then open http://localhost:3002/.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

import tessera
from tessera.framework.starlette import TesseraMiddleware, create_new_session, verify_session

from ._shared import DATABASE, PAGE, sdk_bundle

tessera.init(database=DATABASE)
protect = verify_session()


async def login(request: Request) -> JSONResponse:
    body = await request.json()  # a real app checks a password here
    session = await create_new_session(request, body["userId"])
    return JSONResponse({"userId": session.get_user_id(), "handle": session.get_handle()})


async def me(request: Request) -> JSONResponse:
    session = await protect(request)
    assert session is not None
    return JSONResponse({"userId": session.get_user_id(), "handle": session.get_handle()})


async def logout(request: Request) -> JSONResponse:
    """Method 1: revoke the caller's own session; this also clears its cookies."""
    session = await protect(request)
    assert session is not None
    await session.revoke_session()
    return JSONResponse({"status": "OK"})


async def revoke_one(request: Request) -> JSONResponse:
    """Method 2: revoke one session by its handle."""
    handle = (await request.json())["sessionHandle"]
    return JSONResponse({"revoked": await tessera.asyncio.revoke_session(handle)})


async def revoke_many(request: Request) -> JSONResponse:
    """Method 3: revoke several sessions."""
    handles = (await request.json())["sessionHandles"]
    return JSONResponse({"revoked": await tessera.asyncio.revoke_multiple_sessions(handles)})


async def revoke_user(request: Request) -> JSONResponse:
    """Method 4: revoke every session of a user."""
    user_id = (await request.json())["userId"]
    return JSONResponse({"revoked": await tessera.asyncio.revoke_all_sessions_for_user(user_id)})


async def page(request: Request) -> HTMLResponse:
    return HTMLResponse(PAGE)


async def sdk(request: Request) -> Response:
    data, cdn = sdk_bundle(request.path_params["name"])
    if data is None:
        return RedirectResponse(cdn) if cdn else Response(status_code=404)
    return Response(data, media_type="application/javascript")


app = Starlette(
    routes=[
        Route("/login", login, methods=["POST"]),
        Route("/me", me),
        Route("/logout", logout, methods=["POST"]),
        Route("/revoke-session", revoke_one, methods=["POST"]),
        Route("/revoke-multiple-sessions", revoke_many, methods=["POST"]),
        Route("/revoke-all-user-sessions", revoke_user, methods=["POST"]),
        Route("/", page),
        Route("/sdk/{name}.js", sdk),
    ]
)
app.add_middleware(TesseraMiddleware)

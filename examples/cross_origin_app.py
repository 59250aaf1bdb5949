"""tessera with the website and the API on different origins: a FastAPI API on one port,
and the website (the page and the frontend SDK) on another, as app.example.com and
api.example.com would be.

Run it (from the repository root) with::

    python examples/cross_origin_app.py --api-port 3005 --website-port 3006

then open http://localhost:3006/; the page calls the API on http://localhost:3005.

To the browser the API is another origin, so every answer must carry CORS headers,
tessera's own included (refresh, sign-out, 401s). ``CORSMiddleware`` may be added
before or after ``TesseraMiddleware``: tessera sends its own answers through it either
way. Both sites are ``localhost`` here, so cookies stay ``SameSite=Lax``; for sites that
differ (say website.com and api.net), serve the API over https, and tessera picks
``SameSite=None; Secure`` from ``api_domain`` and ``website_domain``.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from pathlib import Path
from typing import Annotated, Any

import uvicorn
from fastapi import Depends, FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from starlette.applications import Starlette
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

import tessera
from tessera.framework import FrameworkConfig, get_all_cors_headers
from tessera.framework.fastapi import Session, TesseraMiddleware, create_new_session, verify_session

sys.path.insert(0, str(Path(__file__).parent))
from _shared import DATABASE, PAGE, sdk_bundle  # type: ignore[import-not-found]


def build_api(api_origin: str, website_origin: str) -> FastAPI:
    api = FastAPI(title="tessera cross-origin example")
    api.add_middleware(
        CORSMiddleware,
        allow_origins=[website_origin],  # the exact origin: credentials rule out "*"
        allow_credentials=True,
        allow_methods=["*"],
        allow_headers=["content-type", *get_all_cors_headers()],
    )
    api.add_middleware(
        TesseraMiddleware,
        config=FrameworkConfig(api_domain=api_origin, website_domain=website_origin),
    )

    @api.post("/login")
    async def login(request: Request) -> dict[str, Any]:
        body = await request.json()  # a real app checks a password here
        session = await create_new_session(request, body["userId"])
        return {"userId": session.get_user_id(), "handle": session.get_handle()}

    @api.get("/me")
    async def me(session: Annotated[Session, Depends(verify_session())]) -> dict[str, Any]:
        return {"userId": session.get_user_id(), "handle": session.get_handle()}

    @api.post("/logout")
    async def logout(session: Annotated[Session, Depends(verify_session())]) -> dict[str, str]:
        await session.revoke_session()
        return {"status": "OK"}

    return api


def build_website(api_origin: str) -> Starlette:
    """The website: the page, told where the API is, and the SDK bundles."""
    setting = f"<script>window.TESSERA_API = {json.dumps(api_origin)};</script>"
    page = PAGE.replace("<head>", "<head>\n" + setting, 1)

    async def index(request: Any) -> HTMLResponse:
        return HTMLResponse(page)

    async def sdk(request: Any) -> Response:
        data, cdn = sdk_bundle(request.path_params["name"])
        if data is None:
            return RedirectResponse(cdn) if cdn else Response(status_code=404)
        return Response(data, media_type="application/javascript")

    return Starlette(routes=[Route("/", index), Route("/sdk/{name}.js", sdk)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--api-port", type=int, default=3005)
    parser.add_argument("--website-port", type=int, default=3006)
    ports = parser.parse_args()
    api_origin = f"http://localhost:{ports.api_port}"
    website_origin = f"http://localhost:{ports.website_port}"
    tessera.init(database=DATABASE)
    # The website is static; in production a CDN or another server serves it.
    website = uvicorn.Server(uvicorn.Config(build_website(api_origin), port=ports.website_port))
    threading.Thread(target=website.run, daemon=True).start()
    uvicorn.run(build_api(api_origin, website_origin), port=ports.api_port)


if __name__ == "__main__":
    main()

"""tessera with FastAPI: a server-rendered "your devices" page.

Each of the user's sessions is one row: the device (read from its user agent), where it
was last seen (IP), when it was last active, "this device" marked, a button to log that
device out, and one to log out every other device. Plain HTML forms, no JavaScript.

Run it (from the repository root) with::

    uvicorn examples.devices_app:app --port 3007

then open http://localhost:3007/ in two browsers (or a private window), log in as the
same user in both, and look at /devices.

Tokens travel in cookies only (``token_transfer_method="cookie"``): a form post cannot
send the header the SDKs use to ask for them. The page reads the session with
``get_session``, which never refreshes: when the access token has expired (after an
hour here) the page asks to log in again, where a real app would let the frontend SDK
refresh it.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from urllib.parse import parse_qs

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

import tessera
from tessera import DeviceSession, TesseraError
from tessera.framework import FrameworkConfig
from tessera.framework.fastapi import Session, TesseraMiddleware, create_new_session, get_session

from ._shared import DATABASE

tessera.init(database=DATABASE, activity_write_interval=60)
app = FastAPI(title="tessera devices example")
app.add_middleware(
    TesseraMiddleware,
    config=FrameworkConfig(api_base_path="/auth", token_transfer_method="cookie"),
)


async def _session(request: Request) -> Session | None:
    try:
        # check_database: a device logged out elsewhere is refused at once, not when its
        # access token expires (the revocation feed answers most of these from memory).
        return await get_session(request, session_required=False, check_database=True)
    except TesseraError:  # expired, revoked or forged: log in again
        return None


def _page(title: str, body: str) -> str:
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif;margin:2em}td,th{padding:.3em .8em;"
        "text-align:left}tr.current{background:#eef}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )


def _when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _row(item: DeviceSession) -> str:
    # Everything shown comes from the client (its user agent, its address): escape it.
    handle = html.escape(item.session_handle, quote=True)
    this = " <strong>(this device)</strong>" if item.current else ""
    return (
        f"<tr class='{'current' if item.current else 'other'}' data-handle='{handle}'>"
        f"<td class='device'>{html.escape(item.device.label)}{this}</td>"
        f"<td class='ip'>{html.escape(item.last_ip or 'unknown')}</td>"
        f"<td class='active'>{_when(item.last_active)}</td>"
        f"<td><form method='post' action='/devices/{handle}/logout'>"
        "<button>Log out</button></form></td></tr>"
    )


@app.get("/", response_class=HTMLResponse)
async def home(request: Request) -> Response:
    if await _session(request) is not None:
        return RedirectResponse("/devices", status_code=303)
    form = (
        "<form method='post' action='/login'><label>User <input name='user' required>"
        "</label> <button>Log in</button></form>"
        "<p>A real app checks a password here.</p>"
    )
    return HTMLResponse(_page("Log in", form))


@app.post("/login")
async def login(request: Request) -> Response:
    fields = parse_qs((await request.body()).decode())
    user = (fields.get("user") or [""])[0].strip()
    if not user:
        return RedirectResponse("/", status_code=303)
    await create_new_session(request, user)  # records this browser's address and agent
    return RedirectResponse("/devices", status_code=303)


@app.get("/devices", response_class=HTMLResponse)
async def devices(request: Request) -> Response:
    session = await _session(request)
    if session is None:
        return RedirectResponse("/", status_code=303)
    page = await session.list_devices(limit=50)
    rows = "".join(_row(item) for item in page.items)
    body = (
        f"<p>Logged in as <b>{html.escape(session.get_user_id())}</b>.</p>"
        "<table><thead><tr><th>Device</th><th>Place (IP)</th><th>Last active</th>"
        f"<th></th></tr></thead><tbody>{rows}</tbody></table>"
        "<form method='post' action='/devices/logout-others'>"
        "<button id='logout-others'>Log out all other devices</button></form>"
    )
    return HTMLResponse(_page("Your devices", body))


@app.post("/devices/logout-others")
async def logout_others(request: Request) -> Response:
    session = await _session(request)
    if session is not None:
        await session.revoke_other_sessions()
    return RedirectResponse("/devices", status_code=303)


@app.post("/devices/{handle}/logout")
async def logout_device(request: Request, handle: str) -> Response:
    session = await _session(request)
    if session is None:
        return RedirectResponse("/", status_code=303)
    # Only the user's own sessions: a handle of anyone else's is refused (False).
    await session.revoke_device(handle)
    return RedirectResponse("/devices", status_code=303)

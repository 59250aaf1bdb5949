"""tessera with Flask: login, a protected route, the four ways to revoke, and a page
using the official frontend SDK.

Run it (from the repository root) with::

    flask --app examples/flask_app.py run --port 3003

then open http://localhost:3003/.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, g, redirect, request

import tessera
from tessera.framework.flask import FlaskTessera, create_new_session, verify_session
from tessera.syncio import revoke_all_sessions_for_user, revoke_multiple_sessions, revoke_session

try:
    from ._shared import DATABASE, PAGE, sdk_bundle
except ImportError:  # started as a file by `flask --app examples/flask_app.py`
    from _shared import DATABASE, PAGE, sdk_bundle  # type: ignore[import-not-found,no-redef]

tessera.init(database=DATABASE)
app = Flask(__name__)
FlaskTessera(app)


@app.post("/login")
def login() -> Any:
    body = request.get_json(force=True)  # a real app checks a password here
    session = create_new_session(request, body["userId"])
    return {"userId": session.get_user_id(), "handle": session.get_handle()}


@app.get("/me")
@verify_session()
def me() -> Any:
    return {"userId": g.tessera.get_user_id(), "handle": g.tessera.get_handle()}


@app.post("/logout")
@verify_session()
def logout() -> Any:
    """Method 1: revoke the caller's own session; this also clears its cookies."""
    g.tessera.revoke_session()
    return {"status": "OK"}


@app.post("/revoke-session")
def revoke_one() -> Any:
    """Method 2: revoke one session by its handle."""
    return {"revoked": revoke_session(request.get_json(force=True)["sessionHandle"])}


@app.post("/revoke-multiple-sessions")
def revoke_many() -> Any:
    """Method 3: revoke several sessions."""
    return {"revoked": revoke_multiple_sessions(request.get_json(force=True)["sessionHandles"])}


@app.post("/revoke-all-user-sessions")
def revoke_user() -> Any:
    """Method 4: revoke every session of a user."""
    return {"revoked": revoke_all_sessions_for_user(request.get_json(force=True)["userId"])}


@app.get("/")
def page() -> Any:
    return PAGE


@app.get("/sdk/<name>.js")
def sdk(name: str) -> Any:
    data, cdn = sdk_bundle(name)
    if data is None:
        return redirect(cdn) if cdn else ("", 404)
    return Response(data, mimetype="application/javascript")

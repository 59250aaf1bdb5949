"""tessera embedded in Flask through ``tessera.framework.flask`` (WSGI, gunicorn)."""

from __future__ import annotations

from typing import Any

from flask import Flask, g, request

from tessera import Tessera
from tessera.framework.flask import FlaskTessera, create_new_session, verify_session

from ._common import bare_verify, env

tessera = Tessera(env("DATABASE"), table_name_prefix=env("PREFIX", "tessera_"))
app = Flask(__name__)
FlaskTessera(app, tessera=tessera)


@app.get("/open")
def open_route() -> dict[str, Any]:
    return {"ok": True}


@app.get("/bare")
def bare() -> dict[str, Any]:
    claims = bare_verify(request.headers.get("authorization"))
    return {"ok": False} if claims is None else {"user": claims["sub"]}


@app.get("/protected")
@verify_session()
def protected() -> dict[str, Any]:
    return {"user": g.tessera.get_user_id()}


@app.get("/protected-db")
@verify_session(check_database=True)
def protected_db() -> dict[str, Any]:
    return {"user": g.tessera.get_user_id()}


@app.post("/login")
def login() -> dict[str, Any]:
    create_new_session(request, request.args["user"])
    return {"ok": True}


@app.post("/seed")
def seed() -> dict[str, Any]:
    for _ in range(int(request.args["n"])):
        tessera.syncio.create_new_session(request.args["user"])
    return {"ok": True}


@app.get("/sessions")
def sessions() -> dict[str, Any]:
    return {"sessions": tessera.syncio.get_all_session_handles_for_user(request.args["user"])}


@app.post("/revoke-all")
def revoke_all() -> dict[str, Any]:
    return {"revoked": len(tessera.syncio.revoke_all_sessions_for_user(request.args["user"]))}

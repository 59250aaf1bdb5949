# mypy: ignore-errors
# (this app's libraries are installed only in bench/.venv-peers, or have no type hints)
"""flask-jwt-extended with its documented Redis blocklist (WSGI, gunicorn).

Tokens are RS256 like tessera's. The blocklist check (one Redis GET of the token's jti)
runs only on ``/protected-db``, so ``/protected`` is local verification alone.
flask-jwt-extended keeps no record of the tokens it issues, so there is nothing to list
or to revoke per user, and it does not rotate refresh tokens.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import redis
from flask import Flask, request
from flask_jwt_extended import (
    JWTManager,
    create_access_token,
    create_refresh_token,
    get_jwt_identity,
    jwt_required,
)

from ._common import bare_verify, env, private_key, public_key

app = Flask(__name__)
app.config.update(
    JWT_ALGORITHM="RS256",
    JWT_PRIVATE_KEY=private_key(),
    JWT_PUBLIC_KEY=public_key(),
    JWT_TOKEN_LOCATION=["headers"],
    JWT_ACCESS_TOKEN_EXPIRES=timedelta(hours=1),
)
jwt = JWTManager(app)
blocklist = redis.Redis.from_url(env("REDIS_URL"))
prefix = env("REDIS_PREFIX")


@jwt.token_in_blocklist_loader
def in_blocklist(jwt_header: dict[str, Any], jwt_payload: dict[str, Any]) -> bool:
    if request.path != "/protected-db":
        return False
    return blocklist.get(prefix + jwt_payload["jti"]) is not None


@app.get("/open")
def open_route() -> dict[str, Any]:
    return {"ok": True}


@app.get("/bare")
def bare() -> dict[str, Any]:
    claims = bare_verify(request.headers.get("authorization"))
    return {"ok": False} if claims is None else {"user": claims["sub"]}


@app.get("/protected")
@jwt_required()
def protected() -> dict[str, Any]:
    return {"user": get_jwt_identity()}


@app.get("/protected-db")
@jwt_required()
def protected_db() -> dict[str, Any]:
    return {"user": get_jwt_identity()}


@app.post("/login")
def login() -> dict[str, Any]:
    user = request.args["user"]
    return {"access": create_access_token(identity=user), "refresh": create_refresh_token(user)}


@app.post("/refresh")
@jwt_required(refresh=True)
def refresh() -> dict[str, Any]:
    # Not rotated: the same refresh token stays valid until it expires.
    same = request.headers["authorization"][7:]
    return {"access": create_access_token(identity=get_jwt_identity()), "refresh": same}


def mint_tokens(access: int, refresh: int) -> tuple[list[str], list[str]]:
    """Set-up of the benchmark (not measured): tokens made with the library's own functions."""
    with app.app_context():
        return (
            [create_access_token(identity=f"u{i % 1000}") for i in range(access)],
            [create_refresh_token(f"u{i}") for i in range(refresh)],
        )

# mypy: ignore-errors
# (this app's libraries are installed only in bench/.venv-peers, or have no type hints)
"""fastapi-users in FastAPI (ASGI, uvicorn), users in PostgreSQL through SQLAlchemy + asyncpg.

``BENCH_STRATEGY=jwt``: the JWT strategy (RS256, like tessera). fastapi-users still reads
the user row from the database on every authenticated request. ``BENCH_STRATEGY=database``:
the database strategy, an opaque token looked up in an access-token table on every request
(so every request is revocation-checked). fastapi-users has no refresh tokens.
"""

# FastAPI declares dependencies as argument defaults.
# ruff: noqa: B008

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi_users import BaseUserManager, FastAPIUsers, UUIDIDMixin
from fastapi_users.authentication import (
    AuthenticationBackend,
    BearerTransport,
    JWTStrategy,
    Strategy,
)
from fastapi_users.authentication.strategy.db import DatabaseStrategy
from fastapi_users_db_sqlalchemy import SQLAlchemyBaseUserTableUUID, SQLAlchemyUserDatabase
from fastapi_users_db_sqlalchemy.access_token import (
    SQLAlchemyAccessTokenDatabase,
    SQLAlchemyBaseAccessTokenTableUUID,
)
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase

from ._common import bare_verify, env, private_key, public_key, users

STRATEGY = env("STRATEGY", "jwt")
NAMESPACE = uuid.UUID("5f0c1d2e-0000-4000-8000-000000000000")


class Base(DeclarativeBase):
    pass


class User(SQLAlchemyBaseUserTableUUID, Base):
    pass


class AccessToken(SQLAlchemyBaseAccessTokenTableUUID, Base):
    pass


engine = create_async_engine(
    env("SQLALCHEMY_URL"),
    connect_args={"server_settings": {"search_path": env("PG_SCHEMA")}},
    pool_size=10,
)
sessions_maker = async_sessionmaker(engine, expire_on_commit=False)


def user_uuid(name: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, name)


async def get_db_session() -> AsyncIterator[AsyncSession]:
    async with sessions_maker() as db_session:
        yield db_session


async def get_user_db(db: AsyncSession = Depends(get_db_session)) -> AsyncIterator[Any]:
    yield SQLAlchemyUserDatabase(db, User)


async def get_access_token_db(db: AsyncSession = Depends(get_db_session)) -> AsyncIterator[Any]:
    yield SQLAlchemyAccessTokenDatabase(db, AccessToken)


class UserManager(UUIDIDMixin, BaseUserManager[User, uuid.UUID]):
    reset_password_token_secret = "benchmark-only"
    verification_token_secret = "benchmark-only"


async def get_user_manager(user_db: Any = Depends(get_user_db)) -> AsyncIterator[UserManager]:
    yield UserManager(user_db)


def get_jwt_strategy() -> Strategy[Any, Any]:
    return JWTStrategy(
        secret=private_key(), lifetime_seconds=3600, algorithm="RS256", public_key=public_key()
    )


def get_database_strategy(
    access_token_db: Any = Depends(get_access_token_db),
) -> Strategy[Any, Any]:
    return DatabaseStrategy(access_token_db, lifetime_seconds=3600)


backend = AuthenticationBackend(
    name=STRATEGY,
    transport=BearerTransport(tokenUrl="login"),
    get_strategy=get_jwt_strategy if STRATEGY == "jwt" else get_database_strategy,
)
fastapi_users = FastAPIUsers[User, uuid.UUID](get_user_manager, [backend])
current_user = fastapi_users.current_user(active=True)


@asynccontextmanager
async def lifespan(_: FastAPI) -> AsyncIterator[None]:
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
        rows = [
            {
                "id": user_uuid(name),
                "email": f"{name}@bench.example",
                "hashed_password": "!unusable",
                "is_active": True,
                "is_superuser": False,
                "is_verified": True,
            }
            for name in users()
        ]
        await connection.execute(insert(User).on_conflict_do_nothing(), rows)
    yield
    await engine.dispose()


app = FastAPI(lifespan=lifespan)


@app.get("/open")
async def open_route() -> dict[str, Any]:
    return {"ok": True}


@app.get("/bare")
async def bare(request: Request) -> dict[str, Any]:
    claims = bare_verify(request.headers.get("authorization"))
    return {"ok": False} if claims is None else {"user": claims["sub"]}


@app.get("/protected")
async def protected(user: User = Depends(current_user)) -> dict[str, Any]:
    return {"user": str(user.id)}


@app.get("/protected-db")
async def protected_db(user: User = Depends(current_user)) -> dict[str, Any]:
    return {"user": str(user.id)}


@app.post("/login")
async def login(
    user: str,
    manager: UserManager = Depends(get_user_manager),
    strategy: Strategy[Any, Any] = Depends(backend.get_strategy),
) -> Any:
    # The password check is left out for every library alike (see the README).
    found = await manager.get(user_uuid(user))
    return await backend.login(strategy, found)


@app.post("/seed")
async def seed(
    user: str,
    n: int,
    manager: UserManager = Depends(get_user_manager),
    strategy: Strategy[Any, Any] = Depends(backend.get_strategy),
) -> dict[str, Any]:
    found = await manager.get(user_uuid(user))
    for _ in range(n):
        await strategy.write_token(found)
    return {"ok": True}


@app.get("/sessions")
async def sessions(user: str, db: AsyncSession = Depends(get_db_session)) -> dict[str, Any]:
    query = select(AccessToken.token).where(AccessToken.user_id == user_uuid(user))
    return {"sessions": list((await db.execute(query)).scalars())}


@app.post("/revoke-all")
async def revoke_all(user: str, db: AsyncSession = Depends(get_db_session)) -> dict[str, Any]:
    result = await db.execute(delete(AccessToken).where(AccessToken.user_id == user_uuid(user)))
    await db.commit()
    return {"revoked": result.rowcount}


def mint_tokens(access: int, refresh: int) -> tuple[list[str], list[str]]:
    """Set-up of the benchmark (not measured): makes the tables and users, then ``access``
    tokens with the strategy's own code (the database strategy's tokens are
    ``secrets.token_urlsafe()`` rows in its table, inserted in one statement)."""
    import asyncio
    import secrets

    async def mint() -> list[str]:
        async with lifespan(app):
            ids = [user_uuid(f"u{i % 1000}") for i in range(access)]
            if STRATEGY == "jwt":
                strategy = get_jwt_strategy()
                return [await strategy.write_token(User(id=i)) for i in ids]
            tokens = [secrets.token_urlsafe() for _ in ids]
            rows = [{"token": t, "user_id": i} for t, i in zip(tokens, ids, strict=True)]
            async with sessions_maker() as db:
                await db.execute(insert(AccessToken), rows)
                await db.commit()
            return tokens

    return asyncio.run(mint()), []

"""What is measured: the servers (targets), the work items, and which tessera row each
peer is compared with."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["TARGETS", "WORKS", "Settings", "Target", "Work"]


@dataclass(frozen=True)
class Work:
    key: str
    title: str
    #: "rate": wrk req/s (higher is better); "time": ms per call, timed by the runner.
    kind: str = "rate"


WORKS = [
    Work("open", "ceiling: unprotected endpoint"),
    Work("bare", "ceiling: bare RS256 verify with cryptography"),
    Work("protected", "1. protected endpoint, local verification only, a new token each request"),
    Work(
        "protected-repeat",
        "1r. protected endpoint, local verification, ONE token repeated (tessera's cache)",
    ),
    Work("protected-db", "2. protected endpoint, revocation checked, a new token each request"),
    Work(
        "protected-db-repeat",
        "2r. protected endpoint, revocation checked, ONE token repeated (tessera's cache)",
    ),
    Work("login", "3a. login (session creation)"),
    Work("refresh", "3b. refresh"),
    Work("list", "4a. list a user's sessions (user with N sessions)"),
    Work("revoke-all", "4b. revoke all sessions of a user with N sessions", "time"),
]
#: What the growth rows repeat at each number of stored sessions.
GROWTH_WORKS = ("protected-db", "login", "refresh", "list", "revoke-all")


@dataclass(frozen=True)
class Settings:
    seconds: int = 2
    warmup: int = 1
    runs: int = 3
    connections: int = 16
    threads: int = 1
    #: Sessions of the user whose sessions are listed and revoked.
    sessions_per_user: int = 1000
    revoke_reps: int = 3
    #: Distinct valid access tokens each protected row rotates through: well above the
    #: 4,096 verified tokens a tessera engine remembers, so every request is verified.
    distinct_tokens: int = 6000
    growth: tuple[int, ...] = (10_000, 100_000, 1_000_000)


QUICK = Settings(
    seconds=1,
    warmup=0,
    runs=1,
    sessions_per_user=50,
    revoke_reps=1,
    growth=(),
    distinct_tokens=200,
)


@dataclass(frozen=True)
class Target:
    name: str
    label: str
    framework: str  # fastapi | flask | django
    module: str  # bench.peers.apps.<module>:app
    server: str  # asgi | wsgi
    store: str  # sqlite | postgresql | redis
    #: Python modules the app needs (checked before starting it).
    needs: tuple[str, ...]
    #: Work items not measured, with the reason shown in the table.
    not_applicable: dict[str, str] = field(default_factory=dict)
    #: (path, mode) of the refresh call; mode "bearer" or "json".
    refresh: tuple[str, str] | None = None
    ceilings: bool = False
    growth: bool = False
    needs_core: bool = False
    needs_redis: bool = False
    env: dict[str, str] = field(default_factory=dict)
    note: str = ""

    @property
    def is_tessera(self) -> bool:
        return self.name.startswith("tessera-")

    def works(self) -> list[str]:
        skip = set(self.not_applicable) | ({"open", "bare"} if not self.ceilings else set())
        return [w.key for w in WORKS if w.key.removesuffix("-repeat") not in skip]

    def why_not(self, work: str) -> str | None:
        """Why a work item is not measured for this target (None when it is)."""
        return self.not_applicable.get(work.removesuffix("-repeat"))


_TESSERA_REFRESH = ("/auth/session/refresh", "bearer")
_ASGI = ("uvicorn", "fastapi", "tessera")
_WSGI = ("gunicorn",)
_NO_REFRESH = "n/a: fastapi-users has no refresh tokens"


def _tessera(framework: str, server: str, store: str, needs: tuple[str, ...]) -> Target:
    title = {"fastapi": "FastAPI", "flask": "Flask", "django": "Django"}[framework]
    db = "SQLite" if store == "sqlite" else "PostgreSQL"
    return Target(
        name=f"tessera-{framework}-{'sqlite' if store == 'sqlite' else 'pg'}",
        label=f"tessera embedded, {title}, {db}",
        framework=framework,
        module=f"bench.peers.apps.tessera_{framework}",
        server=server,
        store=store,
        needs=needs + (("psycopg",) if store == "postgresql" else ()),
        refresh=_TESSERA_REFRESH,
        ceilings=store == "sqlite",
        growth=framework == "fastapi" and store == "postgresql",
        note=f"tessera.framework.{framework} adapter",
    )


TARGETS = [
    _tessera("fastapi", "asgi", "sqlite", _ASGI),
    _tessera("fastapi", "asgi", "postgresql", _ASGI),
    _tessera("flask", "wsgi", "sqlite", (*_WSGI, "flask")),
    _tessera("flask", "wsgi", "postgresql", (*_WSGI, "flask")),
    _tessera("django", "wsgi", "sqlite", (*_WSGI, "django")),
    _tessera("django", "wsgi", "postgresql", (*_WSGI, "django")),
    Target(
        name="supertokens-fastapi",
        label="supertokens-python SDK, FastAPI, tessera core on PostgreSQL",
        framework="fastapi",
        module="bench.peers.apps.supertokens_fastapi",
        server="asgi",
        store="postgresql",
        needs=(*_ASGI, "supertokens_python", "psycopg", "yaml"),
        refresh=_TESSERA_REFRESH,
        needs_core=True,
        note="SDK calls the core (tessera start, 1 worker) over HTTP",
    ),
    Target(
        name="fje-flask-redis",
        label="flask-jwt-extended, Flask, Redis blocklist",
        framework="flask",
        module="bench.peers.apps.fje_flask",
        server="wsgi",
        store="redis",
        needs=(*_WSGI, "flask", "flask_jwt_extended", "redis"),
        not_applicable={
            "list": "n/a: keeps no record of issued tokens",
            "revoke-all": "n/a: no per-user revocation (left to the app)",
        },
        refresh=("/refresh", "bearer"),
        needs_redis=True,
        note="refresh tokens are not rotated",
    ),
    Target(
        name="fastapi-users-jwt",
        label="fastapi-users, JWT strategy, FastAPI, users in PostgreSQL",
        framework="fastapi",
        module="bench.peers.apps.fastapi_users_app",
        server="asgi",
        store="postgresql",
        needs=(*_ASGI, "fastapi_users", "fastapi_users_db_sqlalchemy", "asyncpg"),
        not_applicable={
            "protected-db": "n/a: a JWT-strategy token cannot be revoked",
            "refresh": _NO_REFRESH,
            "list": "n/a: the JWT strategy stores no tokens",
            "revoke-all": "n/a: the JWT strategy stores no tokens",
        },
        env={"BENCH_STRATEGY": "jwt"},
        note="reads the user row on every request",
    ),
    Target(
        name="fastapi-users-db",
        label="fastapi-users, database strategy, FastAPI, PostgreSQL",
        framework="fastapi",
        module="bench.peers.apps.fastapi_users_app",
        server="asgi",
        store="postgresql",
        needs=(*_ASGI, "fastapi_users", "fastapi_users_db_sqlalchemy", "asyncpg"),
        not_applicable={
            "protected": "n/a: always reads the token table (see row 2)",
            "refresh": _NO_REFRESH,
        },
        env={"BENCH_STRATEGY": "database"},
        note="opaque token looked up, then the user row, on every request",
    ),
    Target(
        name="simplejwt-django-pg",
        label="djangorestframework-simplejwt + token_blacklist, Django REST framework, PostgreSQL",
        framework="django",
        module="bench.peers.apps.simplejwt_django",
        server="wsgi",
        store="postgresql",
        needs=(*_WSGI, "django", "rest_framework", "rest_framework_simplejwt", "psycopg"),
        not_applicable={
            "protected-db": "n/a: simplejwt cannot revoke access tokens (blacklist: refresh only)",
        },
        refresh=("/refresh", "json"),
        note="rotating refresh tokens, old one blacklisted",
    ),
]

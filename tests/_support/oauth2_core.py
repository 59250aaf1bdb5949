"""A core served from this process over real HTTP on loopback, on any backend, with a
clock the test moves; and the CDI and OAuth calls the OAuth tests make."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tessera import StorageError
from tessera.core.asgi import CoreApp
from tessera.core.config import load_config
from tessera.metrics import exposition

from .clock import FakeClock
from .databases import database_url, unavailable
from .servers import start_asgi

API_KEY = "oauth2-test-key-0123456789"
INTROSPECT = "/tessera/oauth2/introspect"
REVOKE = "/tessera/oauth2/revoke"


@dataclass
class ServedCore:
    url: str
    app: CoreApp
    clock: FakeClock
    #: Every audit record the core wrote, in order.
    audit: list[dict[str, Any]] = field(default_factory=list)
    #: The key CDI calls send (None: the core has none).
    key: str | None = API_KEY

    def _headers(self, **more: str) -> dict[str, str]:
        return {**({} if self.key is None else {"api-key": self.key}), **more}

    def cdi(self, method: str, path: str, body: Any = None, **headers: str) -> Any:
        answer = httpx.request(
            method, f"{self.url}{path}", json=body, headers=self._headers(**headers)
        )
        assert answer.status_code == 200, answer.text
        return answer.json()

    def create(self, prefix: str = "", user_id: str = "u1", **claims: Any) -> tuple[str, str, str]:
        """A new session's (access token, refresh token, handle); ``prefix`` names an
        app and tenant (``/appid-shop/blue``)."""
        body = {
            "userId": user_id,
            "userDataInJWT": claims,
            "userDataInDatabase": {},
            "enableAntiCsrf": False,
        }
        made = self.cdi("POST", f"{prefix}/recipe/session", body)
        tokens = made["accessToken"]["token"], made["refreshToken"]["token"]
        return (*tokens, made["session"]["handle"])

    def refresh(self, token: str, prefix: str = "") -> Any:
        body = {"refreshToken": token, "enableAntiCsrf": False}
        return self.cdi("POST", f"{prefix}/recipe/session/refresh", body)

    def verify(self, token: str, prefix: str = "") -> Any:
        body = {
            "accessToken": token,
            "doAntiCsrfCheck": False,
            "enableAntiCsrf": False,
            "checkDatabase": True,
        }
        return self.cdi("POST", f"{prefix}/recipe/session/verify", body)

    def introspect(self, token: str, prefix: str = "", **form: str) -> dict[str, Any]:
        """The introspection answer, through HTTP Basic with the core's key."""
        answer = self.oauth(INTROSPECT, {"token": token, **form}, prefix=prefix)
        assert answer.status_code == 200, answer.text
        assert answer.headers["cache-control"] == "no-store"
        result: dict[str, Any] = answer.json()
        return result

    def revoke(self, token: str, prefix: str = "", **form: str) -> None:
        answer = self.oauth(REVOKE, {"token": token, **form}, prefix=prefix)
        assert answer.status_code == 200, answer.text
        assert answer.json() == {}

    def oauth(
        self, path: str, form: dict[str, str] | None, prefix: str = "", **options: Any
    ) -> httpx.Response:
        """A POST to an OAuth endpoint; HTTP Basic with the core's key unless
        ``options`` say otherwise (``auth=None``, ``headers=...``, ``content=...``)."""
        if self.key is not None:
            options.setdefault("auth", ("any-client", self.key))
        return httpx.post(f"{self.url}{prefix}{path}", data=form, **options)

    def revocations_logged(self) -> list[str]:
        """Session handles in the revocation log (which feeds every process's deny set)."""
        return [r.session_handle for r in self.app.store.read_revocations(0, [], 1000)]


def revoked_by_clients() -> float:
    """``tessera_sessions_revoked_total{reason="client"}`` of this process."""
    status, body, _ = exposition()
    assert status == 200
    for line in body.decode().splitlines():
        if line.startswith('tessera_sessions_revoked_total{reason="client"}'):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


@contextlib.contextmanager
def serve_core(
    backend: str, tmp_path: Path, table_prefix: str, *, key: str | None = API_KEY
) -> Iterator[ServedCore]:
    environ = {
        "DATABASE_URL": database_url(backend, tmp_path),
        "TABLE_NAME_PREFIX": table_prefix,
    }
    if key is not None:
        environ["API_KEYS"] = key
    clock = FakeClock()
    audit: list[dict[str, Any]] = []
    try:
        app = CoreApp(load_config(environ=environ), clock=clock, audit_hook=audit.append)
    except StorageError as exc:
        unavailable(backend, str(exc))
    port, stop = start_asgi(app)
    try:
        yield ServedCore(f"http://127.0.0.1:{port}", app, clock, audit, key)
    finally:
        stop()
        app.store.drop_tables()  # type: ignore[attr-defined]
        app.close()

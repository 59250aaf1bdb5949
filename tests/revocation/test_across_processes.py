"""A session revoked in this process (A) is refused by three other OS processes (B, C,
D) within the staleness bound, by every way of revoking, over PostgreSQL NOTIFY, Redis
pub/sub (with MariaDB as the database) and SQLite polling."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tessera import Tessera, TokenTheftError
from tessera.storage import SqlStore

from .._support.databases import REDIS_URL, database_url, redis_or_skip
from .._support.revocation_workers import Verifiers

BOUND = 1.0
#: Scheduling on a loaded two-core machine: added to the bound when timing refusals.
SLACK = 1.5


@pytest.fixture(
    params=[("postgresql", None), ("mysql", "redis"), ("sqlite", None)],
    ids=["postgresql-notify", "mariadb-redis", "sqlite-polling"],
)
def setup(request: pytest.FixtureRequest) -> tuple[str, str | None]:
    backend, channel = request.param
    if channel == "redis":
        redis_or_skip()
    return backend, REDIS_URL if channel else None


@pytest.fixture
def backend(setup: tuple[str, str | None]) -> str:
    return setup[0]


@pytest.fixture
def fleet(
    setup: tuple[str, str | None],
    tmp_path: Path,
    table_prefix: str,
    store_factory: Callable[..., SqlStore],
) -> Iterator[tuple[Tessera, Verifiers, dict[str, Any]]]:
    backend, channel = setup
    store_factory()  # creates the tables, drops them afterwards
    settings: dict[str, Any] = {
        "table_name_prefix": table_prefix,
        "access_token_blacklisting": True,
        "revocation_max_staleness": BOUND,
        "revocation_channel": channel,
        "refresh_token_grace_period": 0,
        "expired_session_purge_interval": 0,
    }
    url = database_url(backend, tmp_path)
    a = Tessera(url, **settings)
    verifiers = Verifiers(3, url, settings)
    try:
        yield a, verifiers, settings
    finally:
        verifiers.close()
        a.close()


def _token(session: Any) -> str:
    return str(session.get_access_token())


def test_every_revocation_reaches_every_process_within_the_bound(
    fleet: tuple[Tessera, Verifiers, dict[str, Any]], setup: tuple[str, str | None]
) -> None:
    a, verifiers, _ = fleet
    s = a.syncio
    keep = s.create_new_session("keeper")
    one = s.create_new_session("u-one")
    many = [s.create_new_session("u-many") for _ in range(3)]
    tenant = [s.create_new_session("u-tenant", tenant_id="acme") for _ in range(2)]
    other_tenant = s.create_new_session("u-tenant", tenant_id="public")
    across = [s.create_new_session("u-across", tenant_id=t) for t in ("public", "acme", "shop")]
    signed_out = s.create_new_session("u-signout")
    stolen = s.create_new_session("u-theft")

    everything = [keep, one, *many, *tenant, other_tenant, *across, signed_out, stolen]
    assert (
        verifiers.ask("verify", [_token(x) for x in everything]) == [["ok"] * len(everything)] * 3
    )

    def revoked_everywhere(sessions: list[Any]) -> None:
        tokens = [_token(x) for x in sessions]
        for took, pending, from_deny_set in verifiers.ask("until_refused", tokens, 10.0):
            assert pending == [], "a process still accepts a revoked session"
            assert took <= BOUND + SLACK, f"refused only after {took:.2f}s"
            assert from_deny_set, "the process's deny set does not hold the revocation"

    assert s.revoke_session(one.get_handle())
    revoked_everywhere([one])
    assert len(s.revoke_multiple_sessions([x.get_handle() for x in many])) == 3
    revoked_everywhere(many)
    assert len(s.revoke_all_sessions_for_user("u-tenant", "acme")) == 2
    revoked_everywhere(tenant)
    assert len(s.revoke_all_sessions_for_user("u-across", "acme", True)) == 3
    revoked_everywhere(across)
    signed_out.revoke_session()
    revoked_everywhere([signed_out])
    # Theft: the replaced refresh token comes back; the refresh revokes the session.
    first = stolen.get_all_session_tokens_dangerously()["refreshToken"]
    assert first is not None
    s.refresh_session_without_request_response(first)
    with pytest.raises(TokenTheftError):
        s.refresh_session_without_request_response(first)
    revoked_everywhere([stolen])

    # Untouched sessions are still accepted, without a database read.
    before = verifiers.ask("stats")
    assert verifiers.ask("verify", [_token(keep), _token(other_tenant)]) == [["ok", "ok"]] * 3
    for was, now in zip(before, verifiers.ask("stats"), strict=True):
        assert now["state"] == "healthy"
        assert now["database_fallbacks"] == was["database_fallbacks"]
        assert now["deny_set_size"] == 11
        expected = {"postgresql": "postgresql", "mysql": "redis", "sqlite": "none"}[setup[0]]
        assert now["signal"] == expected
        assert now["signal_connected"] == (expected != "none")
        assert now["lag_count"] >= 1

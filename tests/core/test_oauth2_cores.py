"""A revocation through the RFC 7009 endpoint of one core reaches the others over one
PostgreSQL, like every revocation: introspection anywhere says inactive at once (it reads
the database), and database-checked verifications are refused within the staleness
bound (the revocation feed)."""

from __future__ import annotations

import time

import httpx

CREATE = {"userId": "u1", "userDataInJWT": {}, "userDataInDatabase": {}, "enableAntiCsrf": False}
#: revocation_max_staleness (its default), and room for a loaded machine.
BOUND, SLACK = 1.0, 1.5


def _verify(core: str, token: str) -> str:
    body = {
        "accessToken": token,
        "doAntiCsrfCheck": False,
        "enableAntiCsrf": False,
        "checkDatabase": True,
    }
    status: str = httpx.post(f"{core}/recipe/session/verify", json=body).json()["status"]
    return status


def test_a_client_revocation_reaches_every_core(postgres_cores: tuple[str, str]) -> None:
    one, two = postgres_cores
    made = httpx.post(f"{one}/recipe/session", json=CREATE).json()
    access, refresh = made["accessToken"]["token"], made["refreshToken"]["token"]
    assert _verify(two, access) == "OK"
    assert httpx.post(f"{two}/tessera/oauth2/introspect", data={"token": access}).json()["active"]

    assert httpx.post(f"{one}/tessera/oauth2/revoke", data={"token": refresh}).status_code == 200
    for token in (access, refresh):
        answer = httpx.post(f"{two}/tessera/oauth2/introspect", data={"token": token})
        assert answer.json() == {"active": False}
    started = time.monotonic()
    while _verify(two, access) != "UNAUTHORISED":
        assert time.monotonic() - started < BOUND + SLACK, "another core kept the session"
        time.sleep(0.01)

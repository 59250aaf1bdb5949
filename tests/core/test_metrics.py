"""``/metrics`` of a real core with two worker processes: one scrape, answered by either
worker, counts what both did; it is guarded by the core's API key like /openapi.json."""

from __future__ import annotations

import httpx

from .._support import cdi
from .._support.cores import StartCore

API_KEY = "metrics-test-key-0123456789"


def _series(text: str) -> dict[str, float]:
    found: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, number = line.rpartition(" ")
            found[name] = float(number)
    return found


def test_a_scrape_counts_every_worker(start_core: StartCore) -> None:
    url = start_core(workers="2", api_keys=API_KEY, refresh_token_grace_period="0")
    assert httpx.get(f"{url}/metrics").status_code == 401
    key = {"api-key": API_KEY}
    # Fresh connections, so the requests spread over both workers.
    created = [cdi.create(url, key=API_KEY) for _ in range(6)]
    for answer in created:
        access, _ = cdi.tokens(answer)
        for _ in range(5):
            assert cdi.verify(url, access, key=API_KEY)["status"] == "OK"
    assert cdi.verify(url, "not-a-token", key=API_KEY)["status"] == "TRY_REFRESH_TOKEN"
    _, refresh = cdi.tokens(created[0])
    renewed, _ = cdi.tokens(cdi.refresh(url, refresh, key=API_KEY))
    assert cdi.verify(url, renewed, key=API_KEY)["status"] == "OK"  # confirms the refresh
    assert cdi.refresh(url, refresh, key=API_KEY)["status"] == "TOKEN_THEFT_DETECTED"
    handles = [answer["session"]["handle"] for answer in created[1:3]]
    removed = httpx.post(
        f"{url}/recipe/session/remove", json={"sessionHandles": handles}, headers=key
    )
    assert sorted(removed.json()["sessionHandlesRevoked"]) == sorted(handles)

    for _ in range(8):  # whichever worker answers, the counts are the same
        answer = httpx.get(f"{url}/metrics", headers=key)
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/plain")
        series = _series(answer.text)
        assert series['tessera_session_creates_total{outcome="ok"}'] == 6
        assert series["tessera_session_verifies_total"] == 32
        assert (
            series['tessera_session_verify_failures_total{outcome="try_refresh",reason="other"}']
            + series[
                'tessera_session_verify_failures_total{outcome="unauthorised",reason="invalid"}'
            ]
            == 1
        )
        assert series['tessera_session_refreshes_total{outcome="ok",reason=""}'] == 1
        theft = 'tessera_session_refreshes_total{outcome="theft",reason="refresh_token_reused"}'
        assert series[theft] == 1
        assert series['tessera_sessions_revoked_total{reason="operator"}'] == 2
        # The core reports theft without revoking, as the SuperTokens core does.
        assert series['tessera_sessions_revoked_total{reason="theft"}'] == 0
        assert series['tessera_operation_seconds_count{operation="create"}'] == 6
        assert series['tessera_operation_seconds_count{operation="verify"}'] == 31  # each OK
        # The public app's first key is made before the workers start (so they agree).
        assert series.get('tessera_signing_keys_created_total{kind="dynamic"}', 0) == 0
        assert series['tessera_live_sessions{app="public",tenant="public"}'] == 4
        assert "tessera_db_pool_size" in series
        assert "tessera_revocation_feed_lag_seconds_count" in series
        assert (
            sum(v for k, v in series.items() if k.startswith("tessera_revocation_feed_state")) == 1
        )
    # A new app's first key is made by the worker that first signs for it.
    assert cdi.put_app(url, "second", key=API_KEY).status_code == 200
    assert cdi.create(f"{url}/appid-second", key=API_KEY)["status"] == "OK"
    series = _series(httpx.get(f"{url}/metrics", headers=key).text)
    assert series['tessera_signing_keys_created_total{kind="dynamic"}'] == 1
    openapi = httpx.get(f"{url}/openapi.json", headers=key).json()
    assert "/metrics" in openapi["paths"]

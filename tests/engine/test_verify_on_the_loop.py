"""The async path asks ``verification_reads_store`` before verifying on the event loop;
the token it parsed for that is reused by the verification that follows, once, and
only for that very token (``engine/sessions.py``)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tessera import Tessera, TryRefreshTokenError
from tests._support.clock import FakeClock

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])


def test_a_token_looked_at_first_verifies_once_with_a_payload_of_its_own(
    make_tessera: Callable[..., Tessera], clock: FakeClock
) -> None:
    app = make_tessera()
    engine = app.engine
    first = app.syncio.create_new_session("u1", {"role": "reader"}).get_access_token()
    other = app.syncio.create_new_session("u2", {"role": "admin"}).get_access_token()

    assert not engine.verification_reads_store(first, now=clock.now)
    # Another token verified in between takes nothing from the one looked at.
    assert engine.verify_access_token(other, None, now=clock.now).user_id == "u2"
    state = engine.verify_access_token(first, None, now=clock.now)
    assert (state.user_id, state.access_token_payload["role"]) == ("u1", "reader")
    state.access_token_payload["role"] = "admin"  # the caller's copy only

    engine._verified.clear()  # forget verified tokens: the next check is a full one
    again = engine.verify_access_token(first, None, now=clock.now)
    assert again.access_token_payload["role"] == "reader"


def test_a_tampered_token_looked_at_first_still_fails_its_signature(
    make_tessera: Callable[..., Tessera], clock: FakeClock
) -> None:
    app = make_tessera()
    token = app.syncio.create_new_session("u1").get_access_token()
    head, body, signature = token.split(".")
    forged = f"{head}.{body}.{signature[:-4]}{'AAAA' if signature[-4:] != 'AAAA' else 'BBBB'}"
    assert not app.engine.verification_reads_store(forged, now=clock.now)
    with pytest.raises(TryRefreshTokenError):
        app.engine.verify_access_token(forged, None, now=clock.now)

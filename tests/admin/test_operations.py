"""The operator's operations (``SessionAdmin``) over an app object, on every backend:
search and pages, one session, revoking one, a user's, or what a previewed filter
matches, never more than the preview showed, each audited with the operator."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from tessera import Tessera
from tessera.admin import Operator, SessionAdmin, session_match
from tessera.engine.sessions import SessionEngine
from tessera.errors import BadRequestError
from tests._support.clock import FakeClock

MakeTessera = Callable[..., Tessera]
ALICE = Operator("alice", "k1", "192.0.2.10")


@pytest.fixture
def app(make_tessera: MakeTessera) -> Tessera:
    return make_tessera()


@pytest.fixture
def audit() -> Iterator[list[dict[str, Any]]]:
    records: list[dict[str, Any]] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(json.loads(record.getMessage()))

    logger, handler = logging.getLogger("tessera.audit"), Keep(logging.INFO)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield records
    logger.removeHandler(handler)
    logger.setLevel(logging.NOTSET)


def _start(app: Tessera, user: str, clock: FakeClock, **where: Any) -> str:
    clock.advance(1)  # each session a little more recently active than the one before
    return app.syncio.create_new_session(user, **where).get_handle()


def test_search_pages_follow_on_most_recently_active_first(app: Tessera, clock: FakeClock) -> None:
    made = [_start(app, f"u{i}", clock) for i in range(7)]
    admin = SessionAdmin(app)
    seen: list[str] = []
    page = admin.search(session_match(), limit=3)
    while True:
        seen += [r.session_handle for r in page.sessions]
        if page.next_cursor is None:
            break
        page = admin.search(session_match(), limit=3, cursor=page.next_cursor)
    assert seen == made[::-1]
    with pytest.raises(BadRequestError, match="cursor"):
        admin.search(session_match(), cursor="not-a-cursor")
    for limit in (0, 201):
        with pytest.raises(BadRequestError, match="limit"):
            admin.search(session_match(), limit=limit)


def test_filters_by_user_tenant_address_and_agent(app: Tessera, clock: FakeClock) -> None:
    phone = _start(app, "ann", clock, ip="198.51.100.7", user_agent="Mozilla/5.0 (iPhone)")
    laptop = _start(app, "ann", clock, tenant_id="acme", user_agent="Mozilla/5.0 Firefox/128")
    other = _start(app, "bob", clock, ip="198.51.100.7")
    admin = SessionAdmin(app)

    def found(**match: str) -> list[str]:
        return [r.session_handle for r in admin.search(session_match(**match)).sessions]

    assert found(user_id="ann") == [laptop, phone]
    assert found(user_id="ann", tenant_id="ACME") == [laptop]  # tenant ids are lower-case
    assert found(ip="198.51.100.7") == [other, phone]
    assert found(user_agent="iphone") == [phone]
    assert found(user_id="", tenant_id="", ip="", user_agent="") == [other, laptop, phone]
    with pytest.raises(BadRequestError, match="tenantId"):
        session_match(tenant_id="not a tenant")
    with pytest.raises(BadRequestError, match="userId"):
        session_match(user_id="x" * 257)
    with pytest.raises(BadRequestError, match="userAgent"):
        session_match(user_agent="nul\x00")


def test_one_session_in_full_and_revoked_by_an_operator(
    app: Tessera, clock: FakeClock, audit: list[dict[str, Any]]
) -> None:
    session = app.syncio.create_new_session(
        "ann", {"role": "editor"}, {"cart": [1]}, ip="203.0.113.5", user_agent="UA/1"
    )
    admin = SessionAdmin(app)
    record = admin.session(session.get_handle())
    assert record is not None
    assert (record.user_id, record.ip, record.user_agent) == ("ann", "203.0.113.5", "UA/1")
    assert record.access_token_payload["role"] == "editor"
    assert record.session_data == {"cart": [1]}
    assert admin.session("no-such-handle") is None
    assert admin.revoke_session(session.get_handle(), ALICE) is True
    assert admin.revoke_session(session.get_handle(), ALICE) is False
    assert admin.session(session.get_handle()) is None
    assert app.syncio.get_session_information(session.get_handle()) is None
    revoked, action = audit[-3], audit[-2]
    assert revoked["event"] == "session_revoked"
    assert (revoked["reason"], revoked["by"], revoked["operator"]) == (
        "operator",
        "operator",
        "alice",
    )
    assert (revoked["user_id"], revoked["key_id"], revoked["operator_ip"]) == (
        "ann",
        "k1",
        "192.0.2.10",
    )
    assert action["event"] == "admin_action"
    assert (action["action"], action["count"], action["session_handle"]) == (
        "revoke_session",
        1,
        session.get_handle(),
    )
    assert audit[-1]["count"] == 0  # the second, for a session already gone


def test_revoking_a_users_sessions_in_one_tenant_or_all(app: Tessera, clock: FakeClock) -> None:
    here = _start(app, "ann", clock)
    there = _start(app, "ann", clock, tenant_id="acme")
    _start(app, "bob", clock)
    admin = SessionAdmin(app)
    assert admin.revoke_user("ann", "acme", ALICE) == [there]
    assert admin.revoke_user("ann", None, ALICE) == [here]
    assert admin.count(session_match()) == 1
    with pytest.raises(BadRequestError, match="userId"):
        admin.revoke_user("", None, ALICE)


def test_a_preview_ends_no_more_than_it_showed(
    app: Tessera, clock: FakeClock, audit: list[dict[str, Any]]
) -> None:
    for _ in range(3):
        _start(app, "ann", clock, user_agent="Bad Bot/1.0")
    spared = _start(app, "ann", clock, user_agent="Firefox")
    admin = SessionAdmin(app)
    bots = session_match(user_agent="bad bot")
    preview = admin.preview(bots)
    assert preview.count == 3
    # One more session starts matching before the operator confirms: nothing ends.
    late = _start(app, "eve", clock, user_agent="Bad Bot/2.0")
    refused = admin.revoke_matching(bots, preview.count, preview.confirmation, ALICE)
    assert refused.ended is None
    assert refused.preview is not None
    assert refused.preview.count == 4
    assert admin.count(bots) == 4
    assert audit[-1]["reason"] == "count_changed"
    # Confirmed again with the new count: all four end, the other session stays.
    done = admin.revoke_matching(bots, 4, refused.preview.confirmation, ALICE)
    assert done.ended is not None
    assert len(done.ended) == 4
    assert late in done.ended
    assert [r.session_handle for r in admin.search(session_match()).sessions] == [spared]
    assert audit[-1]["action"] == "revoke_matching"
    assert audit[-1]["count"] == 4
    assert audit[-1]["filter"] == {"user_agent": "bad bot"}


def test_fewer_matching_than_previewed_is_fine(app: Tessera, clock: FakeClock) -> None:
    handles = [_start(app, "ann", clock) for _ in range(2)]
    admin = SessionAdmin(app)
    preview = admin.preview(session_match(user_id="ann"))
    app.syncio.revoke_session(handles[0])
    done = admin.revoke_matching(preview.match, preview.count, preview.confirmation, ALICE)
    assert done.ended == [handles[1]]


@pytest.mark.parametrize(
    "change",
    ["another filter", "another count", "forged", "expired", "another app's secret"],
)
def test_a_confirmation_binds_filter_count_time_and_app(
    app: Tessera, clock: FakeClock, change: str
) -> None:
    _start(app, "ann", clock)
    admin = SessionAdmin(app)
    match = session_match(user_id="ann")
    preview = admin.preview(match)
    count, confirmation = preview.count, preview.confirmation
    if change == "another filter":
        match = session_match(user_id="bob")
    elif change == "another count":
        count = 5
    elif change == "forged":
        confirmation = confirmation[:-4] + "AAAA"
    elif change == "expired":
        clock.advance(10 * 60 + 1)
    else:
        # Another app of the same database: its own console secret.
        shop = SessionEngine(app.config, app.store.for_app("shop"))
        admin = SessionAdmin(SimpleNamespace(engine=shop, observer=app.observer, now=clock))
    with pytest.raises(BadRequestError, match="confirmation"):
        admin.revoke_matching(match, count, confirmation, ALICE)
    assert SessionAdmin(app).count(session_match()) == 1

"""Listing a user's sessions as devices: pages, order, the current one, cursors, and
logging one device out; on every backend."""

from __future__ import annotations

from collections.abc import Callable

import pytest

import tessera
import tessera.syncio
from tessera import DeviceSession, Tessera

from ._support.agents import FIREFOX_WINDOWS as FIREFOX
from ._support.agents import SAFARI_IPHONE as IPHONE
from ._support.clock import FakeClock


def _handles(items: list[DeviceSession]) -> list[str]:
    return [item.session_handle for item in items]


def test_newest_activity_first_with_devices_and_the_current_one_marked(
    make_tessera: Callable[..., Tessera], clock: FakeClock
) -> None:
    t = make_tessera(activity_write_interval=60)
    laptop = t.syncio.create_new_session("u1", ip="203.0.113.9", user_agent=FIREFOX)
    clock.advance(10)
    phone = t.syncio.create_new_session("u1", ip="198.51.100.7", user_agent=IPHONE)
    t.syncio.create_new_session("someone else")
    clock.advance(120)
    # The laptop is used again, from elsewhere: it becomes the most recently active.
    t.syncio.get_session_without_request_response(
        laptop.get_access_token(), ip="192.0.2.44", user_agent=FIREFOX
    )
    assert t.flush_activity()

    page = laptop.list_devices()
    assert page.next_cursor is None
    first, second = page.items
    assert (first.session_handle, first.current) == (laptop.get_handle(), True)
    assert (second.session_handle, second.current) == (phone.get_handle(), False)
    assert (first.ip, first.last_ip, first.last_active) == ("203.0.113.9", "192.0.2.44", clock.now)
    assert first.device.label == "Firefox 128 on Windows"
    assert (second.device.label, second.device.device_class) == (
        "Mobile Safari 17 on iOS (iPhone)",
        "mobile",
    )
    assert second.time_created == second.last_active
    assert second.expiry > clock.now
    # The facade gives the same, marking whichever session it is told.
    same = t.syncio.get_sessions_for_user("u1", current=phone.get_handle())
    assert [(i.session_handle, i.current) for i in same.items] == [
        (laptop.get_handle(), False),
        (phone.get_handle(), True),
    ]


def test_pages_follow_on_without_gaps_or_repeats(
    make_tessera: Callable[..., Tessera], clock: FakeClock
) -> None:
    t = make_tessera()
    made = []
    for _ in range(7):
        made.append(t.syncio.create_new_session("u1").get_handle())
        clock.advance(1)
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = t.syncio.get_sessions_for_user("u1", limit=3, cursor=cursor)
        seen += _handles(page.items)
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == list(reversed(made))
    assert pages == 3


async def test_async_listing_and_tenants(
    make_tessera: Callable[..., Tessera], clock: FakeClock
) -> None:
    t = make_tessera()
    here = await t.asyncio.create_new_session("u1", tenant_id="public")
    clock.advance(1)
    there = await t.asyncio.create_new_session("u1", tenant_id="acme")
    assert _handles((await here.list_devices()).items) == [here.get_handle()]
    everywhere = await here.list_devices(across_all_tenants=True)
    assert _handles(everywhere.items) == [there.get_handle(), here.get_handle()]
    only_acme = await t.asyncio.get_sessions_for_user("u1", "acme")
    assert _handles(only_acme.items) == [there.get_handle()]


def test_cursors_are_tamper_evident_and_belong_to_one_listing(
    make_tessera: Callable[..., Tessera], clock: FakeClock
) -> None:
    t = make_tessera()
    for user in ("u1", "u1", "u2", "u2"):
        t.syncio.create_new_session(user)
        clock.advance(1)
    cursor = t.syncio.get_sessions_for_user("u1", limit=1).next_cursor
    assert cursor is not None
    body, _, tag = cursor.partition(".")
    flipped = body[:-1] + ("A" if body[-1] != "A" else "B")
    for bad in (flipped + "." + tag, body, cursor + "x", "", "é", "." * 5000, "a.b.c"):
        with pytest.raises(ValueError, match="cursor"):
            t.syncio.get_sessions_for_user("u1", limit=1, cursor=bad)
    with pytest.raises(ValueError, match="cursor"):  # another user's listing
        t.syncio.get_sessions_for_user("u2", limit=1, cursor=cursor)
    with pytest.raises(ValueError, match="cursor"):  # another tenant scope
        t.syncio.get_sessions_for_user("u1", "public", limit=1, cursor=cursor)
    # Another process of the app (same database) reads it: the key is stored.
    other = make_tessera()
    assert len(other.syncio.get_sessions_for_user("u1", limit=1, cursor=cursor).items) == 1


@pytest.mark.parametrize("limit", [0, -1, 101, True, 2.5])
def test_page_size_is_bounded(make_tessera: Callable[..., Tessera], limit: object) -> None:
    t = make_tessera()
    with pytest.raises(ValueError, match="limit"):
        t.syncio.get_sessions_for_user("u1", limit=limit)  # type: ignore[arg-type]


def test_sessions_past_their_lifetime_are_not_listed(
    make_tessera: Callable[..., Tessera], clock: FakeClock
) -> None:
    t = make_tessera(session_max_lifetime=100, access_token_validity=50)
    old = t.syncio.create_new_session("u1").get_handle()
    clock.advance(60)
    new = t.syncio.create_new_session("u1").get_handle()
    assert _handles(t.syncio.get_sessions_for_user("u1").items) == [new, old]
    clock.advance(50)
    assert _handles(t.syncio.get_sessions_for_user("u1").items) == [new]


def test_revoke_device_ends_only_this_users_sessions(
    make_tessera: Callable[..., Tessera], clock: FakeClock
) -> None:
    t = make_tessera()
    mine = t.syncio.create_new_session("u1")
    other_device = t.syncio.create_new_session("u1").get_handle()
    elsewhere = t.syncio.create_new_session("u1", tenant_id="acme").get_handle()
    theirs = t.syncio.create_new_session("u2").get_handle()
    assert not mine.revoke_device(theirs)  # a handle from the browser: not this user's
    assert not mine.revoke_device(elsewhere)  # another tenant, unless asked
    assert not mine.revoke_device("no-such-handle")
    assert mine.revoke_device(other_device)
    assert not mine.revoke_device(other_device)  # gone already
    assert mine.revoke_device(elsewhere, across_all_tenants=True)
    assert t.syncio.get_session_information(theirs) is not None
    assert _handles(mine.list_devices(across_all_tenants=True).items) == [mine.get_handle()]
    # Its own handle logs this device out, like revoke_session.
    assert mine.revoke_device(mine.get_handle())
    assert mine._revoked
    assert t.syncio.get_session_information(mine.get_handle()) is None


def test_module_functions_list_through_the_default(
    tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(str(tmp_path))
    engine = tessera.init(expired_session_purge_interval=0)
    try:
        session = tessera.syncio.create_new_session("u1", user_agent=FIREFOX)
        page = tessera.syncio.get_sessions_for_user("u1", current=session.get_handle())
        assert [(i.device.label, i.current) for i in page.items] == [
            ("Firefox 128 on Windows", True)
        ]
    finally:
        engine.close()
        tessera._default = None

"""Every page of the admin console, as HTML: the one place markup is written.

Values are escaped by default: ``html(template, **values)`` escapes every value that is
not already ``Html``, so a user id, a user agent or a payload can only ever be text on
the page. The pages need no script; the style sheet is served from the console's own
path, so the Content-Security-Policy can forbid everything inline.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from html import escape
from typing import Any
from urllib.parse import urlencode

from ..devices import describe_device
from ..engine.keyring import KeySchedule
from ..storage.base import SessionRecord
from .operations import Page, Preview

__all__ = ["STYLE", "Html", "html"]


class Html(str):
    """Markup that is already safe: inserted as it is."""


def html(template: str, **values: Any) -> Html:
    """``template`` with ``{name}`` filled by ``values``, each escaped unless ``Html``."""
    return Html(
        template.format(
            **{
                k: v if isinstance(v, Html) else escape(str(v), quote=True)
                for k, v in values.items()
            }
        )
    )


def join(parts: Iterable[Html]) -> Html:
    return Html("".join(parts))


def when(ms: int | None) -> str:
    if ms is None:
        return "never"
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def link(mount: str, path: str, **query: str | None) -> str:
    """A console URL (escaped when put in a page, like any other value)."""
    kept = {k: v for k, v in query.items() if v}
    return f"{mount}{path}" + (f"?{urlencode(kept)}" if kept else "")


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)


# -- the frame ------------------------------------------------------------------------------


def layout(mount: str, title: str, body: Html, *, who: str | None, csrf: str | None) -> Html:
    nav = Html("")
    if csrf is not None:
        nav = html(
            '<nav><a href="{sessions}">Sessions</a> <a href="{keys}">Signing keys</a>'
            '<form method="post" action="{logout}" class="inline">'
            '<input type="hidden" name="csrf" value="{csrf}">'
            '<span class="who">{who}</span> <button type="submit">Log out</button></form></nav>',
            sessions=link(mount, "/sessions"),
            keys=link(mount, "/keys"),
            logout=link(mount, "/logout"),
            csrf=csrf,
            who=f"Signed in as {who}" if who else "Signed in",
        )
    return html(
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<title>{title} · tessera admin</title><link rel="stylesheet" href="{style}">'
        '</head><body><header><a class="brand" href="{home}">tessera admin</a>{nav}</header>'
        "<main><h1>{title}</h1>{body}</main></body></html>",
        title=title,
        style=link(mount, "/style.css"),
        home=link(mount, "/sessions"),
        nav=nav,
        body=body,
    )


def message(text: str, kind: str = "note", *, notice: bool = False) -> Html:
    """A line of text in a box; ``notice``: what the last action did (``#notice``)."""
    if notice:
        return html('<p class="{kind}" id="notice" role="status">{text}</p>', kind=kind, text=text)
    return html('<p class="{kind}" role="status">{text}</p>', kind=kind, text=text)


def hidden(**fields: str | int | None) -> Html:
    return join(
        html('<input type="hidden" name="{name}" value="{value}">', name=k, value=v)
        for k, v in fields.items()
        if v is not None
    )


# -- pages --------------------------------------------------------------------------------


def login_page(mount: str, csrf: str, *, local: bool, error: str | None = None) -> Html:
    key_field = (
        message("This console is open without an API key, for local use only.")
        if local
        else Html(
            '<label>API key <input type="password" name="key" autocomplete="off" required '
            "autofocus></label>"
        )
    )
    body = html(
        '{error}<form method="post" action="{action}" class="login">{key}'
        '<label>Your name (for the audit log) <input type="text" name="name" maxlength="64">'
        '</label>{hidden}<button type="submit">Log in</button></form>',
        error=message(error, "error") if error else Html(""),
        action=link(mount, "/login"),
        key=key_field,
        hidden=hidden(csrf=csrf),
    )
    return layout(mount, "Log in", body, who=None, csrf=None)


def search_form(mount: str, values: Mapping[str, str]) -> Html:
    fields = join(
        html(
            '<label>{label} <input type="search" name="{name}" value="{value}"></label>',
            label=label,
            name=name,
            value=values.get(name, ""),
        )
        for name, label in (
            ("user", "User id"),
            ("tenant", "Tenant"),
            ("ip", "IP address"),
            ("agent", "Device or user agent contains"),
        )
    )
    return html(
        '<form method="get" action="{action}" class="search" role="search">{fields}'
        '<button type="submit">Search</button></form>',
        action=link(mount, "/sessions"),
        fields=fields,
    )


def search_page(
    mount: str,
    values: Mapping[str, str],
    page: Page,
    csrf: str,
    *,
    who: str | None,
    notice: str | None,
) -> Html:
    rows = join(_row(mount, record, csrf, values) for record in page.sessions)
    table = (
        html(
            '<table class="sessions"><thead><tr><th>Device</th><th>User</th><th>Tenant</th>'
            "<th>IP (last / at creation)</th><th>Created</th><th>Last active</th>"
            "<th>Expires</th><th></th></tr></thead><tbody>{rows}</tbody></table>",
            rows=rows,
        )
        if page.sessions
        else message("No live session matches.")
    )
    more = (
        html(
            '<p><a class="next" href="{href}">Next page</a></p>',
            href=link(mount, "/sessions", **values, cursor=page.next_cursor),
        )
        if page.next_cursor
        else Html("")
    )
    bulk = (
        html(
            '<p><a class="danger" href="{href}">Revoke every session matching this search…</a></p>',
            href=link(mount, "/preview", **values),
        )
        if page.sessions
        else Html("")
    )
    title = f"Sessions of {values['user']}" if values.get("user") else "Sessions"
    body = html(
        "{notice}{form}{table}{more}{bulk}",
        notice=message(notice, notice=True) if notice else Html(""),
        form=search_form(mount, values),
        table=table,
        more=more,
        bulk=bulk,
    )
    return layout(mount, title, body, who=who, csrf=csrf)


def _row(mount: str, r: SessionRecord, csrf: str, values: Mapping[str, str]) -> Html:
    last_ip = r.last_ip or r.ip or ""
    ips = last_ip if (r.ip or "") == last_ip else f"{last_ip} / {r.ip or '?'}"
    return html(
        '<tr class="session" data-handle="{handle}"><td title="{agent}">{device}</td>'
        '<td><a href="{user_href}">{user}</a></td><td>{tenant}</td><td>{ips}</td>'
        "<td>{created}</td><td>{active}</td><td>{expires}</td>"
        '<td><a href="{view}">View</a> <form method="post" action="{revoke}" class="inline">'
        '{hidden}<button type="submit" class="danger">Revoke</button></form></td></tr>',
        handle=r.session_handle,
        agent=r.last_user_agent or r.user_agent or "",
        device=describe_device(r.last_user_agent or r.user_agent).label,
        user_href=link(mount, "/sessions", user=r.user_id),
        user=r.user_id if r.user_id else "(empty user id)",
        tenant=r.tenant_id,
        ips=ips or "unknown",
        created=when(r.created_at),
        active=when(r.last_active_at),
        expires=when(r.expires_at),
        view=link(mount, "/session", handle=r.session_handle),
        revoke=link(mount, "/revoke"),
        hidden=hidden(csrf=csrf, handle=r.session_handle, back_user=values.get("user")),
    )


def session_page(mount: str, r: SessionRecord, csrf: str, *, who: str | None) -> Html:
    facts = [
        ("Session handle", r.session_handle),
        ("User", r.user_id),
        ("Tenant", r.tenant_id),
        ("Device", describe_device(r.last_user_agent or r.user_agent).label),
        ("User agent at creation", r.user_agent or "unknown"),
        ("Last user agent", r.last_user_agent or r.user_agent or "unknown"),
        ("IP at creation", r.ip or "unknown"),
        ("Last IP", r.last_ip or r.ip or "unknown"),
        ("Created", when(r.created_at)),
        ("Last active", when(r.last_active_at)),
        ("Last refreshed", when(r.last_refreshed_at)),
        ("Expires", when(r.expires_at)),
    ]
    body = html(
        '<dl class="facts">{facts}</dl>'
        "<h2>Access-token payload</h2><pre>{payload}</pre>"
        "<h2>Session data</h2><pre>{data}</pre>"
        '<form method="post" action="{revoke}">{hidden}'
        '<button type="submit" class="danger">Revoke this session</button></form>'
        '<p><a href="{user_href}">All sessions of this user</a></p>',
        facts=join(html("<dt>{k}</dt><dd>{v}</dd>", k=k, v=v) for k, v in facts),
        payload=_pretty(r.access_token_payload),
        data=_pretty(r.session_data),
        revoke=link(mount, "/revoke"),
        hidden=hidden(csrf=csrf, handle=r.session_handle, back_user=r.user_id),
        user_href=link(mount, "/sessions", user=r.user_id),
    )
    return layout(mount, "Session", body, who=who, csrf=csrf)


def describe_filter(values: Mapping[str, str]) -> str:
    parts = [
        f"{label} {values[name]!r}"
        for name, label in (
            ("user", "user"),
            ("tenant", "tenant"),
            ("ip", "IP"),
            ("agent", "device or user agent containing"),
        )
        if values.get(name)
    ]
    return "every live session of this app" if not parts else "sessions with " + ", ".join(parts)


def preview_page(
    mount: str,
    values: Mapping[str, str],
    preview: Preview,
    csrf: str,
    *,
    who: str | None,
    changed_from: int | None = None,
) -> Html:
    warning = Html("")
    if changed_from is not None:
        warning = message(
            f"More sessions match now than the {changed_from} you confirmed: nothing was "
            "ended. Check the new number and confirm again.",
            "error",
        )
    if preview.count == 0:
        action = message("No live session matches: there is nothing to end.")
    else:
        action = html(
            '<form method="post" action="{href}">{hidden}'
            '<button type="submit" class="danger">End {count} sessions</button></form>',
            href=link(mount, "/revoke-matching"),
            hidden=hidden(
                csrf=csrf,
                count=preview.count,
                confirmation=preview.confirmation,
                **{k: values.get(k) for k in ("user", "tenant", "ip", "agent")},
            ),
            count=preview.count,
        )
    noun = "session" if preview.count == 1 else "sessions"
    body = html(
        '{warning}<p class="preview">This will end <strong id="count">{count}</strong> {noun}: '
        "{what}.</p><p>Sessions that start matching after this page was made are not "
        "ended; if more match when you confirm, nothing is ended and you are asked again."
        '</p>{action}<p><a href="{back}">Back to the search</a></p>',
        warning=warning,
        count=preview.count,
        noun=noun,
        what=describe_filter(values),
        action=action,
        back=link(mount, "/sessions", **values),
    )
    return layout(mount, "Revoke matching sessions", body, who=who, csrf=csrf)


def keys_page(mount: str, schedule: KeySchedule, csrf: str, *, who: str | None) -> Html:
    rows = join(
        html(
            "<tr><td><code>{kid}</code></td><td>{alg}</td><td>{kind}</td><td>{created}</td>"
            "<td>{until}</td><td>{signing}</td></tr>",
            kid=k.kid,
            alg=k.algorithm,
            kind="dynamic" if k.dynamic else "static",
            created=when(k.created_at),
            until=when(k.verifies_until) if k.verifies_until is not None else "never expires",
            signing="signs new tokens" if k.signing else "",
        )
        for k in schedule.keys
    )
    hours = schedule.rotation_interval_ms / 3_600_000
    rotation = (
        f"Next rotation due: {when(schedule.next_rotation_at)} (a new key every {hours:g} h, "
        "published a minute before it signs)."
        if schedule.next_rotation_at is not None
        else "Tokens are signed with the static key, which never rotates."
    )
    body = html(
        '<p class="rotation">{rotation}</p><table class="keys"><thead><tr><th>Key id</th>'
        "<th>Algorithm</th><th>Kind</th><th>Created</th><th>Verifies until</th><th></th>"
        "</tr></thead><tbody>{rows}</tbody></table><p>Private keys are never shown.</p>",
        rotation=rotation,
        rows=rows,
    )
    return layout(mount, "Signing keys", body, who=who, csrf=csrf)


def error_page(mount: str, status: int, text: str) -> Html:
    body = html(
        '{text}<p><a href="{home}">Back to the console</a></p>',
        text=message(text, "error"),
        home=link(mount, "/sessions"),
    )
    return layout(mount, f"Error {status}", body, who=None, csrf=None)


STYLE = b"""
body { font: 15px/1.45 system-ui, sans-serif; margin: 0; color: #1d2330; background: #f6f7f9; }
header { display: flex; gap: 1.5em; align-items: center; padding: .6em 1.5em;
  background: #1d2330; color: #fff; }
header a { color: #fff; text-decoration: none; margin-right: 1em; }
header .brand { font-weight: 700; }
nav { display: flex; align-items: center; flex: 1; }
nav form { margin-left: auto; }
.who { color: #c9d1e0; margin-right: .6em; }
main { padding: 1em 1.5em 3em; max-width: 1200px; }
h1 { font-size: 1.4em; }
h2 { font-size: 1.1em; margin-top: 1.6em; }
form.search, form.login { display: flex; flex-wrap: wrap; gap: .8em; align-items: end;
  background: #fff; padding: 1em; border: 1px solid #dde1e8; border-radius: 6px; }
form.login { flex-direction: column; align-items: stretch; max-width: 24em; }
label { display: flex; flex-direction: column; font-size: .85em; color: #4a5466; }
input { font: inherit; padding: .35em .5em; border: 1px solid #b9c0cc; border-radius: 4px; }
button { font: inherit; padding: .35em .9em; border: 1px solid #3b5bdb; border-radius: 4px;
  background: #3b5bdb; color: #fff; cursor: pointer; }
button.danger, a.danger { background: #c92a2a; border-color: #c92a2a; color: #fff; }
a.danger { padding: .35em .9em; border-radius: 4px; text-decoration: none; }
form.inline { display: inline; }
table { border-collapse: collapse; width: 100%; margin-top: 1em; background: #fff; }
th, td { text-align: left; padding: .45em .6em; border-bottom: 1px solid #e3e6ec;
  vertical-align: top; font-size: .9em; }
th { background: #eef0f4; }
td:first-child { max-width: 22em; overflow-wrap: anywhere; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .3em 1.2em; }
dt { color: #4a5466; }
dd { margin: 0; overflow-wrap: anywhere; }
pre { background: #fff; border: 1px solid #dde1e8; padding: .8em; overflow: auto; }
.note { background: #e7f5ff; border: 1px solid #a5d8ff; padding: .6em .9em; border-radius: 4px; }
.error { background: #fff5f5; border: 1px solid #ffa8a8; padding: .6em .9em; border-radius: 4px; }
.preview { font-size: 1.15em; }
#count { font-size: 1.3em; }
"""

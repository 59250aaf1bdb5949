"""What an operator may do to one app's sessions: search them, look at one, revoke one,
a user's, or every session a filter matches after a preview, and see the signing keys.

The admin console and the core's admin API both work through ``SessionAdmin``, over an
``AdminSubject``: a ``Tessera`` object is one, and the core makes one per app. Every
revocation goes through the subject's store (so the revocation log and feed see it) and
is audited with who did it (``Operator``).

A bulk revocation is made safe by its preview: ``preview`` counts what the filter
matches and signs that count with the filter and a time limit (the confirmation);
``revoke_matching`` takes the count and the confirmation back and ends the sessions in
one transaction only if no more match than were shown. When more match, nothing ends
and a new preview with the new count is returned, to be confirmed again.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from ..engine.keyring import KeySchedule
from ..engine.values import is_clean_text
from ..errors import BadRequestError
from ..storage.base import SessionMatch, SessionRecord

if TYPE_CHECKING:
    from .._observer import Observer
    from ..engine.sessions import SessionEngine

__all__ = [
    "MAX_PAGE",
    "AdminSubject",
    "BulkRevoke",
    "Operator",
    "Page",
    "Preview",
    "SessionAdmin",
    "session_match",
]

#: The largest page a search returns.
MAX_PAGE = 200
#: How long a preview's confirmation may be used (ms).
CONFIRMATION_MS = 10 * 60_000
_MAX_FILTER_TEXT = 256
_TENANT = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
#: The secret (per app, in the store) that signs console cookies and confirmations.
_SECRET_NAME = "admin_console_key"


class AdminSubject(Protocol):
    """One app's sessions, as the console and the admin API work on them: its engine
    (whose store revokes through the revocation feed), what observes it (metrics and
    audit) and its clock."""

    @property
    def engine(self) -> SessionEngine: ...

    @property
    def observer(self) -> Observer: ...

    def now(self) -> int: ...


@dataclass(frozen=True)
class Operator:
    """Who acts. ``name`` is what the operator typed at login (or sent in the
    ``tessera-operator`` header): recorded, not verified. ``key_id`` is a fingerprint
    of the API key used, never the key."""

    name: str | None = None
    key_id: str | None = None
    ip: str | None = None

    def audit_fields(self) -> dict[str, str | None]:
        return {
            "by": "operator",
            "operator": self.name,
            "key_id": self.key_id,
            "operator_ip": self.ip,
        }


@dataclass(frozen=True)
class Page:
    sessions: list[SessionRecord]
    #: Give it back as ``cursor`` for the next page; ``None`` on the last page.
    next_cursor: str | None


@dataclass(frozen=True)
class Preview:
    """How many live sessions ``match`` selects now, and the confirmation that lets
    ``revoke_matching`` end them (until ``expires_at``, ms)."""

    match: SessionMatch
    count: int
    confirmation: str
    expires_at: int


@dataclass(frozen=True)
class BulkRevoke:
    #: The handles ended; ``None`` when refused because more sessions match now.
    ended: list[str] | None
    #: When refused: a new preview, with the count that matches now.
    preview: Preview | None = None


def session_match(
    *,
    user_id: str | None = None,
    tenant_id: str | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
) -> SessionMatch:
    """A filter from an operator's input: an empty or absent value means "any".
    ``BadRequestError`` names a value no session could match."""
    values: dict[str, str | None] = {}
    for name, value in (
        ("userId", user_id),
        ("tenantId", tenant_id),
        ("ip", ip),
        ("userAgent", user_agent),
    ):
        if value is not None and not isinstance(value, str):
            raise BadRequestError(f"{name} must be text")
        if value is not None and (len(value) > _MAX_FILTER_TEXT or not is_clean_text(value)):
            raise BadRequestError(
                f"{name} must be at most {_MAX_FILTER_TEXT} characters of text (no NUL)"
            )
        values[name] = value or None
    tenant = values["tenantId"]
    if tenant is not None:
        tenant = tenant.strip().lower()
        if not _TENANT.match(tenant):
            raise BadRequestError("tenantId must use 1-64 characters from a-z, 0-9 and '-'")
    return SessionMatch(
        user_id=values["userId"],
        tenant_id=tenant,
        ip=values["ip"].strip() if values["ip"] else None,
        user_agent=values["userAgent"],
    )


_secrets: weakref.WeakKeyDictionary[SessionEngine, bytes] = weakref.WeakKeyDictionary()


class SessionAdmin:
    """The operations of the console and the admin API, for one app."""

    def __init__(self, subject: AdminSubject) -> None:
        self._engine = subject.engine
        self._observer = subject.observer
        self.now = subject.now
        self.app_id = self._engine.store.app_id

    def secret(self) -> bytes:
        """The app's console secret, made on first use and kept in its store, so every
        process of the app shares it (and another database's cookies never verify)."""
        known = _secrets.get(self._engine)
        if known is None:
            # Sealed like the app's other secrets under key_encryption_keys, if set.
            known = _secrets[self._engine] = self._engine.stored_secret(_SECRET_NAME, self.now())
        return known

    # -- reading -------------------------------------------------------------------------

    def search(self, match: SessionMatch, *, limit: int = 50, cursor: str | None = None) -> Page:
        """A page of the live sessions ``match`` selects, most recently active first."""
        if not 1 <= limit <= MAX_PAGE:
            raise BadRequestError(f"limit must be between 1 and {MAX_PAGE}")
        after = None if cursor is None else _decode_cursor(cursor)
        found = self._engine.store.find_sessions(match, self.now(), limit=limit + 1, after=after)
        page = found[:limit]
        more = len(found) > limit
        return Page(page, _encode_cursor(page[-1]) if more else None)

    def session(self, session_handle: str) -> SessionRecord | None:
        """The live session ``session_handle``, or ``None``."""
        if not session_handle or not is_clean_text(session_handle):
            return None
        record = self._engine.store.load_session(session_handle)
        return record if record is not None and record.expires_at >= self.now() else None

    def count(self, match: SessionMatch) -> int:
        return self._engine.store.count_sessions(match, self.now())

    def key_schedule(self) -> KeySchedule:
        return self._engine.keys.schedule(self.now())

    # -- revoking ------------------------------------------------------------------------

    def revoke_session(self, session_handle: str, operator: Operator) -> bool:
        record = self.session(session_handle)
        if record is None:  # gone already: still an operator's action, for the record
            handle = session_handle if is_clean_text(session_handle) else None
            self.audit("revoke_session", operator, count=0, session_handle=handle)
            return False
        ended = self._engine.store.delete_sessions([record.session_handle])
        self._revoked(ended, operator, user_id=record.user_id, tenant_id=record.tenant_id)
        self.audit(
            "revoke_session", operator, count=len(ended), session_handle=record.session_handle
        )
        return bool(ended)

    def revoke_user(self, user_id: str, tenant_id: str | None, operator: Operator) -> list[str]:
        """End the user's live sessions in ``tenant_id``, or in every tenant (``None``)."""
        match = session_match(user_id=user_id, tenant_id=tenant_id)
        if match.user_id is None:
            raise BadRequestError("userId is required")
        ended = self._engine.store.delete_matching_sessions(match, self.now())
        self._revoked(ended, operator, user_id=match.user_id, tenant_id=match.tenant_id)
        self.audit("revoke_user", operator, count=len(ended), filter=_audited(match))
        return ended

    def preview(self, match: SessionMatch) -> Preview:
        count = self.count(match)
        expires_at = self.now() + CONFIRMATION_MS
        return Preview(match, count, self._confirmation(match, count, expires_at), expires_at)

    def revoke_matching(
        self, match: SessionMatch, expected_count: int, confirmation: str, operator: Operator
    ) -> BulkRevoke:
        """End what ``match`` selects, if no more than the previewed ``expected_count``
        (fewer is fine: some ended meanwhile). ``BadRequestError`` when the confirmation
        is not the preview's for this filter and count, or has expired."""
        if not self._confirmed(match, expected_count, confirmation):
            raise BadRequestError(
                "The confirmation does not belong to this filter and count, or has expired: "
                "preview again"
            )
        now = self.now()
        ended = self._engine.store.delete_matching_sessions_if_at_most(match, now, expected_count)
        fields = _audited(match)
        if ended is None:
            again = self.preview(match)
            self.audit("revoke_matching", operator, count=0, filter=fields, reason="count_changed")
            return BulkRevoke(None, again)
        self._revoked(ended, operator)
        self.audit("revoke_matching", operator, count=len(ended), filter=fields)
        return BulkRevoke(ended)

    # -- audit ---------------------------------------------------------------------------

    def audit(self, action: str, operator: Operator, **fields: object) -> None:
        """An ``admin_action`` event (login, logout, the revocations) for this app."""
        self._observer.audit.admin_action(action, self.now(), **operator.audit_fields(), **fields)

    def _revoked(
        self,
        handles: list[str],
        operator: Operator,
        *,
        user_id: str | None = None,
        tenant_id: str | None = None,
    ) -> None:
        self._observer.revoked(
            handles,
            "operator",
            self.now(),
            user_id=user_id,
            tenant_id=tenant_id,
            actor=operator.audit_fields(),
        )

    # -- confirmations -------------------------------------------------------------------

    def _confirmation(self, match: SessionMatch, count: int, expires_at: int) -> str:
        return f"{expires_at}.{self._sign_preview(match, count, expires_at)}"

    def _confirmed(self, match: SessionMatch, count: int, confirmation: str) -> bool:
        expires, _, signature = confirmation.partition(".")
        if not expires.isdigit() or len(expires) > 15 or int(expires) < self.now():
            return False
        expected = self._sign_preview(match, count, int(expires))
        return hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace"))

    def _sign_preview(self, match: SessionMatch, count: int, expires_at: int) -> str:
        what = json.dumps(
            ["confirm", self.app_id, *_filter_fields(match).values(), count, expires_at]
        )
        digest = hmac.new(self.secret(), what.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _filter_fields(match: SessionMatch) -> dict[str, str | None]:
    return {
        "user_id": match.user_id,
        "tenant_id": match.tenant_id,
        "ip": match.ip,
        "user_agent": match.user_agent,
    }


def _audited(match: SessionMatch) -> dict[str, str]:
    return {k: v for k, v in _filter_fields(match).items() if v is not None}


def _encode_cursor(record: SessionRecord) -> str:
    raw = f"{record.last_active_at}:{record.session_handle}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[int, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, _, handle = raw.partition(":")
        if not handle or not at.isdigit() or len(at) > 15 or not is_clean_text(handle):
            raise ValueError(cursor)
        return int(at), handle
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadRequestError("cursor is not one this API gave") from None

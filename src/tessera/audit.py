"""Audit events: what happened to sessions and keys, as one JSON line each.

Every event goes to the ``tessera.audit`` logger (at INFO; the application chooses the
handlers) and, when one is given, to the application's hook as a plain ``dict``.

A record is built from an allow-list of fields (``FIELDS``): a token, refresh token,
anti-CSRF token, key or secret has no field to go in, so none can reach the log, whatever
a caller passes. The event names and revocation reasons are fixed sets (``EVENTS``,
``REVOCATION_REASONS``), documented in ``docs/operations.md``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

__all__ = ["ADMIN_ACTIONS", "EVENTS", "FIELDS", "REVOCATION_REASONS", "AuditHook", "Auditor"]

audit_log = logging.getLogger("tessera.audit")

#: The events, each a value of the record's ``event`` field.
EVENTS = frozenset(
    {
        "session_created",
        "session_refreshed",
        "session_revoked",
        "session_limit_reached",
        "theft_detected",
        "key_rotated",
        "admin_action",
    }
)
#: What an operator did through the admin console or the admin API (the ``action`` of an
#: ``admin_action`` event). Each such event says ``by: "operator"``.
ADMIN_ACTIONS = frozenset(
    {"login", "login_failed", "logout", "revoke_session", "revoke_user", "revoke_matching"}
)
#: Why sessions were revoked: by the user (sign-out through a session object), by the
#: application (revoke functions), through the core's remove route (an SDK or an
#: operator with an API key), by an OAuth client revoking one of the session's tokens
#: (the core's RFC 7009 endpoint), after refresh-token theft, with their tenant or app,
#: replaced by a new login on the same client, or by a new login of their user beyond
#: ``max_sessions_per_user`` (``limit``).
REVOCATION_REASONS = frozenset(
    {
        "sign_out",
        "app",
        "operator",
        "client",
        "theft",
        "tenant_removed",
        "app_removed",
        "replaced_by_login",
        "limit",
    }
)
#: The only fields a record may carry, besides ``event`` and ``time``.
FIELDS = frozenset(
    {
        "session_handle",
        "user_id",
        "tenant_id",
        "app_id",
        "ip",
        "user_agent",
        "reason",
        "revoked",
        "kid",
        "algorithm",
        "key_kind",
        "max_sessions",
        "live_sessions",
        # Who acted, for admin actions and the revocations they make: ``by`` is
        # "operator"; ``operator`` the name the operator gave (not verified), ``key_id``
        # a fingerprint of the API key used (never the key), ``operator_ip`` whence.
        "action",
        "by",
        "operator",
        "key_id",
        "operator_ip",
        # How many sessions an admin action ended (or, refused, would have ended) and
        # the filter it used (user_id, tenant_id, ip, user_agent).
        "count",
        "filter",
    }
)

AuditHook = Callable[[dict[str, Any]], None]


class Auditor:
    """Writes audit events for one application (``app_id``) to the log and the hook."""

    def __init__(self, app_id: str = "public", hook: AuditHook | None = None) -> None:
        if hook is not None and not callable(hook):
            raise TypeError("audit_hook must be a callable taking one dict")
        self.app_id = app_id
        self.hook = hook

    def emit(self, event: str, now: int, **fields: Any) -> None:
        """Write ``event`` at ``now`` (ms since the epoch) with ``fields`` (``FIELDS``)."""
        if event not in EVENTS:
            raise ValueError(f"unknown audit event {event!r}")
        unknown = fields.keys() - FIELDS
        if unknown:
            raise ValueError(f"audit events carry no field {sorted(unknown)!r}")
        time = datetime.fromtimestamp(now / 1000, UTC).isoformat(timespec="milliseconds")
        record: dict[str, Any] = {"event": event, "time": time, "app_id": self.app_id}
        record.update((k, v) for k, v in fields.items() if v is not None)
        if audit_log.isEnabledFor(logging.INFO):
            audit_log.info(json.dumps(record, separators=(",", ":"), ensure_ascii=False))
        if self.hook is not None:
            try:
                self.hook(dict(record))
            except Exception:  # an app's hook must not break the request it observes
                audit_log.exception("the audit hook failed on %s", event)

    def admin_action(self, action: str, now: int, **fields: Any) -> None:
        """One ``admin_action`` event, ``by`` an operator."""
        if action not in ADMIN_ACTIONS:
            raise ValueError(f"unknown admin action {action!r}")
        self.emit("admin_action", now, action=action, **{**fields, "by": "operator"})

    def revoked(self, handles: Sequence[str], reason: str, now: int, **fields: Any) -> None:
        """One ``session_revoked`` event per handle."""
        if reason not in REVOCATION_REASONS:
            raise ValueError(f"unknown revocation reason {reason!r}")
        for handle in handles:
            self.emit("session_revoked", now, session_handle=handle, reason=reason, **fields)

"""What the facades and the core report about each session event: metrics and audit.

One ``Observer`` per application object (a ``Tessera``, or an app of the core). Its
``metrics`` is the process's ``Recorder``, or ``None`` when prometheus_client is not
installed or metrics are turned off; audit events are always written (to the
``tessera.audit`` logger, which the application may leave without handlers).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from .audit import AuditHook, Auditor
from .errors import SessionLimitReachedError, TokenTheftError

if TYPE_CHECKING:
    from .engine.sessions import SessionState
    from .metrics._recorder import Recorder

__all__ = ["Observer"]


class Observer:
    def __init__(
        self, *, app_id: str = "public", metrics: bool = True, audit_hook: AuditHook | None = None
    ) -> None:
        from .metrics import recorder

        self.metrics: Recorder | None = recorder() if metrics else None
        self.audit = Auditor(app_id, audit_hook)
        self._apps: dict[str, Observer] = {app_id: self}

    def for_app(self, app_id: str) -> Observer:
        """The same metrics and hook, with audit events naming ``app_id`` (the core)."""
        observer = self._apps.get(app_id)
        if observer is None:
            observer = Observer.__new__(Observer)
            observer.metrics, observer._apps = self.metrics, self._apps
            observer.audit = Auditor(app_id, self.audit.hook)
            self._apps[app_id] = observer
        return observer

    @staticmethod
    def start() -> float:
        return time.perf_counter()

    def created(
        self, state: SessionState, now: int, started: float, ip: str | None, user_agent: str | None
    ) -> None:
        if self.metrics is not None:
            self.metrics.create_ok.inc()
            self.metrics.timed("create", started)
        self._session_event("session_created", state, now, ip, user_agent)
        evicted = state.evicted_session_handles
        if evicted:
            self.revoked(evicted, "limit", now, user_id=state.user_id, tenant_id=state.tenant_id)

    def create_failed(
        self, exc: BaseException, now: int, ip: str | None, user_agent: str | None
    ) -> None:
        if not isinstance(exc, SessionLimitReachedError):
            if self.metrics is not None:
                self.metrics.create_error.inc()
            return
        if self.metrics is not None:
            self.metrics.create_refused.inc()
        self.audit.emit(
            "session_limit_reached",
            now,
            user_id=exc.user_id,
            tenant_id=exc.tenant_id,
            ip=ip,
            user_agent=user_agent,
            max_sessions=exc.max_sessions,
            live_sessions=exc.live_sessions,
        )

    def refreshed(
        self, state: SessionState, now: int, started: float, ip: str | None, user_agent: str | None
    ) -> None:
        if self.metrics is not None:
            self.metrics.refresh_ok.inc()
            self.metrics.timed("refresh", started)
        self._session_event("session_refreshed", state, now, ip, user_agent)

    def _session_event(
        self, event: str, state: SessionState, now: int, ip: str | None, user_agent: str | None
    ) -> None:
        self.audit.emit(
            event,
            now,
            session_handle=state.session_handle,
            user_id=state.user_id,
            tenant_id=state.tenant_id,
            ip=ip,
            user_agent=user_agent,
        )

    def refresh_failed(
        self, exc: BaseException, now: int, ip: str | None, user_agent: str | None
    ) -> None:
        if self.metrics is not None:
            self.metrics.refresh_failed(exc)
        if isinstance(exc, TokenTheftError):
            who = {"session_handle": exc.session_handle, "user_id": exc.user_id}
            self.audit.emit(
                "theft_detected",
                now,
                **who,
                ip=ip,
                user_agent=user_agent,
                reason="refresh_token_reused",
                revoked=exc.revoked,
            )
            if exc.revoked:
                self.revoked([exc.session_handle], "theft", now, user_id=exc.user_id)

    def revoked(
        self,
        handles: Sequence[str],
        reason: str,
        now: int,
        started: float | None = None,
        *,
        user_id: str | None = None,
        tenant_id: str | None = None,
        actor: Mapping[str, str | None] | None = None,
    ) -> None:
        """``actor``: who revoked, for an operator's revocations (``by``, ``operator``,
        ``key_id``, ``operator_ip``: see ``tessera.audit.FIELDS``)."""
        if self.metrics is not None:
            self.metrics.sessions_revoked(len(handles), reason)
            if started is not None:
                self.metrics.timed("revoke", started)
        self.audit.revoked(
            handles, reason, now, user_id=user_id, tenant_id=tenant_id, **(actor or {})
        )

    def purged(self, count: int) -> int:
        """Expired sessions the purge deleted: counted, not audited one by one."""
        if self.metrics is not None:
            self.metrics.sessions_revoked(count, "expired")
        return count

    def key_created(self, kid: str, algorithm: str, dynamic: bool, now: int) -> None:
        if self.metrics is not None:
            self.metrics.key_created(dynamic)
        kind = "dynamic" if dynamic else "static"
        self.audit.emit("key_rotated", now, kid=kid, algorithm=algorithm, key_kind=kind)

"""The one interface every session store implements, and the records it stores.

A store is bound to one app (``store.for_app("other")`` gives the same database seen
by another app). Every method is synchronous and safe to call from many threads at
once; async callers reach it through a thread pool. Every driver failure surfaces as
``tessera.StorageError``, never as a driver's own exception.

The only write that races is the refresh-token rotation, so it is a compare-and-swap:
``rotate_refresh_token`` changes the row only if it still holds the hash the caller
read. The access-token payload changes under a row lock
(``update_access_token_payload``); a creation within a per-user limit
(``create_session_within_limit``) takes its turn behind the user's other such creations;
every other write is a single statement or, where it also writes the revocation log, a
single transaction.

Ids (session handles, user, tenant and app ids, key ids) compare exactly on every
backend: case and trailing spaces count.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = [
    "AppRecord",
    "AppStore",
    "KeyRecord",
    "LimitedCreation",
    "Removal",
    "RevocationRecord",
    "SessionActivity",
    "SessionLimit",
    "SessionMatch",
    "SessionRecord",
    "SessionStore",
    "StoredKeyMaterial",
]


@dataclass(frozen=True, kw_only=True)
class SessionRecord:
    session_handle: str
    tenant_id: str
    user_id: str
    #: sha256 hex of the sha256 hex of the current refresh token.
    refresh_token_hash: str
    #: The hash it replaced at the last rotation, and when (ms): the grace-period memory.
    previous_refresh_token_hash: str | None
    refresh_token_rotated_at: int | None
    session_data: dict[str, Any]
    access_token_payload: dict[str, Any]
    created_at: int
    expires_at: int
    last_refreshed_at: int
    #: Where and how the session was created (never changed afterwards).
    ip: str | None
    user_agent: str | None
    use_static_key: bool
    #: When the session was last seen in use (a refresh, or activity recorded at most
    #: once per ``activity_write_interval``), and from where. Creation counts.
    last_active_at: int
    last_ip: str | None = None
    last_user_agent: str | None = None
    #: Set by a rotation until the engine had the new tokens in hand and said so
    #: (``acknowledge_rotation``). While set, the replaced token is a retry of a refresh
    #: whose answer may never have arrived, not theft.
    rotation_pending: bool = False


@dataclass(frozen=True, kw_only=True)
class SessionMatch:
    """Which live sessions of an app a search or a bulk revoke is about: every given
    field must match (none given: all of them)."""

    user_id: str | None = None
    #: ``None``: every tenant.
    tenant_id: str | None = None
    #: Equal to the address at creation or at the last activity.
    ip: str | None = None
    #: Contained in the user agent at creation or at the last activity, ignoring case.
    user_agent: str | None = None
    #: Last active at or after this time (ms): sessions idle longer are over.
    active_since: int | None = None


@dataclass(frozen=True, kw_only=True)
class SessionLimit:
    """How many live sessions the new session's user may hold in its tenant, counting
    the new one, and what happens at the limit."""

    max_sessions: int
    #: True: create, then end the least recently active sessions beyond the limit (by
    #: ``last_active_at``, then ``created_at``, then handle). False: refuse the creation.
    evict_oldest: bool
    #: Sessions last active before this time (ms) are over (an idle timeout): they
    #: neither count nor get ended.
    active_since: int | None = None


@dataclass(frozen=True)
class LimitedCreation:
    """What ``create_session_within_limit`` did."""

    #: False when the limit was reached and the policy refuses: nothing was written.
    created: bool
    #: The user's live sessions in the tenant found before this one was added.
    live_sessions: int
    #: The sessions ended to make room, least recently active first.
    evicted: list[str]


@dataclass(frozen=True)
class SessionActivity:
    """A session seen in use: when (ms), and from which address and user agent
    (``None``: unknown, keep what is recorded)."""

    session_handle: str
    at: int
    ip: str | None = None
    user_agent: str | None = None


@dataclass(frozen=True)
class KeyRecord:
    kid: str
    algorithm: str
    created_at: int
    public_key: str
    private_key: str


@dataclass(frozen=True)
class StoredKeyMaterial:
    """A signing key's private part or a secret, as the database holds it (sealed or
    plain text): what ``tessera keys rewrap`` reads and replaces."""

    #: ``"signing_key"`` or ``"secret"``.
    kind: str
    app_id: str
    #: The key's kid, or the secret's name.
    name: str
    value: str


#: ``RevocationRecord.kind``: the session was revoked, or its stored access-token
#: payload changed (a database-checked verify then hands out a new token).
REVOKED, PAYLOAD_CHANGED = 0, 1


@dataclass(frozen=True)
class RevocationRecord:
    """One row of the revocation log. ``seq`` grows with every row (a rolled-back one
    leaves a hole); ``revoked_at`` is the database's clock (ms) when it was written."""

    seq: int
    app_id: str
    session_handle: str
    revoked_at: int
    kind: int = REVOKED


class SessionStore(Protocol):
    """What the engine needs from a database. Times are milliseconds since the epoch.

    "Live" below means ``expires_at >= now``; the engine applies its own further
    limits (the absolute session lifetime) to what ``load_session`` returns. A
    session that is gone (deleted, expired, or never there) is never an error: reads
    return ``None``, writes return ``False``.
    """

    #: The app whose sessions, keys and secrets this store reads and writes.
    app_id: str

    def for_app(self, app_id: str) -> SessionStore:
        """The same database (and connections) seen by another app."""
        ...

    def close(self) -> None: ...

    # -- sessions ----------------------------------------------------------------

    def create_session(self, record: SessionRecord) -> None:
        """Insert a new session; ``StorageError`` if the handle exists. ``TypeError``,
        before any database work, for data JSON cannot hold."""
        ...

    def create_session_within_limit(
        self, record: SessionRecord, limit: SessionLimit
    ) -> LimitedCreation:
        """Insert a new session unless its user would hold more than
        ``limit.max_sessions`` live sessions in its tenant; then either refuse, or end
        the least recently active ones (written to the revocation log) in the same
        transaction. Creations for one (app, tenant, user) take turns, so however many
        run at once the user never ends up above the limit. Costs more than
        ``create_session``: use it only when there is a limit."""
        ...

    def load_session(self, session_handle: str) -> SessionRecord | None:
        """The stored row, expired or not; ``None`` when there is none."""
        ...

    def rotate_refresh_token(
        self,
        session_handle: str,
        *,
        expected_hash: str,
        new_hash: str,
        rotated_at: int,
        expires_at: int,
        ip: str | None,
        user_agent: str | None,
        use_static_key: bool,
        pending: bool = False,
    ) -> bool:
        """Compare-and-swap: replace ``expected_hash`` by ``new_hash`` (keeping the old
        one as the previous hash), with ``rotation_pending = pending``, in one
        statement. False when the row is gone or no longer holds ``expected_hash``
        (another rotation won)."""
        ...

    def acknowledge_rotation(
        self, session_handle: str, *, new_hash: str, previous_hash: str, now: int
    ) -> bool:
        """Clear ``rotation_pending`` of the rotation ``previous_hash`` -> ``new_hash`` if
        it is still the last one, restarting its grace period at ``now``."""
        ...

    def record_activity(self, activities: Sequence[SessionActivity], min_interval: int) -> int:
        """Record each activity as its live session's last (``last_active_at``, and
        ``last_ip`` / ``last_user_agent`` when given), unless the session's recorded
        activity is less than ``min_interval`` ms (at least 1) older than it: so many
        processes recording one session together write it about once per interval,
        and a late record never moves the activity back. Never holds one session's lock
        while waiting for another's (so it cannot deadlock with a revocation); returns
        how many sessions changed."""
        ...

    def replace_session_data(self, session_handle: str, data: dict[str, Any], now: int) -> bool:
        """Replace the session data of a live session. False when it is gone (writing
        the value already stored still counts as found). Not logged."""
        ...

    def update_access_token_payload(
        self,
        session_handle: str,
        change: Callable[[dict[str, Any]], dict[str, Any]],
        now: int,
    ) -> bool:
        """Store ``change(payload)`` as the access-token payload of a live session, in
        one transaction with the row locked throughout, so concurrent changes never
        lose each other's keys (``change`` may run more than once; keep it pure). False,
        without calling ``change``, when the session is gone. Logs a
        ``PAYLOAD_CHANGED`` row in the same transaction."""
        ...

    def delete_sessions(self, session_handles: Sequence[str]) -> list[str]:
        """Delete these sessions, live or expired; return the handles that existed.
        The deleted handles enter the revocation log in the same transaction."""
        ...

    def delete_matching_sessions(self, match: SessionMatch, now: int) -> list[str]:
        """Delete the live sessions that ``match`` (say, a user's in one tenant, or in
        all); return their handles. They enter the revocation log in the same
        transaction."""
        ...

    def delete_matching_sessions_if_at_most(
        self, match: SessionMatch, now: int, at_most: int
    ) -> list[str] | None:
        """As ``delete_matching_sessions``, in one transaction that ends only if at most
        ``at_most`` sessions matched: when more did, nothing is deleted (nor logged) and
        the answer is ``None``. For revoking what an operator previewed, never more."""
        ...

    def find_sessions(
        self, match: SessionMatch, now: int, *, limit: int, after: tuple[int, str] | None = None
    ) -> list[SessionRecord]:
        """Up to ``limit`` live sessions that ``match``, most recently active first (by
        ``last_active_at``, then handle, both descending). ``after`` is the
        ``(last_active_at, session_handle)`` of the last session of the page before."""
        ...

    def count_sessions(self, match: SessionMatch, now: int) -> int:
        """How many live sessions ``match``."""
        ...

    def list_session_handles_for_user(
        self, user_id: str, tenant_id: str | None, now: int, *, active_since: int | None = None
    ) -> list[str]:
        """The handles of the user's live sessions in one tenant, or in all (``None``),
        oldest first; with ``active_since``, only those last active since then."""
        ...

    def purge_expired_sessions(self, now: int, limit: int) -> int:
        """Delete up to ``limit`` expired sessions of every app; return how many.
        Expiry is not a revocation: nothing is logged."""
        ...

    # -- the revocation log, of every app (read by the revocation feed) -------------

    def read_revocations(
        self, after_seq: int, also_seqs: Sequence[int], limit: int
    ) -> list[RevocationRecord]:
        """Log rows with ``seq > after_seq`` or ``seq`` in ``also_seqs``, by ``seq``."""
        ...

    def purge_revocations(self, keep_ms: int) -> int:
        """Delete log rows older than ``keep_ms`` by the database's clock; return how
        many."""
        ...

    # -- signing keys and secrets ----------------------------------------------------

    def list_signing_keys(self) -> list[KeyRecord]:
        """This app's keys, oldest first."""
        ...

    def add_signing_key(self, record: KeyRecord) -> None:
        """Insert a key; one whose ``kid`` exists already is ignored."""
        ...

    def delete_signing_keys(self, kids: Sequence[str]) -> None: ...

    def get_or_create_secret(self, name: str, value: str, now: int) -> str:
        """Store ``value`` under ``name`` unless one exists; return the stored one."""
        ...

    def list_key_material(self, *, every_app: bool = False) -> list[StoredKeyMaterial]:
        """The private parts of this app's signing keys and its secrets (with
        ``every_app``, of every app in the database), as stored; keys first, then
        secrets, each by app and name."""
        ...

    def replace_key_material(self, item: StoredKeyMaterial, value: str) -> bool:
        """Compare-and-swap: store ``value`` in ``item``'s row (of ``item.app_id``) if it
        still holds ``item.value``. False when the row changed or is gone."""
        ...


@dataclass(frozen=True)
class AppRecord:
    """An app or a tenant of the core service, with its settings (names to strings)."""

    app_id: str
    tenant_id: str
    config: dict[str, Any]
    created_at: int


@dataclass(frozen=True)
class Removal:
    """What removing a tenant or an app did: whether its row existed, and the sessions
    it ended (each written to the revocation log, like every other session delete)."""

    existed: bool
    revoked: list[str]


class AppStore(Protocol):
    """Apps and tenants of the core service, kept beside the sessions so every process
    over one database sees the same ones. Separate from ``SessionStore``: only the core
    service needs it. ``tenant_id`` is ``"public"`` for the app's own row."""

    def put_tenant(self, app_id: str, tenant_id: str, config: dict[str, Any], now: int) -> bool:
        """Create or replace; True when it did not exist before."""
        ...

    def get_tenant(self, app_id: str, tenant_id: str) -> AppRecord | None: ...

    def list_tenants(self, app_id: str | None) -> list[AppRecord]:
        """The tenants of one app, or (``None``) every app's and tenant's row."""
        ...

    def delete_tenant(self, app_id: str, tenant_id: str | None) -> Removal:
        """Delete one tenant with its sessions, or (``None``) the app with everything it
        owns: tenants, sessions, signing keys and secrets. One transaction, so an app or
        tenant made again with the same id starts empty; the ended sessions enter the
        revocation log in it too, so every process's feed refuses their tokens."""
        ...

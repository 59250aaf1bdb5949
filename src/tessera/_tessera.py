"""The object an application holds: engine, store, clock, worker threads, housekeeping."""

from __future__ import annotations

import contextvars
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from ._activity import ActivityRecorder
from ._async import AsyncSessions
from ._observer import Observer
from ._sync import SyncSessions
from ._threads import WorkerThreads
from .audit import AuditHook
from .config import SessionConfig
from .engine.key_material import RewrapReport, check_key_material, rewrap_key_material
from .engine.sessions import SessionEngine
from .errors import KeyMaterialError, StorageError
from .housekeeping import ExpiredSessionPurger
from .metrics import observe_process, unregister
from .revocation import FeedStats, RevocationFeed, RevokingStore
from .storage import Timeouts, open_store
from .storage.base import SessionStore

__all__ = ["DEFAULT_DATABASE", "Tessera", "wall_clock_ms"]

if TYPE_CHECKING:
    from .metrics._recorder import Recorder

T = TypeVar("T")
log = logging.getLogger("tessera")

#: Used when no database is given: a SQLite file in the working directory.
DEFAULT_DATABASE = "sqlite:///tessera.db"


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


class Tessera:
    """Sessions for one application.

    ``Tessera(database="postgresql://…", access_token_validity=900)`` builds everything:
    the store (tables are created or migrated), the signing keys, worker threads for
    async callers (a share of the process's one pool, ``database_pool_size`` threads)
    and the job that purges expired sessions. ``metrics=False`` leaves
    this object out of the Prometheus metrics; ``audit_hook`` is called with each audit
    event (a ``dict``, see ``tessera.audit``). ``.syncio`` and ``.asyncio``
    offer the session functions for each kind of caller; ``tessera.init()`` makes one
    of these the default behind the module-level functions.
    """

    def __init__(
        self,
        database: str | None = None,
        *,
        store: SessionStore | None = None,
        clock: Callable[[], int] = wall_clock_ms,
        metrics: bool = True,
        audit_hook: AuditHook | None = None,
        **settings: Any,
    ) -> None:
        self.config = SessionConfig.from_settings(settings)
        if store is not None and database is not None:
            raise ValueError("give either database or store, not both")
        self.store: SessionStore = store or open_store(
            database or DEFAULT_DATABASE,
            table_name_prefix=self.config.table_name_prefix,
            pool_size=self.config.database_pool_size,
            timeouts=Timeouts(
                connect=self.config.database_connect_timeout,
                statement=self.config.database_statement_timeout,
                socket=self.config.database_socket_timeout,
            ),
        )
        config = self.config
        self.revocations = RevocationFeed.for_config(self.store, config)
        revoking = cast(SessionStore, RevokingStore(self.store, self.revocations))
        self.engine = SessionEngine(config, revoking, session_claims=True)
        self._check_key_material(close_store=store is None)
        self.engine.revocations = self.revocations.view(self.store.app_id)
        #: Metrics (when prometheus_client is installed and ``metrics``) and audit events.
        self.observer = Observer(app_id=self.store.app_id, metrics=metrics, audit_hook=audit_hook)
        self.engine.keys.on_key_created = lambda key, now: self.observer.key_created(
            key.kid, key.algorithm, key.is_dynamic, now
        )
        self.use_metrics(self.observer.metrics)
        if self.metrics is not None:
            observe_process(self, self.now)
        self.clock = clock
        self._threads = WorkerThreads(self.config.database_pool_size)
        self._purger = ExpiredSessionPurger(
            lambda: self.observer.purged(self.engine.purge_expired(now=self.now())),
            config.expired_session_purge_interval,
        )
        interval = config.activity_write_interval_ms
        #: Records last activity seen by verifications (``None``: interval 0, off).
        self.activity = (
            ActivityRecorder(interval, self.store.record_activity) if interval > 0 else None
        )
        self.syncio: SyncSessions = SyncSessions(self)
        self.asyncio: AsyncSessions = AsyncSessions(self)

    def _check_key_material(self, *, close_store: bool) -> None:
        """Refuse to start when a stored key cannot be decrypted with
        ``key_encryption_keys`` (``KeyMaterialError`` names the missing key), rather than
        fail at the first request. A database that cannot be read now is no reason not
        to start: the same check happens when the keys are first loaded."""
        try:
            check_key_material(self.store, self.engine.keys.wrapper)
        except StorageError as exc:
            log.warning("could not check the stored signing keys at start: %s", exc)
        except KeyMaterialError:
            # Nothing else has started yet; a store the caller gave stays the caller's.
            if close_store:
                self.store.close()
            raise

    def rewrap_key_material(self) -> RewrapReport:
        """Encrypt every app's stored signing keys and secrets in this database under the
        newest of ``key_encryption_keys``: rows in plain text and rows under older keys
        (which must still be configured, after the newest). Safe while sessions are being
        served, by any number of processes; a second run finds nothing to do. Raises
        ``KeyMaterialError`` for the first row it could not read (after doing the
        others), ``ValueError`` when no key is configured. ``tessera keys rewrap`` does
        the same from the command line."""
        report = rewrap_key_material(self.store, self.engine.keys.wrapper)
        if report.unreadable:
            raise report.unreadable[0]
        return report

    def use_metrics(self, metrics: Recorder | None) -> None:
        """Count into ``metrics`` (None: metrics off). The verification count is kept at
        hand: every verification reads it."""
        self.metrics = metrics
        self.verify_calls = None if metrics is None else metrics.verify_calls

    def note_activity(
        self, session_handle: str, now: int, ip: str | None, user_agent: str | None
    ) -> None:
        """A verification saw this session in use: queue a write of its last activity
        if one is due (at most one per ``activity_write_interval``). Never blocks."""
        if self.activity is not None:
            self.activity.seen(session_handle, now, ip, user_agent)

    def activity_recorded(self, session_handle: str, now: int) -> None:
        """Creation or a refresh wrote the session's last activity just now."""
        if self.activity is not None:
            self.activity.recorded(session_handle, now)

    def flush_activity(self, timeout: float = 10.0) -> bool:
        """Wait until the activity queued so far is written (tests, shutdown)."""
        return True if self.activity is None else self.activity.writer.flush(timeout)

    def timing(self, verify: Callable[..., T]) -> Callable[..., T]:
        """``verify``, timed into the verify latency (metrics must be on)."""
        assert self.metrics is not None
        return self.metrics.timing(verify)

    def now(self) -> int:
        """The current time in milliseconds, from this object's clock."""
        return self.clock()

    async def in_thread(self, work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run blocking store work on this object's threads, off the event loop, in the
        caller's context (as ``asyncio.to_thread`` does): an audit hook or a log handler
        sees the context variables the caller set."""
        self._purger.ensure_running()
        return await self._threads.run(contextvars.copy_context().run, work, *args, **kwargs)

    def touch(self) -> None:
        """Called by store-using operations: starts housekeeping in this process."""
        self._purger.ensure_running()
        if self.config.access_token_blacklisting:
            self.revocations.ensure_running()

    def revocation_stats(self) -> FeedStats:
        """The revocation feed of this process: state, last sequence applied, deny-set
        size, propagation lag (see ``tessera.revocation.FeedStats``)."""
        return self.revocations.stats()

    def close(self) -> None:
        """Stop the background jobs and close the database connections."""
        unregister(self)
        self._purger.stop()
        if self.activity is not None:
            self.activity.close()
        self.revocations.close()
        self._threads.close()
        self.store.close()

    def __enter__(self) -> Tessera:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
